//! [`Connection`]: the driver of one client connection — its transport
//! (plain or TLS), its bounded buffers, the sinks of request bodies, and
//! the handles the application holds (`Request`, the outbox of a stream,
//! a `WebSocket`).
//!
//! Every protocol decision (keep-alive, pipelining, `100 Continue`,
//! timeouts, half-close, linger) is made by the sans-IO
//! [`Machine`](crate::h1::conn::Machine), whose module draws the state
//! diagram. The driver drains the socket to `WouldBlock`, shows the
//! machine what arrived, and turns its answers into socket work and
//! handle updates:
//!
//! | file | what it drives |
//! | --- | --- |
//! | `mod.rs` | readiness, reads, closing, deadlines, the drive loop |
//! | `reading.rs` | heads dispatched, bodies fed to their sink (memory, stream, file), refusals |
//! | `writing.rs` | responses encoded and queued, writes and `sendfile`, the end of a response |
//! | `streaming.rs` | streamed responses and WebSocket sessions through their outbox |
//! | `outgoing.rs`, `buffer.rs`, `transport.rs` | the bytes still to send, receive buffers and their pool, the socket |
//! | `preface.rs` | the PROXY protocol header before HTTP or TLS |
//! | `limits.rs`, `pace.rs` | connections and requests per client, the byte rate of responses |
//! | `exchange.rs`, `request_line.rs` | access-log accounting; the request named if a panic ends the connection |

mod buffer;
mod exchange;
mod limits;
mod outgoing;
mod pace;
mod preface;
mod reading;
mod request_line;
mod streaming;
mod transport;
mod writing;

use std::fs::File;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

pub(crate) use crate::h1::conn::CloseReason;
pub(crate) use buffer::BufPool;
pub(crate) use request_line::RequestLine;
#[cfg(feature = "tls")]
pub(crate) use transport::TlsStream;
pub(crate) use transport::Transport;

#[cfg(feature = "websocket")]
use streaming::Session;

use buffer::{BUF_SIZE, RxBuf};
use exchange::Serving;
use outgoing::Outgoing;

use crate::access_log::Outcome;
use crate::config::Config;
use crate::event::{Event, EventQueue};
use crate::h1::conn::{Expired, Limits, Machine};
use crate::h1::encode::DateCache;
use crate::ids::{ConnRef, ServerId};
use crate::outbox::Outbox;
use crate::peer_limits::Slot;
use crate::request::Request;
use crate::responder::Shared;
#[cfg(feature = "websocket")]
use crate::websocket::WebSocket;
#[cfg(feature = "websocket")]
use crate::ws::{Message, close_code};

/// Bytes read from a socket per call, and file bytes read per chunk.
const IO_CHUNK: usize = BUF_SIZE;
/// Room asked of the receive buffer before each read.
const READ_MIN: usize = 16 * 1024;
/// Most bytes of answers held back to go out together (pipelining).
const HOLD_MAX: usize = 64 * 1024;

/// Everything a connection needs from the loop while it is driven.
pub(crate) struct Ctx<'a> {
    pub config: &'a Config,
    /// What the connection machine applies of `config`.
    pub limits: &'a Limits,
    pub now: Instant,
    pub date: &'a mut DateCache,
    pub events: &'a mut EventQueue,
    pub pool: &'a mut BufPool,
    pub shared: &'a Arc<Shared>,
    pub server: ServerId,
    /// Connections holding answers back, to be flushed before the loop
    /// polls ([`Connection::flush`]).
    pub unflushed: &'a mut Vec<usize>,
}

/// How a response still under way when the connection closed for
/// `reason` ended (for the access log).
fn outcome(reason: CloseReason) -> Outcome {
    match reason {
        CloseReason::Done => Outcome::Complete,
        CloseReason::PeerClosed | CloseReason::Io => Outcome::ClientGone,
        CloseReason::Timeout => Outcome::SendTimeout,
        // Only idle connections are evicted: nothing was under way.
        CloseReason::Evicted => Outcome::Complete,
        CloseReason::BodyFailed | CloseReason::Panic => Outcome::Error,
        // Closed before any request.
        CloseReason::ProxyHeader => Outcome::Error,
    }
}

