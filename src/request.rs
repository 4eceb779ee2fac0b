//! [`Request`]: what `wait()` hands out — the request's data, and the
//! handle that answers it, now or later, on this thread or another.

use std::any::Any;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::Error;
use crate::h1::head::{Head, Version};
use crate::headers::Headers;
use crate::ids::ConnRef;
use crate::ids::ServerId;
use crate::responder::{Command, Shared, SinkChoice};
use crate::response::{Body, Response};
use crate::sync::lock;
use crate::util::decode_percent_encoding;
use crate::util::{Params, parse_cookies, parse_header_parameters, parse_query, split_url};

/// A request received by the server, and the handle that answers it.
///
/// Cloning is cheap (a reference count); every clone names the same
/// request. `Request` is `Send + Sync`: move it to a worker thread and
/// answer there, the loop is woken to send the response. A request whose
/// last handle is dropped without an answer is answered with 500 (the
/// connection would otherwise wait forever).
///
/// ```
/// use uhttp::{Cookie, Request, Response};
///
/// /// One answer per request, whichever way it is sent.
/// fn answer(req: &Request) -> Result<(), uhttp::Error> {
///     match req.path() {
///         "/" => req.respond(200, "Hello\n"),
///         "/api" => req.respond_json(200, &serde_json::json!({ "path": req.path() })),
///         "/old" => req.respond_redirect("/", 301),
///         "/login" => req.send(
///             Response::new(200)
///                 .header("Cache-Control", "no-store")
///                 .cookie(Cookie::new("session", "abc123"))
///                 .body("Welcome\n"),
///         ),
///         // Answered later, by another thread: the loop is woken for it.
///         "/slow" => {
///             let req = req.clone();
///             std::thread::spawn(move || {
///                 if let Err(e) = req.respond(200, "done\n") {
///                     log::warn!("cannot answer {}: {e}", req.url());
///                 }
///             });
///             Ok(())
///         }
///         _ => req.respond(404, "Not Found\n"),
///     }
/// }
/// ```
pub struct Request {
    inner: Arc<Inner>,
    /// Held by the application (counted in `Inner::app_handles`), as
    /// opposed to the loop's own reference.
    counted: bool,
}

impl Clone for Request {
    fn clone(&self) -> Self {
        if self.counted {
            self.inner.app_handles.fetch_add(1, Ordering::Relaxed);
        }
        Request {
            inner: Arc::clone(&self.inner),
            counted: self.counted,
        }
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        if self.counted && self.inner.app_handles.fetch_sub(1, Ordering::AcqRel) == 1 {
            let state = lock(&self.inner.state);
            if !state.responded && !state.closed {
                drop(state);
                let id = self.inner.id;
                self.command(|conn| Command::Abandoned { conn, id });
            }
        }
    }
}

struct Inner {
    conn: ConnRef,
    /// Handles the application holds; when the last goes unanswered the
    /// loop answers 500.
    app_handles: AtomicUsize,
    shared: Arc<Shared>,
    server: ServerId,
    head: Head,
    /// Length of the raw path at the start of the target.
    path_len: usize,
    /// The percent-decoded path, when decoding changes it (the target
    /// holds a `%`); else the path is the start of the target.
    decoded_path: Option<Box<str>>,
    /// Parsed on first use: most handlers never look.
    query: OnceLock<Params>,
    local_addr: SocketAddr,
    peer_addr: SocketAddr,
    /// The peer's address, for the common chain of one.
    peer_ip: IpAddr,
    /// The chain, client first, when the peer is a trusted proxy.
    forwarded_chain: Option<Box<[IpAddr]>>,
    is_secure: bool,
    /// Offer permessage-deflate to WebSocket clients ([`crate::Config::websocket_deflate`]).
    #[cfg(feature = "websocket")]
    websocket_deflate: bool,
    /// Cap of a stream's or WebSocket's send buffer.
    max_send_buffer: usize,
    id: u64,
    body: OnceLock<Vec<u8>>,
    state: Mutex<State>,
}

