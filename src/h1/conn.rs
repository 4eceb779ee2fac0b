//! [`Machine`]: the protocol state of one HTTP/1.1 connection, sans-IO.
//!
//! Every keep-alive, pipelining, `100 Continue` (and other 1xx), timeout, half-close,
//! linger, request-count and stopping decision of a connection is made
//! here, once. The machine owns no socket, buffer, file or request handle
//! and never reads the clock: the driver (`conn::Connection`) tells it
//! what happened — bytes received (it looks at the receive buffer, never
//! keeps it), the peer's EOF, what the application answered, bytes
//! written, `now` — and does what the returned value says: dispatch a
//! head, feed body bytes to a sink, refuse, queue bytes, close (and how),
//! arm [`Machine::deadline`].
//!
//! ```text
//! Idle ────── first byte ──────────────▶ Head        timeout (Idle): Closed, quietly
//! Head ────── head, no body ───────────▶ Dispatched  bad head, timeout (Head): refusal
//!      └───── head, body ──────────────▶ Body
//! Body ────── complete ────────────────▶ Dispatched  bad framing, too large,
//!             Pending ─accept_body─▶ Open             timeout (Body): refusal
//!             (a full sink stops reading, and the clock, until resumed)
//!             sink failed ─────────────▶ Dispatched  (no keep-alive)
//!      └───── answered before complete ▶ Respond     (close, input drained)
//! Dispatched ─ answer, refusal ────────▶ Respond
//!          └─ stream ──────────────────▶ Streaming ── ended ─────────────▶ Respond
//!          └─ upgrade ─────────────────▶ Upgraded ─── Close frame, error ─▶ Ending
//! Ending ──── our Close frame taken (behind the application's answers) ─▶ Respond (close)
//! Respond ─── sent, keep-alive ────────▶ Idle, or Head when a pipelined request is buffered
//!         └── queued in full, keep-alive, next request buffered ─▶ Head (written later)
//!         └── sent, close ─────────────▶ Closed, or Closing when input may be unread
//! Closing ─── EOF, timeout (Linger) ───▶ Closed
//! any ─────── EOF with nothing usable left, socket error, timeout (Send) ─▶ Closed
//! ```
//!
//! A refusal is [`Step::Refuse`] (or [`Expired::Refuse`]): the state is
//! `Dispatched` with keep-alive off and the client's unread bytes to be
//! drained, and the driver answers it at once with the error's status.
//!
//! One request is with the application at a time; pipelined requests wait
//! in the driver's receive buffer (bounded) until the response before them
//! is queued in full, so responses go out in request order. A keep-alive
//! answer that is all in memory lets the next buffered request begin
//! before its bytes are written ([`Machine::response_queued`], bounded by
//! `max_send_buffer` unsent): the driver then writes many answers at once.
//! While such bytes are unsent the client's EOF does not cut them off: the
//! connection closes once they are written. Each transition sets
//! the one deadline the state needs ([`Timer`]): none while the
//! application holds the request (it may take its time) or while a full
//! stream buffer waits for it.
//!
//! What the machine does not decide: how response bodies are read from
//! files and written (the driver's `Outgoing`), WebSocket frames (the
//! driver feeds them to `ws::Receiver` and reports the end of the
//! session), and which event the application is told (the handles).

use std::time::{Duration, Instant};

use crate::error::RequestError;
use crate::h1::body::BodyDecoder;
use crate::h1::encode::{ConnectionHeader, Framing, encode_framing, encode_interim, encode_status};
use crate::h1::head::{BodyKind, Head, Parsed, Version, parse_head};

#[cfg(test)]
mod tests;

/// The interim response sent when a client that asked for it may send
/// its body (RFC 9110 §10.1.1).
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// The options the machine applies, copied once per server from its
/// `Config` (`Limits::from(&config)`), where each is defined and
/// documented.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Limits {
    /// `Config::max_headers_length`.
    pub max_headers_length: usize,
    /// `Config::max_content_length`.
    pub max_content_length: u64,
    /// `Config::max_send_buffer`.
    pub max_send_buffer: usize,
    /// `Config::request_timeout`.
    pub request_timeout: Duration,
    /// `Config::keep_alive_timeout`.
    pub keep_alive_timeout: Duration,
    /// `Config::send_timeout`.
    pub send_timeout: Duration,
    /// `Config::keep_alive_max_requests`.
    pub keep_alive_max_requests: usize,
    /// `Config::event_mode`.
    pub event_mode: bool,
}

/// Why a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
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
    /// Refused before any request: its PROXY protocol header was missing,
    /// malformed, or from a peer that is not a trusted proxy.
    ProxyHeader,
}

