//! Request-head parsing over `httparse`, plus the framing rules of
//! RFC 9112 §6 (which body follows) and the refusals of §3 and §6.3.

use crate::error::RequestError;
use std::mem::MaybeUninit;

use crate::headers::{Headers, HeadersBuilder, Span};

/// Header lines a request may carry; more is answered with 431.
pub const MAX_HEADER_LINES: usize = 100;

/// The HTTP version of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// HTTP/1.0
    Http10,
    /// HTTP/1.1
    Http11,
}

impl Version {
    /// `"HTTP/1.0"` or `"HTTP/1.1"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

/// How the request body is framed (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// No body.
    None,
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A parsed request head.
///
/// The target, the header names and values and the host are kept in one
/// string (the headers' storage), so a head costs two allocations however
/// many lines it has.
#[derive(Clone)]
pub struct Head {
    /// The method, e.g. `GET`: one of the methods served, so never owned.
    pub method: &'static str,
    /// The protocol version.
    pub version: Version,
    /// How the body is framed.
    pub body: BodyKind,
    /// Whether the client allows the connection to stay open afterwards.
    pub keep_alive: bool,
    /// Whether the client sent `Expect: 100-continue`.
    pub expect_continue: bool,
    headers: Headers,
    target: Span,
    host: Option<Span>,
}

impl Head {
    /// The request target as sent (origin-form, or the path and query of
    /// an absolute-form target).
    pub fn target(&self) -> &str {
        self.headers.text(self.target)
    }

    /// The header lines.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The host: from an absolute-form target, else the `Host` header.
    pub fn host(&self) -> Option<&str> {
        self.host.map(|span| self.headers.text(span))
    }
}

impl std::fmt::Debug for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Head")
            .field("method", &self.method)
            .field("target", &self.target())
            .field("version", &self.version)
            .field("headers", &self.headers)
            .field("host", &self.host())
            .field("body", &self.body)
            .field("keep_alive", &self.keep_alive)
            .field("expect_continue", &self.expect_continue)
            .finish()
    }
}

/// The result of looking at the bytes received so far.
#[derive(Debug)]
pub enum Parsed {
    /// The head is not complete yet.
    Partial,
    /// A complete head and the number of bytes it took.
    Complete(Head, usize),
}

const KNOWN_METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE",
];

/// Parses a request head from the start of `buf`.
///
/// `max_len` bounds the head: once that many bytes are buffered without a
/// complete head (or the head is longer), the answer is 431.
pub fn parse_head(buf: &[u8], max_len: usize) -> Result<Parsed, RequestError> {
    // Only the first `max_len` bytes can belong to an acceptable head, so
    // only they are parsed: a fault further on is "too large" whether the
    // bytes arrived at once or a few at a time.
    let over_limit = buf.len() > max_len;
    let buf = &buf[..buf.len().min(max_len)];
    // Left uninitialised: httparse writes the lines it finds, and filling
    // 100 empty ones first would cost more than parsing a typical head.
    let mut lines = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADER_LINES];
    let mut req = httparse::Request::new(&mut []);
    let len = match req.parse_with_uninit_headers(buf, &mut lines) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if over_limit => {
            return Err(RequestError::HeadersTooLarge);
        }
        Ok(httparse::Status::Partial) => return Ok(Parsed::Partial),
        Err(httparse::Error::Version) => return version_error(buf, over_limit),
        Err(e) => return Err(map_parse_error(e)),
    };
    // unwrap: httparse fills method, path and version on Complete.
    let method = req.method.unwrap();
    let raw_target = req.path.unwrap();
    let version = match req.version.unwrap() {
        0 => Version::Http10,
        _ => Version::Http11,
    };
    let Some(&method) = KNOWN_METHODS.iter().find(|&&m| m == method) else {
        return Err(RequestError::NotImplemented);
    };
    let (target, target_host) = split_target(method, raw_target)?;

    // One string for the target and every name and value: sized so that
    // it is not grown unless a value needs U+FFFD replacements.
    let bytes = req.headers.iter().fold(raw_target.len() + 1, |n, l| {
        n + l.name.len() + l.value.len()
    });
    let mut builder = HeadersBuilder::with_capacity(req.headers.len(), bytes);
    let target = builder.stash(&target);
    let target_host = target_host.map(|h| builder.stash(&[h]));
    for line in req.headers.iter() {
        builder.push(line.name, line.value);
    }
    let headers = builder.finish();

    let host = match (target_host, host_header(&headers)?) {
        (Some(h), _) => Some(h),
        (None, Some(h)) => Some(h),
        (None, None) if version == Version::Http11 => {
            return Err(RequestError::BadRequest("missing Host header"));
        }
        (None, None) => None,
    };
    let body = body_kind(&headers, version)?;
    let keep_alive = match version {
        Version::Http11 => !headers.has_token("connection", "close"),
        Version::Http10 => headers.has_token("connection", "keep-alive"),
    };
    let expect_continue = version == Version::Http11
        && headers
            .get("expect")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("100-continue"));

    Ok(Parsed::Complete(
        Head {
            method,
            version,
            body,
            keep_alive,
            expect_continue,
            headers,
            target,
            host,
        },
        len,
    ))
}

/// httparse stops at the first byte that can't start a version, so
/// `GET /a b HTTP/1.1` (a space in the target) looks like a bad version.
/// Only a request line of exactly three parts has a version to refuse with
/// 505; anything else is a malformed line (400). The decision waits for
/// the end of the line so that it is the same however the bytes arrive.
fn version_error(buf: &[u8], over_limit: bool) -> Result<Parsed, RequestError> {
    let Some(end) = buf.iter().position(|&b| b == b'\n') else {
        if over_limit {
            return Err(RequestError::HeadersTooLarge);
        }
        return Ok(Parsed::Partial);
    };
    let line = buf[..end].strip_suffix(b"\r").unwrap_or(&buf[..end]);
    if line.iter().filter(|&&b| b == b' ').count() == 2 {
        Err(RequestError::VersionNotSupported)
    } else {
        Err(RequestError::BadRequest("invalid request line"))
    }
}