/// What changes while the request lives.
#[derive(Default)]
struct State {
    responded: bool,
    closed: bool,
    body_accepted: bool,
    /// Body bytes waiting for `read_buffer()` (event mode, streaming).
    pending: Vec<u8>,
    /// A `Data` event was handed out and `read_buffer()` not called since.
    data_event_out: bool,
    /// The loop stopped reading because `pending` is full.
    paused: bool,
    bytes_received: u64,
    error: Option<String>,
    context: Option<Box<dyn Any + Send>>,
}

/// Where a request came from, as the loop knows it.
pub(crate) struct Origin {
    pub conn: ConnRef,
    pub shared: Arc<Shared>,
    pub server: ServerId,
    pub local_addr: SocketAddr,
    pub peer_addr: SocketAddr,
    pub is_secure: bool,
    #[cfg(feature = "websocket")]
    pub websocket_deflate: bool,
    pub max_send_buffer: usize,
    /// Unique within the loop: the connection's serial and the request's
    /// number on it.
    pub id: u64,
}

impl Request {
    pub(crate) fn new(head: Head, origin: Origin, trusted_proxies: &[IpAddr]) -> Request {
        let (raw_path, _) = split_url(head.target());
        let path_len = raw_path.len();
        // Without a `%` decoding is the identity (the target is UTF-8).
        let decoded_path = raw_path
            .contains('%')
            .then(|| decode_percent_encoding(raw_path).into_boxed_str());
        // An IPv4 client of a dual-stack socket shows as 1.2.3.4, not
        // ::ffff:1.2.3.4.
        let peer_addr = SocketAddr::new(
            origin.peer_addr.ip().to_canonical(),
            origin.peer_addr.port(),
        );
        let forwarded_chain = forwarded_chain(head.headers(), peer_addr.ip(), trusted_proxies);
        Request {
            counted: false,
            inner: Arc::new(Inner {
                app_handles: AtomicUsize::new(0),
                conn: origin.conn,
                shared: origin.shared,
                server: origin.server,
                head,
                path_len,
                decoded_path,
                query: OnceLock::new(),
                local_addr: origin.local_addr,
                peer_addr,
                peer_ip: peer_addr.ip(),
                forwarded_chain,
                is_secure: origin.is_secure,
                #[cfg(feature = "websocket")]
                websocket_deflate: origin.websocket_deflate,
                max_send_buffer: origin.max_send_buffer,
                id: origin.id,
                body: OnceLock::new(),
                state: Mutex::new(State::default()),
            }),
        }
    }

    // ----- what the request says -----

    /// The method, e.g. `"GET"`.
    pub fn method(&self) -> &str {
        self.inner.head.method
    }

    /// The request target as sent: path and query, still percent-encoded.
    pub fn url(&self) -> &str {
        self.inner.head.target()
    }

    /// The path, percent-decoded (so `%2F` became `/`: to map paths to
    /// files, work from [`Request::url`] and refuse, never rewrite).
    pub fn path(&self) -> &str {
        match &self.inner.decoded_path {
            Some(decoded) => decoded,
            None => &self.url()[..self.inner.path_len],
        }
    }

    /// The query parameters; repeated keys are kept in order.
    pub fn query(&self) -> &Params {
        self.inner.query.get_or_init(|| {
            let (_, raw_query) = split_url(self.url());
            raw_query.map(parse_query).unwrap_or_default()
        })
    }

