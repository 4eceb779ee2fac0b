//! Sans-IO HTTP/1.1: request-head parsing ([`head`]), request-body decoding
//! ([`body`]), response encoding ([`encode`]), the framing of streamed
//! responses ([`stream`]) and the connection machine ([`conn`]) that makes
//! every protocol decision of a connection. Nothing here touches a socket
//! or reads the clock: bytes in, decisions out.

pub mod body;
pub mod conn;
pub mod encode;
pub mod head;
pub mod stream;

#[cfg(test)]
mod every_offset;
#[cfg(test)]
mod tests;
