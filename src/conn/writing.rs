//! The response side of the driver: answers encoded by the machine and
//! queued with their bodies, bytes written (`sendfile` for long file parts
//! on plain connections), and the end of each response.

use std::io;
use std::time::SystemTime;

use super::outgoing::shrunk;
use super::{CloseReason, Connection, Ctx, Held, IO_CHUNK, Sink};
use crate::access_log::Outcome;
use crate::error::RequestError;
use crate::h1::conn::{Finished, ResponseHead};
use crate::h1::encode::{Framing, status_has_no_body};
use crate::request::Request;
use crate::response::{Part, Response};

/// Most response bytes a connection writes in one turn of the loop (as
/// nginx's `sendfile_max_chunk`), so that a download the client reads as
/// fast as it comes cannot keep the loop from its other connections; the
/// connection then yields, and goes on next turn. Also the most one
/// `sendfile` call is asked for.
const TURN_BUDGET: usize = 2 << 20;
/// Bodies up to this size are copied behind the head: one write.
const COALESCE: usize = 16 * 1024;

impl Connection {
    /// Sends the application's answer to the request this connection is
    /// serving.
    pub fn respond(&mut self, ctx: &mut Ctx<'_>, response: Response) {
        let Some(req) = self.take_request() else {
            return;
        };
        self.start_response(ctx, response, Some(req), None);
    }

    /// Queues an interim response ahead of the answer, when the machine
    /// says one may go out (an HTTP/1.0 client gets none).
    pub fn interim(&mut self, response: &Response) {
        let headers = response.headers.as_bytes();
        if !self
            .machine
            .interim(&mut self.out.buf, response.status(), headers)
        {
            log::debug!(
                "{}: interim {} not sent (HTTP/1.0 client, or answered)",
                self.peer,
                response.status()
            );
        }
    }

    /// Takes the request being answered out of the held handles; an
    /// unread body is dropped (the machine closes the connection after the
    /// answer). `None` when no request is waiting for an answer.
    pub(super) fn take_request(&mut self) -> Option<Request> {
        if !self.machine.is_answerable() {
            log::debug!(
                "{}: answer for a request no longer current dropped",
                self.peer
            );
            return None;
        }
        match std::mem::replace(&mut self.held, Held::None) {
            Held::Request { req, sink } => {
                if let Some(Sink::File { file, path }) = sink {
                    // Answered before the body was read: it never will be.
                    drop(file);
                    let _ = std::fs::remove_file(path);
                }
                Some(req)
            }
            other => {
                self.held = other;
                None
            }
        }
    }

    /// The application dropped request `id` unanswered: answer 500 if it is
    /// the one this connection waits on.
    pub fn abandoned(&mut self, ctx: &mut Ctx<'_>, id: u64) {
        let waiting = match &self.held {
            Held::Request { req, .. } => {
                self.machine.awaits_answer() && req.id() == id && req.is_abandoned()
            }
            _ => false,
        };
        if waiting {
            log::warn!("{}: request dropped without an answer: 500", self.peer);
            self.respond(ctx, Response::new(500).body("500 Internal Server Error\n"));
        }
    }

