//! Header fields: names as tokens, values, and `value; name=param` lists.

use super::params::Params;

/// Whether `c` is an RFC 9110 §5.6.2 `tchar`.
fn is_tchar(c: u8) -> bool {
    TCHAR[usize::from(c)]
}

/// `tchar` (RFC 9110 §5.6.2) as a lookup table: header names are checked
/// on every response.
const TCHAR: [bool; 256] = super::ascii_table(b"!#$%&'*+-.^_`|~");

/// Whether `s` is an RFC 9110 §5.6.2 token: non-empty, only `tchar`s.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// Whether `value` may be sent as a header field value: it must not contain
/// CR, LF or NUL (RFC 9110 §5.5), which would allow response splitting.
/// HTAB and obs-text bytes (0x80..=0xFF) are accepted.
pub fn is_valid_header_value(value: &[u8]) -> bool {
    !value.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0))
}

/// Splits a header line `Name: value` into the lower-cased name and the
/// value trimmed of spaces and tabs. A trailing CRLF (or LF) is ignored.
///
/// `None` when there is no `:` or the name is not a token (RFC 9112 §5.1
/// forbids whitespace between the name and the colon).
pub fn parse_header_line(line: &str) -> Option<(String, String)> {
    let line = line
        .strip_suffix("\r\n")
        .or_else(|| line.strip_suffix('\n'))
        .unwrap_or(line);
    let (name, value) = line.split_once(':')?;
    if !is_token(name) {
        return None;
    }
    let value = value.trim_matches([' ', '\t']);
    Some((name.to_ascii_lowercase(), value.to_string()))
}

/// Optional whitespace (RFC 9110 §5.6.3).
const OWS: [char; 2] = [' ', '\t'];

/// Parses a value with parameters (RFC 9110 §5.6.6), such as
/// `multipart/form-data; boundary="a b"; charset=UTF-8`, into the main value
/// (trimmed, case kept) and its parameters.
///
/// Parameter names are lower-cased; values keep their case. A value may be
/// a quoted-string, where `\` escapes the next character and `;` does not
/// end the value. Parameters without `=` or with an empty name are skipped.
pub fn parse_header_parameters(value: &str) -> (String, Params) {
    let (main, mut rest) = value.split_once(';').unwrap_or((value, ""));
    let mut params = Params::new();
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        if rest.is_empty() {
            break;
        }
        let name_end = rest.find(['=', ';']).unwrap_or(rest.len());
        let name = rest[..name_end].trim_matches(OWS).to_ascii_lowercase();
        rest = &rest[name_end..];
        let Some(after_eq) = rest.strip_prefix('=') else {
            // No '=': `rest` is empty or starts at the next ';'.
            continue;
        };
        let after_eq = after_eq.trim_start_matches(OWS);
        let param_value;
        if let Some(quoted) = after_eq.strip_prefix('"') {
            let (unquoted, after_quote) = take_quoted_string(quoted);
            param_value = unquoted;
            // Anything between the closing quote and the next ';' is ignored.
            rest = after_quote.find(';').map_or("", |i| &after_quote[i..]);
        } else {
            let end = after_eq.find(';').unwrap_or(after_eq.len());
            param_value = after_eq[..end].trim_end_matches(OWS).to_string();
            rest = &after_eq[end..];
        }
        if !name.is_empty() {
            params.push(name, param_value);
        }
    }
    (main.trim_matches(OWS).to_string(), params)
}

