//! The `Content-Type` of a file: `--mime EXT=TYPE` overrides first, then
//! the guess from the extension (`uhttp::content_type_for`).

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use mime_guess::mime::Mime;
use serde::Deserialize;

/// One `--mime EXT=TYPE`: files whose extension is EXT (any case) are
/// sent as TYPE, exactly as given (`md=text/markdown; charset=utf-8`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct MimeOverride {
    /// Lower case, without the dot.
    ext: String,
    content_type: String,
}

impl FromStr for MimeOverride {
    type Err = InvalidMime;

    fn from_str(s: &str) -> Result<MimeOverride, InvalidMime> {
        let (ext, content_type) = s.split_once('=').ok_or(InvalidMime::Form)?;
        let ext = ext.trim();
        let ext = ext.strip_prefix('.').unwrap_or(ext);
        let ext_ok = !ext.is_empty()
            && ext
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'~'));
        if !ext_ok {
            return Err(InvalidMime::Ext(ext.to_owned()));
        }
        let content_type = content_type.trim_matches([' ', '\t']);
        let printable = content_type
            .bytes()
            .all(|b| b == b' ' || b == b'\t' || b.is_ascii_graphic());
        let parsed = content_type.parse::<Mime>().ok().filter(|m| {
            printable
                && m.type_() != mime_guess::mime::STAR
                && m.subtype() != mime_guess::mime::STAR
        });
        if parsed.is_none() {
            return Err(InvalidMime::Type(content_type.to_owned()));
        }
        Ok(MimeOverride {
            ext: ext.to_ascii_lowercase(),
            content_type: content_type.to_owned(),
        })
    }
}

impl TryFrom<String> for MimeOverride {
    type Error = InvalidMime;

    fn try_from(s: String) -> Result<MimeOverride, InvalidMime> {
        s.parse()
    }
}

/// Why a `--mime` value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidMime {
    /// No `=`.
    Form,
    /// The extension is empty or holds a dot or another odd character.
    Ext(String),
    /// TYPE is not a media type `type/subtype[; param=value]`.
    Type(String),
}

impl fmt::Display for InvalidMime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidMime::Form => f.write_str("write EXT=TYPE, such as md=text/markdown"),
            InvalidMime::Ext(ext) => write!(
                f,
                "\"{}\" is not a file extension (letters, digits, - _ + ~; the part after the last dot)",
                ext.escape_debug()
            ),
            InvalidMime::Type(t) => write!(
                f,
                "\"{}\" is not a media type such as text/markdown or \"text/plain; charset=utf-8\"",
                t.escape_debug()
            ),
        }
    }
}

impl std::error::Error for InvalidMime {}

/// The `Content-Type` of `path`: the first override naming its
/// extension, else the guess.
pub fn content_type(overrides: &[MimeOverride], path: &Path) -> String {
    if !overrides.is_empty()
        && let Some(ext) = path.extension().and_then(|e| e.to_str())
        && let Some(o) = overrides.iter().find(|o| o.ext.eq_ignore_ascii_case(ext))
    {
        return o.content_type.clone();
    }
    uhttp::content_type_for(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overrides(given: &[&str]) -> Vec<MimeOverride> {
        given.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn overrides_win_over_the_guess_in_any_case() {
        let o = overrides(&[
            "md=text/markdown; charset=utf-8",
            ".WASM=application/wasm",
            "x=a/b",
        ]);
        let ct = |p: &str| content_type(&o, Path::new(p));
        assert_eq!(ct("README.md"), "text/markdown; charset=utf-8");
        assert_eq!(ct("docs/A.MD"), "text/markdown; charset=utf-8");
        assert_eq!(ct("app.wasm"), "application/wasm");
        assert_eq!(ct("f.x"), "a/b");
        assert_eq!(ct("index.html"), "text/html; charset=utf-8");
        assert_eq!(ct("md"), "application/octet-stream");
        assert_eq!(
            content_type(&[], Path::new("a.css")),
            "text/css; charset=utf-8"
        );
    }

    #[test]
    fn bad_extensions_and_types_are_refused() {
        for bad in [
            "md",
            "=text/plain",
            ".=text/plain",
            "tar.gz=application/gzip",
            "m d=text/plain",
            "é=text/plain",
            "md=",
            "md=text",
            "md=*/*",
            "md=text/*",
            "md=text/plain\r\nX-A: b",
            "md=text/pl\u{e9}in",
            "md=text/plain; charset=\u{1F600}",
        ] {
            assert!(bad.parse::<MimeOverride>().is_err(), "{bad:?}");
        }
    }
}
