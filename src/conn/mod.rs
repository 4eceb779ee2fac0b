//! [`Connection`]: one client's socket, its bounded buffers, and the
//! phase of the HTTP/1.1 exchange it is in.
//!
//! ```text
//! Idle ──first byte──▶ Head ──no body──────────────────────▶ Dispatched
//!  ▲                    │ └─body──▶ Body ──complete─────────▶ Dispatched
//!  │                    │ refused    │ refused / timeout        │ app answers
//!  │                    ▼            ▼                          ▼
//!  └──keep-alive─── Respond ◀──────────────────────────────── Respond
//!                       │ close
//!                       ▼
//!                    Closing ──EOF / linger timeout──▶ Closed
//! ```
//!
//! Only one request per connection is handed to the application at a time;
//! pipelined requests wait in `rx` (bounded) until the response before them
//! is written, so responses always go out in request order.

mod buffer;
mod exchange;
mod outgoing;
mod reading;
mod request_line;
mod streaming;
mod transport;

use std::fs::File;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

pub(crate) use buffer::BufPool;
pub(crate) use request_line::RequestLine;
pub(crate) use transport::{TlsStream, Transport};

use buffer::{BUF_SIZE, RxBuf};
use exchange::Exchange;
use outgoing::{Outgoing, shrunk};

use crate::access_log::Outcome;
use crate::config::Config;
use crate::error::RequestError;
use crate::event::{Event, EventQueue};
use crate::h1::body::BodyDecoder;
use crate::h1::encode::{
    ConnectionHeader, DateCache, Framing, encode_framing, encode_status, status_has_no_body,
};
use crate::h1::head::{BodyKind, Parsed, Version, parse_head};
use crate::ids::ConnRef;
use crate::ids::ServerId;
use crate::outbox::Outbox;
use crate::request::{Origin, Request};
use crate::responder::{Shared, SinkChoice};
use crate::response::{Part, Response};
use crate::websocket::WebSocket;
use crate::ws::{self, Message, Opcode, close_code, close_payload, encode_frame};

/// Bytes read from a socket per call, and file bytes read per chunk.
const IO_CHUNK: usize = BUF_SIZE;
/// Streamed body bytes held for `read_buffer()` before reading pauses.
const STREAM_PENDING_CAP: usize = 256 * 1024;
/// Most bytes one `sendfile` call is asked for.
const SENDFILE_CHUNK: u64 = 1 << 20;
/// Room asked of the receive buffer before each read.
const READ_MIN: usize = 16 * 1024;
/// How long a closing connection is drained so the client sees our
/// response rather than a reset.
const LINGER: Duration = Duration::from_secs(2);
/// Bodies up to this size are copied behind the head: one write.
const COALESCE: usize = 16 * 1024;

/// Everything a connection needs from the loop while it is driven.
pub(crate) struct Ctx<'a> {
    pub config: &'a Config,
    pub now: Instant,
    pub date: &'a mut DateCache,
    pub events: &'a mut EventQueue,
    pub pool: &'a mut BufPool,
    pub shared: &'a Arc<Shared>,
    pub server: ServerId,
    /// The loop is shutting down: no more keep-alive.
    pub stopping: bool,
}

/// Why a connection ended (for the debug log).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CloseReason {
    /// The exchange ended normally.
    Done,
    /// The client closed its side.
    PeerClosed,
    /// A deadline passed.
    Timeout,
    /// A socket or TLS error.
    Io,
    /// Idle at the connection limit: closed to admit a new client.
    Evicted,
    /// The response could not be produced (a file shrank or failed).
    BodyFailed,
    /// The loop caught a panic while driving the connection.
    Panic,
}

impl CloseReason {
    /// How a response still under way when the connection closed for
    /// this reason ended.
    fn outcome(self) -> Outcome {
        match self {
            CloseReason::Done => Outcome::Complete,
            CloseReason::PeerClosed | CloseReason::Io => Outcome::ClientGone,
            CloseReason::Timeout => Outcome::SendTimeout,
            // Only idle connections are evicted: nothing was under way.
            CloseReason::Evicted => Outcome::Complete,
            CloseReason::BodyFailed | CloseReason::Panic => Outcome::Error,
        }
    }
}

