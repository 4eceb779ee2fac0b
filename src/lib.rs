//! # uhttp
//!
//! A small HTTP/1.1 server on a synchronous, single-threaded poll loop
//! (`mio`), with TLS (`rustls`) and no async runtime: the Rust shape of
//! uHTTP Server.
//!
//! ```no_run
//! use uhttp::{Event, HttpServer};
//!
//! let mut server = HttpServer::bind("127.0.0.1:8080")?;
//! loop {
//!     // Run the loop until a request is ready (or the timeout passes).
//!     let Some(Event::Request(req)) = server.wait(None)? else {
//!         continue;
//!     };
//!     let answer = match req.path() {
//!         "/" => req.respond(200, "Hello\n"),
//!         "/rpc" => req.respond_json(200, &serde_json::json!({ "query": req.query().to_json() })),
//!         _ => req.respond(404, "Not Found\n"),
//!     };
//!     // A client that left makes only its own answer fail: log, go on.
//!     // Only `wait()` failing (the loop cannot go on) ends the program.
//!     if let Err(e) = answer {
//!         eprintln!("cannot answer {}: {e}", req.url());
//!     }
//! }
//! # Ok::<(), uhttp::Error>(())
//! ```
//!
//! New here? The [`guide`] walks through each capability (the loop,
//! answering from other threads, several servers, files, streams,
//! WebSocket, uploads, TLS, limits) with an example for each.
//!
//! ## The pieces
//!
//! - [`HttpServer`] binds one server (IPv4, IPv6 or dual-stack `[::]`);
//!   [`EventLoop`] serves several from one poll, each with its own
//!   [`Config`] (the uHTTP Server option names).
//! - `wait()` hands out [`Event`]s. A [`Request`] is a cheap, `Send`
//!   handle: answer it now, keep it and answer later, or answer from
//!   another thread (the loop is woken). Pipelined requests are answered in
//!   order; a second answer is [`Error::AlreadyResponded`].
//! - Answers: [`Request::respond`], [`Request::respond_json`],
//!   [`Request::respond_redirect`], [`Request::respond_file`] (streamed from
//!   disk), [`Request::send`] with a [`Response`] (headers, [`Cookie`]s).
//! - Streams: [`Request::response_stream`] (chunked; [`Request::response_stream_sized`]
//!   with a `Content-Length`), [`SseStream`],
//!   [`NdjsonStream`], [`MultipartStream`]; WebSocket with
//!   [`Request::accept_websocket`]. Sends are bounded by
//!   `max_send_buffer`: past it they fail with [`Error::WouldBlock`] and
//!   [`Event::Writable`] says when to go on.
//! - Event mode ([`Config::event_mode`]): [`Event::Headers`] before a body
//!   is read; the application accepts it into memory, as [`Event::Data`]
//!   events, or into a file.
//! - Refused requests get one status each ([`RequestError`]): 400, 408,
//!   413, 431, 501, 505, and the connection closes.
//! - Access log ([`Config::access_log`]): a [`Completed`] record when each
//!   response ends (refusals included), with the body bytes really sent,
//!   the time to the last byte and whether it was cut short.
//!
//! ## Cargo features
//!
//! | feature | adds | crates it brings |
//! | --- | --- | --- |
//! | `tls` | HTTPS: [`Config::tls`], the [`tls`] module | `rustls` (with `ring`), `rustls-pki-types` |
//! | `websocket` | [`Request::accept_websocket`], [`WebSocket`], [`Event::WebSocket`], [`ws`], permessage-deflate | `sha1`, `base64`, `flate2` (`zlib-rs`) |
//! | `cli` | nothing in the library: what the `uhttpd` program needs (`tls` and `websocket` too) | clap, notify, bcrypt, compressors, ... |
//!
//! All are on by default. A library user who wants neither TLS nor
//! WebSocket depends on `uhttp = { version = "0.1", default-features =
//! false }` and adds `features = ["tls"]` or `["websocket"]` as needed;
//! without `tls` every listener is plain HTTP, and without `websocket` an
//! upgrade request is an ordinary request.
//!
//! ## Panics
//!
//! Nothing a client sends should make the library panic (requests with
//! multi-byte and invalid UTF-8 at every offset are tested). As a second
//! line of defence, a panic while the loop drives a connection (parsing,
//! sending, or the `Drop` of an application value the loop lets go of,
//! such as a request's context) is caught at that connection: it is logged
//! as an error with the client's address and the request line (`-` before
//! one was read), that connection is closed (its requests, streams and
//! WebSockets see [`Error::Closed`] or a closing event), and every other
//! connection goes on. This needs `panic = "unwind"`, the default; in a
//! program built with `panic = "abort"` the process ends.
//!
//! The application's handler runs on its own thread, outside `wait()`, so
//! a panic there unwinds through the application, not the loop, and ends
//! its loop unless it is caught. A [`Request`] dropped unanswered while
//! unwinding is answered `500` the next time the loop runs. To keep
//! serving after a panic in a handler, catch it:
//!
//! ```no_run
//! use std::panic::{AssertUnwindSafe, catch_unwind};
//! use uhttp::{Event, HttpServer, Request};
//!
//! fn handle(req: Request) {
//!     // A bug: panics on `/x`.
//!     let n: u32 = req.path().trim_start_matches('/').parse().unwrap();
//!     if let Err(e) = req.respond(200, format!("{}\n", n * 2)) {
//!         log::warn!("cannot answer {}: {e}", req.url());
//!     }
//! }
//!
//! let mut server = HttpServer::bind("127.0.0.1:8080")?;
//! loop {
//!     if let Some(Event::Request(req)) = server.wait(None)? {
//!         // On a panic `req` is dropped unanswered: the client gets 500.
//!         if catch_unwind(AssertUnwindSafe(|| handle(req))).is_err() {
//!             log::error!("handler panicked");
//!         }
//!     }
//! }
//! # Ok::<(), uhttp::Error>(())
//! ```
//!
//! The sans-IO parts are public for reuse and testing: [`h1`] (head
//! parsing, body decoding, response encoding, stream framing), [`ws`]
//! (RFC 6455 handshake and frames), [`util`] (the uHTTP Server helper
//! functions), [`tls`] (PEM loading, the swappable certificate),
//! [`proxy_protocol`] (PROXY protocol headers of load balancers).
#![forbid(unsafe_code)]
// docs.rs marks what each feature adds.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

