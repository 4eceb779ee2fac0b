//! WebSocket (RFC 6455), sans-IO: handshake and frame codec.
//!
//! [`handshake`] checks the upgrade request and computes the accept key,
//! [`frame`] encodes server frames, [`session`] turns client bytes into
//! [`Message`]s, [`deflate`] negotiates permessage-deflate (RFC 7692) and
//! compresses and inflates messages for it.

pub mod deflate;
pub mod frame;
pub mod handshake;
pub mod session;

pub use frame::{FrameHeader, Opcode, ProtocolError, close_code, close_payload, encode_frame};
pub use handshake::{HandshakeError, accept_key, validate};
pub use session::{Message, Receiver};