/// Where the body of an accepted request goes.
enum Sink {
    Buffer(Vec<u8>),
    /// As `Data` events; whether reading waits for `read_buffer()` is the
    /// request's to say (`Request::is_paused`).
    Stream,
    File {
        file: File,
        path: PathBuf,
    },
}

/// The handles of the exchange under way: what the application holds a
/// copy of and must hear about. Which of them is current follows the
/// machine's state.
enum Held {
    /// Between requests, or while a response whose handles are gone is
    /// sent.
    None,
    /// A request from its head to its answer; `sink` while its body is
    /// read (`None` before the application chose one, or once the request
    /// is dispatched).
    Request { req: Request, sink: Option<Sink> },
    /// A streamed response: its body comes through `outbox`.
    Stream { req: Request, outbox: Arc<Outbox> },
    /// A WebSocket session.
    #[cfg(feature = "websocket")]
    Socket { socket: WebSocket, session: Session },
}

/// Whether the body's sink takes no more for now: a stream whose buffer
/// waits for `read_buffer()` (the request's to say).
fn sink_is_full(held: &Held) -> bool {
    match held {
        Held::Request {
            req,
            sink: Some(Sink::Stream),
        } => req.is_paused(),
        _ => false,
    }
}

/// What comes before HTTP (or the TLS handshake) on the connection.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Preface {
    /// Nothing (any more): the bytes are the client's.
    None,
    /// A PROXY protocol header from the peer, a load balancer
    /// ([`Config::proxy_protocol`]).
    ProxyHeader,
}

/// One client connection.
pub(crate) struct Connection {
    transport: Transport,
    conn: ConnRef,
    /// The client: the socket's peer, or the source a PROXY protocol
    /// header names.
    peer: SocketAddr,
    local: SocketAddr,
    preface: Preface,
    machine: Machine,
    held: Held,
    rx: RxBuf,
    out: Outgoing,
    /// Readiness not yet used up (cleared on `WouldBlock`).
    can_read: bool,
    can_write: bool,
    /// The turn's write budget ran out while the socket could take more:
    /// the loop drives the connection again next turn (no readiness event
    /// will come for bytes it could have written now).
    yielded: bool,
    /// A FIN may be waiting that no read has seen yet: the poll reported
    /// one, or (on a new connection) nothing is known. Reads then go on to
    /// `WouldBlock` instead of stopping after a short one.
    fin_unseen: bool,
    /// `TCP_NODELAY` is set.
    nodelay: bool,
    /// While a request is served: its access-log accounting and request
    /// line (from the loop's pool; `None` when idle).
    serving: Option<Box<Serving>>,
    /// Counted among its client's connections ([`Config::peer_limits`]);
    /// released when the connection is dropped.
    slot: Option<Slot>,
    /// The byte budget of responses ([`Config::limit_rate`]), from the
    /// first response sent under it. Boxed: most servers set no rate, and
    /// every idle connection would carry its room.
    pacing: Option<Box<pace::Pacing>>,
    /// Answers are held back while the next pipelined request is with the
    /// application, so that several go out in one write; the connection is
    /// then in the loop's `unflushed` list.
    holding: bool,
    /// Held answers are being flushed: nothing is held back.
    flushing: bool,
}

impl Connection {
    pub fn new(
        transport: Transport,
        conn: ConnRef,
        peer: SocketAddr,
        local: SocketAddr,
        limits: &Limits,
        now: Instant,
    ) -> Self {
        Connection {
            transport,
            conn,
            peer,
            local,
            preface: Preface::None,
            machine: Machine::new(limits, now),
            held: Held::None,
            rx: RxBuf::default(),
            out: Outgoing::default(),
            can_read: true,
            can_write: true,
            yielded: false,
            fin_unseen: true,
            nodelay: false,
            serving: None,
            slot: None,
            pacing: None,
            holding: false,
            flushing: false,
        }
    }

    /// The connection was just accepted: unless a PROXY protocol header
    /// is to name the client first, it is admitted under the limits of its
    /// client's address.
    pub fn opened(&mut self, ctx: &mut Ctx<'_>) {
        if self.preface == Preface::None {
            self.admit(ctx);
        }
    }

    /// The connection begins with a PROXY protocol header, to be read
    /// before anything else (within the request timeout).
    pub fn expect_proxy_header(&mut self) {
        self.preface = Preface::ProxyHeader;
    }

