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
    /// Names and values, plus any text stored with [`Headers::stash`].
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

/// Where [`Headers::stash`] put a piece of text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    start: usize,
    end: usize,
}

impl Headers {
    /// An empty set of headers.
    pub fn new() -> Self {
        Headers::default()
    }

    /// Room for `lines` lines and `bytes` bytes of names, values and
    /// stashed text.
    pub(crate) fn with_capacity(lines: usize, bytes: usize) -> Self {
        Headers {
            text: String::with_capacity(bytes),
            lines: Vec::with_capacity(lines),
        }
    }

    /// Appends a line; the name is lower-cased.
    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.push_str(name, &value.into());
    }

    /// [`Headers::push`] without taking ownership of the value.
    pub(crate) fn push_str(&mut self, name: &str, value: &str) {
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

    /// Stores `parts`, joined, with the lines but outside any of them: a
    /// parsed head keeps its request target here, so that it shares the
    /// allocation.
    pub(crate) fn stash(&mut self, parts: &[&str]) -> Span {
        let start = self.text.len();
        for part in parts {
            self.text.push_str(part);
        }
        Span {
            start,
            end: self.text.len(),
        }
    }

    /// Text stored by [`Headers::stash`], or a value's [`Headers::span_of`].
    pub(crate) fn text(&self, span: Span) -> &str {
        &self.text[span.start..span.end]
    }

    /// Where the first value of `name` (any case) is stored.
    pub(crate) fn span_of(&self, name: &str) -> Option<Span> {
        self.lines
            .iter()
            .find(|l| self.name_of(l).eq_ignore_ascii_case(name))
            .map(|l| Span {
                start: l.colon,
                end: l.end,
            })
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
            .find(|l| self.name_of(l).eq_ignore_ascii_case(name))
            .map(|l| self.value_of(l))
    }

    /// Every value of `name` (any case), in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.lines
            .iter()
            .filter(move |l| self.name_of(l).eq_ignore_ascii_case(name))
            .map(|l| self.value_of(l))
    }

    /// Whether `name` (any case) is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Whether the comma-separated list in `name` holds `token` (any case),
    /// as in `Connection: keep-alive, Upgrade`.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.get_all(name)
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
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
        let mut stashed = Headers::with_capacity(2, 0);
        let span = stashed.stash(&["/a", "?b"]);
        stashed.push("Host", "h");
        let value = stashed.span_of("HOST").unwrap();
        let mut plain = Headers::new();
        plain.push("host", "h");
        assert_eq!(stashed.text(span), "/a?b");
        assert_eq!(stashed.text(value), "h");
        assert_eq!(stashed.iter().collect::<Vec<_>>(), [("host", "h")]);
        assert_eq!(stashed, plain);
        assert_eq!(stashed.span_of("x"), None);
    }
}
