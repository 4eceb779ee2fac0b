//! What every answer of uhttpd's routes carries on top of its own
//! headers: the `--cors` headers and the `--header` lines, added in one
//! place ([`ResponseHeaders::apply`]) just before a response is sent.
//!
//! `--header` adds; it never replaces. Names uhttpd sets itself (framing,
//! representation, validators, redirects, logins, caching, CORS) are
//! refused at start-up, so an answer never carries two contradicting
//! values: `Cache-Control` has `--cache-control`, CORS has `--cors`.
//! Answers the library gives before a request reaches uhttpd (400 for a
//! malformed request, 408, 413 on the headers, 431) carry none of these.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;
use uhttp::{Request, Response};

use crate::cors::Cors;

/// Header names `--header` may not set: uhttpd writes them itself. An
/// `Access-Control-` prefix is refused too.
const OWN_HEADERS: &[&str] = &[
    "accept-ranges",
    "allow",
    "cache-control",
    "connection",
    "content-disposition",
    "content-encoding",
    "content-length",
    "content-range",
    "content-type",
    "date",
    "etag",
    "keep-alive",
    "last-modified",
    "location",
    "retry-after",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "vary",
    "www-authenticate",
];

/// One `--header 'Name: value'`: a token name that uhttpd does not set
/// itself, and a value of printable ASCII, spaces and tabs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct ExtraHeader {
    name: String,
    value: String,
}

impl ExtraHeader {
    /// The header's name, as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its value, trimmed of surrounding spaces and tabs.
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl FromStr for ExtraHeader {
    type Err = InvalidHeader;

    fn from_str(s: &str) -> Result<ExtraHeader, InvalidHeader> {
        let Some((name, value)) = s.split_once(':') else {
            return Err(InvalidHeader::Form);
        };
        if !uhttp::util::is_token(name) {
            return Err(InvalidHeader::Name(name.to_owned()));
        }
        let lower = name.to_ascii_lowercase();
        if OWN_HEADERS.contains(&lower.as_str()) || lower.starts_with("access-control-") {
            return Err(InvalidHeader::Own(name.to_owned()));
        }
        let value = value.trim_matches([' ', '\t']);
        if !value
            .bytes()
            .all(|b| b == b' ' || b == b'\t' || b.is_ascii_graphic())
        {
            return Err(InvalidHeader::Value(name.to_owned()));
        }
        Ok(ExtraHeader {
            name: name.to_owned(),
            value: value.to_owned(),
        })
    }
}

impl TryFrom<String> for ExtraHeader {
    type Error = InvalidHeader;

    fn try_from(s: String) -> Result<ExtraHeader, InvalidHeader> {
        s.parse()
    }
}

/// Why a `--header` value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidHeader {
    /// No `:` between name and value.
    Form,
    /// The name is not a token (RFC 9110 §5.6.2).
    Name(String),
    /// uhttpd sets this header itself.
    Own(String),
    /// The value has CR, LF, NUL, another control or a non-ASCII character.
    Value(String),
}

impl fmt::Display for InvalidHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidHeader::Form => f.write_str("write a header as 'Name: value'"),
            InvalidHeader::Name(name) => write!(
                f,
                "\"{}\" is not a header name (letters, digits and !#$%&'*+-.^_`|~)",
                name.escape_debug()
            ),
            InvalidHeader::Own(name) => write!(
                f,
                "uhttpd sets {name} itself (Cache-Control: use --cache-control; \
                 Access-Control-*: use --cors)"
            ),
            InvalidHeader::Value(name) => write!(
                f,
                "the value of {name} must be printable ASCII (no line breaks or control characters)"
            ),
        }
    }
}

impl std::error::Error for InvalidHeader {}

/// The headers added to every answer uhttpd's routes send.
#[derive(Debug, Clone, Default)]
pub struct ResponseHeaders {
    /// `--cors`, when given.
    pub cors: Option<Cors>,
    /// `--header` lines, in the order given.
    pub extra: Vec<ExtraHeader>,
}

impl ResponseHeaders {
    /// `response` with the CORS headers for `req` and the `--header`
    /// lines. Without either option it is returned as it is.
    pub fn apply(&self, req: &Request, response: Response) -> Response {
        let mut response = match &self.cors {
            Some(cors) => cors.apply(req, response),
            None => response,
        };
        for h in &self.extra {
            response = response.header(h.name(), h.value());
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_is_a_token_name_and_a_printable_value() {
        for (given, name, value) in [
            ("X-Frame-Options: DENY", "X-Frame-Options", "DENY"),
            ("x-a:b", "x-a", "b"),
            ("X-Empty:", "X-Empty", ""),
            (
                "Content-Security-Policy:  default-src 'self'; img-src *\t",
                "Content-Security-Policy",
                "default-src 'self'; img-src *",
            ),
            (
                "Strict-Transport-Security: max-age=63072000",
                "Strict-Transport-Security",
                "max-age=63072000",
            ),
            ("X-Colon: a:b", "X-Colon", "a:b"),
        ] {
            let h: ExtraHeader = given.parse().unwrap();
            assert_eq!((h.name(), h.value()), (name, value), "{given:?}");
        }
    }

    #[test]
    fn headers_uhttpd_sets_and_unsendable_values_are_refused() {
        use InvalidHeader::*;
        for (given, why) in [
            ("X-A", Form),
            ("", Form),
            (": v", Name(String::new())),
            ("X A: v", Name("X A".into())),
            ("X-A : v", Name("X-A ".into())),
            ("Ünï: v", Name("Ünï".into())),
            ("Content-Length: 5", Own("Content-Length".into())),
            ("content-type: text/plain", Own("content-type".into())),
            (
                "Transfer-Encoding: chunked",
                Own("Transfer-Encoding".into()),
            ),
            ("Connection: close", Own("Connection".into())),
            ("CACHE-CONTROL: no-store", Own("CACHE-CONTROL".into())),
            (
                "Access-Control-Allow-Origin: *",
                Own("Access-Control-Allow-Origin".into()),
            ),
            ("Vary: Cookie", Own("Vary".into())),
            ("X-A: a\r\nSet-Cookie: b", Value("X-A".into())),
            ("X-A: a\nb", Value("X-A".into())),
            ("X-A: a\0b", Value("X-A".into())),
            ("X-A: caf\u{e9}", Value("X-A".into())),
            ("X-A: \u{1F600}", Value("X-A".into())),
            ("X-A: \u{7f}", Value("X-A".into())),
        ] {
            assert_eq!(given.parse::<ExtraHeader>(), Err(why), "{given:?}");
        }
    }

    /// Multi-byte characters and U+FFFD at every offset: refused (they
    /// are neither token nor printable ASCII), never a panic.
    #[test]
    fn any_character_at_any_offset_is_refused_without_panic() {
        let base = "X-Test: value";
        for insert in ["é", "€", "😀", "\u{FFFD}", "\r", "\n", "\0"] {
            for at in 0..=base.len() {
                let mut s = base.to_owned();
                s.insert_str(at, insert);
                assert!(s.parse::<ExtraHeader>().is_err(), "{s:?}");
            }
        }
    }
}