pub mod access_log;
mod config;
mod conn;
mod cookie;
mod error;
mod event;
pub mod guide;
pub mod h1;
mod headers;
mod ids;
mod outbox;
pub mod peer_limits;
pub mod proxy_protocol;
mod request;
mod responder;
mod response;
mod server;
mod stream;
mod sync;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;
pub mod util;
#[cfg(feature = "websocket")]
mod websocket;
#[cfg(feature = "websocket")]
#[cfg_attr(docsrs, doc(cfg(feature = "websocket")))]
pub mod ws;

pub use access_log::{AccessLog, Completed, Outcome};
pub use config::Config;
pub use cookie::{Cookie, SameSite};
pub use error::{Error, RequestError};
pub use event::Event;
pub use h1::head::Version;
pub use headers::Headers;
pub use ids::ServerId;
pub use peer_limits::{PeerLimits, Rate};
pub use proxy_protocol::ProxyProtocol;
pub use request::{Request, content_type_for};
pub use response::{Body, Part, Response};
pub use server::{EventLoop, HttpServer, LoopHandle, UNIX_SOCKET_ADDR, bind};
pub use stream::{MultipartStream, NdjsonStream, ResponseStream, SseStream};
#[cfg(feature = "websocket")]
#[cfg_attr(docsrs, doc(cfg(feature = "websocket")))]
pub use websocket::WebSocket;

/// The README's Rust samples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
