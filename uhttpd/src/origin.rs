//! Origins (RFC 6454): the `--cors` allow-list, and the same-origin check
//! that keeps a hostile page from making a visitor's browser change files
//! here (upload, new folder, delete).
//!
//! ```text
//! Sec-Fetch-Site: cross-site | same-site ──────────────▶ refused
//! Origin: null ────────────────────────────────────────▶ refused
//! Origin: scheme://host[:port] ≠ own scheme://Host ────▶ refused
//! no Origin (curl, scripts, old browsers' forms) ──────▶ allowed
//! ```
//!
//! Pure: no request type, no I/O (the fuzz target `origin` compiles this
//! file on its own). Header values come as the library decoded them; every
//! comparison is on whole values or through `url`'s parser, never at an
//! offset the peer chose.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;
use url::Url;

/// Why a state-changing request was refused as cross-origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrossOrigin {
    /// `Sec-Fetch-Site: cross-site`: the browser says another site made it.
    CrossSite,
    /// `Sec-Fetch-Site: same-site`: a sibling host (another subdomain).
    SameSite,
    /// `Origin: null`: a sandboxed frame, a `data:` page, a file, ...
    NullOrigin,
    /// `Origin` names another scheme, host or port than the request's own.
    OtherOrigin,
    /// `Origin` is not an origin at all.
    MalformedOrigin,
    /// `Origin` is sent but the request names no usable `Host` to compare
    /// it with.
    NoHost,
}

impl fmt::Display for CrossOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CrossOrigin::CrossSite => "Sec-Fetch-Site says cross-site",
            CrossOrigin::SameSite => "Sec-Fetch-Site says same-site (another host)",
            CrossOrigin::NullOrigin => "Origin is null",
            CrossOrigin::OtherOrigin => "Origin is another origin than the server's",
            CrossOrigin::MalformedOrigin => "Origin is malformed",
            CrossOrigin::NoHost => "Origin is sent without a Host to compare it with",
        })
    }
}

impl std::error::Error for CrossOrigin {}

/// Whether a request may change files: it must not come from another
/// origin than its own, `scheme://host` (`scheme` as the client reached
/// uhttpd, `host` its `Host` header).
///
/// `Sec-Fetch-Site` is trusted when present (browsers set it and pages
/// cannot); then `Origin`. A request with neither (curl, scripts) is
/// allowed: only a browser carries a visitor's login to a site it did not
/// choose, and every browser sends one of the two on a cross-origin
/// `POST` or `PUT`.
pub fn same_origin(
    origin: Option<&str>,
    fetch_site: Option<&str>,
    scheme: &str,
    host: Option<&str>,
) -> Result<(), CrossOrigin> {
    if let Some(site) = fetch_site.map(|s| s.trim_matches([' ', '\t'])) {
        if site.eq_ignore_ascii_case("cross-site") {
            return Err(CrossOrigin::CrossSite);
        }
        if site.eq_ignore_ascii_case("same-site") {
            return Err(CrossOrigin::SameSite);
        }
    }
    let Some(origin) = origin.map(|o| o.trim_matches([' ', '\t'])) else {
        return Ok(());
    };
    if origin.eq_ignore_ascii_case("null") {
        return Err(CrossOrigin::NullOrigin);
    }
    let theirs = parse_origin(origin).ok_or(CrossOrigin::MalformedOrigin)?;
    let host = host.filter(|h| !h.is_empty()).ok_or(CrossOrigin::NoHost)?;
    let ours = own_origin(scheme, host).ok_or(CrossOrigin::NoHost)?;
    if theirs == ours {
        Ok(())
    } else {
        Err(CrossOrigin::OtherOrigin)
    }
}

/// `scheme://host[:port]` and nothing else (no user, path, query or
/// fragment), for `http` or `https`, as a tuple origin: scheme and host
/// lower-cased, the default port dropped.
fn parse_origin(s: &str) -> Option<url::Origin> {
    // Checked first: `url` would drop tabs and newlines inside the value
    // and accept non-ASCII hosts, which browsers send as punycode.
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    let url = Url::parse(s).ok()?;
    let bare = matches!(url.scheme(), "http" | "https")
        && url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && !s.ends_with('/');
    bare.then(|| url.origin())
}

/// The request's own origin: `scheme` and its `Host` (which must be a
/// bare `host[:port]`: `a/b` or `user@a` would parse into something else).
fn own_origin(scheme: &str, host: &str) -> Option<url::Origin> {
    if host
        .bytes()
        .any(|b| matches!(b, b'/' | b'\\' | b'@' | b'?' | b'#'))
    {
        return None;
    }
    parse_origin(&format!("{scheme}://{host}"))
}

