//! Response-head encoding (RFC 9112 §4 status line, §6 framing headers),
//! and the `Date` header cached for the second it names.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The reason phrase of a status code (empty for unknown codes, which
/// RFC 9112 §4 allows).
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        103 => "Early Hints",
        104 => "Upload Resumption Supported",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        507 => "Insufficient Storage",
        _ => "",
    }
}

/// Whether a response with this status never has a body (RFC 9110 §6.4.1).
pub fn status_has_no_body(status: u16) -> bool {
    matches!(status, 100..=199 | 204 | 304)
}

/// How the response body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// No length; the body ends when the connection closes.
    Close,
    /// No body and no length header (1xx, 204, and 304).
    None,
}

/// The `Connection` header to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionHeader {
    /// Nothing (HTTP/1.1 keep-alive is the default).
    Omit,
    /// `Connection: keep-alive` (for HTTP/1.0 clients that asked for it).
    KeepAlive,
    /// `Connection: close`.
    Close,
}

/// Writes a status line and headers, ending with the empty line.
/// `headers` must already be validated (no CR/LF); `date` is a cached
/// `Date` value from [`DateCache`].
pub fn encode_head<'h>(
    out: &mut Vec<u8>,
    status: u16,
    date: &[u8],
    framing: Framing,
    connection: ConnectionHeader,
    headers: impl IntoIterator<Item = (&'h str, &'h str)>,
) {
    encode_status(out, status, date);
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    encode_framing(out, framing, connection);
}

/// Writes the status line and the `Date` header: the start of a head.
pub fn encode_status(out: &mut Vec<u8>, status: u16, date: &[u8]) {
    out.extend_from_slice(b"HTTP/1.1 ");
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(status).as_bytes());
    out.push(b' ');
    out.extend_from_slice(reason(status).as_bytes());
    out.extend_from_slice(b"\r\nDate: ");
    out.extend_from_slice(date);
    out.extend_from_slice(b"\r\n");
}

/// Writes an interim (1xx) response: status line, `headers` (lines each
/// ending in CRLF, already validated) and the empty line; no `Date`, no
/// framing (a 1xx has no body, RFC 9110 §15.2).
pub fn encode_interim(out: &mut Vec<u8>, status: u16, headers: &[u8]) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(itoa::Buffer::new().format(status).as_bytes());
    out.push(b' ');
    out.extend_from_slice(reason(status).as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(headers);
    out.extend_from_slice(b"\r\n");
}

/// Writes the framing and `Connection` headers and the empty line: the
/// end of a head.
pub fn encode_framing(out: &mut Vec<u8>, framing: Framing, connection: ConnectionHeader) {
    match framing {
        Framing::Length(n) => {
            out.extend_from_slice(b"Content-Length: ");
            out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        Framing::Chunked => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
        Framing::Close | Framing::None => {}
    }
    match connection {
        ConnectionHeader::Omit => {}
        ConnectionHeader::KeepAlive => out.extend_from_slice(b"Connection: keep-alive\r\n"),
        ConnectionHeader::Close => out.extend_from_slice(b"Connection: close\r\n"),
    }
    out.extend_from_slice(b"\r\n");
}

/// The `Date` header value (an IMF-fixdate), formatted once per second.
#[derive(Debug, Default)]
pub struct DateCache {
    second: u64,
    value: Vec<u8>,
}

impl DateCache {
    /// The value for `now`, reformatted only when the second changed.
    pub fn get(&mut self, now: SystemTime) -> &[u8] {
        let secs = now
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs();
        if secs != self.second || self.value.is_empty() {
            // Formatted before either field changes: the cache is shared
            // by every connection of the loop, so a panic here must not
            // leave a second paired with another second's text.
            let at = UNIX_EPOCH + Duration::from_secs(secs);
            self.value = httpdate::fmt_http_date(at).into_bytes();
            self.second = secs;
        }
        &self.value
    }
}
