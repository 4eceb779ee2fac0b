//! Percent-decoding (RFC 3986 §2.1), form decoding and path-segment encoding.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, utf8_percent_encode};

/// Everything except the RFC 3986 §2.3 unreserved characters
/// (`ALPHA / DIGIT / "-" / "." / "_" / "~"`).
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Decodes `%XX` sequences (hex digits in either case).
///
/// A `%` not followed by two hex digits is kept as is, `+` is kept (see
/// [`decode_form_component`] for forms), and bytes that do not form valid
/// UTF-8 after decoding become U+FFFD.
pub fn decode_percent_encoding(input: &str) -> String {
    percent_decode(input.as_bytes())
        .decode_utf8_lossy()
        .into_owned()
}

/// Decodes `%XX` sequences in raw bytes; malformed sequences are kept as is.
pub fn decode_percent_encoding_bytes(input: &[u8]) -> Vec<u8> {
    percent_decode(input).collect()
}

/// Decodes one `application/x-www-form-urlencoded` name or value: `+`
/// becomes a space, then `%XX` sequences are decoded as in
/// [`decode_percent_encoding`].
pub fn decode_form_component(input: &str) -> String {
    if input.contains('+') {
        decode_percent_encoding(&input.replace('+', " "))
    } else {
        decode_percent_encoding(input)
    }
}

/// Percent-encodes every byte of `segment` that is not an RFC 3986
/// unreserved character, so the result is safe as one path segment (or a
/// query value) in a link or a `Location` header. `/` is encoded too.
pub fn encode_path_segment(segment: &str) -> String {
    utf8_percent_encode(segment, NOT_UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_sequences_and_keeps_malformed_ones() {
        let cases = [
            ("", ""),
            ("plain", "plain"),
            ("a%20b", "a b"),
            ("%2F", "/"),
            ("%2f", "/"),
            ("a%2Fb%3f", "a/b?"),
            ("%41%42%43", "ABC"),
            ("%", "%"),
            ("%4", "%4"),
            ("a%", "a%"),
            ("%zz", "%zz"),
            ("%4g", "%4g"),
            ("%%41", "%A"),
            ("100%", "100%"),
            ("a+b", "a+b"),
            ("%2B", "+"),
            ("%00", "\0"),
        ];
        for (input, expected) in cases {
            assert_eq!(decode_percent_encoding(input), expected, "{input:?}");
        }
    }

    #[test]
    fn decodes_multi_byte_utf8() {
        let cases = [
            ("%C3%A9t%C3%A9", "été"),
            ("%e2%82%ac", "€"),
            ("%F0%9F%98%80", "😀"),
            ("déjà%20vu", "déjà vu"),
        ];
        for (input, expected) in cases {
            assert_eq!(decode_percent_encoding(input), expected, "{input:?}");
        }
    }

    #[test]
    fn replaces_invalid_utf8_with_replacement_character() {
        let cases = [
            ("%FF", "\u{FFFD}"),
            ("a%C3", "a\u{FFFD}"),
            ("%C3%28", "\u{FFFD}("),
            ("%80x", "\u{FFFD}x"),
        ];
        for (input, expected) in cases {
            assert_eq!(decode_percent_encoding(input), expected, "{input:?}");
        }
    }

    #[test]
    fn decodes_raw_bytes_without_utf8_checks() {
        let cases: [(&[u8], &[u8]); 5] = [
            (b"%FF%00", b"\xff\x00"),
            (b"a%2fb", b"a/b"),
            (b"%", b"%"),
            (b"%zz\xfe", b"%zz\xfe"),
            (b"+", b"+"),
        ];
        for (input, expected) in cases {
            assert_eq!(decode_percent_encoding_bytes(input), expected, "{input:?}");
        }
    }

    #[test]
    fn form_component_turns_plus_into_space_before_decoding() {
        let cases = [
            ("a+b", "a b"),
            ("a%2Bb", "a+b"),
            ("++", "  "),
            ("%20+%20", "   "),
            ("x%3Dy%26z", "x=y&z"),
            ("%", "%"),
        ];
        for (input, expected) in cases {
            assert_eq!(decode_form_component(input), expected, "{input:?}");
        }
    }

    #[test]
    fn encodes_all_but_unreserved_characters() {
        let cases = [
            ("", ""),
            ("AZaz09-._~", "AZaz09-._~"),
            ("a b", "a%20b"),
            ("a/b", "a%2Fb"),
            ("50%", "50%25"),
            ("?#&=+;", "%3F%23%26%3D%2B%3B"),
            ("été", "%C3%A9t%C3%A9"),
            ("<\"'>", "%3C%22%27%3E"),
        ];
        for (input, expected) in cases {
            assert_eq!(encode_path_segment(input), expected, "{input:?}");
            assert_eq!(decode_percent_encoding(&encode_path_segment(input)), input);
        }
    }
}