    /// `"HTTP/1.0"` or `"HTTP/1.1"`.
    pub fn protocol(&self) -> &'static str {
        self.inner.head.version.as_str()
    }

    /// The protocol version.
    pub fn version(&self) -> Version {
        self.inner.head.version
    }

    /// The header lines (case-insensitive lookup).
    pub fn headers(&self) -> &Headers {
        self.inner.head.headers()
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.inner.head.headers().get(name)
    }

    /// The host the request is for (`Host` header or absolute-form
    /// target), with its port if one was given.
    pub fn host(&self) -> Option<&str> {
        self.inner.head.host()
    }

    /// `scheme://host/path?query`, with `localhost` when no host was given.
    pub fn full_url(&self) -> String {
        let scheme = if self.inner.is_secure {
            "https"
        } else {
            "http"
        };
        let host = self.host().filter(|h| !h.is_empty()).unwrap_or("localhost");
        format!("{scheme}://{host}{}", self.url())
    }

    /// The cookies of the `Cookie` header(s).
    pub fn cookies(&self) -> Params {
        let mut all = Params::new();
        for value in self.headers().get_all("cookie") {
            for (k, v) in &parse_cookies(value) {
                all.push(k, v);
            }
        }
        all
    }

    /// The declared body length (`Content-Length`), if any.
    pub fn content_length(&self) -> Option<u64> {
        match self.inner.head.body {
            crate::h1::head::BodyKind::Length(n) => Some(n),
            crate::h1::head::BodyKind::None if self.headers().contains("content-length") => Some(0),
            _ => None,
        }
    }

    /// Whether the body is chunked (its length is not known in advance).
    pub fn is_chunked(&self) -> bool {
        self.inner.head.body == crate::h1::head::BodyKind::Chunked
    }

    /// Whether the request has a body at all.
    pub fn has_body(&self) -> bool {
        self.inner.head.body != crate::h1::head::BodyKind::None
    }

    /// The media type of `Content-Type`, lower-cased, without parameters.
    pub fn content_type(&self) -> Option<String> {
        let value = self.header("content-type")?;
        Some(parse_header_parameters(value).0.to_ascii_lowercase())
    }

    /// The body, once loaded (see [`Request::is_loaded`]); empty before.
    pub fn data(&self) -> &[u8] {
        self.inner.body.get().map_or(&[], Vec::as_slice)
    }

    /// Whether the whole body is in [`Request::data`]: always in normal
    /// mode; in event mode after `accept_body()` completed.
    pub fn is_loaded(&self) -> bool {
        self.inner.body.get().is_some()
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Result<serde_json::Value, Error> {
        Ok(serde_json::from_slice(self.data())?)
    }

    /// The body parsed as `application/x-www-form-urlencoded`.
    pub fn form(&self) -> Params {
        parse_query(&String::from_utf8_lossy(self.data()))
    }

    /// The client's socket address (the peer of the TCP connection;
    /// [`crate::UNIX_SOCKET_ADDR`] over a Unix socket; the source its
    /// PROXY protocol header names, with [`crate::Config::proxy_protocol`]).
    pub fn addr(&self) -> SocketAddr {
        self.inner.peer_addr
    }

    /// The local address the connection was accepted on.
    pub fn socket_address(&self) -> SocketAddr {
        self.inner.local_addr
    }

    /// The client's address: the peer, or — when the peer is a trusted
    /// proxy — the nearest untrusted address of `X-Forwarded-For`.
    pub fn remote_address(&self) -> IpAddr {
        // unwrap: the chain always holds the peer.
        *self.remote_addresses().first().unwrap()
    }

    /// The chain the request came through, client first: the addresses of
    /// `X-Forwarded-For` believed (only when the peer is trusted), then
    /// the peer.
    pub fn remote_addresses(&self) -> &[IpAddr] {
        match &self.inner.forwarded_chain {
            Some(chain) => chain,
            None => std::slice::from_ref(&self.inner.peer_ip),
        }
    }

    /// Whether the request came over TLS.
    pub fn is_secure(&self) -> bool {
        self.inner.is_secure
    }

    /// The server (of an [`crate::EventLoop`]) that received the request.
    pub fn server(&self) -> ServerId {
        self.inner.server
    }

    /// Body bytes received so far (event mode).
    pub fn bytes_received(&self) -> u64 {
        lock(&self.inner.state).bytes_received
    }

    /// Why the request failed, after an [`crate::Event::Error`].
    pub fn error(&self) -> Option<String> {
        lock(&self.inner.state).error.clone()
    }

    /// Whether the client's connection is gone.
    pub fn is_closed(&self) -> bool {
        lock(&self.inner.state).closed
    }

    /// Whether the request was answered.
    pub fn is_responded(&self) -> bool {
        lock(&self.inner.state).responded
    }

    // ----- the per-request context slot -----

    /// Stores application state with the request (replacing any).
    pub fn set_context<T: Any + Send>(&self, value: T) {
        lock(&self.inner.state).context = Some(Box::new(value));
    }

    /// Takes the stored state out, if it is a `T`.
    pub fn take_context<T: Any + Send>(&self) -> Option<T> {
        let mut state = lock(&self.inner.state);
        match state.context.take()?.downcast::<T>() {
            Ok(value) => Some(*value),
            Err(other) => {
                state.context = Some(other);
                None
            }
        }
    }

    /// Runs `f` on the stored state, if it is a `T`.
    pub fn with_context<T: Any + Send, R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let mut state = lock(&self.inner.state);
        state.context.as_mut()?.downcast_mut::<T>().map(f)
    }

    // ----- event mode: choosing how the body is received -----

    /// Reads the whole body into memory (up to `max_content_length`);
    /// [`crate::Event::Complete`] follows, with [`Request::data`] filled.
    pub fn accept_body(&self) -> Result<(), Error> {
        self.accept(SinkChoice::Buffer)
    }

    /// Delivers the body as [`crate::Event::Data`] events; take the bytes
    /// with [`Request::read_buffer`]. [`crate::Event::Complete`] ends it.
    pub fn accept_body_streaming(&self) -> Result<(), Error> {
        self.accept(SinkChoice::Stream)
    }

    /// Writes the body into `path` (created or truncated);
    /// [`crate::Event::Complete`] when done. If the body fails (the client
    /// vanishes, the disk is full) the partial file is removed and
    /// [`crate::Event::Error`] says why.
    ///
    /// `Complete` means every byte was written to the file, not that it
    /// reached the disk: the loop never waits for an `fsync`. Where
    /// durability matters, sync the file (`File::sync_data`) on a thread of
    /// your own before answering, as `uhttpd` does with its uploads.
    pub fn accept_body_to_file(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        self.accept(SinkChoice::File(path.as_ref().to_owned()))
    }

    fn accept(&self, sink: SinkChoice) -> Result<(), Error> {
        {
            let mut state = lock(&self.inner.state);
            if state.responded || state.body_accepted || !self.has_body() || self.is_loaded() {
                return Err(Error::InvalidState("the body cannot be accepted now"));
            }
            if state.closed {
                return Err(Error::Closed);
            }
            state.body_accepted = true;
        }
        self.inner.shared.push(Command::AcceptBody {
            conn: self.inner.conn,
            sink,
        });
        Ok(())
    }

    /// Takes the body bytes received since the last call (event mode,
    /// after `accept_body_streaming()`).
    pub fn read_buffer(&self) -> Vec<u8> {
        let mut state = lock(&self.inner.state);
        state.data_event_out = false;
        let data = std::mem::take(&mut state.pending);
        if std::mem::take(&mut state.paused) {
            drop(state);
            self.inner.shared.push(Command::Resume {
                conn: self.inner.conn,
            });
        }
        data
    }

    // ----- answering -----

    /// Answers with `status` and `body` (text, bytes or JSON value; the
    /// body's kind sets the default `Content-Type`).
    pub fn respond(&self, status: u16, body: impl Into<Body>) -> Result<(), Error> {
        self.send(Response::new(status).body(body))
    }

    /// Answers with `value` serialised as JSON.
    pub fn respond_json<T: serde::Serialize + ?Sized>(
        &self,
        status: u16,
        value: &T,
    ) -> Result<(), Error> {
        self.send(Response::json(status, value)?)
    }

    /// Answers with a redirect to `location` (`301`, `302`, `303`, `307`
    /// or `308`).
    pub fn respond_redirect(&self, location: &str, status: u16) -> Result<(), Error> {
        self.send(Response::redirect(location, status))
    }

    /// Answers with the file at `path`, streamed from disk as the socket
    /// drains. `Content-Type` follows the extension. A file that cannot
    /// be opened is [`Error::File`], and nothing is sent: answer it.
    /// The path is used as given; keeping it inside a root is the
    /// caller's job.
    ///
    /// ```
    /// # fn answer(req: &uhttp::Request) -> Result<(), uhttp::Error> {
    /// match req.respond_file("public/index.html") {
    ///     Err(uhttp::Error::File { .. }) => req.respond(404, "Not Found\n"),
    ///     other => other,
    /// }
    /// # }
    /// ```
    pub fn respond_file(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let path = path.as_ref();
        let body = Body::file(path)?;
        self.send(
            Response::new(200)
                .header("Content-Type", content_type_for(path))
                .body(body),
        )
    }

    /// Answers with a full [`Response`]. Fails, sending nothing, if the
    /// request was already answered, a header or cookie is invalid, or
    /// the client is gone.
    pub fn send(&self, mut response: Response) -> Result<(), Error> {
        response.validate()?;
        self.claim()?;
        self.command(|conn| Command::Respond { conn, response });
        Ok(())
    }

    /// Sends an interim response (`status` 102-199, such as `103 Early
    /// Hints` or `104 Upload Resumption Supported`) with `headers`, ahead
    /// of the final answer; any number may go out before it. An HTTP/1.0
    /// client gets none (RFC 9110 §15.2), and that is not an error.
    /// `100 Continue` is the library's to send (see
    /// [`Request::accept_body`]). Fails if the status is not 102-199, a
    /// header is invalid, or the request was already answered.
    pub fn send_informational(&self, status: u16, headers: &[(&str, &str)]) -> Result<(), Error> {
        if !(102..=199).contains(&status) {
            return Err(Error::InvalidStatus(status));
        }
        let mut response = Response::new(status);
        for (name, value) in headers {
            response = response.header(name, value);
        }
        response.validate()?;
        {
            let state = lock(&self.inner.state);
            if state.responded {
                return Err(Error::AlreadyResponded);
            }
            if state.closed {
                return Err(Error::Closed);
            }
        }
        if self.version() == Version::Http11 {
            self.command(|conn| Command::Interim { conn, response });
        }
        Ok(())
    }

    /// Marks the request answered, or says why it cannot be.
    pub(crate) fn claim(&self) -> Result<(), Error> {
        let mut state = lock(&self.inner.state);
        if state.responded {
            return Err(Error::AlreadyResponded);
        }
        if state.closed {
            return Err(Error::Closed);
        }
        state.responded = true;
        Ok(())
    }

    /// Queues a command for this request's connection.
    pub(crate) fn command(&self, make: impl FnOnce(ConnRef) -> Command) {
        self.inner.shared.push(make(self.inner.conn));
    }

    /// A number naming this request among all of its loop's requests.
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// Whether a WebSocket upgrade may negotiate permessage-deflate.
    #[cfg(feature = "websocket")]
    pub(crate) fn websocket_deflate(&self) -> bool {
        self.inner.websocket_deflate
    }

    /// Cap of a stream's or WebSocket's send buffer.
    pub(crate) fn max_send_buffer(&self) -> usize {
        self.inner.max_send_buffer
    }

    // ----- for the loop -----

    /// A handle for the application (counted, see [`Drop`]); the loop's
    /// own references are not.
    pub(crate) fn for_app(self) -> Request {
        if self.counted {
            return self;
        }
        self.inner.app_handles.fetch_add(1, Ordering::Relaxed);
        Request {
            inner: Arc::clone(&self.inner),
            counted: true,
        }
    }

    /// No handle of the application's is left, and no answer was given.
    pub(crate) fn is_abandoned(&self) -> bool {
        self.inner.app_handles.load(Ordering::Acquire) == 0 && !self.is_responded()
    }

    pub(crate) fn set_body(&self, body: Vec<u8>) {
        let len = body.len() as u64;
        let _ = self.inner.body.set(body);
        lock(&self.inner.state).bytes_received = len;
    }

    /// Appends streamed body bytes; returns (whether a `Data` event should
    /// be handed out now, bytes now pending).
    pub(crate) fn push_data(&self, data: &[u8]) -> (bool, usize) {
        let mut state = lock(&self.inner.state);
        state.pending.extend_from_slice(data);
        state.bytes_received += data.len() as u64;
        let emit = !state.data_event_out && !state.pending.is_empty();
        if emit {
            state.data_event_out = true;
        }
        (emit, state.pending.len())
    }

    /// Records that the loop stopped reading until `read_buffer()`; false
    /// if the buffer was drained meanwhile (keep reading).
    pub(crate) fn pause(&self, cap: usize) -> bool {
        let mut state = lock(&self.inner.state);
        state.paused = state.pending.len() >= cap;
        state.paused
    }

    /// Whether the loop waits for `read_buffer()` before reading on.
    pub(crate) fn is_paused(&self) -> bool {
        lock(&self.inner.state).paused
    }

    pub(crate) fn add_received(&self, n: u64) {
        lock(&self.inner.state).bytes_received += n;
    }

    pub(crate) fn set_error(&self, error: String) {
        lock(&self.inner.state).error = Some(error);
    }

    pub(crate) fn mark_closed(&self) {
        lock(&self.inner.state).closed = true;
    }
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method())
            .field("url", &self.url())
            .field("protocol", &self.protocol())
            .field("addr", &self.addr())
            .finish_non_exhaustive()
    }
}

