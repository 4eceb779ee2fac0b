//! The access-log hook: [`Config::access_log`](crate::Config::access_log)
//! is called with a [`Completed`] record when a response *ends* — its last
//! byte written, or the response cut short — so a log line can tell the
//! truth about bytes sent and time taken.
//!
//! Every response gets one record: those the application sent, streams and
//! WebSocket sessions (when they end), and the library's own refusals
//! (every [`RequestError`] status). A connection that never sent a request
//! (a failed TLS handshake, a port scan) gets none.
//!
//! ```
//! use uhttp::{AccessLog, Config};
//! let mut config = Config::default();
//! config.access_log = Some(AccessLog::new(|done| {
//!     eprintln!(
//!         "{} {:?} {} {} {:?} {}",
//!         done.remote_addr(),
//!         done.target(),
//!         done.status(),
//!         done.body_bytes(),
//!         done.duration(),
//!         done.outcome(),
//!     )
//! }));
//! # let _ = config;
//! ```

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::error::RequestError;
use crate::ids::ServerId;
use crate::request::Request;

/// A function called with every [`Completed`] response, on the loop's
/// thread. It should be quick (format a line, hand it to a logger): the
/// loop serves nobody else meanwhile. Cheap to clone.
#[derive(Clone)]
pub struct AccessLog(Arc<dyn Fn(&Completed<'_>) + Send + Sync>);

impl AccessLog {
    /// Wraps `hook`.
    pub fn new(hook: impl Fn(&Completed<'_>) + Send + Sync + 'static) -> Self {
        AccessLog(Arc::new(hook))
    }

    pub(crate) fn call(&self, record: &Completed<'_>) {
        (self.0)(record)
    }
}

impl fmt::Debug for AccessLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessLog(..)")
    }
}

/// How a response ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// Every byte was handed to the operating system (a WebSocket or
    /// stream: it ended normally).
    Complete,
    /// The client closed or reset the connection first.
    ClientGone,
    /// The client read nothing for
    /// [`Config::send_timeout`](crate::Config::send_timeout).
    SendTimeout,
    /// The loop was dropped (the server stopped) before the end.
    Shutdown,
    /// The response could not be produced: a file shrank under it, or the
    /// socket failed in another way.
    Error,
}

impl Outcome {
    /// `"complete"`, `"client gone"`, `"send timeout"`, `"shutdown"` or
    /// `"error"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Complete => "complete",
            Outcome::ClientGone => "client gone",
            Outcome::SendTimeout => "send timeout",
            Outcome::Shutdown => "shutdown",
            Outcome::Error => "error",
        }
    }

    /// Whether the response was cut short (anything but `Complete`).
    pub fn is_cut_short(self) -> bool {
        self != Outcome::Complete
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One response that ended, as handed to an [`AccessLog`]. Borrows from
/// the connection: copy out what must outlive the call.
#[non_exhaustive]
pub struct Completed<'a> {
    pub(crate) peer: SocketAddr,
    pub(crate) server: ServerId,
    pub(crate) request: Option<&'a Request>,
    /// The raw bytes of a head that never parsed (from its start).
    pub(crate) raw: &'a [u8],
    pub(crate) refused: Option<RequestError>,
    pub(crate) status: u16,
    pub(crate) body_bytes: u64,
    pub(crate) duration: Duration,
    pub(crate) outcome: Outcome,
}

impl Completed<'_> {
    /// The address of the peer (the socket's, or its PROXY protocol
    /// header's source; not `X-Forwarded-For`'s).
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// The client as [`Request::remote_address`] sees it: the first
    /// address of a trusted proxy's `X-Forwarded-For`, else the peer.
    pub fn remote_addr(&self) -> IpAddr {
        match self.request {
            Some(req) => req.remote_address(),
            None => self.peer.ip().to_canonical(),
        }
    }

    /// The server (of an [`crate::EventLoop`]) that answered.
    pub fn server(&self) -> ServerId {
        self.server
    }

    /// The request, when its head was parsed (`None` for a refused head).
    pub fn request(&self) -> Option<&Request> {
        self.request
    }

    /// The method, when the head was parsed.
    pub fn method(&self) -> Option<&str> {
        self.request.map(Request::method)
    }

    /// The request target as sent, when the head was parsed.
    pub fn target(&self) -> Option<&str> {
        self.request.map(Request::url)
    }

    /// `"HTTP/1.0"` or `"HTTP/1.1"`, when the head was parsed.
    pub fn protocol(&self) -> Option<&'static str> {
        self.request.map(Request::protocol)
    }

    /// For a head that never parsed: its first line as received (without
    /// the line end; possibly incomplete, not UTF-8, or empty), at most
    /// `max_headers_length` bytes. `None` when the head was parsed.
    pub fn request_line(&self) -> Option<&[u8]> {
        if self.request.is_some() {
            return None;
        }
        let end = self
            .raw
            .iter()
            .position(|&b| b == b'\r' || b == b'\n')
            .unwrap_or(self.raw.len());
        self.raw.get(..end)
    }

    /// Why the library refused the request, when it did.
    pub fn refused(&self) -> Option<RequestError> {
        self.refused
    }

    /// The response's status (`101` for a WebSocket session).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Bytes sent after the response head, as on the wire: a chunked
    /// stream's framing and WebSocket frame headers count, the head does
    /// not (nginx's `$body_bytes_sent`). Over TLS, plaintext bytes.
    pub fn body_bytes(&self) -> u64 {
        self.body_bytes
    }

    /// From the request's first byte arriving to the response's last byte
    /// written (or the moment it was cut short).
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// How the response ended.
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }
}

impl fmt::Debug for Completed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Completed")
            .field("peer", &self.peer)
            .field("method", &self.method())
            .field("target", &self.target())
            .field(
                "request_line",
                &self.request_line().map(|l| l.escape_ascii().to_string()),
            )
            .field("status", &self.status)
            .field("body_bytes", &self.body_bytes)
            .field("duration", &self.duration)
            .field("outcome", &self.outcome)
            .finish()
    }
}
