//! The `Cache-Control` of static answers: said explicitly, so that caches
//! do not guess a freshness lifetime from `Last-Modified` (RFC 9111
//! §4.2.2, which lets a cache keep a file modified a year ago for weeks).
//!
//! | answer | `Cache-Control` by default |
//! | --- | --- |
//! | an HTML file (`text/html`), a listing | [`REVALIDATE`]: stored, but checked with the server before each use |
//! | any other file | [`FILE_DEFAULT`]: fresh for ten minutes, then checked |
//! | the `/dir` → `/dir/` redirect | [`REDIRECT`] |
//! | an error (404, 412, 416, ...) | none |
//!
//! `--cache-control VALUE` ([`Freshness::Given`]) replaces the value of
//! every file, HTML included; an empty VALUE sends no `Cache-Control`.
//! Listings and redirects keep theirs. A 304 or 206 carries its file's
//! value, as RFC 9110 §15.4.5 and §15.3.7 ask.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

/// Pages, listings and redirects: a change shows at the next load, and an
/// unchanged page costs a 304.
pub const REVALIDATE: &str = "no-cache";

/// Other files (style sheets, scripts, images, downloads): a page's
/// assets are fetched once per visit, and a changed file shows within ten
/// minutes.
pub const FILE_DEFAULT: &str = "max-age=600";

/// The redirect of a directory to its slash: it has no validator to
/// revalidate with, and stays right while the directory exists; ten
/// minutes, like files, where a 301 without one may be kept
/// indefinitely.
pub const REDIRECT: &str = "max-age=600";

/// Which `Cache-Control` files are served with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Freshness {
    /// [`REVALIDATE`] for HTML, [`FILE_DEFAULT`] for the rest.
    #[default]
    Defaults,
    /// `--cache-control VALUE`, for every file.
    Given(CacheControl),
}

impl Freshness {
    /// The `Cache-Control` of a file of type `content_type`, if any.
    pub fn file(&self, content_type: &str) -> Option<&str> {
        match self {
            Freshness::Defaults if is_html(content_type) => Some(REVALIDATE),
            Freshness::Defaults => Some(FILE_DEFAULT),
            Freshness::Given(value) => value.get(),
        }
    }
}

/// `text/html`, with or without parameters, in any case.
fn is_html(content_type: &str) -> bool {
    content_type
        .get(..9)
        .is_some_and(|t| t.eq_ignore_ascii_case("text/html"))
}

/// A `Cache-Control` value as the user gave it (`--cache-control`, the
/// config file's `cache_control`): printable ASCII, spaces and tabs, so it
/// can always be sent; empty means "send none".
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct CacheControl(String);

impl CacheControl {
    /// The value to send; `None` when it is empty.
    pub fn get(&self) -> Option<&str> {
        Some(self.0.as_str()).filter(|v| !v.is_empty())
    }
}

impl FromStr for CacheControl {
    type Err = InvalidCacheControl;

    fn from_str(s: &str) -> Result<CacheControl, InvalidCacheControl> {
        let value = s.trim_matches([' ', '\t']);
        if value
            .bytes()
            .all(|b| b == b' ' || b == b'\t' || b.is_ascii_graphic())
        {
            Ok(CacheControl(value.to_owned()))
        } else {
            Err(InvalidCacheControl)
        }
    }
}

impl TryFrom<String> for CacheControl {
    type Error = InvalidCacheControl;

    fn try_from(s: String) -> Result<CacheControl, InvalidCacheControl> {
        s.parse()
    }
}

/// A `Cache-Control` value with a character a header cannot carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidCacheControl;

impl fmt::Display for InvalidCacheControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a Cache-Control value is printable ASCII, such as \"no-cache\" or \"max-age=3600\"",
        )
    }
}

impl std::error::Error for InvalidCacheControl {}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(value: &str) -> Freshness {
        Freshness::Given(value.parse().unwrap())
    }

    #[test]
    fn defaults_revalidate_html_and_keep_other_files_ten_minutes() {
        let defaults = Freshness::Defaults;
        for html in [
            "text/html; charset=utf-8",
            "text/html",
            "TEXT/HTML;charset=UTF-8",
        ] {
            assert_eq!(defaults.file(html), Some("no-cache"), "{html}");
        }
        for other in [
            "text/css; charset=utf-8",
            "application/octet-stream",
            "image/png",
            "text/plain",
            "text/htm",
            "",
        ] {
            assert_eq!(defaults.file(other), Some("max-age=600"), "{other}");
        }
    }

    #[test]
    fn a_given_value_applies_to_every_file_and_empty_sends_none() {
        let value = "public, max-age=31536000, immutable";
        for content_type in ["text/html", "image/png"] {
            assert_eq!(given(value).file(content_type), Some(value));
            assert_eq!(given("").file(content_type), None);
            assert_eq!(given(" \t ").file(content_type), None);
        }
        assert_eq!(given("  no-cache ").file("text/css"), Some("no-cache"));
    }

    #[test]
    fn values_a_header_cannot_carry_are_refused() {
        for bad in [
            "no-cache\r\nSet-Cookie: a=b",
            "max-age=1\n",
            "a\0b",
            "\u{7f}",
            "max-age=60 é",
            "caf\u{e9}",
            "\u{1F600}",
        ] {
            assert_eq!(
                bad.parse::<CacheControl>(),
                Err(InvalidCacheControl),
                "{bad:?}"
            );
        }
    }
}