/// Where the body of an accepted request goes.
enum Sink {
    /// Event mode: the application has not chosen yet.
    Pending,
    Buffer(Vec<u8>),
    /// As `Data` events; whether reading waits for `read_buffer()` is the
    /// request's to say (`Request::is_paused`).
    Stream,
    File {
        file: File,
        path: PathBuf,
    },
}

/// What follows a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum After {
    KeepAlive,
    Close,
}

/// Where the exchange is; each variant owns what that step needs.
enum Phase {
    /// Waiting for the next request.
    Idle,
    /// Bytes of a request head are arriving.
    Head,
    /// A body is arriving (or, with `Sink::Pending`, waiting for the
    /// application to accept it).
    Body {
        req: Request,
        decoder: BodyDecoder,
        sink: Sink,
        received: u64,
        /// Event mode: `Headers` went out, so the body ends with
        /// `Complete` (otherwise the whole request is one `Request`).
        announced: bool,
    },
    /// The request is with the application.
    Dispatched { req: Request },
    /// A response is being written.
    Respond { after: After },
    /// A streamed response: its head is sent, its body comes from the
    /// application through the outbox.
    Streaming {
        req: Request,
        outbox: Arc<Outbox>,
        after: After,
    },
    /// A WebSocket session.
    Upgraded {
        socket: WebSocket,
        receiver: ws::Receiver,
    },
    /// Our side is shut; draining input so the client reads our answer.
    Closing,
    /// Gone; the loop removes it.
    Closed(CloseReason),
}

/// One client connection.
pub(crate) struct Connection {
    transport: Transport,
    conn: ConnRef,
    peer: SocketAddr,
    local: SocketAddr,
    phase: Phase,
    rx: RxBuf,
    out: Outgoing,
    /// Readiness not yet used up (cleared on `WouldBlock`).
    can_read: bool,
    can_write: bool,
    /// The client shut its sending side.
    peer_eof: bool,
    /// A FIN may be waiting that no read has seen yet: the poll reported
    /// one, or (on a new connection) nothing is known. Reads then go on to
    /// `WouldBlock` instead of stopping after a short one.
    fin_unseen: bool,
    /// `TCP_NODELAY` is set.
    nodelay: bool,
    /// The client may still be sending bytes we will not read (a refused
    /// request, an unread body): drain them before closing, so it reads
    /// our answer instead of a reset.
    linger: bool,
    /// Whether the current request allows keep-alive.
    keep_alive: bool,
    requests: usize,
    deadline: Option<Instant>,
    /// The response under way, for the access log.
    exchange: Exchange,
    /// The request being served, from its head to the end of its
    /// response: named in the log if a panic ends the connection.
    line: Option<RequestLine>,
}

impl Connection {
    pub fn new(
        transport: Transport,
        conn: ConnRef,
        peer: SocketAddr,
        local: SocketAddr,
        config: &Config,
        now: Instant,
    ) -> Self {
        Connection {
            transport,
            conn,
            peer,
            local,
            phase: Phase::Idle,
            rx: RxBuf::default(),
            out: Outgoing::default(),
            can_read: true,
            can_write: true,
            peer_eof: false,
            fin_unseen: true,
            linger: false,
            nodelay: false,
            keep_alive: false,
            requests: 0,
            exchange: Exchange::new(now),
            line: None,
            // The first request must arrive (and a TLS handshake finish)
            // within the request timeout.
            deadline: now.checked_add(config.request_timeout),
        }
    }

    pub fn serial(&self) -> u64 {
        self.conn.serial
    }

    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The request being served, if any (for the log).
    pub fn request_line(&self) -> Option<RequestLine> {
        self.line
    }

