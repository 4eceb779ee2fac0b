//! uhttp: a small synchronous poll-loop HTTP/1.1 server.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod config;
mod conn;
pub mod cookie;
pub mod error;
mod event;
pub mod h1;
mod headers;
mod outbox;
mod request;
mod responder;
pub mod response;
mod server;
mod stream;
pub mod tls;
pub mod util;
mod websocket;
pub mod ws;

pub use config::Config;
pub use cookie::{Cookie, SameSite};
pub use error::{Error, RequestError};
pub use event::Event;
pub use h1::head::Version;
pub use headers::Headers;
pub use request::{Request, content_type_for};
pub use response::{Body, Part, Response};
pub use server::{EventLoop, HttpServer, LoopHandle, ServerId, bind};
pub use stream::{MultipartStream, NdjsonStream, ResponseStream, SseStream};
pub use websocket::WebSocket;