    /// Has the machine encode the head (it decides `Connection`), queues
    /// the body. `request` and `refused` are for the access-log record.
    pub(super) fn start_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        response: Response,
        request: Option<Request>,
        refused: Option<RequestError>,
    ) {
        let framing = if status_has_no_body(response.status) {
            Framing::None
        } else {
            Framing::Length(response.body.len())
        };
        if response.body.len() > COALESCE as u64 {
            self.set_nodelay();
        }
        if self.out.buf.capacity() == 0 {
            self.out.buf = ctx.pool.take_tx();
        }
        let head = response_head(
            &response,
            framing,
            response.body.default_content_type(),
            ctx.date.get(SystemTime::now()),
        );
        let rx_empty = self.rx.is_empty();
        let answered =
            self.machine
                .respond(ctx.limits, &mut self.out.buf, &head, rx_empty, ctx.now);
        let Some(answered) = answered else {
            return;
        };
        let queued = self.out.buf.len() - self.out.pos - self.out.logged;
        self.serving(ctx.pool, ctx.now).exchange.response_began(
            ctx.config.access_log.as_ref(),
            request,
            refused,
            response.status,
            queued,
        );
        if answered.with_body {
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
    }

    /// Writes as much as the socket takes, up to the turn's budget.
    pub(super) fn write_some(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let mut progress = false;
        let mut budget = TURN_BUDGET;
        loop {
            if budget == 0 {
                self.yielded = true;
                return progress;
            }
            if self.transport.wants_write() {
                match self.transport.flush() {
                    Ok(()) => progress = true,
                    Err(e) => return self.write_failed(ctx, e) || progress,
                }
            }
            let Some(allowed) = self.send_allowance(ctx) else {
                // Over `limit_rate`: the timer wakes the connection.
                return progress;
            };
            let allowed = allowed.min(budget);
            if let Some(sent) = self.send_file_part(ctx, allowed) {
                let Some(n) = sent else {
                    return progress;
                };
                budget -= n;
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
            let end = self.out.buf.len().min(self.out.pos.saturating_add(allowed));
            match self.transport.write(&self.out.buf[self.out.pos..end]) {
                Ok(0) => {
                    self.close(ctx, CloseReason::Io, "connection error");
                    return true;
                }
                Ok(n) => {
                    self.out.pos += n;
                    budget = budget.saturating_sub(n);
                    self.spent(n);
                    let own = self.out.written(n);
                    if let Some(serving) = &mut self.serving {
                        serving.exchange.sent(own);
                    }
                    progress = true;
                    self.machine.written(ctx.limits, ctx.now);
                }
                Err(e) => return self.write_failed(ctx, e) || progress,
            }
        }
    }

    /// Sends the next file part with `sendfile` when it is its turn (plain
    /// connections, long parts): `None` when it is not, `Some(Some(n))`
    /// when `n` bytes went out, `Some(None)` when the socket is full or
    /// the connection failed.
    /// `allowed`: the most bytes that may go out (`limit_rate`, the turn's
    /// budget; more than 0).
    fn send_file_part(&mut self, ctx: &mut Ctx<'_>, allowed: usize) -> Option<Option<usize>> {
        if self.transport.is_tls() {
            return None;
        }
        let (file, offset, len) = self.out.next_sendfile()?;
        let count = usize::try_from(*len).unwrap_or(usize::MAX).min(allowed);
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
                if let Some(serving) = &mut self.serving {
                    serving.exchange.sent(n);
                }
                self.spent(n);
                self.machine.written(ctx.limits, ctx.now);
                Some(Some(n))
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                log::warn!("{}: reading the response body failed: {e}", self.peer);
                self.close(ctx, CloseReason::BodyFailed, "response body failed");
                Some(None)
            }
            Err(e) => {
                self.write_failed(ctx, e);
                Some(None)
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

    /// The answer being sent is all in memory: with keep-alive and the next
    /// request buffered, that request begins now, before these bytes are
    /// written (the machine decides, within its bounds), and this answer
    /// is recorded as complete. Returns whether it did.
    pub(super) fn queued_response(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let unwritten = !self.out.is_empty() || self.transport.wants_write();
        if !self.machine.is_responding() || !self.out.parts.is_empty() || !unwritten {
            return false;
        }
        let unsent = self.out.buf.len() - self.out.pos;
        let finished =
            self.machine
                .response_queued(ctx.limits, self.rx.is_empty(), unsent, ctx.now);
        if finished != Some(Finished::Pipelined) {
            return false;
        }
        // The rest of this answer is bound to go out (or the connection
        // fails): it is counted now, and its bytes not again.
        let own = unsent - self.out.logged;
        self.out.logged = unsent;
        if let Some(serving) = &mut self.serving {
            serving.exchange.sent(own);
        }
        self.end_exchange(ctx, Outcome::Complete);
        self.set_nodelay();
        let serving = self.serving(ctx.pool, ctx.now);
        serving.line = None;
        serving.exchange.request_began(ctx.now);
        true
    }

    /// After the last byte of a response: keep-alive or close, as the
    /// machine decides.
    pub(super) fn finish_response(&mut self, ctx: &mut Ctx<'_>) -> bool {
        if !self.machine.is_responding() || !self.out.is_empty() || self.transport.wants_write() {
            return false;
        }
        self.end_exchange(ctx, Outcome::Complete);
        if let Some(serving) = &mut self.serving {
            serving.line = None;
        }
        let finished = self
            .machine
            .response_sent(ctx.limits, self.rx.is_empty(), ctx.now);
        match finished {
            Some(Finished::Close) => self.close(ctx, CloseReason::Done, ""),
            Some(Finished::CloseNotify) => {
                self.transport.close_notify();
                self.close(ctx, CloseReason::Done, "");
            }
            Some(Finished::Linger) => {
                self.transport.shutdown_write();
                self.rx.clear();
            }
            Some(Finished::Idle) => {
                self.set_nodelay();
                // Idle connections hold no buffers.
                self.release_buffers(ctx.pool);
            }
            Some(Finished::Pipelined) => {
                self.set_nodelay();
                self.serving(ctx.pool, ctx.now)
                    .exchange
                    .request_began(ctx.now);
            }
            None => return false,
        }
        true
    }
}

/// What the machine needs of `response` to encode its head.
pub(super) fn response_head<'a>(
    response: &'a Response,
    framing: Framing,
    default_type: Option<&'a str>,
    date: &'a [u8],
) -> ResponseHead<'a> {
    ResponseHead {
        status: response.status,
        headers: response.headers.as_bytes(),
        has_content_type: response.headers.has_content_type,
        wants_close: response.headers.wants_close,
        default_type,
        framing,
        date,
    }
}