/// What a deadline guards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// No request under way: the first (or, with a TLS handshake, the
    /// handshake) within `request_timeout`; later ones within
    /// `keep_alive_timeout`. Expiry closes quietly.
    Idle,
    /// A request head is arriving (`request_timeout`). Expiry: 408.
    Head,
    /// A body is being read and the client stalled (`request_timeout`
    /// from the last byte). Expiry: 408.
    Body,
    /// A response is being sent and the client stopped reading
    /// (`send_timeout` from the last write). Expiry closes.
    Send,
    /// Our side is shut or a WebSocket Close went out: the client's last
    /// bytes are drained for [`LINGER`]. Expiry closes.
    Linger,
}

/// The next moment the machine must hear of, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline {
    /// When.
    pub at: Instant,
    /// What it guards.
    pub timer: Timer,
}

/// How long a closing connection is drained so the client sees our
/// response rather than a reset.
pub const LINGER: Duration = Duration::from_secs(2);

/// What follows a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    /// The connection stays open for the next request.
    KeepAlive,
    /// The connection closes once the response is sent.
    Close,
}

/// Where the body of the request being read goes, as far as the protocol
/// cares. Whether the sink is full (a stream the application has not
/// drained) is the request handle's to know: the driver passes it in
/// (`sink_full`), the machine keeps no copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reading {
    /// Event mode: the application has not chosen a sink yet.
    Pending,
    /// Bytes flow to the sink.
    Open,
}

/// Where the exchange is; each variant owns what that step needs.
#[derive(Debug)]
enum Phase {
    /// Between requests: nothing received.
    Idle,
    /// A head is arriving.
    Head,
    /// The body is arriving.
    Body {
        decoder: BodyDecoder,
        received: u64,
        reading: Reading,
        /// Event mode: the head was announced, so the complete body is a
        /// second event.
        announced: bool,
        /// The client waits for `100 Continue` before it sends.
        expect_continue: bool,
    },
    /// The request (or its refusal) waits for an answer.
    Dispatched,
    /// A response is being sent.
    Respond { after: After },
    /// A streamed response: the head is queued, the body comes from the
    /// application.
    Streaming { after: After },
    /// A WebSocket session; `closing` once our Close frame is queued.
    Upgraded { closing: bool },
    /// The client's Close frame (or a protocol error) was read: nothing
    /// more is read. The application answers the messages that came
    /// before it; our Close frame goes out behind those answers (RFC 6455
    /// §7.1.7 lets an endpoint finish what it was sending), then the
    /// connection closes.
    Ending,
    /// Our side is shut; input is drained so the client reads our answer.
    Closing,
    /// Gone; the driver drops the connection.
    Closed(CloseReason),
}

/// How the body of a newly parsed request will arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyStart {
    /// No body: dispatch the request now, its body empty.
    None,
    /// Read the body into memory (the request is dispatched when it is
    /// complete).
    Buffer {
        /// A first size for the buffer.
        capacity: usize,
        /// Whether to queue [`CONTINUE`] before reading.
        send_continue: bool,
    },
    /// Event mode: announce the head and wait for
    /// [`Machine::accept_body`].
    Announce,
    /// The declared body is over `max_content_length`: the request is
    /// refused with 413 before a byte of it is read (the head is given
    /// for the access log); answer as for [`Step::Refuse`].
    TooLarge,
}

/// What [`Machine::advance`] found in the received bytes.
#[derive(Debug)]
pub enum Step<'a> {
    /// Nothing to do until more bytes, an answer or a deadline.
    Wait,
    /// A request's first byte arrived (its time starts now).
    Began,
    /// A complete head, `consumed` bytes of the input; how its body
    /// arrives.
    Request {
        /// The parsed head.
        head: Head,
        /// Bytes of the input the head took.
        consumed: usize,
        /// How the body arrives.
        body: BodyStart,
    },
    /// Body bytes for the sink (`data`, from the input, possibly empty),
    /// after which `consumed` bytes of input are used up. When they fill
    /// the sink the driver says so ([`Machine::pause`], then `sink_full`).
    Data {
        /// The body bytes.
        data: &'a [u8],
        /// Bytes of the input used up.
        consumed: usize,
    },
    /// The body is complete after `consumed` bytes of input: dispatch it.
    /// `announced`: the head went out on its own before (event mode).
    Complete {
        /// Bytes of the input used up.
        consumed: usize,
        /// Whether the head was announced on its own.
        announced: bool,
    },
    /// A WebSocket session: the driver's frame receiver reads the input.
    Frames,
    /// The input is to be dropped unread (closing).
    Discard,
    /// The request is refused: answer with this error's status (through
    /// [`Machine::respond`], as for any answer), then close.
    Refuse(RequestError),
    /// The connection is closed.
    Close(CloseReason),
}