/// The `Content-Type` for a file name's extension (`mime_guess`), with
/// `charset=utf-8` on text types; `application/octet-stream` when unknown.
pub fn content_type_for(path: &Path) -> String {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let textual = mime.type_() == mime_guess::mime::TEXT
        || mime.subtype() == mime_guess::mime::JAVASCRIPT
        || mime.subtype() == mime_guess::mime::JSON;
    if textual && mime.get_param(mime_guess::mime::CHARSET).is_none() {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    }
}

/// The client chain, client first, when the peer is a trusted proxy
/// (`None`: the chain is the peer alone). Addresses from `X-Forwarded-For`
/// are believed only while the hop that reported them is a trusted proxy
/// (walking from the peer backwards), so a client cannot forge its own
/// address.
fn forwarded_chain(headers: &Headers, peer: IpAddr, trusted: &[IpAddr]) -> Option<Box<[IpAddr]>> {
    if !trusted.contains(&peer) {
        return None;
    }
    let mut chain = vec![peer];
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for item in forwarded.iter().rev() {
        // unwrap: the chain is never empty.
        let last = *chain.last().unwrap();
        if !trusted.contains(&last) {
            break;
        }
        match parse_forwarded_addr(item) {
            Some(ip) => chain.push(ip),
            None => break,
        }
    }
    chain.reverse();
    Some(chain.into_boxed_slice())
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `::1`,
/// `[::1]:5678`.
fn parse_forwarded_addr(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    s.parse::<SocketAddr>().ok().map(|a| a.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> Headers {
        let mut h = Headers::new();
        for v in xff {
            h.push("X-Forwarded-For", *v);
        }
        h
    }

    #[test]
    fn ignores_forwarded_for_from_untrusted_peer() {
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        let chain = forwarded_chain(&headers(&["1.1.1.1"]), peer, &[]);
        assert_eq!(chain, None);
    }

    #[test]
    fn believes_forwarded_for_only_through_trusted_hops() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let inner: IpAddr = "10.0.0.2".parse().unwrap();
        let trusted = [proxy, inner];
        // client 198.51.100.7 -> inner proxy -> proxy -> us; a forged
        // left-most entry is not believed past the first untrusted hop.
        let h = headers(&["6.6.6.6, 198.51.100.7", "10.0.0.2"]);
        let chain = forwarded_chain(&h, proxy, &trusted).unwrap();
        assert_eq!(
            *chain,
            ["198.51.100.7".parse::<IpAddr>().unwrap(), inner, proxy]
        );
        assert_eq!(chain[0], "198.51.100.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn parses_forwarded_addresses_with_ports() {
        assert_eq!(
            parse_forwarded_addr("[::1]:80"),
            Some("::1".parse().unwrap())
        );
        assert_eq!(
            parse_forwarded_addr("1.2.3.4:5"),
            Some("1.2.3.4".parse().unwrap())
        );
        assert_eq!(parse_forwarded_addr("unknown"), None);
    }
}
