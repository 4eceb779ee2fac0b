//! Streamed responses and WebSocket sessions: their bytes come from an
//! [`Outbox`] the application fills, and (for WebSocket) frames are read
//! and answered here.
//!
//! A WebSocket session, as the driver holds it ([`Session`]):
//!
//! ```text
//! Open ── client's Close frame / protocol error ──▶ Ending ── EndSession step ──▶ Draining
//!   (frames read; messages        (nothing more read; the messages     (our Close queued behind
//!    and pings reported)           before it are with the application)   its answers; the outbox
//!                                                                         drains, then Held::None)
//! ```
//!
//! In `Ending`, the message events are in the loop's queue followed by
//! [`Queued::EndSession`](crate::event::Queued): when the application
//! calls `wait()` past them, the loop appends our Close frame to the
//! outbox behind whatever it sent in answer, and tells it `Close`. If the
//! application was refused room (`WouldBlock`), the step waits for the
//! `Writable` event and comes again behind it.

use std::sync::Arc;
use std::time::SystemTime;

use super::writing::response_head;
use super::{Connection, Ctx, Held, IO_CHUNK};
use crate::event::Event;
use crate::h1::encode::{Framing, status_has_no_body};
use crate::outbox::Outbox;
#[cfg(feature = "websocket")]
use crate::responder::Accepted;
use crate::response::Response;
#[cfg(feature = "websocket")]
use crate::websocket::WebSocket;
#[cfg(feature = "websocket")]
use crate::ws::{self, Message, Opcode, close_payload, encode_frame};

/// Where a WebSocket session is; see the [module docs](self).
#[cfg(feature = "websocket")]
pub(super) enum Session {
    /// Frames are read. Boxed: the receiver is most of a `Held`'s size,
    /// and requests, which are far more common, would move it around for
    /// nothing.
    Open(Box<ws::Receiver>),
    /// The client's Close frame or a protocol error was read; the loop's
    /// `EndSession` step is queued behind the messages before it.
    Ending(Box<PendingClose>),
    /// Our Close frame is queued behind the application's answers, and
    /// the application was told `Close`; the session is over once the
    /// outbox is drained.
    Draining,
}

/// What ends a session once the application has answered the messages
/// before it.
#[cfg(feature = "websocket")]
pub(super) struct PendingClose {
    /// The payload of our Close frame: the client's code echoed (RFC 6455
    /// §5.5.1), or the protocol error's code and reason.
    payload: Vec<u8>,
    /// The `Close` the application is told.
    pub(super) report: Option<(u16, String)>,
}

impl Connection {
    /// Starts a streamed response; its body comes through `outbox`.
    pub fn start_stream(
        &mut self,
        ctx: &mut Ctx<'_>,
        response: Response,
        outbox: Arc<Outbox>,
        framing: Framing,
    ) {
        let Some(req) = self.take_request() else {
            outbox.shut();
            return;
        };
        let framing = if status_has_no_body(response.status) {
            Framing::None
        } else {
            framing
        };
        self.set_nodelay();
        if self.out.buf.capacity() == 0 {
            self.out.buf = ctx.pool.take_tx();
        }
        let head = response_head(&response, framing, None, ctx.date.get(SystemTime::now()));
        let rx_empty = self.rx.is_empty();
        let Some(with_body) =
            self.machine
                .stream(ctx.limits, &mut self.out.buf, &head, rx_empty, ctx.now)
        else {
            outbox.shut();
            return;
        };
        let queued = self.out.buf.len() - self.out.pos;
        self.serving(ctx.pool, ctx.now).exchange.response_began(
            ctx.config.access_log.as_ref(),
            Some(req.clone()),
            None,
            response.status,
            queued,
        );
        if with_body {
            self.held = Held::Stream { req, outbox };
        } else {
            // Nothing of the body may follow this head.
            outbox.shut();
        }
    }

    /// Switches to WebSocket: `101 Switching Protocols`, then frames.
    #[cfg(feature = "websocket")]
    pub fn upgrade(
        &mut self,
        ctx: &mut Ctx<'_>,
        accept: &Accepted,
        response: &Response,
        outbox: Arc<Outbox>,
    ) {
        let req = match (&self.held, self.machine.upgrade(ctx.limits, ctx.now)) {
            (Held::Request { req, sink: None }, true) => req.clone(),
            _ => {
                outbox.shut();
                return;
            }
        };
        self.set_nodelay();
        ws::handshake::encode_switching_protocols_with(
            &mut self.out.buf,
            &accept.key,
            response.headers.as_bytes(),
        );
        let queued = self.out.buf.len() - self.out.pos;
        self.serving(ctx.pool, ctx.now).exchange.response_began(
            ctx.config.access_log.as_ref(),
            Some(req.clone()),
            None,
            101,
            queued,
        );
        let (receiver, deflater) = match &accept.deflate {
            Some((params, deflater)) => (
                ws::Receiver::with_deflate(ctx.config.max_message_size, params),
                Some(Arc::clone(deflater)),
            ),
            None => (ws::Receiver::new(ctx.config.max_message_size), None),
        };
        self.held = Held::Socket {
            session: Session::Open(Box::new(receiver)),
            socket: WebSocket::new(outbox, req, deflater),
        };
    }

