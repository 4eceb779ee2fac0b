//! Streamed responses and WebSocket sessions: their bytes come from an
//! [`Outbox`] the application fills, and (for WebSocket) frames are read
//! and answered here.

use std::sync::Arc;
use std::time::SystemTime;

use super::writing::response_head;
use super::{Connection, Ctx, Held};
use crate::event::Event;
use crate::h1::encode::{Framing, status_has_no_body};
use crate::outbox::Outbox;
use crate::responder::Accepted;
use crate::response::Response;
use crate::websocket::WebSocket;
use crate::ws::{self, Message, Opcode, close_payload, encode_frame};

impl Connection {
    /// Starts a streamed response; its body comes through `outbox`.
    pub fn start_stream(
        &mut self,
        ctx: &mut Ctx<'_>,
        response: Response,
        outbox: Arc<Outbox>,
        chunked: bool,
    ) {
        let Some(req) = self.take_request() else {
            outbox.shut();
            return;
        };
        let framing = if status_has_no_body(response.status) {
            Framing::None
        } else if chunked {
            Framing::Chunked
        } else {
            Framing::Close
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
                ws::Receiver::with_deflate(req.max_message_size(), params),
                Some(Arc::clone(deflater)),
            ),
            None => (ws::Receiver::new(req.max_message_size()), None),
        };
        self.held = Held::Socket {
            receiver: Box::new(receiver),
            socket: WebSocket::new(outbox, req, deflater),
        };
    }

    /// Moves a stream's or WebSocket's queued bytes into `out` once `out`
    /// is empty.
    pub(super) fn pull_outbox(&mut self, ctx: &mut Ctx<'_>) -> bool {
        if !self.out.is_empty() {
            return false;
        }
        let (outbox, req, stream) = match &self.held {
            Held::Stream { outbox, req } => (outbox, req, true),
            Held::Socket { socket, .. } => (socket.outbox(), socket.request(), false),
            _ => return false,
        };
        self.out.buf.clear();
        self.out.pos = 0;
        let taken = outbox.take(&mut self.out.buf);
        let got = !self.out.buf.is_empty();
        if taken.want_writable {
            ctx.events.push_back(Event::Writable(req.clone()));
        }
        self.machine.pulled(ctx.limits, ctx.now, got, taken.ended);
        if stream && taken.ended {
            // The rest is sent as any response; the stream's handles are
            // done.
            self.held = Held::None;
            return true;
        }
        got
    }

    /// Feeds `rx` to the WebSocket receiver; answers pings, completes the
    /// close handshake, reports messages.
    pub(super) fn read_frames(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let Held::Socket { socket, receiver } = &mut self.held else {
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
            socket.outbox().shut();
            // Send what is queued (the Close frame last), then close.
            self.held = Held::None;
            self.machine.session_ended(ctx.now);
        }
        pos > 0
    }
}