/// A response head to encode, from the application's answer.
#[derive(Clone, Copy, Debug)]
pub struct ResponseHead<'a> {
    /// The status code.
    pub status: u16,
    /// Header lines, each ending in CRLF, already validated.
    pub headers: &'a [u8],
    /// Whether `headers` hold a `Content-Type`.
    pub has_content_type: bool,
    /// Whether `headers` hold `Connection: close`.
    pub wants_close: bool,
    /// The `Content-Type` sent when there is a body and `headers` name
    /// none.
    pub default_type: Option<&'a str>,
    /// How the body is delimited.
    pub framing: Framing,
    /// The `Date` value.
    pub date: &'a [u8],
}

/// What [`Machine::respond`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answered {
    /// What follows the response.
    pub after: After,
    /// Whether the body goes out (not for `HEAD`, nor a status without a
    /// body).
    pub with_body: bool,
}

/// What to do once a response is sent in full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finished {
    /// Close now (the client sent all it will).
    Close,
    /// Close now, after a TLS `close_notify`: everything the client sent
    /// was read, so closing cannot reset the answer away.
    CloseNotify,
    /// Shut our sending side and drain the client's bytes until its EOF
    /// or [`LINGER`] passes (the receive buffer is to be cleared).
    Linger,
    /// Keep-alive: wait for the next request (buffers may go back).
    Idle,
    /// Keep-alive: the next request is already buffered (its time starts
    /// now).
    Pipelined,
}

/// What an expired deadline means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expired {
    /// Nothing (the application holds the request).
    Nothing,
    /// Refuse the request with `408` ([`RequestError::Timeout`]).
    Refuse,
    /// The connection is closed.
    Close,
}

/// The protocol state of one connection.
#[derive(Debug)]
pub struct Machine {
    phase: Phase,
    /// Whether the current request allows keep-alive.
    keep_alive: bool,
    /// The client may still be sending bytes we will not read (a refused
    /// request, an unread body): drain them before closing.
    linger: bool,
    /// The client shut its sending side.
    peer_eof: bool,
    /// The server is stopping: no more keep-alive.
    stopping: bool,
    /// Heads parsed on this connection.
    requests: usize,
    /// The request being answered: its version and whether it is `HEAD`.
    version: Version,
    head_only: bool,
    /// Answers to earlier requests are queued but not all written
    /// ([`Machine::response_queued`] until [`Machine::all_written`]).
    unwritten: bool,
    deadline: Option<Deadline>,
}

impl Machine {
    /// A new connection at `now`: the first request must arrive (and a TLS
    /// handshake finish) within `request_timeout`.
    pub fn new(limits: &Limits, now: Instant) -> Self {
        Machine {
            phase: Phase::Idle,
            keep_alive: false,
            linger: false,
            peer_eof: false,
            stopping: false,
            requests: 0,
            version: Version::Http11,
            head_only: false,
            unwritten: false,
            deadline: None,
        }
        .armed(Timer::Idle, now, limits.request_timeout)
    }

    fn armed(mut self, timer: Timer, now: Instant, after: Duration) -> Self {
        self.arm(timer, now, after);
        self
    }

    /// Sets the deadline `after` from `now` (none when that is beyond the
    /// clock: no limit).
    fn arm(&mut self, timer: Timer, now: Instant, after: Duration) {
        self.deadline = now.checked_add(after).map(|at| Deadline { at, timer });
    }

    /// The next deadline, if any.
    #[inline]
    pub fn deadline(&self) -> Option<Deadline> {
        self.deadline
    }

    /// Why the connection closed, once it has.
    #[inline]
    pub fn closed(&self) -> Option<CloseReason> {
        match self.phase {
            Phase::Closed(reason) => Some(reason),
            _ => None,
        }
    }

    /// Request heads parsed so far.
    #[inline]
    pub fn requests(&self) -> usize {
        self.requests
    }

    /// Whether a request waits for the application's answer (dispatched,
    /// or announced and waiting for its body to be accepted).
    #[inline]
    pub fn awaits_answer(&self) -> bool {
        matches!(
            self.phase,
            Phase::Dispatched
                | Phase::Body {
                    reading: Reading::Pending,
                    ..
                }
        )
    }

    /// Whether an answer would be taken now: a request is dispatched, or
    /// its body is still being read (it never will be then, and the
    /// connection closes after the answer).
    #[inline]
    pub fn is_answerable(&self) -> bool {
        matches!(self.phase, Phase::Dispatched | Phase::Body { .. })
    }

    /// Queues an interim response (`status` 102-199, `headers` lines each
    /// ending in CRLF, already validated) into `out` ahead of the final
    /// answer, when one may go out: the request is being read or waits
    /// for its answer, and the client speaks HTTP/1.1 (RFC 9110 §15.2: a
    /// server must not send a 1xx to an HTTP/1.0 client). Returns whether
    /// it was queued; the phase does not change.
    pub fn interim(&self, out: &mut Vec<u8>, status: u16, headers: &[u8]) -> bool {
        let sendable = (102..=199).contains(&status)
            && self.version == Version::Http11
            && self.is_answerable();
        if sendable {
            encode_interim(out, status, headers);
        }
        sendable
    }

