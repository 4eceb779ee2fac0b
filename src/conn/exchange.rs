//! [`Exchange`]: what the access log must know of the request being
//! answered — when it began, how many body bytes really went out — and the
//! one place its [`Completed`] record is made.

use std::net::SocketAddr;
use std::time::Instant;

use super::request_line::RequestLine;
use crate::access_log::{AccessLog, Completed, Outcome};
use crate::error::RequestError;
use crate::ids::ServerId;
use crate::request::Request;

/// What a connection keeps only while it serves a request: the
/// access-log accounting and the request line for the panic log. The loop
/// pools them (see `BufPool`), so an idle keep-alive connection holds
/// neither, and taking one costs no allocation once the pool is warm.
pub(super) struct Serving {
    pub exchange: Exchange,
    /// The request being served, from its head to the end of its
    /// response: named in the log if a panic ends the connection.
    pub line: Option<RequestLine>,
}

impl Serving {
    pub fn new(now: Instant) -> Self {
        Serving {
            exchange: Exchange::new(now),
            line: None,
        }
    }
}

/// The accounting of the response under way on one connection. Counting
/// costs a few integer operations per write; the request is kept (a
/// reference count, no allocation) only when an access log is set.
pub(super) struct Exchange {
    /// When the current request's first byte arrived.
    started: Instant,
    /// The status of the response under way; `None` between responses.
    status: Option<u16>,
    /// The request answered, held for the record.
    request: Option<Request>,
    refused: Option<RequestError>,
    /// Bytes queued ahead of the body (the head, a `100 Continue` not yet
    /// sent) that are still to go out.
    head_left: usize,
    body_sent: u64,
}

impl Exchange {
    pub fn new(now: Instant) -> Self {
        Exchange {
            started: now,
            status: None,
            request: None,
            refused: None,
            head_left: 0,
            body_sent: 0,
        }
    }

    /// A request's first byte is here.
    pub fn request_began(&mut self, now: Instant) {
        self.started = now;
    }

    /// A response with `status` starts; `head_left` bytes queued ahead of
    /// its body are not counted as body.
    pub fn response_began(
        &mut self,
        log: Option<&AccessLog>,
        request: Option<Request>,
        refused: Option<RequestError>,
        status: u16,
        head_left: usize,
    ) {
        self.status = Some(status);
        self.request = log.and(request);
        self.refused = refused;
        self.head_left = head_left;
        self.body_sent = 0;
    }

    /// `n` bytes were written to the socket.
    pub fn sent(&mut self, n: usize) {
        let head = n.min(self.head_left);
        self.head_left -= head;
        self.body_sent += (n - head) as u64;
    }

    /// Whether a response is under way (no record made for it yet).
    pub fn is_responding(&self) -> bool {
        self.status.is_some()
    }

    /// The response ended: hands its record to `log` (if set) and forgets
    /// it. `raw` is the connection's receive buffer, where a head that
    /// never parsed still is. Nothing happens when no response is under
    /// way, so a response is recorded once.
    pub fn end(
        &mut self,
        log: Option<&AccessLog>,
        peer: SocketAddr,
        server: ServerId,
        raw: &[u8],
        outcome: Outcome,
    ) {
        let Some(status) = self.status.take() else {
            return;
        };
        let request = self.request.take();
        let Some(log) = log else {
            return;
        };
        log.call(&Completed {
            peer,
            server,
            request: request.as_ref(),
            raw,
            refused: self.refused.take(),
            status,
            body_bytes: self.body_sent,
            duration: self.started.elapsed(),
            outcome,
        });
    }
}
