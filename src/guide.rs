//! # A guide to uhttp
//!
//! One section per capability, each with an example that compiles (the
//! ones that would serve forever are `no_run`). Read them in order: each
//! builds on the loop of the first.
//!
//! 1. [The loop and `wait()`](#the-loop-and-wait)
//! 2. [Answering later, and from another thread](#answering-later-and-from-another-thread)
//! 3. [Several servers in one loop](#several-servers-in-one-loop)
//! 4. [Files](#files)
//! 5. [Streams and backpressure](#streams-and-backpressure)
//! 6. [WebSocket](#websocket)
//! 7. [Event-mode uploads](#event-mode-uploads)
//! 8. [TLS and certificate swap](#tls-and-certificate-swap)
//! 9. [Limits, and what each refusal means](#limits-and-what-each-refusal-means)
//!
//! The examples of the TLS and WebSocket sections are compiled only with
//! the `tls` and `websocket` features (on by default): their code sits in
//! a hidden `#[cfg(feature = "...")]` function, so without the feature
//! they compile to nothing and pass.
//!
//! ## The loop and `wait()`
//!
//! There is no async runtime and no thread pool: one thread calls
//! [`HttpServer::wait`] (or [`EventLoop::wait`]), which accepts
//! connections, reads, parses and writes until a request is ready, then
//! returns it as an [`Event`]. Everything the loop does while it waits is
//! non-blocking; the application's code runs between two calls, so a
//! handler that is slow holds up every connection of the loop (hand such
//! work to a thread: next section).
//!
//! `wait(Some(timeout))` returns `Ok(None)` when the timeout passes with
//! nothing to hand out (or when a [`LoopHandle::interrupt`] woke it), which
//! is the place for timers of the application's own. `wait()` fails only
//! when the poll itself does; a client that misbehaves or leaves is closed
//! by the loop and never shows as an error there. An answer, though, can
//! fail (the client is gone, the request was answered already): log it
//! and go on, never `?` it out of the loop.
//!
//! This example runs: it binds a free port, a thread sends one request,
//! and the loop answers it.
//!
//! ```
//! use std::io::{Read, Write};
//! use std::time::Duration;
//! use uhttp::{Event, HttpServer};
//!
//! let mut server = HttpServer::bind("127.0.0.1:0")?;
//! let addr = server.local_addr();
//! let client = std::thread::spawn(move || -> std::io::Result<String> {
//!     let mut s = std::net::TcpStream::connect(addr)?;
//!     s.set_read_timeout(Some(Duration::from_secs(10)))?;
//!     s.write_all(b"GET /hello?name=uhttp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
//!     let mut answer = String::new();
//!     s.read_to_string(&mut answer)?;
//!     Ok(answer)
//! });
//!
//! // Serve until the client has its answer (bounded: at most 100 rounds).
//! for _ in 0..100 {
//!     if client.is_finished() {
//!         break;
//!     }
//!     let Some(Event::Request(req)) = server.wait(Some(Duration::from_millis(100)))? else {
//!         continue; // the timeout passed: a place for timers
//!     };
//!     let name = req.query().get("name").unwrap_or("world");
//!     let answer = match req.path() {
//!         "/hello" => req.respond(200, format!("Hello, {name}\n")),
//!         _ => req.respond(404, "Not Found\n"),
//!     };
//!     if let Err(e) = answer {
//!         eprintln!("cannot answer {}: {e}", req.url());
//!     }
//! }
//! let answer = client.join().expect("client thread").expect("client I/O");
//! assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"));
//! assert!(answer.ends_with("Hello, uhttp\n"));
//! # Ok::<(), uhttp::Error>(())
//! ```
//!
//! [`Request`] has what the request says ([`Request::method`],
//! [`Request::path`] (percent-decoded), [`Request::query`],
//! [`Request::header`], [`Request::json`], [`Request::form`],
//! [`Request::remote_address`]) and the ways to answer:
//! [`Request::respond`], [`Request::respond_json`],
//! [`Request::respond_redirect`], [`Request::respond_file`], and
//! [`Request::send`] with a [`Response`] built with headers and
//! [`Cookie`](crate::Cookie)s. A request is answered once; a second answer
//! is [`Error::AlreadyResponded`].
//!
//! ## Answering later, and from another thread
//!
//! A [`Request`] is a cheap `Send + Clone` handle. Keep it and answer it
//! later, or send it to another thread and answer it there: the answer is
//! queued for the loop and wakes it, so the loop thread never waits for a
//! handler. Pipelined requests of one connection are answered in the
//! order they came, whoever answers first. A request whose every handle is
//! dropped unanswered is answered `500` by the loop.
//!
//! To wake the loop for reasons of its own (a shutdown, a timer of
//! another thread), a [`LoopHandle`] from [`HttpServer::handle`] makes
//! `wait()` return `Ok(None)` soon.
//!
//! ```no_run
//! use std::sync::mpsc;
//! use uhttp::{Event, HttpServer, Request};
//!
//! let mut server = HttpServer::bind("127.0.0.1:0")?;
//! let (jobs, queue) = mpsc::channel::<Request>();
//! // A worker does the slow part (a database, a password hash, ...).
//! std::thread::spawn(move || {
//!     for req in queue {
//!         let sum: u64 = (1..=1_000_000u64).sum();
//!         if let Err(e) = req.respond(200, format!("{sum}\n")) {
//!             log::warn!("cannot answer {}: {e}", req.url());
//!         }
//!     }
//! });
//! loop {
//!     let Some(Event::Request(req)) = server.wait(None)? else {
//!         continue;
//!     };
//!     if jobs.send(req).is_err() {
//!         break; // the worker is gone
//!     }
//! }
//! # Ok::<(), uhttp::Error>(())
//! ```
//!
//! `examples/delayed.rs` answers each request after a delay it names,
//! from one worker holding all of them.
//!
//! ## Several servers in one loop
//!
//! One [`EventLoop`] serves any number of servers, each a set of listening
//! addresses with its own [`Config`] (uHTTP Server's `read_sockets` /
//! `write_sockets` use case: a redirector beside the site, an admin port
//! with other limits). [`EventLoop::add_server`] returns a [`ServerId`];
//! [`Request::server`] says which server a request came to.
//! [`HttpServer`] is one such server with its own loop
//! ([`HttpServer::event_loop`] adds more to it). Several loops on several
//! threads are fine too; they share nothing unless given clones of the
//! same [`PeerLimits`], [`AccessLog`] or TLS configuration.
//!
//! ```
//! use std::net::SocketAddr;
//! use uhttp::{Config, EventLoop};
//!
//! let mut event_loop = EventLoop::new()?;
//! let any_port = [SocketAddr::from(([127, 0, 0, 1], 0))];
//! let site = event_loop.add_server(&any_port, Config::default())?;
//! let mut admin_config = Config::default();
//! admin_config.max_waiting_clients = 16;
//! let admin = event_loop.add_server(&any_port, admin_config)?;
//! assert_ne!(event_loop.local_addrs(site), event_loop.local_addrs(admin));
//! // Then: `event_loop.wait(..)`, and `req.server() == site` tells them apart.
//! # Ok::<(), uhttp::Error>(())
//! ```
//!
//! `examples/two_servers.rs` serves both. [`EventLoop::add_listeners`]
//! takes already bound sockets (from systemd, or [`bind`](crate::bind)
//! with `SO_REUSEPORT` for one loop per core), and
//! [`EventLoop::add_unix_listener`] a Unix socket behind a proxy.
//!
//! ## Files
//!
//! [`Request::respond_file`] answers with a file streamed from disk as the
//! socket drains: the file is never read whole, and reads pause while the
//! client's send buffer is full. `Content-Type` follows the extension
//! ([`content_type_for`](crate::content_type_for)). A file that cannot be
//! opened fails with [`Error::File`] and nothing is sent, so the
//! application answers (404, 403) itself. [`Body::file`]
//! puts a file in a [`Response`] with headers of your own.
//!
//! The library maps no URL to a path: that is the application's, and the
//! place where a request must be kept inside its root. Refuse `..` and
//! anything odd rather than trying to clean it. The check below is
//! lexical: a symlink under the root is followed wherever it points (the
//! `uhttpd` program does more: symlinks, ranges, `ETag`s, compression).
//!
//! ```no_run
//! use std::path::{Component, Path, PathBuf};
//! use uhttp::{Error, Event, HttpServer};
//!
//! /// `root` joined with the request path, or `None` if it would leave `root`.
//! fn inside(root: &Path, url_path: &str) -> Option<PathBuf> {
//!     let rel = Path::new(url_path.trim_start_matches('/'));
//!     rel.components()
//!         .all(|c| matches!(c, Component::Normal(_)))
//!         .then(|| root.join(rel))
//! }
//!
//! let root = PathBuf::from("public");
//! let mut server = HttpServer::bind("127.0.0.1:0")?;
//! loop {
//!     let Some(Event::Request(req)) = server.wait(None)? else {
//!         continue;
//!     };
//!     let answer = match inside(&root, req.path()) {
//!         Some(path) => match req.respond_file(&path) {
//!             Err(Error::File { .. }) => req.respond(404, "Not Found\n"),
//!             other => other,
//!         },
//!         None => req.respond(400, "Bad path\n"),
//!     };
//!     if let Err(e) = answer {
//!         eprintln!("cannot answer {}: {e}", req.url());
//!     }
//! }
//! # Ok::<(), uhttp::Error>(())
//! ```
//!
//! ## Streams and backpressure
//!
//! [`Request::response_stream`] starts an answer whose body is produced as
//! it goes (chunked for HTTP/1.1, close-delimited for HTTP/1.0);
//! [`Request::response_stream_sized`] sends a `Content-Length` instead.
//! On top of it: [`SseStream`](crate::SseStream) (Server-Sent Events),
//! [`NdjsonStream`](crate::NdjsonStream) and
//! [`MultipartStream`](crate::MultipartStream) (MJPEG). A stream is a
//! `Send` handle: produce from any thread.
//!
//! Each client's queue is bounded by [`Config::max_send_buffer`]. A send
//! past it fails with [`Error::WouldBlock`] and queues nothing; when the
//! client has read enough, the loop hands out [`Event::Writable`] for that
//! request: send again then. A client that leaves makes sends fail with
//! [`Error::Closed`], and [`Event::Closed`] says it went away before the
//! stream ended. A producer that ignores `WouldBlock` loses data; one that waits
//! for `Writable` never holds more than the limit for a slow client.
//!
//! ```no_run
//! use std::collections::HashMap;
//! use uhttp::{Error, Event, HttpServer, ResponseStream, Response};
//!
//! /// Sends the next lines of `stream` until it is full or done.
//! fn pump(stream: &ResponseStream, next: &mut u32) -> Result<bool, Error> {
//!     while *next < 100_000 {
//!         match stream.send_chunk(format!("line {next}\n").as_bytes()) {
//!             Ok(()) => *next += 1,
//!             Err(Error::WouldBlock) => return Ok(false), // wait for Writable
//!             Err(e) => return Err(e),
//!         }
//!     }
//!     stream.end()?;
//!     Ok(true)
//! }
//!
//! let mut server = HttpServer::bind("127.0.0.1:0")?;
//! // Streams waiting for room, by request id, with their next line.
//! let mut waiting: HashMap<u64, (ResponseStream, u32)> = HashMap::new();
//! loop {
//!     let (stream, mut next) = match server.wait(None)? {
//!         Some(Event::Request(req)) => {
//!             match req.response_stream(Response::new(200).header("Content-Type", "text/plain")) {
//!                 Ok(stream) => (stream, 0),
//!                 Err(e) => {
//!                     eprintln!("cannot answer {}: {e}", req.url());
//!                     continue;
//!                 }
//!             }
//!         }
//!         Some(Event::Writable(req)) => match waiting.remove(&req.id()) {
//!             Some(waiting) => waiting,
//!             None => continue,
//!         },
//!         Some(Event::Closed(req)) => {
//!             waiting.remove(&req.id());
//!             continue;
//!         }
//!         _ => continue,
//!     };
//!     match pump(&stream, &mut next) {
//!         Ok(true) => {}
//!         Ok(false) => {
//!             waiting.insert(stream.request().id(), (stream, next));
//!         }
//!         Err(e) => eprintln!("stream {} ended: {e}", stream.request().url()),
//!     }
//! }
//! # Ok::<(), uhttp::Error>(())
//! ```
//!
//! `examples/sse_clock.rs`, `examples/ndjson.rs` and `examples/mjpeg.rs`
//! stream from threads of their own. [`Config::limit_rate`] paces every
//! response of a connection to a number of bytes per second, on the
//! loop's timers.
//!
//! ## WebSocket
//!
//! With the `websocket` feature, [`Request::accept_websocket`] answers an
//! upgrade request with `101` and returns a [`WebSocket`](crate::WebSocket)
//! handle (`Send + Clone`: send from any thread). A request that is not a
//! valid upgrade is answered `400` or `426` and the call fails with
//! `Error::Handshake`. The session's messages then come as
//! `Event::WebSocket(ws, message)`; pings are answered by the loop, and
//! `Message::Close` comes exactly once, however the session ends (the
//! client's close, a protocol error, a vanished client). Sends are bounded
//! as streams' are ([`Error::WouldBlock`], then [`Event::Writable`]).
//! Messages larger than `Config::max_message_size` are refused with close
//! code 1009 before they are read; permessage-deflate is accepted when the
//! client offers it (`Config::websocket_deflate`).
//!
//! ```no_run
//! # #[cfg(feature = "websocket")]
//! # fn main() -> Result<(), uhttp::Error> {
//! use uhttp::ws::Message;
//! use uhttp::{Event, HttpServer};
//!
//! let mut server = HttpServer::bind("127.0.0.1:0")?;
//! loop {
//!     let result = match server.wait(None)? {
//!         Some(Event::Request(req)) if req.path() == "/ws" => req.accept_websocket().map(drop),
//!         Some(Event::Request(req)) => req.respond(404, "Not Found\n"),
//!         Some(Event::WebSocket(ws, Message::Text(text))) => ws.send_text(&text),
//!         Some(Event::WebSocket(ws, Message::Binary(data))) => ws.send_binary(&data),
//!         // Close, Ping, Pong: the loop has done what they need.
//!         _ => Ok(()),
//!     };
//!     if let Err(e) = result {
//!         eprintln!("cannot answer: {e}");
//!     }
//! }
//! # }
//! # #[cfg(not(feature = "websocket"))]
//! # fn main() {}
//! ```
//!
//! `examples/ws_echo.rs` also keeps echoes refused with `WouldBlock` until
//! `Writable`, so none is lost (it passes the Autobahn TestSuite).
//!
//! ## Event-mode uploads
//!
//! By default a request's body is read whole (up to
//! [`Config::max_content_length`]) before the request is handed out. With
//! [`Config::event_mode`], a request with a body comes first as
//! [`Event::Headers`], and the application chooses:
//! [`Request::accept_body`] (into memory, then [`Event::Complete`]),
//! [`Request::accept_body_streaming`] ([`Event::Data`] events; take the
//! bytes with [`Request::read_buffer`]; while too many wait untaken, the
//! loop stops reading that body), [`Request::accept_body_to_file`] (written to a file as it
//! arrives), or an answer right away (`401`, `413`: the body is never
//! read and the connection closes). A body that fails (the client
//! vanishes, the disk is full) ends with [`Event::Error`], and a partial
//! file is removed. A client that sent `Expect: 100-continue` gets its
//! `100 Continue` only when the body is accepted. [`Request::set_context`]
//! keeps a value of yours with the request between its events.
//!
//! ```no_run
//! use uhttp::{Config, Event, HttpServer};
//!
//! let mut config = Config::default();
//! config.event_mode = true;
//! config.max_content_length = 1 << 30;
//! let mut server = HttpServer::with_config("127.0.0.1:0", config)?;
//! loop {
//!     let result = match server.wait(None)? {
//!         // No body, or a body small enough to arrive with the head.
//!         Some(Event::Request(req)) => req.respond(200, format!("{} bytes\n", req.data().len())),
//!         Some(Event::Headers(req)) if req.method() == "PUT" => req.accept_body_streaming(),
//!         Some(Event::Headers(req)) => req.respond(405, "PUT only\n"),
//!         Some(Event::Data(req)) => {
//!             let bytes = req.read_buffer(); // hash it, forward it, ...
//!             drop(bytes);
//!             Ok(())
//!         }
//!         Some(Event::Complete(req)) => {
//!             req.respond(200, format!("{} bytes\n", req.bytes_received()))
//!         }
//!         Some(Event::Error(req)) => {
//!             eprintln!("upload failed: {}", req.error().unwrap_or_default());
//!             Ok(())
//!         }
//!         _ => Ok(()),
//!     };
//!     if let Err(e) = result {
//!         eprintln!("cannot answer: {e}");
//!     }
//! }
//! # Ok::<(), uhttp::Error>(())
//! ```
//!
//! `examples/event_upload.rs` saves uploads with `accept_body_to_file`.
//! `Complete` means every byte was written, not that it reached the disk:
//! the loop never calls `fsync`; sync on a thread of your own if it
//! matters.
//!
//! ## TLS and certificate swap
//!
//! With the `tls` feature, a server whose `Config::tls` is set serves
//! HTTPS (TLS 1.2 and 1.3, `rustls` with `ring`, ALPN `http/1.1`). The
//! `TlsConfig` there is a shared, swappable slot: `TlsConfig::reload`
//! (from PEM files) or `TlsConfig::replace` (a `rustls::ServerConfig` of
//! your own) makes every later connection use the new certificate, while
//! open ones go on with the one they started with. Nothing has to be
//! restarted; reloading on a thread of your own keeps the file reads and
//! key parsing off the loop. A failed reload keeps the old certificate.
//! The handshake runs inside the loop like any other read; clients that
//! fail it are closed and counted
//! ([`LoopHandle::tls_handshake_failures`]).
//!
//! ```no_run
//! # #[cfg(feature = "tls")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::path::Path;
//! use uhttp::tls::TlsConfig;
//! use uhttp::{Config, Event, HttpServer};
//!
//! let (cert, key) = (Path::new("cert.pem"), Path::new("key.pem"));
//! let tls = TlsConfig::load(cert, key)?;
//! let mut config = Config::default();
//! config.tls = Some(tls.clone());
//! let mut server = HttpServer::with_config("127.0.0.1:0", config)?;
//!
//! // Swap the certificate every hour (a renewal writes new files).
//! std::thread::spawn(move || loop {
//!     std::thread::sleep(std::time::Duration::from_secs(3600));
//!     if let Err(e) = tls.reload(cert, key) {
//!         eprintln!("keeping the old certificate: {e}");
//!     }
//! });
//! loop {
//!     if let Some(Event::Request(req)) = server.wait(None)? {
//!         assert!(req.is_secure());
//!         if let Err(e) = req.respond(200, "Hello over TLS\n") {
//!             eprintln!("cannot answer {}: {e}", req.url());
//!         }
//!     }
//! }
//! # }
//! # #[cfg(not(feature = "tls"))]
//! # fn main() {}
//! ```
//!
//! ## Limits, and what each refusal means
//!
//! Every limit is a field of [`Config`] (the uHTTP Server names) or of a
//! shared [`PeerLimits`]. A request the server refuses never reaches the
//! application: the loop answers it with one status
//! ([`RequestError::status`]) and, but for a rate-limited request without
//! a body, closes the connection, because the framing of what follows can
//! no longer be trusted. Everyone else goes on being served. The refusals
//! show in the access log ([`Config::access_log`]).
//!
//! | status | refusal | when |
//! | --- | --- | --- |
//! | 400 | [`RequestError::BadRequest`] | malformed request line, header, `Content-Length`, chunk, or a missing `Host` in HTTP/1.1; the text names the rule |
//! | 408 | [`RequestError::Timeout`] | the head took longer than [`Config::request_timeout`], or a body stalled that long |
//! | 413 | [`RequestError::PayloadTooLarge`] | a body longer than [`Config::max_content_length`] (refused from its `Content-Length`, unread) |
//! | 431 | [`RequestError::HeadersTooLarge`] | a head longer than [`Config::max_headers_length`] (a long URL included: there is no separate 414), or too many header lines |
//! | 429 | [`RequestError::TooManyConnections`] | the client address has [`PeerLimits::max_connections`] open (before any request is read) |
//! | 429 | [`RequestError::RateLimited`] | the client address is over its [`PeerLimits::rate`]; `Retry-After` says when to come back |
//! | 501 | [`RequestError::NotImplemented`] | an unknown method or transfer coding |
//! | 505 | [`RequestError::VersionNotSupported`] | a version other than HTTP/1.0 and 1.1 |
//!
//! Other limits do not answer with a status: past
//! [`Config::max_waiting_clients`] the connection idle the longest is
//! closed to admit a new one (new ones wait in the kernel's backlog while
//! all are busy; the library never sends 503), [`Config::keep_alive_timeout`]
//! and [`Config::keep_alive_max_requests`] close keep-alive connections,
//! and a client that reads nothing for [`Config::send_timeout`] is cut
//! off. The application's own answers are its own: a request dropped
//! unanswered gets `500`, a refused WebSocket upgrade `400` or `426`.
//!
//! ```
//! use std::num::NonZeroU32;
//! use std::time::Duration;
//! use uhttp::{Config, PeerLimits, Rate};
//!
//! let ten = NonZeroU32::new(10).expect("not zero");
//! // Shared by every server given a clone: counted per client address.
//! let limits = PeerLimits::new()
//!     .max_connections(ten)
//!     .rate(Rate::per_second(ten).with_burst(NonZeroU32::new(20).expect("not zero")));
//!
//! let mut config = Config::default();
//! config.max_headers_length = 4 * 1024; // 431 past it
//! config.max_content_length = 64 * 1024; // 413 past it
//! config.request_timeout = Duration::from_secs(5); // 408 past it
//! config.peer_limits = Some(limits.clone()); // 429 past it
//! assert_eq!(limits.connection_limit(), Some(ten));
//! ```
#![allow(unused_imports)]
use crate::{
    AccessLog, Body, Config, Error, Event, EventLoop, HttpServer, LoopHandle, PeerLimits, Request,
    RequestError, Response, ServerId,
};
