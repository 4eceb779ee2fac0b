//! Query strings and `application/x-www-form-urlencoded` bodies.

use super::params::Params;
use super::percent::decode_form_component;

/// Parses `a=1&b=2&a=3` into [`Params`], keeping repeated keys in order.
///
/// Names and values are form-decoded (`+` is a space, then `%XX`). A pair
/// without `=` has an empty value, empty pairs (`a=1&&b=2`) are skipped, and
/// a leading `?` is ignored. Only the first `=` of a pair splits it.
pub fn parse_query(query: &str) -> Params {
    let query = query.strip_prefix('?').unwrap_or(query);
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_form_component(key), decode_form_component(value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &Params) -> Vec<(&str, &str)> {
        p.iter().collect()
    }

    #[test]
    fn keeps_repeated_query_keys_in_order() {
        let p = parse_query("a=1&b=2&a=3");
        assert_eq!(pairs(&p), [("a", "1"), ("b", "2"), ("a", "3")]);
        assert_eq!(p.get_all("a").collect::<Vec<_>>(), ["1", "3"]);
    }

    #[test]
    fn parses_query_edge_cases() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("", &[]),
            ("?", &[]),
            ("&&", &[]),
            ("?a=1", &[("a", "1")]),
            ("a=1&&b=2", &[("a", "1"), ("b", "2")]),
            ("a=1&", &[("a", "1")]),
            ("&a=1", &[("a", "1")]),
            ("k", &[("k", "")]),
            ("k=", &[("k", "")]),
            ("=v", &[("", "v")]),
            ("flag&x=1", &[("flag", ""), ("x", "1")]),
            ("a=b=c", &[("a", "b=c")]),
            ("q=hello+world", &[("q", "hello world")]),
            ("my+key=1", &[("my key", "1")]),
            ("q=a%2Bb", &[("q", "a+b")]),
            ("q=x%3Dy%26z=1", &[("q", "x=y&z=1")]),
            ("k%3D1=v%26w", &[("k=1", "v&w")]),
            ("p=%2Fetc%2Fpasswd", &[("p", "/etc/passwd")]),
            ("n=%C3%A9", &[("n", "é")]),
            ("bad=%zz%", &[("bad", "%zz%")]),
        ];
        for (input, expected) in cases {
            assert_eq!(pairs(&parse_query(input)), *expected, "{input:?}");
        }
    }
}
