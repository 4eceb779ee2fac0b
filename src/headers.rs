//! [`Headers`]: a request's header lines, looked up case-insensitively.

use std::fmt;

/// Header lines in the order received. Names are stored lower-cased;
/// lookups ignore case. Repeated names are kept.
///
/// All names and values live back to back in one string, and each line
/// is a pair of ranges into it, so a parsed head costs two allocations
/// whatever the number of lines.
#[derive(Clone, Default)]
pub struct Headers {
    /// Any text stashed by [`HeadersBuilder::stash`], then the names and
    /// values.
    text: String,
    lines: Vec<Line>,
}

/// One line: the name is `text[start..colon]`, the value
/// `text[colon..end]` (no colon is stored).
#[derive(Clone, Copy)]
struct Line {
    start: usize,
    colon: usize,
    end: usize,
}

/// Where [`HeadersBuilder::stash`] put a piece of text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    start: usize,
    end: usize,
}

/// Builds the [`Headers`] of a parsed head from raw lines, checking that
/// the text is UTF-8 once for the whole head rather than once per value.
pub(crate) struct HeadersBuilder {
    text: Vec<u8>,
    lines: Vec<Line>,
}

impl HeadersBuilder {
    /// Room for `lines` lines and `bytes` bytes of names, values and
    /// stashed text.
    pub(crate) fn with_capacity(lines: usize, bytes: usize) -> Self {
        HeadersBuilder {
            text: Vec::with_capacity(bytes),
            lines: Vec::with_capacity(lines),
        }
    }

    /// Stores `parts`, joined, with the lines but outside any of them: a
    /// parsed head keeps its request target here, so that it shares the
    /// allocation. Stashing comes before the first line.
    pub(crate) fn stash(&mut self, parts: &[&str]) -> Span {
        debug_assert!(self.lines.is_empty(), "stash before the lines");
        let start = self.text.len();
        for part in parts {
            self.text.extend_from_slice(part.as_bytes());
        }
        Span {
            start,
            end: self.text.len(),
        }
    }

    /// Appends a line; the name is lower-cased, the value taken as sent.
    pub(crate) fn push(&mut self, name: &str, value: &[u8]) {
        let start = self.text.len();
        self.text
            .extend(name.bytes().map(|b| b.to_ascii_lowercase()));
        let colon = self.text.len();
        self.text.extend_from_slice(value);
        self.lines.push(Line {
            start,
            colon,
            end: self.text.len(),
        });
    }

    /// The headers; values that are not UTF-8 (obs-text) get U+FFFD for
    /// each bad sequence.
    pub(crate) fn finish(self) -> Headers {
        let bytes = match String::from_utf8(self.text) {
            Ok(text) => {
                // Names and stashed text are `&str`s and every value sits
                // between ASCII names, so each range is on char boundaries.
                return Headers {
                    text,
                    lines: self.lines,
                };
            }
            Err(e) => e.into_bytes(),
        };
        // Spans handed out by `stash` stay valid: stashed text comes first
        // and was valid already; only the lines after it move.
        let stashed = self.lines.first().map_or(bytes.len(), |l| l.start);
        let mut headers = Headers {
            text: String::from_utf8_lossy(&bytes[..stashed]).into_owned(),
            lines: Vec::with_capacity(self.lines.len()),
        };
        for l in &self.lines {
            headers.push_str(
                &String::from_utf8_lossy(&bytes[l.start..l.colon]),
                &String::from_utf8_lossy(&bytes[l.colon..l.end]),
            );
        }
        headers
    }
}

impl Headers {
    /// An empty set of headers.
    pub fn new() -> Self {
        Headers::default()
    }

