//! Cookies: the `Set-Cookie` header with its attributes (RFC 6265 §4.1).
//!
//! Request cookies are parsed by [`crate::util::parse_cookies`]; this module
//! builds the response side.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::Error;
use crate::util::is_token;

/// The `SameSite` attribute of a cookie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSite {
    /// Sent only with same-site requests.
    Strict,
    /// Also sent on top-level navigations from other sites.
    Lax,
    /// Sent with cross-site requests too (browsers require `Secure`).
    None,
}

impl SameSite {
    fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

/// A cookie to send in a `Set-Cookie` response header.
///
/// ```
/// use uhttp::{Cookie, SameSite};
///
/// let cookie = Cookie::new("id", "42")
///     .path("/")
///     .max_age(60)
///     .secure(true)
///     .http_only(true)
///     .same_site(SameSite::Lax);
/// assert_eq!(
///     cookie.to_header_value().unwrap(),
///     "id=42; Path=/; Max-Age=60; Secure; HttpOnly; SameSite=Lax"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cookie {
    name: String,
    value: String,
    path: Option<String>,
    domain: Option<String>,
    max_age: Option<i64>,
    expires: Option<SystemTime>,
    secure: bool,
    http_only: bool,
    same_site: Option<SameSite>,
}

impl Cookie {
    /// A cookie with no attributes (a session cookie).
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            path: None,
            domain: None,
            max_age: None,
            expires: None,
            secure: false,
            http_only: false,
            same_site: None,
        }
    }

    /// A cookie that deletes `name` (empty value, Max-Age=0, Expires in 1970).
    ///
    /// Add the `path` and `domain` the cookie was set with, or the browser
    /// will not match it.
    pub fn removal(name: impl Into<String>) -> Self {
        Self::new(name, "").max_age(0).expires(UNIX_EPOCH)
    }

    /// Sets the `Path` attribute.
    pub fn path(mut self, p: impl Into<String>) -> Self {
        self.path = Some(p.into());
        self
    }

    /// Sets the `Domain` attribute.
    pub fn domain(mut self, d: impl Into<String>) -> Self {
        self.domain = Some(d.into());
        self
    }

    /// Sets `Max-Age` in seconds; zero or less expires the cookie at once
    /// and is written as `Max-Age=0`.
    pub fn max_age(mut self, secs: i64) -> Self {
        self.max_age = Some(secs);
        self
    }

    /// Sets `Expires`. Times before 1970 are written as 1970, times after
    /// the year 9999 as its last second.
    pub fn expires(mut self, at: SystemTime) -> Self {
        self.expires = Some(at);
        self
    }

    /// Sets or clears `Secure` (sent over HTTPS only).
    pub fn secure(mut self, on: bool) -> Self {
        self.secure = on;
        self
    }

    /// Sets or clears `HttpOnly` (hidden from scripts).
    pub fn http_only(mut self, on: bool) -> Self {
        self.http_only = on;
        self
    }

    /// Sets `SameSite`. `SameSite::None` is written as given, even without
    /// `Secure`.
    pub fn same_site(mut self, s: SameSite) -> Self {
        self.same_site = Some(s);
        self
    }

    /// The cookie name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cookie value, as it will be sent.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The `Set-Cookie` header value, e.g. `id=42; Path=/; Max-Age=60; Secure; HttpOnly; SameSite=Lax`.
    ///
    /// Attributes are written in the order Path, Domain, Max-Age, Expires,
    /// Secure, HttpOnly, SameSite.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCookie`] (with the name) when the name is not a token,
    /// the value is not `cookie-octet`s (optionally in double quotes: no
    /// control characters, whitespace, `"`, `,`, `;`, `\` or non-ASCII), or
    /// the path or domain contains a control character or `;`. Percent-encode
    /// values that need other characters.
    pub fn to_header_value(&self) -> Result<String, Error> {
        let refuse = || Error::InvalidCookie(self.name.clone());
        if !is_token(&self.name) || !is_cookie_value(&self.value) {
            return Err(refuse());
        }
        for attribute in [&self.path, &self.domain].into_iter().flatten() {
            if !is_attribute_value(attribute) {
                return Err(refuse());
            }
        }

        let mut out = format!("{}={}", self.name, self.value);
        if let Some(path) = &self.path {
            out.push_str("; Path=");
            out.push_str(path);
        }
        if let Some(domain) = &self.domain {
            out.push_str("; Domain=");
            out.push_str(domain);
        }
        if let Some(max_age) = self.max_age {
            // RFC 6265 §5.2.2: zero and negative both mean "expire now".
            // unwrap: writing to a String cannot fail.
            write!(out, "; Max-Age={}", max_age.max(0)).unwrap();
        }
        if let Some(expires) = self.expires {
            out.push_str("; Expires=");
            out.push_str(&httpdate::fmt_http_date(clamp_to_http_date_range(expires)));
        }
        if self.secure {
            out.push_str("; Secure");
        }
        if self.http_only {
            out.push_str("; HttpOnly");
        }
        if let Some(same_site) = self.same_site {
            out.push_str("; SameSite=");
            out.push_str(same_site.as_str());
        }
        Ok(out)
    }
}

/// RFC 6265 §4.1.1 `cookie-octet`: US-ASCII except CTLs, whitespace, DQUOTE,
/// comma, semicolon and backslash.
fn is_cookie_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