fn map_parse_error(e: httparse::Error) -> RequestError {
    match e {
        httparse::Error::Version => RequestError::VersionNotSupported,
        httparse::Error::TooManyHeaders => RequestError::HeadersTooLarge,
        httparse::Error::HeaderName => RequestError::BadRequest("invalid header name"),
        httparse::Error::HeaderValue => RequestError::BadRequest("invalid header value"),
        httparse::Error::NewLine => RequestError::BadRequest("invalid line ending"),
        httparse::Error::Token => RequestError::BadRequest("invalid request line"),
        _ => RequestError::BadRequest("malformed request"),
    }
}

/// Splits the request target (RFC 9112 §3.2) into the origin-form target
/// kept for the application (in two pieces to join: an absolute-form
/// target with no path gets a `/`) and the host of an absolute-form target.
fn split_target<'a>(
    method: &str,
    raw: &'a str,
) -> Result<([&'a str; 2], Option<&'a str>), RequestError> {
    if raw.starts_with('/') {
        return Ok((["", raw], None));
    }
    if raw == "*" && method == "OPTIONS" {
        return Ok((["", raw], None));
    }
    // Byte-level prefix matching: the target is peer-controlled UTF-8,
    // and slicing a `&str` at a fixed byte offset panics when a
    // multi-byte character straddles it (issue 9).
    let Some(rest) = strip_prefix_ignore_ascii_case(raw, "http://")
        .or_else(|| strip_prefix_ignore_ascii_case(raw, "https://"))
        .filter(|rest| !rest.is_empty())
    else {
        return Err(RequestError::BadRequest("invalid request target"));
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if authority.is_empty() || !is_valid_host(authority) {
        return Err(RequestError::BadRequest("invalid request target"));
    }
    let target = match path.as_bytes().first() {
        None | Some(b'?') => ["/", path],
        Some(_) => ["", path],
    };
    Ok((target, Some(authority)))
}

/// `s` without its prefix `prefix` (ASCII, matched in any case), or
/// `None`. Never panics: `str::get` refuses a cut inside a character.
fn strip_prefix_ignore_ascii_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.as_bytes().get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix.as_bytes()) {
        return None;
    }
    s.get(prefix.len()..)
}

/// Where the single `Host` header's value is; several are refused
/// (RFC 9112 §3.2).
fn host_header(headers: &Headers) -> Result<Option<Span>, RequestError> {
    let mut hosts = headers.get_all("host");
    let first = hosts.next();
    if hosts.next().is_some() {
        return Err(RequestError::BadRequest("duplicate Host header"));
    }
    match first {
        Some(h) if !is_valid_host(h) => Err(RequestError::BadRequest("invalid Host header")),
        Some(_) => Ok(headers.span_of("host")),
        None => Ok(None),
    }
}

/// `uri-host [ ":" port ]`: reg-name, IPv4 or a bracketed IPv6 literal.
/// An empty Host is allowed by RFC 9112 §3.2 (no authority).
fn is_valid_host(host: &str) -> bool {
    host.bytes().all(|b| HOST_BYTES[usize::from(b)])
}

/// The bytes of [`is_valid_host`]: unreserved, sub-delims, `%` of
/// pct-encoded, `:` and the brackets of an IP literal.
const HOST_BYTES: [bool; 256] = crate::util::ascii_table(b".-_~:[]%!$&'()*+,;=");

/// Which body follows the head (RFC 9112 §6.3), refusing ambiguous framing.
fn body_kind(headers: &Headers, version: Version) -> Result<BodyKind, RequestError> {
    let has_te = headers.contains("transfer-encoding");
    let length = content_length(headers)?;
    if has_te {
        if length.is_some() {
            return Err(RequestError::BadRequest(
                "both Content-Length and Transfer-Encoding",
            ));
        }
        if version == Version::Http10 {
            return Err(RequestError::BadRequest("Transfer-Encoding in HTTP/1.0"));
        }
        let codings: Vec<&str> = headers
            .get_all("transfer-encoding")
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        return match codings.as_slice() {
            [c] if c.eq_ignore_ascii_case("chunked") => Ok(BodyKind::Chunked),
            [.., last] if last.eq_ignore_ascii_case("chunked") => {
                // gzip, chunked: a coding we would have to undo.
                Err(RequestError::NotImplemented)
            }
            [] => Err(RequestError::BadRequest("empty Transfer-Encoding")),
            _ => Err(RequestError::BadRequest(
                "Transfer-Encoding not ending in chunked",
            )),
        };
    }
    Ok(match length {
        Some(0) | None => BodyKind::None,
        Some(n) => BodyKind::Length(n),
    })
}

/// The Content-Length, when present; every value (and every element of a
/// comma list) must be the same decimal number.
fn content_length(headers: &Headers) -> Result<Option<u64>, RequestError> {
    let mut found: Option<u64> = None;
    for value in headers.get_all("content-length") {
        for item in value.split(',') {
            let item = item.trim();
            if item.is_empty() || item.len() > 19 || !item.bytes().all(|b| b.is_ascii_digit()) {
                return Err(RequestError::BadRequest("invalid Content-Length"));
            }
            // unwrap: at most 19 digits always fits u64.
            let n: u64 = item.parse().unwrap();
            match found {
                Some(prev) if prev != n => {
                    return Err(RequestError::BadRequest("conflicting Content-Length"));
                }
                _ => found = Some(n),
            }
        }
    }
    Ok(found)
}