    pub fn serial(&self) -> u64 {
        self.conn.serial
    }

    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The request being served, if any (for the log).
    pub fn request_line(&self) -> Option<RequestLine> {
        self.serving.as_ref().and_then(|s| s.line)
    }

    /// The per-request state, taken from the pool when the connection
    /// starts serving.
    fn serving(&mut self, pool: &mut BufPool, now: Instant) -> &mut Serving {
        self.serving.get_or_insert_with(|| pool.take_serving(now))
    }

    pub fn socket_mut(&mut self) -> &mut dyn mio::event::Source {
        self.transport.source_mut()
    }

    /// The next moment the connection must be driven: a protocol
    /// deadline, or the end of a pacing wait.
    pub fn deadline(&self) -> Option<Instant> {
        let machine = self.machine.deadline().map(|deadline| deadline.at);
        match (machine, self.pacing.as_ref().and_then(|p| p.until)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn closed(&self) -> Option<CloseReason> {
        self.machine.closed()
    }

    /// While the connection waits between requests, kept alive after at
    /// least one, with nothing received or unsent: its request count (which
    /// tells one idle spell from the next). Such a connection may be closed
    /// at any moment, as on its keep-alive timeout.
    pub fn idle_keep_alive(&self) -> Option<usize> {
        let requests = self.machine.idle_keep_alive()?;
        let buffered = !self.rx.is_empty() || !self.out.is_empty() || self.transport.wants_write();
        (!buffered).then_some(requests)
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
        self.machine.close(CloseReason::Evicted);
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
        if self.preface == Preface::ProxyHeader && !self.read_proxy_header(ctx) {
            return;
        }
        loop {
            let mut progress = false;
            if self.can_read && self.wants_read(ctx.limits) {
                progress |= self.read_some(ctx);
            }
            // An answer queued in full lets the next buffered request
            // begin before it is written (pipelining).
            progress |= self.queued_response(ctx);
            progress |= self.advance(ctx);
            progress |= self.pull_outbox(ctx);
            if self.can_write && (self.transport.wants_write() || !self.out.is_empty()) {
                if self.holds_output(ctx) {
                    self.hold(ctx);
                } else {
                    progress |= self.write_some(ctx);
                    if self.out.is_empty() && !self.transport.wants_write() {
                        self.machine.all_written();
                    }
                }
            }
            progress |= self.finish_response(ctx);
            if self.closed().is_some() || !progress || self.yielded {
                return;
            }
        }
    }

    /// Whether the connection yielded its turn with bytes left to write
    /// (it then expects to be driven again next turn); asking clears it.
    pub fn take_yielded(&mut self) -> bool {
        std::mem::take(&mut self.yielded)
    }

    /// Writes the answers held back (see [`Connection::holds_output`]):
    /// the loop is about to poll.
    pub fn flush(&mut self, ctx: &mut Ctx<'_>) {
        self.holding = false;
        self.flushing = true;
        self.drive(ctx);
        self.flushing = false;
    }

    /// Whether to hold the queued bytes back for now: the next pipelined
    /// request is with the application, and its answer, if it comes before
    /// the loop polls, goes out in the same write. Only bytes in memory,
    /// and not many.
    fn holds_output(&self, ctx: &Ctx<'_>) -> bool {
        let unsent = self.out.buf.len() - self.out.pos;
        !self.flushing
            && self.machine.awaits_answer()
            && self.out.parts.is_empty()
            && unsent < HOLD_MAX.min(ctx.config.max_send_buffer)
    }

    /// Puts the connection in the loop's list of those to flush.
    fn hold(&mut self, ctx: &mut Ctx<'_>) {
        if !self.holding {
            self.holding = true;
            ctx.unflushed.push(self.conn.token);
        }
    }

    fn wants_read(&self, limits: &Limits) -> bool {
        let unsent = self.out.buf.len() - self.out.pos;
        self.machine
            .wants_read(limits, self.rx.len(), unsent, IO_CHUNK, || self.sink_full())
    }

    fn sink_full(&self) -> bool {
        sink_is_full(&self.held)
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
                if let Some(reason) = self.machine.peer_closed(self.rx.is_empty()) {
                    self.close(ctx, reason, "client disconnected");
                }
                true
            }
            Ok(_) => {
                self.machine.received(ctx.limits, ctx.now);
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

    /// Turns Nagle's algorithm off, once, when it could delay us: before a
    /// second response on the connection, a stream, a WebSocket, or a
    /// response that takes several writes. A connection answered once in
    /// one write and closed (HTTP/1.0 clients, `ab`) never pays for the
    /// system call.
    fn set_nodelay(&mut self) {
        if !self.nodelay {
            self.nodelay = true;
            let _ = self.transport.set_nodelay();
        }
    }

    /// Gives the buffers back to the loop's pool (idle or closed).
    pub fn release_buffers(&mut self, pool: &mut BufPool) {
        self.rx.release(pool);
        if let Some(serving) = self.serving.take() {
            pool.give_serving(serving);
        }
        if self.out.is_empty() && self.out.buf.capacity() > 0 {
            pool.give_tx(std::mem::take(&mut self.out.buf));
            self.out.pos = 0;
        }
    }

    /// The loop is stopping: close now if idle, else after the response
    /// in progress.
    pub fn stop(&mut self, ctx: &mut Ctx<'_>) {
        if self.machine.stop() {
            self.close(ctx, CloseReason::Done, "server stopping");
        }
    }

    /// A deadline passed.
    pub fn on_timeout(&mut self, ctx: &mut Ctx<'_>) {
        self.pacing_timer(ctx.now);
        if self.machine.deadline().is_none_or(|d| d.at > ctx.now) {
            return;
        }
        if self.preface == Preface::ProxyHeader {
            return self.proxy_header_timed_out(ctx);
        }
        match self.machine.timeout() {
            Expired::Refuse => self.refuse(ctx, crate::error::RequestError::Timeout, None),
            Expired::Close => self.close(ctx, CloseReason::Timeout, "timeout"),
            Expired::Nothing => {}
        }
    }

    /// The response under way (if any) ended: its access-log record.
    fn end_exchange(&mut self, ctx: &Ctx<'_>, outcome: Outcome) {
        let Some(serving) = &mut self.serving else {
            return;
        };
        serving.exchange.end(
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

    /// Ends the connection; the handles in flight learn it is gone.
    pub fn close(&mut self, ctx: &mut Ctx<'_>, reason: CloseReason, why: &str) {
        if self
            .serving
            .as_ref()
            .is_some_and(|s| s.exchange.is_responding())
        {
            // A WebSocket whose Close went out and was not answered in
            // time was still served in full.
            let outcome = match &self.held {
                #[cfg(feature = "websocket")]
                Held::Socket { socket, .. }
                    if self.out.is_empty()
                        && !self.transport.wants_write()
                        && socket.outbox().is_ended() =>
                {
                    Outcome::Complete
                }
                _ => outcome(reason),
            };
            self.end_exchange(ctx, outcome);
        }
        self.machine.close(reason);
        match std::mem::replace(&mut self.held, Held::None) {
            Held::Request { req, sink } => {
                match sink {
                    Some(Sink::File { file, path }) => {
                        drop(file);
                        let _ = std::fs::remove_file(path);
                        req.set_error(why.to_owned());
                        ctx.events.push_back(Event::Error(req.clone()));
                    }
                    Some(_) if ctx.config.event_mode => {
                        req.set_error(why.to_owned());
                        ctx.events.push_back(Event::Error(req.clone()));
                    }
                    _ => {}
                }
                req.mark_closed();
            }
            Held::Stream { req, outbox } => {
                req.mark_closed();
                outbox.discard();
                ctx.events.push_back(Event::Closed(req));
            }
            #[cfg(feature = "websocket")]
            Held::Socket { socket, session } => {
                socket.request().mark_closed();
                socket.outbox().discard();
                let status = match session {
                    Session::Open(_) => Some(Some((close_code::ABNORMAL, why.to_owned()))),
                    // The session was ending anyway: what the client sent.
                    Session::Ending(pending) => Some(pending.report),
                    // The application was told already.
                    Session::Draining => None,
                };
                if let Some(status) = status {
                    ctx.events
                        .push_back(Event::WebSocket(socket, Message::Close(status)));
                }
            }
            Held::None => {}
        }
    }
}
