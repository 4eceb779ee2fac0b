//! What a directory or a missing path falls back to: the `--index` names
//! tried in a directory, the `--spa` page for a browser's navigation to
//! an unknown path, the `--404` page for the rest.
//!
//! ```text
//! /dir/ ─ each --index NAME in order (default index.html, index.htm) ─ listing ─ 404
//! missing path ─ accepts text/html and has no extension? ─ yes ─ --spa FILE (200)
//!                                                        └ no ─ --404 FILE (404) ─ 404
//! ```
//!
//! Pure: names checked at start-up, and the two questions asked of a
//! request ([`accepts_html`], [`has_extension`]); the fuzz target
//! `fallback` compiles this file on its own. The files themselves are
//! opened through the resolver like any other path, so they obey its
//! rules (under ROOT, no dotfiles, symlinks staying inside).

use std::fmt;
use std::str::FromStr;

use mime_guess::mime::{self, Mime};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

/// A segment's characters other than RFC 3986 unreserved ones are encoded
/// when a name is made into a request path, as the listing's links do.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One `--index NAME`: a file name tried in a directory, in order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct IndexName {
    name: String,
    /// `name` percent-encoded, to append to a directory's request path.
    encoded: String,
}

impl IndexName {
    /// The name percent-encoded as one path segment.
    pub fn encoded(&self) -> &str {
        &self.encoded
    }
}

impl fmt::Display for IndexName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl FromStr for IndexName {
    type Err = InvalidName;

    fn from_str(s: &str) -> Result<IndexName, InvalidName> {
        check_segment(s).map_err(|why| InvalidName(s.to_owned(), why))?;
        Ok(IndexName {
            name: s.to_owned(),
            encoded: utf8_percent_encode(s, SEGMENT).to_string(),
        })
    }
}

impl TryFrom<String> for IndexName {
    type Error = InvalidName;

    fn try_from(s: String) -> Result<IndexName, InvalidName> {
        s.parse()
    }
}

/// A file under ROOT named as a path below it (`--spa app/index.html`,
/// `--404 /404.html`: the leading `/` is optional and means ROOT).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct SitePath {
    shown: String,
    /// The request path naming it: `/` and percent-encoded segments.
    raw: String,
}

impl SitePath {
    /// The request path that names this file, as the resolver takes it.
    pub fn raw(&self) -> &str {
        &self.raw
    }
}

impl fmt::Display for SitePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl FromStr for SitePath {
    type Err = InvalidName;

    fn from_str(s: &str) -> Result<SitePath, InvalidName> {
        let mut raw = String::new();
        for segment in s.split('/').filter(|seg| !seg.is_empty()) {
            check_segment(segment).map_err(|why| InvalidName(s.to_owned(), why))?;
            raw.push('/');
            raw.extend(utf8_percent_encode(segment, SEGMENT));
        }
        if raw.is_empty() {
            return Err(InvalidName(s.to_owned(), "it names no file"));
        }
        Ok(SitePath {
            shown: s.to_owned(),
            raw,
        })
    }
}

impl TryFrom<String> for SitePath {
    type Error = InvalidName;

    fn try_from(s: String) -> Result<SitePath, InvalidName> {
        s.parse()
    }
}

/// Why a name cannot be served: the resolver would refuse it.
fn check_segment(s: &str) -> Result<(), &'static str> {
    if s.is_empty() {
        Err("it is empty")
    } else if s == "." || s == ".." {
        Err("it leaves the directory")
    } else if s.contains(['/', '\\']) {
        Err("it holds a slash")
    } else if s.chars().any(char::is_control) {
        Err("it holds a control character")
    } else if s.starts_with('.') {
        Err("dotfiles are never served")
    } else {
        Ok(())
    }
}

/// A name `--index`, `--spa` or `--404` cannot use, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidName(String, &'static str);

impl fmt::Display for InvalidName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "\"{}\" cannot be served: {}",
            self.0.escape_debug(),
            self.1
        )
    }
}

impl std::error::Error for InvalidName {}