/// One entry of `--cors`: `*` (any origin), or an origin allowed to read
/// responses from another site's scripts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum CorsOrigin {
    /// `*`: every origin may read (answered `Access-Control-Allow-Origin: *`).
    Any,
    /// An origin as browsers serialise it in `Origin`: lower case, no
    /// default port, no trailing slash (`https://app.example:8443`).
    Origin(String),
}

impl CorsOrigin {
    /// Whether this entry allows `origin` (an `Origin` header's value).
    /// Browsers send it serialised, so a comparison of whole values (ASCII
    /// case aside) is exact; `null` is never allowed by name.
    pub fn allows(&self, origin: &str) -> bool {
        match self {
            CorsOrigin::Any => true,
            CorsOrigin::Origin(allowed) => allowed.eq_ignore_ascii_case(origin),
        }
    }
}

impl fmt::Display for CorsOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CorsOrigin::Any => f.write_str("*"),
            CorsOrigin::Origin(origin) => f.write_str(origin),
        }
    }
}

impl FromStr for CorsOrigin {
    type Err = InvalidOrigin;

    fn from_str(s: &str) -> Result<CorsOrigin, InvalidOrigin> {
        let s = s.trim();
        if s == "*" {
            return Ok(CorsOrigin::Any);
        }
        // A trailing slash is a common way of writing a site's address;
        // browsers never send it, so it is dropped rather than refused.
        let bare = s.strip_suffix('/').unwrap_or(s);
        match parse_origin(bare) {
            Some(origin) => Ok(CorsOrigin::Origin(origin.ascii_serialization())),
            None => Err(InvalidOrigin(s.to_owned())),
        }
    }
}

impl TryFrom<String> for CorsOrigin {
    type Error = InvalidOrigin;

    fn try_from(s: String) -> Result<CorsOrigin, InvalidOrigin> {
        s.parse()
    }
}

/// A `--cors` value that is neither `*` nor `scheme://host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidOrigin(String);

impl fmt::Display for InvalidOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "\"{}\" is not an origin: write \"*\" or http(s)://host[:port], \
             such as https://app.example or http://localhost:3000 (no path)",
            self.0.escape_debug()
        )
    }
}

impl std::error::Error for InvalidOrigin {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_origin_requests_and_requests_without_origin_are_allowed() {
        let ok = [
            (
                Some("http://127.0.0.1:8080"),
                None,
                "http",
                Some("127.0.0.1:8080"),
            ),
            (Some("http://localhost"), None, "http", Some("localhost:80")),
            (Some("http://LocalHost:80"), None, "http", Some("localhost")),
            (
                Some("https://a.example"),
                None,
                "https",
                Some("A.Example:443"),
            ),
            (Some("http://[::1]:9"), None, "http", Some("[::1]:9")),
            (
                Some("http://a.example"),
                Some("same-origin"),
                "http",
                Some("a.example"),
            ),
            (None, Some("none"), "http", Some("a.example")),
            (None, None, "http", None),
            (None, None, "https", Some("x")),
        ];
        for (origin, site, scheme, host) in ok {
            assert_eq!(
                same_origin(origin, site, scheme, host),
                Ok(()),
                "{origin:?} {host:?}"
            );
        }
    }

    #[test]
    fn other_origins_and_cross_site_fetches_are_refused() {
        use CrossOrigin::*;
        let refused = [
            (
                Some("http://evil.example"),
                None,
                "http",
                Some("a.example"),
                OtherOrigin,
            ),
            (
                Some("https://a.example"),
                None,
                "http",
                Some("a.example"),
                OtherOrigin,
            ),
            (
                Some("http://a.example"),
                None,
                "https",
                Some("a.example"),
                OtherOrigin,
            ),
            (
                Some("http://a.example:81"),
                None,
                "http",
                Some("a.example"),
                OtherOrigin,
            ),
            (
                Some("http://sub.a.example"),
                None,
                "http",
                Some("a.example"),
                OtherOrigin,
            ),
            (Some("null"), None, "http", Some("a.example"), NullOrigin),
            (Some("NULL"), None, "http", Some("a.example"), NullOrigin),
            (
                None,
                Some("cross-site"),
                "http",
                Some("a.example"),
                CrossSite,
            ),
            (
                Some("http://a.example"),
                Some("Cross-Site"),
                "http",
                Some("a.example"),
                CrossSite,
            ),
            (None, Some("same-site"), "http", Some("a.example"), SameSite),
            (Some("http://a.example"), None, "http", None, NoHost),
            (Some("http://a.example"), None, "http", Some(""), NoHost),
            (
                Some("http://a.example"),
                None,
                "http",
                Some("a.example/x"),
                NoHost,
            ),
            (
                Some("http://a.example"),
                None,
                "http",
                Some("evil@a.example"),
                NoHost,
            ),
            (
                Some("http://a.example/"),
                None,
                "http",
                Some("a.example"),
                MalformedOrigin,
            ),
            (
                Some("http://a.example/x"),
                None,
                "http",
                Some("a.example"),
                MalformedOrigin,
            ),
            (
                Some("http://u@a.example"),
                None,
                "http",
                Some("a.example"),
                MalformedOrigin,
            ),
            (
                Some("file://"),
                None,
                "http",
                Some("a.example"),
                MalformedOrigin,
            ),
            (
                Some("a.example"),
                None,
                "http",
                Some("a.example"),
                MalformedOrigin,
            ),
            (Some(""), None, "http", Some("a.example"), MalformedOrigin),
        ];
        for (origin, site, scheme, host, why) in refused {
            assert_eq!(
                same_origin(origin, site, scheme, host),
                Err(why),
                "{origin:?} {site:?} {scheme} {host:?}"
            );
        }
    }

