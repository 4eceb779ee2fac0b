//! [`Headers`]: a request's header lines, looked up case-insensitively.

/// Header lines in the order received. Names are stored lower-cased;
/// lookups ignore case. Repeated names are kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    lines: Vec<(String, String)>,
}

impl Headers {
    /// An empty set of headers.
    pub fn new() -> Self {
        Headers::default()
    }

    /// Appends a line; the name is lower-cased.
    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.lines.push((name.to_ascii_lowercase(), value.into()));
    }

    /// The first value of `name` (any case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.lines
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name` (any case), in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.lines
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
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
        self.lines.iter().map(|(n, v)| (n.as_str(), v.as_str()))
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
        for (name, value) in &self.lines {
            match map.get_mut(name) {
                Some(serde_json::Value::String(s)) => {
                    s.push_str(", ");
                    s.push_str(value);
                }
                _ => {
                    map.insert(name.clone(), serde_json::Value::String(value.clone()));
                }
            }
        }
        serde_json::Value::Object(map)
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
}