/// Whether an `Accept` header asks for HTML: it lists `text/html` with a
/// quality above 0, as a browser's navigation does (`text/html,
/// application/xhtml+xml, ..., */*;q=0.8`). `*/*` alone — what `fetch()`,
/// scripts and image loads send — does not count: those want an asset,
/// and a missing asset must stay a 404.
pub fn accepts_html(accept: Option<&str>) -> bool {
    let Some(accept) = accept else {
        return false;
    };
    accept.split(',').any(|range| {
        let Ok(media) = range.trim_matches([' ', '\t']).parse::<Mime>() else {
            return false;
        };
        media.type_() == mime::TEXT
            && media.subtype() == mime::HTML
            && media
                .get_param("q")
                .is_none_or(|q| q.as_str().parse::<f32>().is_ok_and(|q| q > 0.0))
    })
}

/// Whether the last segment of `raw_path` has an extension (`/app.js`,
/// `/img/logo.png`): the request is for an asset, not a page of the app.
pub fn has_extension(raw_path: &str) -> bool {
    raw_path
        .rsplit('/')
        .next()
        .is_some_and(|last| last.trim_start_matches('.').contains('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn navigations_accept_html_and_asset_loads_do_not() {
        for yes in [
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "text/html",
            "TEXT/HTML",
            "application/json, text/html;q=0.1",
            " text/html; charset=utf-8",
            "text/html;q=1.0",
        ] {
            assert!(accepts_html(Some(yes)), "{yes}");
        }
        for no in [
            "*/*",
            "text/*",
            "image/avif,image/webp,*/*",
            "text/css,*/*;q=0.1",
            "application/json",
            "text/html;q=0",
            "text/html;q=0.000",
            "text/html;q=abc",
            "text/htmlx",
            "",
            ",,,",
        ] {
            assert!(!accepts_html(Some(no)), "{no}");
        }
        assert!(!accepts_html(None));
    }

    /// Multi-byte characters and U+FFFD (an invalid byte once decoded) at
    /// every offset: no panic, and `text/html` broken by them is not HTML.
    #[test]
    fn accept_with_any_character_at_any_offset_is_answered() {
        let base = "text/html;q=0.9";
        for insert in ["é", "€", "😀", "\u{FFFD}", "\0", ",", ";"] {
            for at in 0..=base.len() {
                let mut s = base.to_owned();
                s.insert_str(at, insert);
                let _ = accepts_html(Some(&s));
                let _ = has_extension(&s);
            }
        }
        assert!(!accepts_html(Some("text/ht\u{e9}ml")));
        assert!(!accepts_html(Some("text\u{FFFD}/html")));
    }

    #[test]
    fn assets_have_an_extension_in_their_last_segment() {
        for asset in [
            "/app.js",
            "/a/b/logo.png",
            "/v1.2/x.css",
            "/.well-known/a.json",
            "/a%20b.txt",
        ] {
            assert!(has_extension(asset), "{asset}");
        }
        for page in [
            "/",
            "/about",
            "/users/42",
            "/v1.2/users",
            "/dir/",
            "/.hidden",
            "",
            "/é",
        ] {
            assert!(!has_extension(page), "{page}");
        }
    }

    #[test]
    fn index_names_and_site_paths_are_names_the_resolver_serves() {
        let index: IndexName = "start page.html".parse().unwrap();
        assert_eq!(index.encoded(), "start%20page.html");
        assert_eq!(index.to_string(), "start page.html");
        let e: IndexName = "é.html".parse().unwrap();
        assert_eq!(e.encoded(), "%C3%A9.html");
        for bad in ["", ".", "..", "a/b", "a\\b", ".index.html", "a\0b", "a\nb"] {
            assert!(bad.parse::<IndexName>().is_err(), "{bad:?}");
        }
        for (given, raw) in [
            ("index.html", "/index.html"),
            ("/app/index.html", "/app/index.html"),
            ("app//index.html", "/app/index.html"),
            ("/errors/not found.html", "/errors/not%20found.html"),
        ] {
            assert_eq!(given.parse::<SitePath>().unwrap().raw(), raw, "{given}");
        }
        for bad in [
            "",
            "/",
            "//",
            "../x.html",
            "a/../x",
            "./x",
            "a/.git/x",
            "a\tb",
        ] {
            let err = bad.parse::<SitePath>().unwrap_err();
            assert!(err.to_string().contains("cannot be served"), "{bad:?}");
        }
    }
}
