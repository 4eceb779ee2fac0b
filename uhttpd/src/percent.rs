//! Strict percent-decoding for names taken from the request path.
//!
//! The library's decoders keep a malformed escape (`%zz`, a lone `%`) as
//! it is. Where a path names a file (static files, upload names) uhttpd
//! refuses such a path with 400 instead, as nginx does: the client meant
//! something, and guessing what is a rewrite.

use percent_encoding::percent_decode;

/// Whether every `%` in `raw` starts an escape of two hex digits.
pub fn has_valid_escapes(raw: &[u8]) -> bool {
    let mut rest = raw;
    while let Some(at) = rest.iter().position(|&b| b == b'%') {
        match rest.get(at + 1..at + 3) {
            Some([hi, lo]) if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => {
                rest = rest.get(at + 3..).unwrap_or_default();
            }
            _ => return false,
        }
    }
    true
}

/// The bytes `raw` encodes; `None` when an escape is malformed.
pub fn decode(raw: &str) -> Option<Vec<u8>> {
    has_valid_escapes(raw.as_bytes()).then(|| percent_decode(raw.as_bytes()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{bytes_at_every_offset, str_at_every_offset};

    #[test]
    fn accepts_only_percent_followed_by_two_hex_digits() {
        for good in [
            "",
            "a",
            "%20",
            "a%2Fb",
            "%C3%A9",
            "%ff%FF",
            "100%25",
            "é€😀",
        ] {
            assert!(has_valid_escapes(good.as_bytes()), "{good:?}");
        }
        for bad in [
            "%", "a%", "%2", "a%2", "%ZZ", "%2G", "%G2", "a%ZZ.txt", "%%20", "%é", "%2é",
        ] {
            assert!(!has_valid_escapes(bad.as_bytes()), "{bad:?}");
        }
    }

    #[test]
    fn decodes_valid_escapes_only() {
        assert_eq!(decode("a%20b"), Some(b"a b".to_vec()));
        assert_eq!(decode("%C3%A9"), Some("é".as_bytes().to_vec()));
        assert_eq!(decode("%ff"), Some(vec![0xff]));
        assert_eq!(decode("a%ZZ.txt"), None);
        assert_eq!(decode("a%"), None);
    }

    #[test]
    fn refuses_an_escape_split_by_any_byte() {
        // "%41%42": an insert at offset 1, 2, 4 or 5 breaks an escape.
        for (at, input) in bytes_at_every_offset(b"%41%42") {
            let broken = matches!(at, 1 | 2 | 4 | 5);
            assert_eq!(has_valid_escapes(&input), !broken, "{input:?}");
        }
        for (at, input) in str_at_every_offset("%41%42") {
            assert_eq!(
                decode(&input).is_none(),
                matches!(at, 1 | 2 | 4 | 5),
                "{input}"
            );
        }
    }
}