    /// Whether the connection is between requests, kept alive after at
    /// least one: the request count, which tells one idle spell from the
    /// next. Unless the driver still holds received or unsent bytes, such
    /// a connection may be closed at any moment.
    #[inline]
    pub fn idle_keep_alive(&self) -> Option<usize> {
        let idle = matches!(self.phase, Phase::Idle) && self.requests > 0;
        idle.then_some(self.requests)
    }

    /// Whether to read from the socket now, with `rx_len` bytes received
    /// and unused, `unsent` bytes queued, reads of `chunk` bytes;
    /// `sink_full` is asked only while a body is read.
    #[inline]
    pub fn wants_read(
        &self,
        limits: &Limits,
        rx_len: usize,
        unsent: usize,
        chunk: usize,
        sink_full: impl FnOnce() -> bool,
    ) -> bool {
        let rx_cap = limits.max_headers_length.saturating_add(chunk);
        match &self.phase {
            Phase::Idle | Phase::Head => rx_len < rx_cap,
            Phase::Body { reading, .. } => {
                *reading == Reading::Open && rx_len < chunk && !sink_full()
            }
            // Pipelined requests may be read ahead (bounded); after the
            // client's EOF there is nothing more to read.
            Phase::Dispatched | Phase::Respond { .. } | Phase::Streaming { .. } => {
                !self.peer_eof && rx_len < rx_cap
            }
            // Every ping read queues a pong: stop reading while the client
            // leaves what we send unread, or a ping flood grows the send
            // buffer without bound.
            Phase::Upgraded { .. } => rx_len < chunk && unsent < limits.max_send_buffer,
            // Whatever follows the client's Close is drained only once our
            // answers are out (`Closing`).
            Phase::Ending => false,
            Phase::Closing => true,
            Phase::Closed(_) => false,
        }
    }

    /// Bytes arrived: a client sending its body is not stalled.
    #[inline]
    pub fn received(&mut self, limits: &Limits, now: Instant) {
        if matches!(self.phase, Phase::Body { .. }) {
            self.arm(Timer::Body, now, limits.request_timeout);
        }
    }

    /// The client shut its sending side; `rx_empty`: nothing it sent is
    /// left unused. Bytes that came with the FIN are still looked at:
    /// requests that arrived whole are answered (pipelined ones included),
    /// and [`Machine::advance`] closes once what is left proves
    /// incomplete.
    pub fn peer_closed(&mut self, rx_empty: bool) -> Option<CloseReason> {
        self.peer_eof = true;
        let close = match self.phase {
            Phase::Closing => true,
            Phase::Idle | Phase::Head | Phase::Body { .. } if rx_empty && self.unwritten => {
                self.send_then_close();
                false
            }
            Phase::Idle | Phase::Head | Phase::Body { .. } => rx_empty,
            // A stream or WebSocket whose client left: nobody reads it.
            Phase::Streaming { .. } | Phase::Upgraded { .. } => true,
            _ => false,
        };
        close.then(|| self.close(CloseReason::PeerClosed))
    }

    /// The client left with a request unfinished while answers to earlier
    /// ones are still unwritten: those go out, then the connection closes
    /// (the unfinished request is dropped unanswered). The deadline
    /// running goes on; writing re-arms the send timeout.
    fn send_then_close(&mut self) {
        self.keep_alive = false;
        self.phase = Phase::Respond {
            after: After::Close,
        };
    }

    /// The client sent all it will and the request under way cannot be
    /// complete: close, or first send what is queued.
    fn peer_gone<'a>(&mut self) -> Step<'a> {
        if self.unwritten {
            self.send_then_close();
            return Step::Wait;
        }
        Step::Close(self.close(CloseReason::PeerClosed))
    }

