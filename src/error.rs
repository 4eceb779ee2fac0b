//! Error types: [`Error`] for API calls that fail, [`RequestError`] for
//! requests the server refuses (each maps to one status code).

use std::fmt;
use std::io;
use std::net::SocketAddr;

/// Why a library call failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Binding a listener failed.
    Bind {
        /// The address that could not be bound.
        addr: SocketAddr,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The poll loop itself failed (not a single connection).
    Io(io::Error),
    /// The request was already answered; a second response is never sent.
    AlreadyResponded,
    /// A header name or value was refused (CR, LF or NUL in it, or a name
    /// that is not an RFC 9110 token). Prevents response splitting.
    InvalidHeader(String),
    /// A cookie name, value or attribute was refused.
    InvalidCookie(String),
    /// A status code outside 100..=999.
    InvalidStatus(u16),
    /// The client's connection is gone; nothing more can be sent.
    Closed,
    /// The send buffer is at `max_send_buffer`: the client is not reading.
    /// Try again after the buffer drains.
    WouldBlock,
    /// The call does not fit the request's state (for example
    /// `accept_body` twice, or outside event mode).
    InvalidState(&'static str),
    /// A WebSocket upgrade was refused (the answer, 400 or 426, was sent).
    #[cfg(feature = "websocket")]
    #[cfg_attr(docsrs, doc(cfg(feature = "websocket")))]
    Handshake(crate::ws::HandshakeError),
    /// Serialising or parsing JSON failed.
    Json(serde_json::Error),
    /// Opening or reading a file to send failed.
    File {
        /// The file.
        path: std::path::PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Bind { addr, .. } => write!(f, "cannot listen on {addr}"),
            Error::Io(_) => f.write_str("poll loop I/O error"),
            Error::AlreadyResponded => f.write_str("the request was already answered"),
            Error::InvalidHeader(name) => write!(f, "invalid header {name:?}"),
            Error::InvalidCookie(name) => write!(f, "invalid cookie {name:?}"),
            Error::InvalidStatus(code) => write!(f, "invalid status code {code}"),
            Error::Closed => f.write_str("the connection is closed"),
            Error::WouldBlock => f.write_str("the send buffer is full"),
            Error::InvalidState(what) => write!(f, "invalid in this state: {what}"),
            #[cfg(feature = "websocket")]
            Error::Handshake(e) => write!(f, "WebSocket upgrade refused: {e}"),
            Error::Json(_) => f.write_str("JSON error"),
            Error::File { path, .. } => write!(f, "cannot read {}", path.display()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Bind { source, .. } | Error::File { source, .. } => Some(source),
            Error::Io(e) => Some(e),
            Error::Json(e) => Some(e),
            #[cfg(feature = "websocket")]
            Error::Handshake(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Json(e)
    }
}

/// Why the server refused a request. Each variant maps to one status code;
/// the response goes out and, except after a rate-limited request without
/// a body, the connection closes, because once a request is refused its
/// framing can no longer be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestError {
    /// Malformed request line, header, framing or chunk (400). The text
    /// says which rule was broken.
    BadRequest(&'static str),
    /// The request took too long to arrive (408).
    Timeout,
    /// The body is larger than `max_content_length` (413).
    PayloadTooLarge,
    /// The head is larger than `max_headers_length`, or has too many
    /// header lines (431).
    HeadersTooLarge,
    /// An unknown method or transfer coding (501).
    NotImplemented,
    /// A protocol version other than HTTP/1.0 and HTTP/1.1 (505).
    VersionNotSupported,
    /// The client address has as many connections open as
    /// [`PeerLimits::max_connections`](crate::PeerLimits::max_connections)
    /// allows (429, before any request is read).
    TooManyConnections,
    /// The client address is over its
    /// [`PeerLimits::rate`](crate::PeerLimits::rate) (429, with
    /// `Retry-After: retry_after`, in whole seconds).
    RateLimited {
        /// Seconds until a request is allowed again (at least 1).
        retry_after: u64,
    },
}

impl RequestError {
    /// The status code the refusal is answered with.
    pub fn status(&self) -> u16 {
        match self {
            RequestError::BadRequest(_) => 400,
            RequestError::Timeout => 408,
            RequestError::PayloadTooLarge => 413,
            RequestError::HeadersTooLarge => 431,
            RequestError::NotImplemented => 501,
            RequestError::VersionNotSupported => 505,
            RequestError::TooManyConnections | RequestError::RateLimited { .. } => 429,
        }
    }

    /// Whether the connection must close after the answer: true but for
    /// a rate-limited request, whose connection closes only if it has a
    /// body (which is not read). Every other refusal happens before the
    /// request's body is consumed, so the next request could not be found
    /// reliably.
    pub fn closes_connection(&self) -> bool {
        !matches!(self, RequestError::RateLimited { .. })
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::BadRequest(why) => write!(f, "bad request: {why}"),
            RequestError::Timeout => f.write_str("request timeout"),
            RequestError::PayloadTooLarge => f.write_str("request body too large"),
            RequestError::HeadersTooLarge => f.write_str("request headers too large"),
            RequestError::NotImplemented => {
                f.write_str("method or transfer coding not implemented")
            }
            RequestError::VersionNotSupported => f.write_str("HTTP version not supported"),
            RequestError::TooManyConnections => {
                f.write_str("too many connections from this client")
            }
            RequestError::RateLimited { retry_after } => {
                write!(f, "rate limited for {retry_after}s")
            }
        }
    }
}

impl std::error::Error for RequestError {}
