//! Request targets: path and query.

use super::params::Params;
use super::percent::decode_percent_encoding;
use super::query::parse_query;

/// Splits a request target into its raw path and raw query (without `?`).
///
/// A `#fragment` is dropped. The query is `None` when there is no `?`, and
/// `Some("")` for a bare trailing `?`.
pub fn split_url(url: &str) -> (&str, Option<&str>) {
    // One pass to the end of the path: request targets are short, and
    // this runs for every request.
    let Some(end) = url.bytes().position(|b| b == b'?' || b == b'#') else {
        return (url, None);
    };
    let (path, rest) = url.split_at(end);
    match rest.strip_prefix('?') {
        Some(query) => (path, Some(query.split_once('#').map_or(query, |(q, _)| q))),
        None => (path, None),
    }
}

/// The percent-decoded path and the parsed query of a request target.
///
/// `%2F` in the path is decoded to `/`; callers that map paths to files must
/// resolve the decoded path (and refuse `..`) themselves.
pub fn parse_url(url: &str) -> (String, Params) {
    let (path, query) = split_url(url);
    let params = query.map(parse_query).unwrap_or_default();
    (decode_percent_encoding(path), params)
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
    fn splits_path_query_and_drops_fragment() {
        let cases: &[(&str, (&str, Option<&str>))] = &[
            ("", ("", None)),
            ("/", ("/", None)),
            ("/a/b", ("/a/b", None)),
            ("/a?x=1", ("/a", Some("x=1"))),
            ("/a?", ("/a", Some(""))),
            ("/a#frag", ("/a", None)),
            ("/a?x=1#frag", ("/a", Some("x=1"))),
            ("/a#frag?x=1", ("/a", None)),
            ("/a?x=1?y=2", ("/a", Some("x=1?y=2"))),
            ("?x", ("", Some("x"))),
            ("/a%3Fb?c", ("/a%3Fb", Some("c"))),
            ("http://h/p?q", ("http://h/p", Some("q"))),
        ];
        for (input, expected) in cases {
            assert_eq!(split_url(input), *expected, "{input:?}");
        }
    }

    #[test]
    fn parse_url_decodes_path_and_parses_query() {
        let cases: &[Case] = &[
            ("/", "/", &[]),
            ("/a%20b/c%2Fd", "/a b/c/d", &[]),
            ("/a+b", "/a+b", &[]),
            ("/s?q=a+b&q=c", "/s", &[("q", "a b"), ("q", "c")]),
            ("/%C3%A9?x=%C3%A9#top", "/é", &[("x", "é")]),
            ("/p#x=1", "/p", &[]),
            ("/%zz?", "/%zz", &[]),
        ];
        for (input, path, query) in cases {
            let (got_path, got_query) = parse_url(input);
            assert_eq!(got_path, *path, "{input:?}");
            assert_eq!(got_query.iter().collect::<Vec<_>>(), *query, "{input:?}");
        }
    }
}