/// Reads a quoted-string body (after the opening `"`): returns the unescaped
/// content and what follows the closing quote. An unterminated string runs
/// to the end of the input.
fn take_quoted_string(input: &str) -> (String, &str) {
    let mut out = String::new();
    let mut chars = input.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (out, &input[i + 1..]),
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    out.push(escaped);
                }
            }
            _ => out.push(c),
        }
    }
    (out, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Input, expected main value or path, expected pairs.
    type Case = (
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
    );

    #[test]
    fn recognises_tokens() {
        let tokens = [
            "a",
            "Content-Type",
            "x-1.2_3",
            "!#$%&'*+-.^_`|~",
            "ABCxyz0189",
        ];
        let not_tokens = [
            "", " ", "a b", "a:b", "a\tb", "(a)", "a/b", "a;b", "a=b", "\"a\"", "é", "a\r", "{}",
            "a,b", "a@b", "a[b]", "a?b", "a\\b",
        ];
        for s in tokens {
            assert!(is_token(s), "{s:?}");
        }
        for s in not_tokens {
            assert!(!is_token(s), "{s:?}");
        }
    }

    #[test]
    fn header_value_refuses_cr_lf_and_nul_only() {
        let valid: [&[u8]; 6] = [
            b"",
            b"text/html",
            b"a\tb",
            b"caf\xc3\xa9",
            b"\x80\xff",
            b"\x01\x7f",
        ];
        let invalid: [&[u8]; 5] = [b"a\rb", b"a\nb", b"a\0b", b"x\r\nSet-Cookie: y", b"\n"];
        for v in valid {
            assert!(is_valid_header_value(v), "{v:?}");
        }
        for v in invalid {
            assert!(!is_valid_header_value(v), "{v:?}");
        }
    }

    #[test]
    fn parses_header_lines() {
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            ("Host: example.com", Some(("host", "example.com"))),
            (
                "Content-Type:text/plain",
                Some(("content-type", "text/plain")),
            ),
            ("X-A: \t padded \t ", Some(("x-a", "padded"))),
            ("X-Empty:", Some(("x-empty", ""))),
            ("X-Empty:   ", Some(("x-empty", ""))),
            ("X-Time: 12:30:00", Some(("x-time", "12:30:00"))),
            ("X-Inner: a  b", Some(("x-inner", "a  b"))),
            ("Host: h\r\n", Some(("host", "h"))),
            ("Host: h\n", Some(("host", "h"))),
            ("No colon here", None),
            ("", None),
            (": value", None),
            ("Host : h", None),
            (" Host: h", None),
            ("Bad Name: v", None),
            ("Bad\"Name: v", None),
        ];
        for (line, expected) in cases {
            let got = parse_header_line(line);
            let got = got.as_ref().map(|(n, v)| (n.as_str(), v.as_str()));
            assert_eq!(got, *expected, "{line:?}");
        }
    }

    #[test]
    fn parses_header_parameters() {
        let cases: &[Case] = &[
            ("text/html", "text/html", &[]),
            ("  Text/HTML  ", "Text/HTML", &[]),
            ("", "", &[]),
            (
                "multipart/form-data; boundary=\"a b\"; charset=UTF-8",
                "multipart/form-data",
                &[("boundary", "a b"), ("charset", "UTF-8")],
            ),
            (
                "text/plain;charset=utf-8",
                "text/plain",
                &[("charset", "utf-8")],
            ),
            (
                "text/plain; CharSet=UTF-8",
                "text/plain",
                &[("charset", "UTF-8")],
            ),
            ("a; x = 1 ; y=2", "a", &[("x", "1"), ("y", "2")]),
            ("a; q=\"x;y\"; z=1", "a", &[("q", "x;y"), ("z", "1")]),
            ("a; q=\"say \\\"hi\\\"\"", "a", &[("q", "say \"hi\"")]),
            ("a; q=\"back\\\\slash\"", "a", &[("q", "back\\slash")]),
            ("a; q=\"\"", "a", &[("q", "")]),
            (
                "a; q=\"unterminated; x=1",
                "a",
                &[("q", "unterminated; x=1")],
            ),
            ("a; q=\"x\"junk; z=1", "a", &[("q", "x"), ("z", "1")]),
            ("a; flag; x=1", "a", &[("x", "1")]),
            ("a; =v; x=1", "a", &[("x", "1")]),
            ("a;;; x=1;", "a", &[("x", "1")]),
            ("a; x=", "a", &[("x", "")]),
            ("a; x=1; x=2", "a", &[("x", "1"), ("x", "2")]),
            (
                "form-data; name=\"file\"; filename=\"r\u{e9}sum\u{e9}.pdf\"",
                "form-data",
                &[("name", "file"), ("filename", "r\u{e9}sum\u{e9}.pdf")],
            ),
        ];
        for (input, main, params) in cases {
            let (got_main, got_params) = parse_header_parameters(input);
            assert_eq!(got_main, *main, "{input:?}");
            assert_eq!(got_params.iter().collect::<Vec<_>>(), *params, "{input:?}");
        }
    }
}
