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
mod outgoing;
mod transport;

use std::fs::File;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

pub(crate) use buffer::BufPool;
pub(crate) use transport::{TlsStream, Transport};

use buffer::{BUF_SIZE, RxBuf};
use outgoing::{Outgoing, shrunk};

use crate::config::Config;
use crate::error::RequestError;
use crate::event::{Event, EventQueue};
use crate::h1::body::BodyDecoder;
use crate::h1::encode::{
    ConnectionHeader, DateCache, Framing, encode_framing, encode_status, status_has_no_body,
};
use crate::h1::head::{BodyKind, Parsed, Version, parse_head};
use crate::outbox::Outbox;
use crate::request::{Origin, Request};
use crate::responder::{ConnRef, Shared, SinkChoice};
use crate::response::{Part, Response};
use crate::server::ServerId;
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
}

/// Where the body of an accepted request goes.
enum Sink {
    /// Event mode: the application has not chosen yet.
    Pending,
    Buffer(Vec<u8>),
    Stream {
        paused: bool,
    },
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
            // The first request must arrive (and a TLS handshake finish)
            // within the request timeout.
            deadline: Some(now + config.request_timeout),
        }
    }

    pub fn serial(&self) -> u64 {
        self.conn.serial
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
        let rx_cap = config.max_headers_length + IO_CHUNK;
        match &self.phase {
            Phase::Idle | Phase::Head => self.rx.len() < rx_cap,
            Phase::Body { sink, .. } => match sink {
                Sink::Pending | Sink::Stream { paused: true } => false,
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
                    self.deadline = Some(ctx.now + ctx.config.request_timeout);
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
                self.deadline = Some(ctx.now + ctx.config.request_timeout);
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

    fn parse_head(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let (head, len) = match parse_head(self.rx.bytes(), ctx.config.max_headers_length) {
            Ok(Parsed::Partial) => {
                if self.peer_eof {
                    self.close(ctx, CloseReason::PeerClosed, "client disconnected");
                    return true;
                }
                return false;
            }
            Ok(Parsed::Complete(head, len)) => (head, len),
            Err(e) => {
                self.refuse(ctx, e);
                return true;
            }
        };
        self.rx.consume(len);
        self.requests += 1;
        let config = ctx.config;
        self.keep_alive =
            head.keep_alive && !ctx.stopping && self.requests < config.keep_alive_max_requests;
        let body = head.body;
        let expect_continue = head.expect_continue;
        let origin = Origin {
            conn: self.conn,
            shared: Arc::clone(ctx.shared),
            server: ctx.server,
            local_addr: self.local,
            peer_addr: self.peer,
            is_secure: self.transport.is_tls(),
            max_send_buffer: config.max_send_buffer,
            max_message_size: usize::try_from(config.max_content_length).unwrap_or(usize::MAX),
            id: self.conn.serial << 32 | self.requests as u64,
        };
        let req = Request::new(head, origin, &config.trusted_proxies);

        let (decoder, len_hint) = match body {
            BodyKind::None => {
                // Nothing to wait for: the (empty) body is loaded.
                req.set_body(Vec::new());
                self.dispatch(ctx, Event::Request(req));
                return true;
            }
            BodyKind::Length(n) if n > config.max_content_length => {
                self.refuse(ctx, RequestError::PayloadTooLarge);
                return true;
            }
            BodyKind::Length(n) => (BodyDecoder::length(n), n),
            BodyKind::Chunked => (BodyDecoder::chunked(), 0),
        };
        let whole_body_here = matches!(body, BodyKind::Length(n) if n <= self.rx.len() as u64);
        let sink = if !config.event_mode {
            if expect_continue {
                self.send_continue();
            }
            Sink::Buffer(Vec::with_capacity(len_hint.min(IO_CHUNK as u64) as usize))
        } else if whole_body_here {
            // Head and body arrived together: one `Request` event.
            Sink::Buffer(Vec::with_capacity(len_hint as usize))
        } else {
            ctx.events.push_back(Event::Headers(req.clone()));
            self.deadline = None;
            Sink::Pending
        };
        if !matches!(sink, Sink::Pending) {
            self.deadline = Some(ctx.now + config.request_timeout);
        }
        let announced = matches!(sink, Sink::Pending);
        self.phase = Phase::Body {
            req,
            decoder,
            sink,
            received: 0,
            announced,
        };
        true
    }

    fn send_continue(&mut self) {
        self.out
            .buf
            .extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
    }

    /// Hands a request to the application; the connection waits for the
    /// answer.
    fn dispatch(&mut self, ctx: &mut Ctx<'_>, event: Event) {
        let req = event.request().clone();
        ctx.events.push_back(event);
        self.deadline = None;
        self.phase = Phase::Dispatched { req };
        // The application may take its time: hold no buffer meanwhile
        // (a thousand requests dispatched in one poll must not hold a
        // thousand buffers).
        self.rx.release(ctx.pool);
    }

    /// Feeds `rx` to the body decoder and the sink.
    fn read_body(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let Phase::Body {
            req,
            decoder,
            sink,
            received,
            ..
        } = &mut self.phase
        else {
            return false;
        };
        if matches!(sink, Sink::Pending | Sink::Stream { paused: true }) || self.rx.is_empty() {
            return false;
        }
        let max = ctx.config.max_content_length;
        let mut pos = 0;
        let mut failure: Option<Failure> = None;
        let mut done = false;
        while pos < self.rx.len() {
            let step = match decoder.decode(&self.rx.bytes()[pos..]) {
                Ok(step) => step,
                Err(e) => {
                    failure = Some(Failure::Refuse(e));
                    break;
                }
            };
            pos += step.consumed;
            if !step.data.is_empty() {
                *received += step.data.len() as u64;
                if *received > max {
                    failure = Some(Failure::Refuse(RequestError::PayloadTooLarge));
                    break;
                }
                match sink {
                    Sink::Buffer(buf) => buf.extend_from_slice(step.data),
                    Sink::Stream { paused } => {
                        let (emit, pending) = req.push_data(step.data);
                        if emit {
                            ctx.events.push_back(Event::Data(req.clone()));
                        }
                        if pending >= STREAM_PENDING_CAP && req.pause(STREAM_PENDING_CAP) {
                            *paused = true;
                        }
                    }
                    Sink::File { file, .. } => {
                        req.add_received(step.data.len() as u64);
                        if let Err(e) = file.write_all(step.data) {
                            failure = Some(Failure::Sink(e));
                            break;
                        }
                    }
                    Sink::Pending => unreachable!("checked above"),
                }
            }
            if step.done {
                done = true;
                break;
            }
            if step.consumed == 0 || matches!(sink, Sink::Stream { paused: true }) {
                break;
            }
        }
        let paused = matches!(sink, Sink::Stream { paused: true });
        self.rx.consume(pos);
        if paused {
            // Waiting on the application, not the client: no deadline
            // until `read_buffer()` makes room again.
            self.deadline = None;
        }
        if let Some(failure) = failure {
            match failure {
                Failure::Refuse(e) => self.refuse(ctx, e),
                Failure::Sink(e) => self.sink_failed(ctx, e),
            }
            return true;
        }
        if done {
            self.complete_body(ctx);
        } else if self.peer_eof && self.rx.is_empty() {
            // Every byte the client will ever send is in, and the body is
            // not complete.
            self.close(ctx, CloseReason::PeerClosed, "client disconnected mid-body");
            return true;
        }
        pos > 0
    }

    fn complete_body(&mut self, ctx: &mut Ctx<'_>) {
        let Phase::Body {
            req,
            sink,
            announced,
            ..
        } = std::mem::replace(&mut self.phase, Phase::Idle)
        else {
            unreachable!("only called in Body");
        };
        let event = match sink {
            Sink::Buffer(buf) => {
                req.set_body(buf);
                if announced {
                    Event::Complete(req)
                } else {
                    Event::Request(req)
                }
            }
            Sink::Stream { .. } => Event::Complete(req),
            Sink::File { file, path } => match file.sync_data().and(Ok(())) {
                Ok(()) => Event::Complete(req),
                Err(e) => {
                    drop(file);
                    let _ = std::fs::remove_file(&path);
                    req.set_error(format!("cannot write {}: {e}", path.display()));
                    self.keep_alive = false;
                    Event::Error(req)
                }
            },
            Sink::Pending => unreachable!("a pending body is never complete"),
        };
        self.dispatch(ctx, event);
    }

    /// Writing the body into its file failed (e.g. the disk is full): the
    /// application hears of it and answers; the rest of the body is never
    /// read, so the connection closes after the answer.
    fn sink_failed(&mut self, ctx: &mut Ctx<'_>, e: io::Error) {
        let Phase::Body { req, sink, .. } = std::mem::replace(&mut self.phase, Phase::Idle) else {
            unreachable!("only called in Body");
        };
        if let Sink::File { file, path } = sink {
            drop(file);
            let _ = std::fs::remove_file(&path);
            req.set_error(format!("cannot write {}: {e}", path.display()));
        }
        self.keep_alive = false;
        self.dispatch(ctx, Event::Error(req));
    }

    /// The application chose how to receive the body (event mode).
    pub fn accept_body(&mut self, ctx: &mut Ctx<'_>, choice: SinkChoice) {
        let Phase::Body { req, sink, .. } = &mut self.phase else {
            return;
        };
        if !matches!(sink, Sink::Pending) {
            return;
        }
        let expect_continue = req.head().expect_continue;
        *sink = match choice {
            SinkChoice::Buffer => Sink::Buffer(Vec::new()),
            SinkChoice::Stream => Sink::Stream { paused: false },
            SinkChoice::File(path) => match File::create(&path) {
                Ok(file) => Sink::File { file, path },
                Err(e) => {
                    req.set_error(format!("cannot create {}: {e}", path.display()));
                    let req = req.clone();
                    self.keep_alive = false;
                    self.dispatch(ctx, Event::Error(req));
                    return;
                }
            },
        };
        if expect_continue {
            self.send_continue();
        }
        self.deadline = Some(ctx.now + ctx.config.request_timeout);
    }

    /// The application drained a full stream buffer: the client's time
    /// runs again.
    pub fn resume(&mut self, ctx: &mut Ctx<'_>) {
        if let Phase::Body {
            sink: Sink::Stream { paused },
            ..
        } = &mut self.phase
        {
            if *paused {
                *paused = false;
                self.deadline = Some(ctx.now + ctx.config.request_timeout);
            }
        }
    }

    /// Sends the application's answer to the request this connection is
    /// serving.
    pub fn respond(&mut self, ctx: &mut Ctx<'_>, response: Response) {
        let Some(req) = self.take_request() else {
            return;
        };
        let head = req.head();
        self.start_response(ctx, response, head.method == "HEAD", head.version);
    }

    /// Encodes the head, queues the body, enters `Respond`.
    fn start_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        response: Response,
        head_only: bool,
        version: Version,
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
        self.deadline = Some(ctx.now + ctx.config.request_timeout);
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

    /// Starts a streamed response; its body comes through `outbox`.
    pub fn start_stream(
        &mut self,
        ctx: &mut Ctx<'_>,
        response: Response,
        outbox: Arc<Outbox>,
        chunked: bool,
    ) {
        let Some(req) = self.take_request() else {
            outbox.close();
            return;
        };
        let head = req.head();
        let (head_only, version) = (head.method == "HEAD", head.version);
        let framing = if status_has_no_body(response.status) {
            Framing::None
        } else if chunked {
            Framing::Chunked
        } else {
            Framing::Close
        };
        self.set_nodelay();
        let after = self.write_head(ctx, &response, None, framing, version);
        if head_only || framing == Framing::None {
            // Nothing of the body may follow this head.
            outbox.close();
            self.phase = Phase::Respond { after };
        } else {
            self.phase = Phase::Streaming { req, outbox, after };
        }
        self.deadline = Some(ctx.now + ctx.config.request_timeout);
    }

    /// Switches to WebSocket: `101 Switching Protocols`, then frames.
    pub fn upgrade(&mut self, ctx: &mut Ctx<'_>, accept: &str, socket: WebSocket) {
        let req = match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Dispatched { req } => req,
            other => {
                self.phase = other;
                socket.outbox().close();
                return;
            }
        };
        self.set_nodelay();
        ws::handshake::encode_switching_protocols(&mut self.out.buf, accept);
        self.keep_alive = false;
        self.phase = Phase::Upgraded {
            receiver: ws::Receiver::new(req.max_message_size()),
            socket,
        };
        self.deadline = Some(ctx.now + ctx.config.request_timeout);
    }

    /// Moves a stream's or WebSocket's queued bytes into `out` once `out`
    /// is empty.
    fn pull_outbox(&mut self, ctx: &mut Ctx<'_>) -> bool {
        if !self.out.is_empty() {
            return false;
        }
        self.out.buf.clear();
        self.out.pos = 0;
        let (outbox, req) = match &self.phase {
            Phase::Streaming { outbox, req, .. } => (outbox, req.clone()),
            Phase::Upgraded { socket, .. } => (socket.outbox(), socket.request().clone()),
            _ => return false,
        };
        let taken = outbox.take(&mut self.out.buf);
        let got = !self.out.buf.is_empty();
        if taken.want_writable {
            ctx.events.push_back(Event::Writable(req));
        }
        match &self.phase {
            Phase::Streaming { after, .. } if taken.ended => {
                self.phase = Phase::Respond { after: *after };
                self.deadline = Some(ctx.now + ctx.config.request_timeout);
                return true;
            }
            // The application sent its Close frame: wait a moment for the
            // client's answer.
            Phase::Upgraded { .. } if taken.ended => self.deadline = Some(ctx.now + LINGER),
            // Nothing to send: no stall to time out.
            _ if !got => self.deadline = None,
            _ => {}
        }
        got
    }

    /// Feeds `rx` to the WebSocket receiver; answers pings, completes the
    /// close handshake, reports messages.
    fn read_frames(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let Phase::Upgraded { socket, receiver } = &mut self.phase else {
            return false;
        };
        let mut pos = 0;
        let mut ended = false;
        while pos < self.rx.len() && !ended {
            let (n, item) = receiver.feed(&self.rx.bytes()[pos..]);
            pos += n;
            let message = match item {
                None => break,
                Some(Ok(Message::Ping(payload))) => {
                    encode_frame(&mut self.out.buf, true, Opcode::Pong, &payload);
                    Message::Ping(payload)
                }
                Some(Ok(Message::Close(status))) => {
                    ended = true;
                    if !socket.outbox().is_ended() {
                        let payload = match &status {
                            Some((code, _)) => close_payload(*code, ""),
                            None => Vec::new(),
                        };
                        encode_frame(&mut self.out.buf, true, Opcode::Close, &payload);
                    }
                    Message::Close(status)
                }
                Some(Ok(message)) => message,
                Some(Err(e)) => {
                    ended = true;
                    log::debug!("{}: WebSocket protocol error: {e}", self.peer);
                    if !socket.outbox().is_ended() {
                        encode_frame(&mut self.out.buf, true, Opcode::Close, &e.close_payload());
                    }
                    Message::Close(Some((e.code, e.reason.to_owned())))
                }
            };
            ctx.events
                .push_back(Event::WebSocket(socket.clone(), message));
        }
        self.rx.consume(pos);
        if ended {
            socket.outbox().close();
            // Send what is queued (the Close frame last), then close.
            self.phase = Phase::Respond {
                after: After::Close,
            };
            self.deadline = Some(ctx.now + LINGER);
        }
        pos > 0
    }

    /// Answers a refused request with its status and closes.
    fn refuse(&mut self, ctx: &mut Ctx<'_>, error: RequestError) {
        log::debug!("{}: refused: {error}", self.peer);
        self.linger = true;
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
        }
        self.keep_alive = false;
        let status = error.status();
        let text = format!("{status} {}\n", crate::h1::encode::reason(status));
        self.start_response(
            ctx,
            Response::new(status).body(text),
            false,
            Version::Http11,
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
                    self.close(ctx, CloseReason::Io, "response body failed");
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
                    progress = true;
                    if matches!(
                        self.phase,
                        Phase::Respond { .. } | Phase::Streaming { .. } | Phase::Upgraded { .. }
                    ) {
                        self.deadline = Some(ctx.now + ctx.config.request_timeout);
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
                self.deadline = Some(ctx.now + ctx.config.request_timeout);
                Some(true)
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                log::warn!("{}: reading the response body failed: {e}", self.peer);
                self.close(ctx, CloseReason::Io, "response body failed");
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
            self.deadline = Some(ctx.now + ctx.config.keep_alive_timeout);
            // Idle connections hold no buffers.
            self.release_buffers(ctx.pool);
        } else {
            // A pipelined request is already here.
            self.phase = Phase::Head;
            self.deadline = Some(ctx.now + ctx.config.request_timeout);
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

    /// Ends the connection; a request in flight learns it is gone.
    pub fn close(&mut self, ctx: &mut Ctx<'_>, reason: CloseReason, why: &str) {
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
                outbox.close();
                req.mark_closed();
                ctx.events.push_back(Event::Closed(req));
            }
            Phase::Upgraded { socket, .. } => {
                socket.outbox().close();
                let gone = Message::Close(Some((close_code::ABNORMAL, why.to_owned())));
                ctx.events.push_back(Event::WebSocket(socket, gone));
            }
            _ => {}
        }
        self.deadline = None;
    }
}

/// How reading a body failed.
enum Failure {
    /// The request is refused with a status.
    Refuse(RequestError),
    /// The sink (file) failed.
    Sink(io::Error),
}