    /// Multi-byte characters, U+FFFD (what an invalid byte becomes once
    /// the library decoded the header), NUL and whitespace at every offset
    /// of the `Origin` and `Host` values: refused, never a panic.
    #[test]
    fn any_character_at_any_offset_is_refused_without_panic() {
        let (origin, host) = ("http://a.example:8080", "a.example:8080");
        for insert in [
            "é",
            "€",
            "😀",
            "\u{FFFD}",
            "\u{FFFD}\u{FFFD}",
            "\0",
            "\t",
            " ",
            "\r\n",
        ] {
            for at in 0..=origin.len() {
                let mut bad = origin.to_owned();
                bad.insert_str(at, insert);
                let got = same_origin(Some(&bad), None, "http", Some(host));
                let outer = bad.trim_matches([' ', '\t']) == origin;
                assert_eq!(got.is_ok(), outer, "{bad:?}");
                assert_eq!(same_origin(None, Some(&bad), "http", Some(host)), Ok(()));
                assert!(!CorsOrigin::Origin(origin.into()).allows(&bad) || outer);
                if !outer {
                    assert!(
                        bad.parse::<CorsOrigin>().is_err() || bad.trim() == origin,
                        "{bad:?}"
                    );
                }
            }
            for at in 0..=host.len() {
                let mut bad = host.to_owned();
                bad.insert_str(at, insert);
                let got = same_origin(Some(origin), None, "http", Some(&bad));
                assert!(got.is_err(), "{bad:?}");
            }
        }
    }

    #[test]
    fn cors_origins_are_normalised_and_checked() {
        let cases = [
            ("*", CorsOrigin::Any),
            (
                "https://App.Example",
                CorsOrigin::Origin("https://app.example".into()),
            ),
            (
                "https://app.example/",
                CorsOrigin::Origin("https://app.example".into()),
            ),
            (
                "https://app.example:443",
                CorsOrigin::Origin("https://app.example".into()),
            ),
            (
                "http://localhost:3000",
                CorsOrigin::Origin("http://localhost:3000".into()),
            ),
            (
                "http://[::1]:3000",
                CorsOrigin::Origin("http://[::1]:3000".into()),
            ),
            (
                " http://127.0.0.1 ",
                CorsOrigin::Origin("http://127.0.0.1".into()),
            ),
        ];
        for (given, want) in cases {
            assert_eq!(given.parse::<CorsOrigin>(), Ok(want), "{given}");
        }
        for bad in [
            "",
            "app.example",
            "https://app.example/x",
            "https://app.example?q",
            "https://u:p@app.example",
            "ftp://app.example",
            "https://app.example:99999",
            "null",
            "**",
            "https://",
            "https://app.example\r\nX: y",
        ] {
            let err = bad.parse::<CorsOrigin>().unwrap_err();
            assert!(
                err.to_string().contains("is not an origin"),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn a_listed_origin_allows_its_own_serialisation_only() {
        let listed: CorsOrigin = "https://app.example:8443".parse().unwrap();
        assert!(listed.allows("https://app.example:8443"));
        assert!(listed.allows("HTTPS://APP.EXAMPLE:8443"));
        for other in [
            "https://app.example",
            "http://app.example:8443",
            "null",
            "",
            "*",
        ] {
            assert!(!listed.allows(other), "{other}");
        }
        assert!(CorsOrigin::Any.allows("null"));
    }
}