    /// Moves a stream's or WebSocket's queued bytes into `out` once `out`
    /// is empty.
    pub(super) fn pull_outbox(&mut self, ctx: &mut Ctx<'_>) -> bool {
        if !self.out.is_empty() {
            return false;
        }
        // `ending`: a WebSocket session's, never a stream's.
        #[cfg_attr(not(feature = "websocket"), allow(unused_variables))]
        let (outbox, req, done_when_ended, ending) = match &self.held {
            Held::Stream { outbox, req } => (outbox, req, true, false),
            #[cfg(feature = "websocket")]
            Held::Socket { socket, session } => (
                socket.outbox(),
                socket.request(),
                matches!(session, Session::Draining),
                matches!(session, Session::Ending(_)),
            ),
            _ => return false,
        };
        self.out.buf.clear();
        self.out.pos = 0;
        // Pushes stop at `max_send_buffer`, so a buffer grown (by doubling)
        // past twice that held one push larger than the cap (a big
        // WebSocket message): it is not handed back to the outbox, which
        // would keep its memory for the rest of the session.
        if self.out.buf.capacity() > ctx.config.max_send_buffer.max(IO_CHUNK).saturating_mul(2) {
            self.out.buf = Vec::new();
        }
        let taken = outbox.take(&mut self.out.buf);
        let got = !self.out.buf.is_empty();
        if taken.want_writable {
            ctx.events.push_back(Event::Writable(req.clone()));
            #[cfg(feature = "websocket")]
            if ending {
                // The session's Close waited for this room too (see
                // `end_session`): it follows the application's answer.
                ctx.events.push_end_session(self.conn);
            }
        }
        if taken.broken {
            // A stream cut short (a WebSocket's outbox never is): the
            // client must see the body end early, not a next response.
            self.machine.stream_broken(ctx.limits, ctx.now);
        }
        self.machine.pulled(ctx.limits, ctx.now, got, taken.ended);
        if done_when_ended && taken.ended {
            // The rest (for a WebSocket: up to our Close frame) is sent as
            // any response; the handles are done.
            #[cfg(feature = "websocket")]
            if matches!(self.held, Held::Socket { .. }) {
                outbox.shut();
            }
            self.held = Held::None;
            return true;
        }
        got
    }

    /// Feeds `rx` to the WebSocket receiver; answers pings, reports
    /// messages. On the client's Close or a protocol error, the session
    /// ends once the application has taken the messages before it (see
    /// [`Connection::end_session`]).
    #[cfg(feature = "websocket")]
    pub(super) fn read_frames(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let Held::Socket { socket, session } = &mut self.held else {
            return false;
        };
        let Session::Open(receiver) = session else {
            return false;
        };
        let mut pos = 0;
        let mut ending = None;
        while pos < self.rx.len() {
            let (n, item) = receiver.feed(&self.rx.bytes()[pos..]);
            pos += n;
            let message = match item {
                None => break,
                Some(Ok(Message::Ping(payload))) => {
                    encode_frame(&mut self.out.buf, true, Opcode::Pong, &payload);
                    Message::Ping(payload)
                }
                Some(Ok(Message::Close(status))) => {
                    let payload = match &status {
                        Some((code, _)) => close_payload(*code, ""),
                        None => Vec::new(),
                    };
                    ending = Some(PendingClose {
                        payload,
                        report: status,
                    });
                    break;
                }
                Some(Ok(message)) => message,
                Some(Err(e)) => {
                    log::debug!("{}: WebSocket protocol error: {e}", self.peer);
                    ending = Some(PendingClose {
                        payload: e.close_payload(),
                        report: Some((e.code, e.reason.to_owned())),
                    });
                    break;
                }
            };
            ctx.events
                .push_back(Event::WebSocket(socket.clone(), message));
        }
        self.rx.consume(pos);
        if let Some(pending) = ending {
            *session = Session::Ending(Box::new(pending));
            ctx.events.push_end_session(self.conn);
            self.machine.session_ending();
        }
        pos > 0
    }

    /// The loop's `EndSession` step: the application has taken the
    /// messages that came before the client's Close (or protocol error)
    /// and sent its answers; our Close frame goes out behind them (unless
    /// the application sent its own already), and the application is
    /// told `Close`. An application waiting for room to send (refused
    /// with `WouldBlock`) gets its `Writable` event first.
    #[cfg(feature = "websocket")]
    pub fn end_session(&mut self, ctx: &mut Ctx<'_>) {
        let Held::Socket { socket, session } = &mut self.held else {
            return;
        };
        match std::mem::replace(session, Session::Draining) {
            // The application was told to wait for room (`WouldBlock`) to
            // send an answer: the Close waits with it, queued again behind
            // the `Writable` event (see `pull_outbox`).
            Session::Ending(pending) if socket.outbox().is_waiting_for_room() => {
                *session = Session::Ending(pending);
            }
            Session::Ending(pending) => {
                let PendingClose { payload, report } = *pending;
                socket
                    .outbox()
                    .finish(|out| encode_frame(out, true, Opcode::Close, &payload));
                ctx.events
                    .push_back(Event::WebSocket(socket.clone(), Message::Close(report)));
            }
            other => *session = other,
        }
    }
}