    pub fn socket_mut(&mut self) -> &mut mio::net::TcpStream {
        self.transport.socket_mut()
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    pub fn closed(&self) -> Option<CloseReason> {
        match self.phase {
            Phase::Closed(reason) => Some(reason),
            _ => None,
        }
    }

    /// While the connection waits between requests, kept alive after at
    /// least one, with nothing received or unsent: its request count (which
    /// tells one idle spell from the next). Such a connection may be closed
    /// at any moment, as on its keep-alive timeout.
    pub fn idle_keep_alive(&self) -> Option<usize> {
        let idle = matches!(self.phase, Phase::Idle)
            && self.requests > 0
            && self.rx.is_empty()
            && self.out.is_empty()
            && !self.transport.wants_write();
        idle.then_some(self.requests)
    }

    /// Closes an idle keep-alive connection (see
    /// [`Connection::idle_keep_alive`]) to admit `newcomer` at the
    /// connection limit: cleanly, as on the keep-alive timeout (TLS
    /// `close_notify`, then a FIN when the loop drops the socket).
    pub fn evict(&mut self, newcomer: SocketAddr, limit: usize) {
        log::debug!(
            "{}: idle keep-alive connection closed to admit {newcomer} ({limit} connections open)",
            self.peer
        );
        self.transport.close_notify();
        self.phase = Phase::Closed(CloseReason::Evicted);
        self.deadline = None;
    }

    /// Records readiness reported by the poll.
    /// `read_closed`: the client's FIN (or an error) is already known, so
    /// reads go on until they see it.
    pub fn ready(&mut self, readable: bool, writable: bool, read_closed: bool) {
        self.can_read |= readable;
        self.can_write |= writable;
        self.fin_unseen |= read_closed;
    }

    /// Does all the work the connection's state and readiness allow.
    pub fn drive(&mut self, ctx: &mut Ctx<'_>) {
        loop {
            let mut progress = false;
            if self.can_read && self.wants_read(ctx.config) {
                progress |= self.read_some(ctx);
            }
            progress |= self.advance(ctx);
            progress |= self.pull_outbox(ctx);
            if self.can_write && (self.transport.wants_write() || !self.out.is_empty()) {
                progress |= self.write_some(ctx);
            }
            progress |= self.finish_response(ctx);
            if self.closed().is_some() || !progress {
                return;
            }
        }
    }

    fn wants_read(&self, config: &Config) -> bool {
        let rx_cap = config.max_headers_length.saturating_add(IO_CHUNK);
        match &self.phase {
            Phase::Idle | Phase::Head => self.rx.len() < rx_cap,
            Phase::Body { sink, req, .. } => match sink {
                Sink::Pending => false,
                Sink::Stream if req.is_paused() => false,
                _ => self.rx.len() < IO_CHUNK,
            },
            Phase::Dispatched { .. } | Phase::Respond { .. } | Phase::Streaming { .. } => {
                !self.peer_eof && self.rx.len() < rx_cap
            }
            // Every ping read queues a pong: stop reading while the client
            // leaves what we send unread, or a ping flood grows `out`
            // without bound.
            Phase::Upgraded { .. } => {
                self.rx.len() < IO_CHUNK
                    && self.out.buf.len() - self.out.pos < config.max_send_buffer
            }
            Phase::Closing => true,
            Phase::Closed(_) => false,
        }
    }

    /// One read into `rx`. Returns whether anything happened.
    fn read_some(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let spare = self.rx.spare(ctx.pool, READ_MIN);
        let room = spare.len();
        let result = self.transport.read(spare);
        if let Ok(n) = result {
            self.rx.commit(n);
            // A short read drained the socket: with edge-triggered
            // readiness, new data brings a new event, so skip the read that
            // would only say `WouldBlock`.
            if n > 0 && !self.fin_unseen && self.transport.drained_after(n, room) {
                self.can_read = false;
            }
        }
        match result {
            Ok(0) => {
                self.can_read = false;
                self.peer_eof = true;
                self.on_peer_eof(ctx);
                true
            }
            Ok(_) => {
                if matches!(self.phase, Phase::Body { .. }) {
                    self.deadline = ctx.now.checked_add(ctx.config.request_timeout);
                }
                if matches!(self.phase, Phase::Closing) {
                    self.rx.clear();
                }
                true
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.can_read = false;
                // Drained to the end: no FIN is waiting.
                self.fin_unseen = false;
                false
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => true,
            Err(e) => {
                log::debug!("{}: read failed: {e}", self.peer);
                self.close(ctx, CloseReason::Io, "connection error");
                true
            }
        }
    }

    fn on_peer_eof(&mut self, ctx: &mut Ctx<'_>) {
        match self.phase {
            Phase::Closing => self.close(ctx, CloseReason::PeerClosed, "client disconnected"),
            Phase::Idle | Phase::Head | Phase::Body { .. } if self.rx.is_empty() => {
                self.close(ctx, CloseReason::PeerClosed, "client disconnected")
            }
            // A stream or WebSocket whose client left: nobody reads it.
            Phase::Streaming { .. } | Phase::Upgraded { .. } => {
                self.close(ctx, CloseReason::PeerClosed, "client disconnected")
            }
            // Bytes that came with the FIN are still looked at: requests
            // that arrived whole are answered (half-closed clients get their
            // answers, pipelined ones included), and parse_head / read_body
            // close once what is left proves incomplete.
            _ => {}
        }
    }

    /// Moves the exchange forward on the bytes in `rx`.
    fn advance(&mut self, ctx: &mut Ctx<'_>) -> bool {
        match self.phase {
            Phase::Idle if !self.rx.is_empty() => {
                self.phase = Phase::Head;
                self.exchange.request_began(ctx.now);
                self.deadline = ctx.now.checked_add(ctx.config.request_timeout);
                true
            }
            Phase::Head => self.parse_head(ctx),
            Phase::Body { .. } => self.read_body(ctx),
            Phase::Upgraded { .. } => self.read_frames(ctx),
            Phase::Closing => {
                self.rx.clear();
                false
            }
            _ => false,
        }
    }

    /// Sends the application's answer to the request this connection is
    /// serving.
    pub fn respond(&mut self, ctx: &mut Ctx<'_>, response: Response) {
        let Some(req) = self.take_request() else {
            return;
        };
        let head = req.head();
        let (head_only, version) = (head.method == "HEAD", head.version);
        self.start_response(ctx, response, head_only, version, Some(req), None);
    }

    /// Encodes the head, queues the body, enters `Respond`. `request` and
    /// `refused` are for the access-log record.
    fn start_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        response: Response,
        head_only: bool,
        version: Version,
        request: Option<Request>,
        refused: Option<RequestError>,
    ) {
        let no_body = status_has_no_body(response.status);
        let framing = if no_body {
            Framing::None
        } else {
            Framing::Length(response.body.len())
        };
        let default_type = response.body.default_content_type();
        if response.body.len() > COALESCE as u64 {
            self.set_nodelay();
        }
        let after = self.write_head(ctx, &response, default_type, framing, version);
        self.exchange.response_began(
            ctx.config.access_log.as_ref(),
            request,
            refused,
            response.status,
            self.out.buf.len() - self.out.pos,
        );
        if !head_only && !no_body {
            for part in response.body.into_parts() {
                match part {
                    // Small bytes go right behind the head (one write), but
                    // only while nothing is queued before them.
                    Part::Bytes(b) if b.len() <= COALESCE && self.out.parts.is_empty() => {
                        self.out.buf.extend_from_slice(&b)
                    }
                    Part::Shared { data, offset, len }
                        if len <= COALESCE && self.out.parts.is_empty() =>
                    {
                        self.out.buf.extend_from_slice(&data[offset..offset + len])
                    }
                    part => self.out.parts.push_back(part),
                }
            }
        }
        self.phase = Phase::Respond { after };
        self.deadline = ctx.now.checked_add(ctx.config.send_timeout);
    }

    /// Encodes a response head into `out`; returns what follows the
    /// response (keep-alive unless the request, the response or the
    /// framing rules it out).
    fn write_head(
        &mut self,
        ctx: &mut Ctx<'_>,
        response: &Response,
        default_type: Option<&'static str>,
        framing: Framing,
        version: Version,
    ) -> After {
        let headers = &response.headers;
        // A client that sent its FIN gets `Connection: close` on the answer
        // to its last request.
        let client_done = self.peer_eof && self.rx.is_empty();
        let keep =
            self.keep_alive && !headers.wants_close && !client_done && framing != Framing::Close;
        let connection = match (keep, version) {
            (false, _) => ConnectionHeader::Close,
            (true, Version::Http10) => ConnectionHeader::KeepAlive,
            (true, Version::Http11) => ConnectionHeader::Omit,
        };
        let default_type =
            default_type.filter(|_| framing != Framing::None && !headers.has_content_type);
        if self.out.buf.capacity() == 0 {
            self.out.buf = ctx.pool.take_tx();
        }
        let out = &mut self.out.buf;
        encode_status(out, response.status, ctx.date.get(SystemTime::now()));
        if let Some(content_type) = default_type {
            out.extend_from_slice(b"Content-Type: ");
            out.extend_from_slice(content_type.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(headers.as_bytes());
        encode_framing(out, framing, connection);
        if keep { After::KeepAlive } else { After::Close }
    }

    /// Takes the request being answered out of the phase; an unread body
    /// is dropped (and the connection will close). `None` when no request
    /// is waiting for an answer.
    fn take_request(&mut self) -> Option<Request> {
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Dispatched { req } => Some(req),
            Phase::Body { req, sink, .. } => {
                // Answered before the body was read: it never will be.
                if let Sink::File { file, path } = sink {
                    drop(file);
                    let _ = std::fs::remove_file(path);
                }
                self.keep_alive = false;
                self.linger = true;
                Some(req)
            }
            other => {
                self.phase = other;
                log::debug!(
                    "{}: answer for a request no longer current dropped",
                    self.peer
                );
                None
            }
        }
    }

    /// The application dropped request `id` unanswered: answer 500 if it is
    /// the one this connection waits on.
    pub fn abandoned(&mut self, ctx: &mut Ctx<'_>, id: u64) {
        let waiting = match &self.phase {
            Phase::Dispatched { req }
            | Phase::Body {
                req,
                sink: Sink::Pending,
                ..
            } => req.id() == id && req.is_abandoned(),
            _ => false,
        };
        if waiting {
            log::warn!("{}: request dropped without an answer: 500", self.peer);
            self.respond(ctx, Response::new(500).body("500 Internal Server Error\n"));
        }
    }

    /// Answers a refused request with its status and closes.
    fn refuse(&mut self, ctx: &mut Ctx<'_>, error: RequestError) {
        self.refuse_request(ctx, error, None)
    }

    /// Like `refuse`, for a request parsed but not yet in a phase
    /// (`request`, kept for the access log).
    fn refuse_request(&mut self, ctx: &mut Ctx<'_>, error: RequestError, request: Option<Request>) {
        log::debug!("{}: refused: {error}", self.peer);
        self.linger = true;
        let mut request = request;
        if let Phase::Body { req, sink, .. } = std::mem::replace(&mut self.phase, Phase::Idle) {
            if !matches!(sink, Sink::Pending) && ctx.config.event_mode {
                if let Sink::File { file, path } = sink {
                    drop(file);
                    let _ = std::fs::remove_file(path);
                }
                req.set_error(error.to_string());
                ctx.events.push_back(Event::Error(req.clone()));
            }
            req.mark_closed();
            request = Some(req);
        }
        self.keep_alive = false;
        let status = error.status();
        let text = format!("{status} {}\n", crate::h1::encode::reason(status));
        self.start_response(
            ctx,
            Response::new(status).body(text),
            false,
            Version::Http11,
            request,
            Some(error),
        );
    }

    /// Writes as much as the socket takes.
    fn write_some(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let mut progress = false;
        loop {
            if self.transport.wants_write() {
                match self.transport.flush() {
                    Ok(()) => progress = true,
                    Err(e) => return self.write_failed(ctx, e) || progress,
                }
            }
            if let Some(done) = self.send_file_part(ctx) {
                if !done {
                    return progress;
                }
                progress = true;
                continue;
            }
            // File bytes are read in chunks of at most IO_CHUNK, and never
            // beyond the configured send buffer.
            let cap = ctx.config.max_send_buffer.clamp(1, IO_CHUNK);
            let sendfile = !self.transport.is_tls();
            let more = match self.out.refill(cap, sendfile) {
                Ok(more) => more,
                Err(e) => {
                    log::warn!("{}: reading the response body failed: {e}", self.peer);
                    self.close(ctx, CloseReason::BodyFailed, "response body failed");
                    return true;
                }
            };
            if !more {
                if self.out.next_sendfile().is_some() {
                    continue;
                }
                return progress;
            }
            match self.transport.write(&self.out.buf[self.out.pos..]) {
                Ok(0) => {
                    self.close(ctx, CloseReason::Io, "connection error");
                    return true;
                }
                Ok(n) => {
                    self.out.pos += n;
                    self.exchange.sent(n);
                    progress = true;
                    let stall_guarded = match &self.phase {
                        Phase::Respond { .. } | Phase::Streaming { .. } => true,
                        // After our Close frame the short wait for the
                        // client's answer stands; writes do not extend it.
                        Phase::Upgraded { socket, .. } => !socket.outbox().is_ended(),
                        _ => false,
                    };
                    if stall_guarded {
                        self.deadline = ctx.now.checked_add(ctx.config.send_timeout);
                    }
                }
                Err(e) => return self.write_failed(ctx, e) || progress,
            }
        }
    }

    /// Sends the next file part with `sendfile` when it is its turn (plain
    /// connections, long parts): `None` when it is not, `Some(true)` when
    /// bytes went out, `Some(false)` when the socket is full or the
    /// connection failed.
    fn send_file_part(&mut self, ctx: &mut Ctx<'_>) -> Option<bool> {
        if self.transport.is_tls() {
            return None;
        }
        let (file, offset, len) = self.out.next_sendfile()?;
        let count = (*len).min(SENDFILE_CHUNK) as usize;
        let result = match self.transport.sendfile(file, offset, count) {
            Ok(0) => Err(shrunk()),
            other => other,
        };
        match result {
            Ok(n) => {
                *len -= n as u64;
                if *len == 0 {
                    self.out.sent_file_part();
                }
                self.exchange.sent(n);
                self.deadline = ctx.now.checked_add(ctx.config.send_timeout);
                Some(true)
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                log::warn!("{}: reading the response body failed: {e}", self.peer);
                self.close(ctx, CloseReason::BodyFailed, "response body failed");
                Some(false)
            }
            Err(e) => {
                self.write_failed(ctx, e);
                Some(false)
            }
        }
    }

    fn write_failed(&mut self, ctx: &mut Ctx<'_>, e: io::Error) -> bool {
        match e.kind() {
            io::ErrorKind::WouldBlock => {
                self.can_write = false;
                false
            }
            io::ErrorKind::Interrupted => true,
            _ => {
                log::debug!("{}: write failed: {e}", self.peer);
                self.close(ctx, CloseReason::Io, "connection error");
                true
            }
        }
    }

    /// After the last byte of a response: keep-alive or close.
    fn finish_response(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let Phase::Respond { after } = self.phase else {
            return false;
        };
        if !self.out.is_empty() || self.transport.wants_write() {
            return false;
        }
        self.end_exchange(ctx, Outcome::Complete);
        self.line = None;
        if self.peer_eof && (after == After::Close || self.rx.is_empty()) {
            // The client sent all it will: nothing to linger for.
            self.close(ctx, CloseReason::Done, "");
            return true;
        }
        if after == After::Close {
            if !self.linger && self.rx.is_empty() {
                // Everything the client sent was read: closing cannot
                // reset the answer away.
                self.transport.close_notify();
                self.close(ctx, CloseReason::Done, "");
                return true;
            }
            self.transport.shutdown_write();
            self.phase = Phase::Closing;
            self.rx.clear();
            self.deadline = Some(ctx.now + LINGER);
            return true;
        }
        self.set_nodelay();
        if self.rx.is_empty() {
            self.phase = Phase::Idle;
            self.deadline = ctx.now.checked_add(ctx.config.keep_alive_timeout);
            // Idle connections hold no buffers.
            self.release_buffers(ctx.pool);
        } else {
            // A pipelined request is already here.
            self.phase = Phase::Head;
            self.exchange.request_began(ctx.now);
            self.deadline = ctx.now.checked_add(ctx.config.request_timeout);
        }
        true
    }

    /// Turns Nagle's algorithm off, once, when it could delay us: before a
    /// second response on the connection, a stream, a WebSocket, or a
    /// response that takes several writes. A connection answered once in
    /// one write and closed (HTTP/1.0 clients, `ab`) never pays for the
    /// system call.
    fn set_nodelay(&mut self) {
        if !self.nodelay {
            self.nodelay = true;
            let _ = self.transport.socket().set_nodelay(true);
        }
    }

    /// Gives the buffers back to the loop's pool (idle or closed).
    pub fn release_buffers(&mut self, pool: &mut BufPool) {
        self.rx.release(pool);
        if self.out.is_empty() && self.out.buf.capacity() > 0 {
            pool.give_tx(std::mem::take(&mut self.out.buf));
            self.out.pos = 0;
        }
    }

    /// The loop is stopping: close now if idle, else after the response
    /// in progress.
    pub fn stop(&mut self, ctx: &mut Ctx<'_>) {
        self.keep_alive = false;
        match &mut self.phase {
            Phase::Idle => self.close(ctx, CloseReason::Done, "server stopping"),
            Phase::Respond { after } => *after = After::Close,
            _ => {}
        }
    }

    /// A deadline passed.
    pub fn on_timeout(&mut self, ctx: &mut Ctx<'_>) {
        match &self.phase {
            Phase::Head => self.refuse(ctx, RequestError::Timeout),
            Phase::Body { sink, .. } if !matches!(sink, Sink::Pending) => {
                self.refuse(ctx, RequestError::Timeout)
            }
            Phase::Dispatched { .. } | Phase::Body { .. } => {}
            _ => self.close(ctx, CloseReason::Timeout, "timeout"),
        }
    }

    /// The response under way (if any) ended: its access-log record.
    fn end_exchange(&mut self, ctx: &Ctx<'_>, outcome: Outcome) {
        self.exchange.end(
            ctx.config.access_log.as_ref(),
            self.peer,
            ctx.server,
            self.rx.bytes(),
            outcome,
        );
    }

    /// The loop is going away with this connection open: a response still
    /// under way ends with [`Outcome::Shutdown`].
    pub fn abandon(&mut self, ctx: &Ctx<'_>) {
        self.end_exchange(ctx, Outcome::Shutdown);
    }

    /// Ends the connection; a request in flight learns it is gone.
    pub fn close(&mut self, ctx: &mut Ctx<'_>, reason: CloseReason, why: &str) {
        if self.exchange.is_responding() {
            // A WebSocket whose Close went out and was not answered in
            // time was still served in full.
            let all_sent = self.out.is_empty() && !self.transport.wants_write();
            let outcome = match &self.phase {
                Phase::Upgraded { socket, .. } if all_sent && socket.outbox().is_ended() => {
                    Outcome::Complete
                }
                _ => reason.outcome(),
            };
            self.end_exchange(ctx, outcome);
        }
        match std::mem::replace(&mut self.phase, Phase::Closed(reason)) {
            Phase::Body { req, sink, .. } => {
                if let Sink::File { file, path } = sink {
                    drop(file);
                    let _ = std::fs::remove_file(path);
                    req.set_error(why.to_owned());
                    ctx.events.push_back(Event::Error(req.clone()));
                } else if !matches!(sink, Sink::Pending) && ctx.config.event_mode {
                    req.set_error(why.to_owned());
                    ctx.events.push_back(Event::Error(req.clone()));
                }
                req.mark_closed();
            }
            Phase::Dispatched { req } => req.mark_closed(),
            Phase::Streaming { req, outbox, .. } => {
                req.mark_closed();
                outbox.discard();
                ctx.events.push_back(Event::Closed(req));
            }
            Phase::Upgraded { socket, .. } => {
                socket.request().mark_closed();
                socket.outbox().discard();
                let gone = Message::Close(Some((close_code::ABNORMAL, why.to_owned())));
                ctx.events.push_back(Event::WebSocket(socket, gone));
            }
            _ => {}
        }
        self.deadline = None;
    }
}
