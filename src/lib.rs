//! uhttp: a small synchronous poll-loop HTTP/1.1 server.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cookie;
pub mod error;
pub mod h1;
pub mod tls;
pub mod util;
pub mod ws;

pub use cookie::{Cookie, SameSite};
pub use error::Error;
