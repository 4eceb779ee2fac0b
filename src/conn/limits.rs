//! The limits a connection is held to ([`crate::peer_limits`],
//! [`Config::limit_rate`](crate::Config::limit_rate)): its slot among its
//! client's connections, taken once the client is known (after a PROXY
//! protocol header); each request's token; the byte budget of responses.

use std::time::Instant;

use super::pace::Pacing;
use super::{Connection, Ctx};
use crate::error::RequestError;
use crate::request::Request;
use crate::response::Response;

impl Connection {
    /// The client is known: takes its connection slot, or refuses the
    /// connection with 429 at once (then it closes) when its address has
    /// as many open as allowed.
    pub(super) fn admit(&mut self, ctx: &mut Ctx<'_>) {
        let Some(limits) = &ctx.config.peer_limits else {
            return;
        };
        match limits.connect(self.peer.ip(), ctx.now) {
            Ok(slot) => self.slot = slot,
            Err(_) => {
                log::debug!("{}: too many connections from this client", self.peer);
                if self.machine.refuse_connection() {
                    self.refuse(ctx, RequestError::TooManyConnections, None);
                }
            }
        }
    }

    /// Answers `req` with 429 when its client is over its request rate
    /// (the request is then not dispatched); `req` back otherwise.
    pub(super) fn over_rate(&mut self, ctx: &mut Ctx<'_>, req: Request) -> Option<Request> {
        let Some(limits) = &ctx.config.peer_limits else {
            return Some(req);
        };
        let Err(wait) = limits.request(req.remote_address(), ctx.now) else {
            return Some(req);
        };
        // Whole seconds, rounded up: a client waiting that long finds a
        // token (RFC 9110 §10.2.3).
        let retry_after = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let retry_after = retry_after.max(1);
        log::debug!(
            "{}: rate limited, retry after {retry_after}s",
            req.remote_address()
        );
        let response = Response::new(429)
            .header("Retry-After", retry_after.to_string())
            .body("429 Too Many Requests\n");
        let refused = RequestError::RateLimited { retry_after };
        self.start_response(ctx, response, Some(req), Some(refused));
        None
    }

    /// How many bytes of the response may be written now under
    /// `limit_rate` (`usize::MAX` without it); `None`: none until the
    /// timer set for it ([`Connection::deadline`]).
    pub(super) fn send_allowance(&mut self, ctx: &Ctx<'_>) -> Option<usize> {
        let Some(rate) = ctx.config.limit_rate else {
            return Some(usize::MAX);
        };
        if !self.machine.sends_response() {
            return Some(usize::MAX);
        }
        let pacing = self
            .pacing
            .get_or_insert_with(|| Box::new(Pacing::new(rate, ctx.now)));
        match pacing.pacer.allowance(ctx.now) {
            Ok(n) => Some(n),
            Err(at) => {
                pacing.until = Some(at);
                None
            }
        }
    }

    /// `n` bytes of a response were written.
    pub(super) fn spent(&mut self, n: usize) {
        if !self.machine.sends_response() {
            return;
        }
        if let Some(pacing) = &mut self.pacing {
            pacing.pacer.spent(n);
        }
    }

    /// The pacing timer, if it passed, is done with.
    pub(super) fn pacing_timer(&mut self, now: Instant) {
        if let Some(pacing) = &mut self.pacing
            && pacing.until.is_some_and(|at| at <= now)
        {
            pacing.until = None;
        }
    }
}