/// RFC 6265 §4.1.1 `cookie-value`: `*cookie-octet` or the same in DQUOTEs.
fn is_cookie_value(value: &str) -> bool {
    let inner = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    inner.bytes().all(is_cookie_octet)
}

/// Path and domain values: no CTLs and no `;` (RFC 6265 §4.1.1 `path-value`).
fn is_attribute_value(value: &str) -> bool {
    !value.bytes().any(|b| b.is_ascii_control() || b == b';')
}

/// `httpdate` formats only 1970-01-01 to 9999-12-31; keep times inside.
fn clamp_to_http_date_range(at: SystemTime) -> SystemTime {
    // 9999-12-31T23:59:59Z.
    let last = UNIX_EPOCH + Duration::from_secs(253_402_300_799);
    at.clamp(UNIX_EPOCH, last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_each_attribute() {
        let at = UNIX_EPOCH + Duration::from_secs(784_111_777);
        let cases = [
            (Cookie::new("id", "42"), "id=42"),
            (Cookie::new("id", ""), "id="),
            (Cookie::new("id", "\"quoted\""), "id=\"quoted\""),
            (Cookie::new("id", "a%20b"), "id=a%20b"),
            (Cookie::new("id", "1").path("/app"), "id=1; Path=/app"),
            (
                Cookie::new("id", "1").domain("example.com"),
                "id=1; Domain=example.com",
            ),
            (Cookie::new("id", "1").max_age(3600), "id=1; Max-Age=3600"),
            (Cookie::new("id", "1").max_age(0), "id=1; Max-Age=0"),
            (Cookie::new("id", "1").max_age(-5), "id=1; Max-Age=0"),
            (
                Cookie::new("id", "1").expires(at),
                "id=1; Expires=Sun, 06 Nov 1994 08:49:37 GMT",
            ),
            (Cookie::new("id", "1").secure(true), "id=1; Secure"),
            (Cookie::new("id", "1").secure(true).secure(false), "id=1"),
            (Cookie::new("id", "1").http_only(true), "id=1; HttpOnly"),
            (
                Cookie::new("id", "1").same_site(SameSite::Strict),
                "id=1; SameSite=Strict",
            ),
            (
                Cookie::new("id", "1").same_site(SameSite::Lax),
                "id=1; SameSite=Lax",
            ),
            (
                Cookie::new("id", "1").same_site(SameSite::None),
                "id=1; SameSite=None",
            ),
        ];
        for (cookie, expected) in cases {
            assert_eq!(cookie.to_header_value().unwrap(), expected, "{cookie:?}");
        }
    }

    #[test]
    fn writes_all_attributes_in_fixed_order() {
        let cookie = Cookie::new("sid", "abc")
            .same_site(SameSite::None)
            .http_only(true)
            .secure(true)
            .expires(UNIX_EPOCH + Duration::from_secs(86_400))
            .max_age(60)
            .domain("example.org")
            .path("/");
        assert_eq!(
            cookie.to_header_value().unwrap(),
            "sid=abc; Path=/; Domain=example.org; Max-Age=60; \
             Expires=Fri, 02 Jan 1970 00:00:00 GMT; Secure; HttpOnly; SameSite=None"
        );
    }

    #[test]
    fn removal_expires_the_cookie_now() {
        let cookie = Cookie::removal("sid").path("/");
        assert_eq!(cookie.name(), "sid");
        assert_eq!(cookie.value(), "");
        assert_eq!(
            cookie.to_header_value().unwrap(),
            "sid=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }

    #[test]
    fn clamps_expires_outside_the_http_date_range() {
        let before = UNIX_EPOCH - Duration::from_secs(10);
        let after = UNIX_EPOCH + Duration::from_secs(300_000_000_000);
        let cases = [
            (before, "a=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
            (after, "a=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT"),
        ];
        for (at, expected) in cases {
            let got = Cookie::new("a", "1").expires(at).to_header_value().unwrap();
            assert_eq!(got, expected);
        }
    }

    #[test]
    fn refuses_invalid_names_values_and_attributes() {
        let cases = [
            Cookie::new("", "v"),
            Cookie::new("bad name", "v"),
            Cookie::new("bad;name", "v"),
            Cookie::new("bad=name", "v"),
            Cookie::new("bad\r\nname", "v"),
            Cookie::new("n\u{e9}", "v"),
            Cookie::new("id", "a\r\nSet-Cookie: x=1"),
            Cookie::new("id", "a\rb"),
            Cookie::new("id", "a\nb"),
            Cookie::new("id", "a;b"),
            Cookie::new("id", "a,b"),
            Cookie::new("id", "a b"),
            Cookie::new("id", "a\tb"),
            Cookie::new("id", "a\\b"),
            Cookie::new("id", "a\"b"),
            Cookie::new("id", "\""),
            Cookie::new("id", "\"a b\""),
            Cookie::new("id", "a\0b"),
            Cookie::new("id", "a\x7fb"),
            Cookie::new("id", "caf\u{e9}"),
            Cookie::new("id", "1").path("/a;b"),
            Cookie::new("id", "1").path("/a\r\nX: y"),
            Cookie::new("id", "1").path("/a\0"),
            Cookie::new("id", "1").domain("example.com; Secure"),
            Cookie::new("id", "1").domain("example.com\n"),
        ];
        for cookie in cases {
            match cookie.to_header_value() {
                Err(Error::InvalidCookie(name)) => assert_eq!(name, cookie.name()),
                other => panic!("{cookie:?} gave {other:?}"),
            }
        }
    }
}
