//! [`Response`]: status, headers, cookies and a [`Body`], built by the
//! application and handed to [`crate::Request::send`].

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use crate::cookie::Cookie;
use crate::error::Error;
use crate::util::{is_token, is_valid_header_value};

/// One piece of a response body.
#[derive(Debug)]
#[non_exhaustive]
pub enum Part {
    /// Bytes held in memory.
    Bytes(Vec<u8>),
    /// `len` bytes from `offset` of a buffer shared with others (a cached
    /// file, say): sent without copying it per response.
    Shared {
        /// The buffer.
        data: Arc<[u8]>,
        /// Where to start.
        offset: usize,
        /// How many bytes.
        len: usize,
    },
    /// `len` bytes of `file` from `offset`, read in chunks as the socket
    /// drains.
    File {
        /// The open file (shared, so several parts can read one file).
        file: Arc<File>,
        /// Where to start.
        offset: u64,
        /// How many bytes.
        len: u64,
    },
}

impl Part {
    /// The part's length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Part::Bytes(b) => b.len() as u64,
            Part::Shared { len, .. } => *len as u64,
            Part::File { len, .. } => *len,
        }
    }

    /// Whether the part is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A response body. The variant picks the default `Content-Type`, which a
/// `Content-Type` header overrides.
#[derive(Debug, Default)]
#[non_exhaustive]
pub enum Body {
    /// No body (`Content-Length: 0`).
    #[default]
    Empty,
    /// UTF-8 text: `text/plain; charset=utf-8`.
    Text(String),
    /// Raw bytes: `application/octet-stream`.
    Bytes(Vec<u8>),
    /// Serialised JSON: `application/json`.
    Json(Vec<u8>),
    /// Parts sent one after the other, files streamed from disk:
    /// `application/octet-stream` unless a header says otherwise.
    Parts(Vec<Part>),
}

impl Body {
    /// The body's length in bytes (at most `u64::MAX`: parts whose lengths
    /// add up to more are refused when the response is sent).
    pub fn len(&self) -> u64 {
        match self {
            Body::Empty => 0,
            Body::Text(s) => s.len() as u64,
            Body::Bytes(b) | Body::Json(b) => b.len() as u64,
            // Saturating: `sum()` panics on overflow in debug builds, and
            // this runs inside the loop.
            Body::Parts(parts) => parts.iter().map(Part::len).fold(0, u64::saturating_add),
        }
    }

    /// Whether the body is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A whole file, streamed: opened now, read as the socket drains.
    pub fn file(path: impl AsRef<Path>) -> Result<Body, Error> {
        let path = path.as_ref();
        let file_error = |source| Error::File {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(file_error)?;
        let meta = file.metadata().map_err(file_error)?;
        if !meta.is_file() {
            return Err(file_error(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file",
            )));
        }
        Ok(Body::Parts(vec![Part::File {
            file: Arc::new(file),
            offset: 0,
            len: meta.len(),
        }]))
    }

    pub(crate) fn default_content_type(&self) -> Option<&'static str> {
        match self {
            Body::Empty => None,
            Body::Text(_) => Some("text/plain; charset=utf-8"),
            Body::Bytes(_) | Body::Parts(_) => Some("application/octet-stream"),
            Body::Json(_) => Some("application/json"),
        }
    }

    /// The body as parts for the writer; a body of one buffer allocates
    /// no list.
    pub(crate) fn into_parts(self) -> impl Iterator<Item = Part> {
        let (one, many) = match self {
            Body::Empty => (None, Vec::new()),
            Body::Text(s) => (Some(Part::Bytes(s.into_bytes())), Vec::new()),
            Body::Bytes(b) | Body::Json(b) => (Some(Part::Bytes(b)), Vec::new()),
            Body::Parts(parts) => (None, parts),
        };
        one.into_iter().chain(many)
    }
}

impl From<&str> for Body {
    fn from(s: &str) -> Self {
        Body::Text(s.to_owned())
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::Text(s)
    }
}

impl From<Vec<u8>> for Body {
    fn from(b: Vec<u8>) -> Self {
        Body::Bytes(b)
    }
}

impl From<&[u8]> for Body {
    fn from(b: &[u8]) -> Self {
        Body::Bytes(b.to_vec())
    }
}

impl From<serde_json::Value> for Body {
    fn from(v: serde_json::Value) -> Self {
        Body::Json(v.to_string().into_bytes())
    }
}

impl From<&serde_json::Value> for Body {
    fn from(v: &serde_json::Value) -> Self {
        Body::Json(v.to_string().into_bytes())
    }
}

/// Headers the server writes itself; the application may not set them.
const RESERVED_HEADERS: &[&str] = &["content-length", "transfer-encoding"];

/// Header lines rendered as they are added (`Name: value` and CRLF each,
/// in one string), so all of a response's headers cost one allocation.
/// The first refused header is remembered and reported when the response
/// is sent; nothing invalid is ever written into the text.
#[derive(Debug)]
pub(crate) struct HeaderLines {
    text: String,
    refused: Option<String>,
    /// `Connection: close` was asked for (the server writes `Connection`
    /// itself).
    pub wants_close: bool,
    pub has_content_type: bool,
}

impl HeaderLines {
    fn with_capacity(bytes: usize) -> Self {
        HeaderLines {
            text: String::with_capacity(bytes),
            refused: None,
            wants_close: false,
            has_content_type: false,
        }
    }