    /// Moves the exchange forward on the received bytes `rx`; the driver
    /// uses up what a step says it consumed and calls again while the
    /// step is not [`Step::Wait`]. `sink_full` (asked only while a body
    /// is read): whether the body's sink takes no more for now.
    #[inline]
    pub fn advance<'a>(
        &mut self,
        limits: &Limits,
        rx: &'a [u8],
        now: Instant,
        sink_full: impl FnOnce() -> bool,
    ) -> Step<'a> {
        // The driver asks after every read and write: where nothing can
        // happen the answer costs a match.
        match self.phase {
            Phase::Dispatched
            | Phase::Respond { .. }
            | Phase::Streaming { .. }
            | Phase::Ending
            | Phase::Closed(_) => Step::Wait,
            Phase::Idle | Phase::Upgraded { .. } | Phase::Closing if rx.is_empty() => Step::Wait,
            _ => self.step(limits, rx, now, sink_full),
        }
    }

    fn step<'a>(
        &mut self,
        limits: &Limits,
        rx: &'a [u8],
        now: Instant,
        sink_full: impl FnOnce() -> bool,
    ) -> Step<'a> {
        match &mut self.phase {
            Phase::Idle if !rx.is_empty() => {
                self.begin_head(limits, now);
                Step::Began
            }
            Phase::Head => self.parse_head(limits, rx, now),
            Phase::Body {
                decoder,
                received,
                reading,
                announced,
                ..
            } => {
                if *reading == Reading::Pending {
                    return Step::Wait;
                }
                if decoder.is_done() {
                    // The last bytes went to the sink (even if that filled
                    // it): the request is complete.
                    let announced = *announced;
                    return self.complete(0, announced);
                }
                if rx.is_empty() {
                    if self.peer_eof {
                        // Every byte the client will send is in, and the
                        // body is not complete.
                        return self.peer_gone();
                    }
                    return Step::Wait;
                }
                if sink_full() {
                    return Step::Wait;
                }
                let step = match decoder.decode(rx) {
                    Ok(step) => step,
                    Err(e) => return self.refuse(e),
                };
                *received += step.data.len() as u64;
                if *received > limits.max_content_length {
                    return self.refuse(RequestError::PayloadTooLarge);
                }
                if step.data.is_empty() && step.done {
                    let announced = *announced;
                    return self.complete(step.consumed, announced);
                }
                if step.consumed == 0 {
                    return Step::Wait;
                }
                Step::Data {
                    data: step.data,
                    consumed: step.consumed,
                }
            }
            Phase::Upgraded { .. } if !rx.is_empty() => Step::Frames,
            Phase::Closing if !rx.is_empty() => Step::Discard,
            _ => Step::Wait,
        }
    }

    /// A new request's head is arriving: until it parses, nothing is
    /// known of it (a refusal of it is an HTTP/1.1 answer with a body).
    fn begin_head(&mut self, limits: &Limits, now: Instant) {
        self.phase = Phase::Head;
        self.version = Version::Http11;
        self.head_only = false;
        self.arm(Timer::Head, now, limits.request_timeout);
    }

    fn parse_head<'a>(&mut self, limits: &Limits, rx: &'a [u8], now: Instant) -> Step<'a> {
        let (head, consumed) = match parse_head(rx, limits.max_headers_length) {
            Ok(Parsed::Partial) if self.peer_eof => return self.peer_gone(),
            Ok(Parsed::Partial) => return Step::Wait,
            Ok(Parsed::Complete(head, len)) => (head, len),
            Err(e) => return self.refuse(e),
        };
        self.requests += 1;
        self.keep_alive =
            head.keep_alive && !self.stopping && self.requests < limits.keep_alive_max_requests;
        self.version = head.version;
        self.head_only = head.method == "HEAD";
        let (decoder, len_hint) = match head.body {
            BodyKind::None => {
                self.phase = Phase::Dispatched;
                self.deadline = None;
                let body = BodyStart::None;
                return Step::Request {
                    head,
                    consumed,
                    body,
                };
            }
            BodyKind::Length(n) if n > limits.max_content_length => {
                // Refused before a byte of it is read: no `100 Continue`.
                self.refusing();
                let body = BodyStart::TooLarge;
                return Step::Request {
                    head,
                    consumed,
                    body,
                };
            }
            BodyKind::Length(n) => (BodyDecoder::length(n), n),
            BodyKind::Chunked => (BodyDecoder::chunked(), 0),
        };
        let rest = rx.len().saturating_sub(consumed) as u64;
        let whole_body_here = matches!(head.body, BodyKind::Length(n) if n <= rest);
        let (body, reading) = if !limits.event_mode {
            let capacity = len_hint.min(CHUNK_HINT) as usize;
            let send_continue = head.expect_continue;
            let body = BodyStart::Buffer {
                capacity,
                send_continue,
            };
            (body, Reading::Open)
        } else if whole_body_here {
            // Head and body arrived together: one event for the request.
            let body = BodyStart::Buffer {
                capacity: len_hint as usize,
                send_continue: false,
            };
            (body, Reading::Open)
        } else {
            (BodyStart::Announce, Reading::Pending)
        };
        match reading {
            Reading::Open => self.arm(Timer::Body, now, limits.request_timeout),
            _ => self.deadline = None,
        }
        self.phase = Phase::Body {
            decoder,
            received: 0,
            reading,
            announced: reading == Reading::Pending,
            expect_continue: head.expect_continue,
        };
        Step::Request {
            head,
            consumed,
            body,
        }
    }

    fn complete<'a>(&mut self, consumed: usize, announced: bool) -> Step<'a> {
        self.phase = Phase::Dispatched;
        self.deadline = None;
        Step::Complete {
            consumed,
            announced,
        }
    }

    /// Refuses the request under way: no keep-alive, the client's unread
    /// bytes drained before closing; the refusal is the answer awaited.
    fn refuse<'a>(&mut self, error: RequestError) -> Step<'a> {
        self.refusing();
        Step::Refuse(error)
    }

    /// Keeps `version` and `head_only`: a request refused after its head
    /// (a body over the limit, a broken chunk) is still answered as that
    /// head asked, a `HEAD` without a body.
    fn refusing(&mut self) {
        self.keep_alive = false;
        self.linger = true;
        self.phase = Phase::Dispatched;
        self.deadline = None;
    }

    /// The application chose a sink for the announced body (event mode):
    /// reading starts, and the client's time with it. Returns whether to
    /// queue [`CONTINUE`] (only now, after the limits passed), or `None`
    /// when no body waits for a sink.
    pub fn accept_body(&mut self, limits: &Limits, now: Instant) -> Option<bool> {
        let Phase::Body {
            reading,
            expect_continue,
            ..
        } = &mut self.phase
        else {
            return None;
        };
        if *reading != Reading::Pending {
            return None;
        }
        *reading = Reading::Open;
        let send_continue = *expect_continue;
        self.arm(Timer::Body, now, limits.request_timeout);
        Some(send_continue)
    }

    /// The sink just filled (a stream the application has not drained):
    /// the client is not stalled, so no deadline runs until
    /// [`Machine::resume`]; meanwhile the driver passes `sink_full` and
    /// nothing is read.
    pub fn pause(&mut self) {
        if let Phase::Body {
            reading: Reading::Open,
            ..
        } = self.phase
        {
            self.deadline = None;
        }
    }

    /// The application made room in a full sink: the client's time runs
    /// again.
    pub fn resume(&mut self, limits: &Limits, now: Instant) {
        if let Phase::Body {
            reading: Reading::Open,
            ..
        } = self.phase
        {
            self.arm(Timer::Body, now, limits.request_timeout);
        }
    }

    /// The sink failed (a file could not be created or written): the
    /// application hears of it and answers; the rest of the body is never
    /// read, so the connection closes after the answer.
    pub fn sink_failed(&mut self) {
        if let Phase::Body { .. } = self.phase {
            self.keep_alive = false;
            self.phase = Phase::Dispatched;
            self.deadline = None;
        }
    }

    /// Takes the awaited answer's turn; an unread body will never be read,
    /// so the connection will close (after draining it).
    fn take_turn(&mut self) -> bool {
        match self.phase {
            Phase::Dispatched => true,
            Phase::Body { .. } => {
                self.keep_alive = false;
                self.linger = true;
                true
            }
            _ => false,
        }
    }

    /// Whether the answer to the request under way may keep the
    /// connection alive; `rx_empty`: nothing the client sent is left.
    fn keeps_alive(&self, head: &ResponseHead<'_>, rx_empty: bool) -> bool {
        // A client that sent its FIN gets `Connection: close` on the
        // answer to its last request.
        let client_done = self.peer_eof && rx_empty;
        self.keep_alive && !head.wants_close && !client_done && head.framing != Framing::Close
    }

    /// Encodes the head of the answer into `out`; what follows it.
    fn encode(&self, out: &mut Vec<u8>, head: &ResponseHead<'_>, rx_empty: bool) -> After {
        let keep = self.keeps_alive(head, rx_empty);
        let connection = match (keep, self.version) {
            (false, _) => ConnectionHeader::Close,
            (true, Version::Http10) => ConnectionHeader::KeepAlive,
            (true, Version::Http11) => ConnectionHeader::Omit,
        };
        encode_status(out, head.status, head.date);
        let default_type = head
            .default_type
            .filter(|_| head.framing != Framing::None && !head.has_content_type);
        if let Some(content_type) = default_type {
            out.extend_from_slice(b"Content-Type: ");
            out.extend_from_slice(content_type.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(head.headers);
        encode_framing(out, head.framing, connection);
        if keep { After::KeepAlive } else { After::Close }
    }

    /// The application answered (or a refusal is sent): encodes the head
    /// into `out` and starts sending. `None` when no request waits for an
    /// answer (the answer is dropped).
    pub fn respond(
        &mut self,
        limits: &Limits,
        out: &mut Vec<u8>,
        head: &ResponseHead<'_>,
        rx_empty: bool,
        now: Instant,
    ) -> Option<Answered> {
        self.answer(limits, out, head, rx_empty, now, false)
    }

    /// The application answered with a stream: encodes its head (framing
    /// [`Framing::Chunked`], [`Framing::Close`], [`Framing::Length`] or, for a status without a
    /// body, [`Framing::None`]). `Some(true)`: the body comes from the
    /// application until [`Machine::stream_ended`]; `Some(false)`: nothing
    /// may follow the head (`HEAD`, no-body status); `None`: no request
    /// waits for an answer.
    pub fn stream(
        &mut self,
        limits: &Limits,
        out: &mut Vec<u8>,
        head: &ResponseHead<'_>,
        rx_empty: bool,
        now: Instant,
    ) -> Option<bool> {
        self.answer(limits, out, head, rx_empty, now, true)
            .map(|answered| answered.with_body)
    }

    /// Encodes the answer's head and starts sending it; a streamed body
    /// comes from the application (`Streaming`), any other from the
    /// driver (`Respond`).
    fn answer(
        &mut self,
        limits: &Limits,
        out: &mut Vec<u8>,
        head: &ResponseHead<'_>,
        rx_empty: bool,
        now: Instant,
        streamed: bool,
    ) -> Option<Answered> {
        if !self.take_turn() {
            return None;
        }
        let after = self.encode(out, head, rx_empty);
        let with_body = !self.head_only && head.framing != Framing::None;
        self.phase = if streamed && with_body {
            Phase::Streaming { after }
        } else {
            Phase::Respond { after }
        };
        self.arm(Timer::Send, now, limits.send_timeout);
        Some(Answered { after, with_body })
    }

    /// The application cut its stream short (aborted it, or ended it
    /// before its announced length): what is queued is sent, then the
    /// connection closes.
    pub fn stream_broken(&mut self, limits: &Limits, now: Instant) {
        if let Phase::Streaming { .. } = self.phase {
            self.phase = Phase::Respond {
                after: After::Close,
            };
            self.arm(Timer::Send, now, limits.send_timeout);
        }
    }

    /// The application ended its stream: the rest is sent as any
    /// response.
    pub fn stream_ended(&mut self, limits: &Limits, now: Instant) {
        if let Phase::Streaming { after } = self.phase {
            self.phase = Phase::Respond { after };
            self.arm(Timer::Send, now, limits.send_timeout);
        }
    }

    /// The application accepted a WebSocket upgrade (the driver queues
    /// `101 Switching Protocols`). False when no request waits for it
    /// (a body still being read cannot be upgraded).
    pub fn upgrade(&mut self, limits: &Limits, now: Instant) -> bool {
        if !matches!(self.phase, Phase::Dispatched) {
            return false;
        }
        self.keep_alive = false;
        self.phase = Phase::Upgraded { closing: false };
        self.arm(Timer::Send, now, limits.send_timeout);
        true
    }

    /// The driver moved what the application queued (a stream's or
    /// WebSocket's bytes) towards the socket: `got` bytes or none,
    /// `ended` when the application has finished.
    pub fn pulled(&mut self, limits: &Limits, now: Instant, got: bool, ended: bool) {
        match &mut self.phase {
            Phase::Streaming { .. } if ended => self.stream_ended(limits, now),
            // The application's Close frame was just taken: wait a moment
            // for the client's answer (once; later pulls leave it be).
            Phase::Upgraded { closing } if ended && got && !*closing => {
                *closing = true;
                self.arm(Timer::Linger, now, LINGER);
            }
            Phase::Upgraded { .. } if ended => {}
            // Our Close frame, behind the application's last answers, was
            // taken: the rest is sent as any response, then we close.
            Phase::Ending if ended => {
                self.phase = Phase::Respond {
                    after: After::Close,
                };
                self.arm(Timer::Send, now, limits.send_timeout);
            }
            Phase::Streaming { .. } | Phase::Upgraded { .. } | Phase::Ending => {
                if !got {
                    // Nothing to send: no stall to time out.
                    self.deadline = None;
                } else if self.deadline.is_none() {
                    // Bytes to send after a quiet spell: the client's time
                    // to take them starts now.
                    self.arm(Timer::Send, now, limits.send_timeout);
                }
            }
            _ => {}
        }
    }

    /// The client's Close frame or a protocol error was read: nothing more
    /// is read, the client's EOF no longer cuts the session short, and the
    /// timer running goes on (the send timeout while our bytes wait for
    /// the client, the short wait after our own Close, or none while
    /// nothing is to be sent: the loop queues our Close behind the
    /// application's answers on its own, see [`Machine::pulled`]).
    pub fn session_ending(&mut self) {
        if let Phase::Upgraded { .. } = self.phase {
            self.phase = Phase::Ending;
        }
    }

    /// Some bytes were written: a client taking our response is not
    /// stalled. (After our WebSocket Close the short wait for the client's
    /// answer stands.)
    #[inline]
    pub fn written(&mut self, limits: &Limits, now: Instant) {
        let guarded = match self.phase {
            Phase::Respond { .. } | Phase::Streaming { .. } | Phase::Ending => true,
            Phase::Upgraded { closing } => !closing,
            _ => false,
        };
        if guarded {
            self.arm(Timer::Send, now, limits.send_timeout);
        }
    }

    /// Whether a response is being sent and may be finished.
    #[inline]
    pub fn is_responding(&self) -> bool {
        matches!(self.phase, Phase::Respond { .. })
    }

    /// Whether response bytes (a head, a body, a stream) are what the
    /// connection sends, rather than WebSocket frames.
    #[inline]
    pub fn sends_response(&self) -> bool {
        matches!(self.phase, Phase::Respond { .. } | Phase::Streaming { .. })
    }

    /// The connection is refused before any request (its client has too
    /// many open): the refusal is the answer awaited, then the connection
    /// closes, draining what the client sends meanwhile. False when a
    /// request already began.
    pub fn refuse_connection(&mut self) -> bool {
        if !matches!(self.phase, Phase::Idle) || self.requests > 0 {
            return false;
        }
        self.refusing();
        true
    }

    /// The response is sent in full (nothing queued, nothing in TLS):
    /// keep-alive or close, and how. `rx_empty`: no further request is
    /// buffered. `None` when no response was being sent.
    pub fn response_sent(
        &mut self,
        limits: &Limits,
        rx_empty: bool,
        now: Instant,
    ) -> Option<Finished> {
        let Phase::Respond { after } = self.phase else {
            return None;
        };
        self.unwritten = false;
        let finished = if self.peer_eof && (after == After::Close || rx_empty) {
            // The client sent all it will: nothing to linger for.
            self.close(CloseReason::Done);
            Finished::Close
        } else if after == After::Close {
            if !self.linger && rx_empty {
                self.close(CloseReason::Done);
                Finished::CloseNotify
            } else {
                self.phase = Phase::Closing;
                self.arm(Timer::Linger, now, LINGER);
                Finished::Linger
            }
        } else if rx_empty {
            self.phase = Phase::Idle;
            self.arm(Timer::Idle, now, limits.keep_alive_timeout);
            Finished::Idle
        } else {
            // A pipelined request is already here.
            self.begin_head(limits, now);
            Finished::Pipelined
        };
        Some(finished)
    }

    /// The answer being sent is queued in full in memory (`unsent` bytes,
    /// this answer's and earlier ones', not yet written): when it keeps the
    /// connection alive and the next request is already buffered, that
    /// request begins now, before the bytes are written, so its answer can
    /// go out in the same write. Not beyond `max_send_buffer` unsent (a
    /// client that sends requests but does not read is not read ahead
    /// of), nor after the client's EOF. Returns [`Finished::Pipelined`]
    /// when the next request began; `None`: wait for the write
    /// ([`Machine::response_sent`]).
    pub fn response_queued(
        &mut self,
        limits: &Limits,
        rx_empty: bool,
        unsent: usize,
        now: Instant,
    ) -> Option<Finished> {
        let queued_ahead = matches!(
            self.phase,
            Phase::Respond {
                after: After::KeepAlive
            }
        ) && !rx_empty
            && !self.peer_eof
            && unsent <= limits.max_send_buffer;
        if !queued_ahead {
            return None;
        }
        self.unwritten = true;
        self.begin_head(limits, now);
        Some(Finished::Pipelined)
    }

    /// Everything queued was written (nothing held in TLS either).
    #[inline]
    pub fn all_written(&mut self) {
        self.unwritten = false;
    }

    /// The deadline passed: what that means where the exchange is.
    pub fn timeout(&mut self) -> Expired {
        match &self.phase {
            Phase::Head => {
                self.refusing();
                Expired::Refuse
            }
            Phase::Body { reading, .. } if *reading != Reading::Pending => {
                self.refusing();
                Expired::Refuse
            }
            Phase::Dispatched | Phase::Body { .. } => Expired::Nothing,
            Phase::Closed(_) => Expired::Nothing,
            _ => {
                self.close(CloseReason::Timeout);
                Expired::Close
            }
        }
    }

    /// The server is stopping: no more keep-alive; `true` when the
    /// connection closed at once (it was idle).
    pub fn stop(&mut self) -> bool {
        self.stopping = true;
        self.keep_alive = false;
        match &mut self.phase {
            Phase::Idle => {
                self.close(CloseReason::Done);
                true
            }
            Phase::Respond { after } => {
                *after = After::Close;
                false
            }
            _ => false,
        }
    }

    /// Ends the connection (a socket error, eviction, a failed body...).
    pub fn close(&mut self, reason: CloseReason) -> CloseReason {
        self.phase = Phase::Closed(reason);
        self.deadline = None;
        reason
    }
}

/// The most a body buffer is sized for before bytes arrive.
const CHUNK_HINT: u64 = 64 * 1024;
