//! The `Cookie` request header (RFC 6265 §5.4).

use super::params::Params;

/// Parses a `Cookie` header (`a=1; b=2`) into [`Params`], in order.
///
/// Names and values are trimmed of whitespace and a value wrapped in double
/// quotes is unwrapped. Items without `=` or with an empty name are skipped.
/// Values are returned as sent: not percent-decoded.
pub fn parse_cookies(header: &str) -> Params {
    header
        .split(';')
        .filter_map(|item| {
            let (name, value) = item.split_once('=')?;
            let name = name.trim();
            if name.is_empty() {
                return None;
            }
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            Some((name.to_string(), value.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cookie_header_cases() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("", &[]),
            ("   ", &[]),
            ("a=1", &[("a", "1")]),
            ("a=1; b=2", &[("a", "1"), ("b", "2")]),
            ("a=1;b=2", &[("a", "1"), ("b", "2")]),
            ("  a = 1 ;  b=2  ;", &[("a", "1"), ("b", "2")]),
            ("\ta=1;\tb=2", &[("a", "1"), ("b", "2")]),
            ("a=1; a=2", &[("a", "1"), ("a", "2")]),
            ("id=\"quoted\"", &[("id", "quoted")]),
            ("id=\"\"", &[("id", "")]),
            ("id=\"", &[("id", "\"")]),
            ("id=\"half", &[("id", "\"half")]),
            ("empty=", &[("empty", "")]),
            ("empty=; b=2", &[("empty", ""), ("b", "2")]),
            ("noequals; b=2", &[("b", "2")]),
            ("=v; b=2", &[("b", "2")]),
            (" =v", &[]),
            (";;a=1;;", &[("a", "1")]),
            ("t=a=b", &[("t", "a=b")]),
            ("enc=a%20b", &[("enc", "a%20b")]),
            ("plus=a+b", &[("plus", "a+b")]),
        ];
        for (input, expected) in cases {
            let parsed = parse_cookies(input);
            assert_eq!(parsed.iter().collect::<Vec<_>>(), *expected, "{input:?}");
        }
    }
}
