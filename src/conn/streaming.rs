//! Streamed responses and WebSocket sessions: their bytes come from an
//! [`Outbox`] the application fills, and (for WebSocket) frames are read
//! and answered here.

use super::*;

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
        self.exchange.response_began(
            ctx.config.access_log.as_ref(),
            Some(req.clone()),
            None,
            response.status,
            self.out.buf.len() - self.out.pos,
        );
        if head_only || framing == Framing::None {
            // Nothing of the body may follow this head.
            outbox.shut();
            self.phase = Phase::Respond { after };
        } else {
            self.phase = Phase::Streaming { req, outbox, after };
        }
        self.deadline = ctx.now.checked_add(ctx.config.send_timeout);
    }

    /// Switches to WebSocket: `101 Switching Protocols`, then frames.
    pub fn upgrade(
        &mut self,
        ctx: &mut Ctx<'_>,
        accept: &str,
        response: &Response,
        outbox: Arc<Outbox>,
    ) {
        let req = match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Dispatched { req } => req,
            other => {
                self.phase = other;
                outbox.shut();
                return;
            }
        };
        self.set_nodelay();
        ws::handshake::encode_switching_protocols_with(
            &mut self.out.buf,
            accept,
            response.headers.as_bytes(),
        );
        self.keep_alive = false;
        self.exchange.response_began(
            ctx.config.access_log.as_ref(),
            Some(req.clone()),
            None,
            101,
            self.out.buf.len() - self.out.pos,
        );
        self.phase = Phase::Upgraded {
            receiver: ws::Receiver::new(req.max_message_size()),
            socket: WebSocket::new(outbox, req),
        };
        self.deadline = ctx.now.checked_add(ctx.config.send_timeout);
    }

    /// Moves a stream's or WebSocket's queued bytes into `out` once `out`
    /// is empty.
    pub(super) fn pull_outbox(&mut self, ctx: &mut Ctx<'_>) -> bool {
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
                self.deadline = ctx.now.checked_add(ctx.config.send_timeout);
                return true;
            }
            // The application's Close frame was just taken: wait a moment
            // for the client's answer (once; later pulls leave it be).
            Phase::Upgraded { .. } if taken.ended && got => self.deadline = Some(ctx.now + LINGER),
            Phase::Upgraded { .. } if taken.ended => {}
            // Nothing to send: no stall to time out.
            _ if !got => self.deadline = None,
            // Bytes to send after a quiet spell: the client's time to
            // take them starts now (the socket may be full already).
            _ if self.deadline.is_none() => {
                self.deadline = ctx.now.checked_add(ctx.config.send_timeout)
            }
            _ => {}
        }
        got
    }

    /// Feeds `rx` to the WebSocket receiver; answers pings, completes the
    /// close handshake, reports messages.
    pub(super) fn read_frames(&mut self, ctx: &mut Ctx<'_>) -> bool {
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
            socket.outbox().shut();
            // Send what is queued (the Close frame last), then close.
            self.phase = Phase::Respond {
                after: After::Close,
            };
            self.deadline = Some(ctx.now + LINGER);
        }
        pos > 0
    }
}