    /// Appends a line; the name is lower-cased.
    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.push_str(name, &value.into());
    }

    fn push_str(&mut self, name: &str, value: &str) {
        let start = self.text.len();
        self.text.push_str(name);
        self.text[start..].make_ascii_lowercase();
        let colon = self.text.len();
        self.text.push_str(value);
        self.lines.push(Line {
            start,
            colon,
            end: self.text.len(),
        });
    }

    /// Text stored by [`HeadersBuilder::stash`], or a value's
    /// [`Headers::span_of`].
    pub(crate) fn text(&self, span: Span) -> &str {
        &self.text[span.start..span.end]
    }

    /// Where the first value of `name` (any case) is stored.
    pub(crate) fn span_of(&self, name: &str) -> Option<Span> {
        self.lines
            .iter()
            .find(|l| self.is_named(l, name))
            .map(|l| Span {
                start: l.colon,
                end: l.end,
            })
    }

    /// Whether `line` is called `name` (any case). Stored names are
    /// lower-case already, so only `name` is folded; bytes, not `str`, so
    /// that no char boundaries are checked.
    fn is_named(&self, line: &Line, name: &str) -> bool {
        let stored = &self.text.as_bytes()[line.start..line.colon];
        stored.len() == name.len()
            && stored
                .iter()
                .zip(name.as_bytes())
                .all(|(&s, &n)| s == n.to_ascii_lowercase())
    }

    fn name_of(&self, line: &Line) -> &str {
        &self.text[line.start..line.colon]
    }

    fn value_of(&self, line: &Line) -> &str {
        &self.text[line.colon..line.end]
    }

    /// The first value of `name` (any case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.lines
            .iter()
            .find(|l| self.is_named(l, name))
            .map(|l| self.value_of(l))
    }

    /// Every value of `name` (any case), in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.lines
            .iter()
            .filter(move |l| self.is_named(l, name))
            .map(|l| self.value_of(l))
    }

    /// Whether `name` (any case) is present.
    pub fn contains(&self, name: &str) -> bool {
        self.lines.iter().any(|l| self.is_named(l, name))
    }

    /// Whether the comma-separated list in `name` holds `token` (any case),
    /// as in `Connection: keep-alive, Upgrade`.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        for value in self.get_all(name) {
            for item in value.split(',') {
                if item.trim().eq_ignore_ascii_case(token) {
                    return true;
                }
            }
        }
        false
    }

    /// All lines as `(lower-case name, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.lines
            .iter()
            .map(|l| (self.name_of(l), self.value_of(l)))
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether there are no lines.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The headers as a JSON object: lower-case name to value, with the
    /// values of a repeated name joined by `", "` (RFC 9110 §5.3).
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for (name, value) in self.iter() {
            match map.get_mut(name) {
                Some(serde_json::Value::String(s)) => {
                    s.push_str(", ");
                    s.push_str(value);
                }
                _ => {
                    map.insert(name.to_owned(), serde_json::Value::String(value.to_owned()));
                }
            }
        }
        serde_json::Value::Object(map)
    }
}

/// Equal when the lines are, whatever else shares the storage.
impl PartialEq for Headers {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Headers {}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_names_in_any_case_and_keeps_repeats() {
        let mut h = Headers::new();
        h.push("Content-Type", "text/plain");
        h.push("X-A", "1");
        h.push("x-a", "2");
        assert_eq!(h.get("content-type"), Some("text/plain"));
        assert_eq!(h.get("CONTENT-TYPE"), Some("text/plain"));
        assert_eq!(h.get_all("X-a").collect::<Vec<_>>(), ["1", "2"]);
        assert_eq!(h.to_json()["x-a"], "1, 2");
    }

    #[test]
    fn finds_tokens_in_comma_lists() {
        let mut h = Headers::new();
        h.push("Connection", "Keep-Alive, Upgrade");
        assert!(h.has_token("connection", "upgrade"));
        assert!(h.has_token("connection", "keep-alive"));
        assert!(!h.has_token("connection", "close"));
    }

    #[test]
    fn stashed_text_is_no_line_and_does_not_change_equality() {
        let mut builder = HeadersBuilder::with_capacity(2, 0);
        let span = builder.stash(&["/a", "?b"]);
        builder.push("Host", b"h");
        let stashed = builder.finish();
        let value = stashed.span_of("HOST").unwrap();
        let mut plain = Headers::new();
        plain.push("host", "h");
        assert_eq!(stashed.text(span), "/a?b");
        assert_eq!(stashed.text(value), "h");
        assert_eq!(stashed.iter().collect::<Vec<_>>(), [("host", "h")]);
        assert_eq!(stashed, plain);
        assert_eq!(stashed.span_of("x"), None);
    }

    #[test]
    fn builder_replaces_values_that_are_not_utf8_and_keeps_the_stash() {
        let mut builder = HeadersBuilder::with_capacity(3, 0);
        let span = builder.stash(&["/\u{e9}"]);
        builder.push("X-A", b"caf\xe9");
        builder.push("X-B", b"caf\xc3\xa9");
        builder.push("X-C", b"\xff\xfe ok");
        let h = builder.finish();
        assert_eq!(h.text(span), "/\u{e9}");
        assert_eq!(
            h.iter().collect::<Vec<_>>(),
            [
                ("x-a", "caf\u{fffd}"),
                ("x-b", "caf\u{e9}"),
                ("x-c", "\u{fffd}\u{fffd} ok")
            ]
        );
    }
}