    fn push(&mut self, name: &str, value: &str) {
        let reserved = RESERVED_HEADERS
            .iter()
            .any(|r| name.eq_ignore_ascii_case(r));
        if !is_token(name) || !is_valid_header_value(value.as_bytes()) || reserved {
            self.refused.get_or_insert_with(|| name.to_owned());
            return;
        }
        if name.eq_ignore_ascii_case("connection") {
            self.wants_close |= value
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("close"));
            return;
        }
        self.has_content_type |= name.eq_ignore_ascii_case("content-type");
        self.text.push_str(name);
        self.text.push_str(": ");
        self.text.push_str(value);
        self.text.push_str("\r\n");
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.text
            .split_terminator("\r\n")
            .filter_map(|line| line.split_once(": "))
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The lines, ready for the wire.
    pub fn as_bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }
}

/// A response: status, headers, cookies and body.
///
/// ```
/// use uhttp::{Cookie, Response};
/// let response = Response::new(200)
///     .header("Cache-Control", "no-store")
///     .cookie(Cookie::new("session", "42").http_only(true))
///     .body("hello");
/// assert_eq!(response.status(), 200);
/// ```
#[derive(Debug)]
pub struct Response {
    pub(crate) status: u16,
    pub(crate) headers: HeaderLines,
    pub(crate) cookies: Vec<Cookie>,
    pub(crate) body: Body,
}

impl Response {
    /// A response with `status` and no body.
    pub fn new(status: u16) -> Self {
        Response {
            status,
            // Room for the usual few headers without regrowing.
            headers: HeaderLines::with_capacity(192),
            cookies: Vec::new(),
            body: Body::Empty,
        }
    }

    /// A JSON response: `value` serialised, `Content-Type: application/json`.
    pub fn json<T: serde::Serialize + ?Sized>(status: u16, value: &T) -> Result<Self, Error> {
        Ok(Response::new(status).body(Body::Json(serde_json::to_vec(value)?)))
    }

    /// A redirect (`301`, `302`, `303`, `307` or `308`) to `location`.
    pub fn redirect(location: &str, status: u16) -> Self {
        Response::new(status).header("Location", location)
    }

    /// Adds a header line. A name that is not a token, a value with CR,
    /// LF or NUL, or a `Content-Length`/`Transfer-Encoding` header (the
    /// server frames the body itself) is refused when the response is sent.
    /// `Connection` is the server's too: `Connection: close` asks it to
    /// close the connection after the response; other values are dropped.
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        self.headers.push(name.as_ref(), value.as_ref());
        self
    }

    /// Adds a `Set-Cookie` header for `cookie`.
    pub fn cookie(mut self, cookie: Cookie) -> Self {
        self.cookies.push(cookie);
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The body's length in bytes.
    pub fn body_len(&self) -> u64 {
        self.body.len()
    }

    /// The first value of header `name` (any case).
    pub fn get_header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// Checks the status and every header and cookie; renders the cookies
    /// into `Set-Cookie` headers. Nothing invalid ever reaches the wire.
    pub(crate) fn validate(&mut self) -> Result<(), Error> {
        if !(100..=999).contains(&self.status) || self.status == 101 {
            return Err(Error::InvalidStatus(self.status));
        }
        if let Body::Parts(parts) = &self.body {
            let out_of_bounds = parts.iter().any(|p| match p {
                Part::Shared { data, offset, len } => {
                    offset.checked_add(*len).is_none_or(|end| end > data.len())
                }
                Part::File { offset, len, .. } => offset.checked_add(*len).is_none(),
                Part::Bytes(_) => false,
            });
            if out_of_bounds {
                return Err(Error::InvalidState(
                    "a part reaches past its buffer or file",
                ));
            }
            let total = parts.iter().try_fold(0u64, |n, p| n.checked_add(p.len()));
            if total.is_none() {
                return Err(Error::InvalidState(
                    "the parts' lengths add up to over 2^64",
                ));
            }
        }
        if let Some(name) = &self.headers.refused {
            return Err(Error::InvalidHeader(name.clone()));
        }
        for cookie in std::mem::take(&mut self.cookies) {
            let value = cookie.to_header_value()?;
            self.headers.push("Set-Cookie", &value);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_shared_part_reaching_past_its_buffer() {
        let data: Arc<[u8]> = Arc::from(&b"hello"[..]);
        let part = |offset, len| Part::Shared {
            data: Arc::clone(&data),
            offset,
            len,
        };
        let mut ok = Response::new(200).body(Body::Parts(vec![part(1, 4)]));
        assert!(ok.validate().is_ok());
        assert_eq!(ok.body_len(), 4);
        for (offset, len) in [(1, 5), (6, 0), (usize::MAX, 2)] {
            let mut bad = Response::new(200).body(Body::Parts(vec![part(offset, len)]));
            assert!(matches!(bad.validate(), Err(Error::InvalidState(_))));
        }
    }

    #[test]
    fn refuses_file_parts_whose_lengths_overflow_and_never_panics_on_len() {
        let file = Arc::new(tempfile::tempfile().unwrap());
        let part = |offset, len| Part::File {
            file: Arc::clone(&file),
            offset,
            len,
        };
        let cases = [vec![part(u64::MAX, 1)], vec![part(0, u64::MAX), part(0, 1)]];
        for parts in cases {
            let mut bad = Response::new(200).body(Body::Parts(parts));
            assert!(bad.body_len() >= 1);
            assert!(matches!(bad.validate(), Err(Error::InvalidState(_))));
        }
        let mut ok = Response::new(200).body(Body::Parts(vec![part(0, u64::MAX - 1), part(0, 1)]));
        assert_eq!(ok.body_len(), u64::MAX);
        assert!(ok.validate().is_ok());
    }
}
