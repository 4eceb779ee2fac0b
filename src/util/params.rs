//! [`Params`]: an ordered multimap of string pairs (query, form, cookies).

/// Ordered key/value pairs as they appeared on the wire.
///
/// Insertion order is kept and repeated keys are not merged, so
/// `a=1&b=2&a=3` keeps both values of `a`. Lookups are exact and
/// case-sensitive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// An empty set of pairs.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a pair, keeping any earlier pair with the same key.
    pub fn push(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.pairs.push((key.into(), value.into()));
    }

    /// The first value for `key`, if any.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value for `key`, in order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether at least one pair has this key.
    pub fn contains_key(&self, key: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == key)
    }

    /// All pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The number of pairs (repeated keys counted each time).
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// A JSON object: each key maps to its string value, or to an array of
    /// its values (in order) when the key repeats. Key order is that of
    /// `serde_json::Map`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{Map, Value};
        let mut map = Map::new();
        for (key, value) in &self.pairs {
            let value = Value::String(value.clone());
            match map.get_mut(key) {
                None => {
                    map.insert(key.clone(), value);
                }
                Some(Value::Array(values)) => values.push(value),
                Some(existing) => {
                    let first = existing.take();
                    *existing = Value::Array(vec![first, value]);
                }
            }
        }
        Value::Object(map)
    }
}

impl FromIterator<(String, String)> for Params {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        Self {
            pairs: iter.into_iter().collect(),
        }
    }
}

impl<'a> IntoIterator for &'a Params {
    type Item = (&'a str, &'a str);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, String)>,
        fn(&'a (String, String)) -> (&'a str, &'a str),
    >;

    fn into_iter(self) -> Self::IntoIter {
        fn as_strs(pair: &(String, String)) -> (&str, &str) {
            (pair.0.as_str(), pair.1.as_str())
        }
        self.pairs.iter().map(as_strs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn get_returns_first_value_and_get_all_keeps_order() {
        let p = params(&[("a", "1"), ("b", "2"), ("a", "3")]);
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get_all("a").collect::<Vec<_>>(), ["1", "3"]);
        assert_eq!(p.get("b"), Some("2"));
        assert_eq!(p.get("c"), None);
        assert_eq!(p.get_all("c").count(), 0);
        assert_eq!(p.len(), 3);
        assert!(!p.is_empty());
    }

    #[test]
    fn lookups_are_case_sensitive() {
        let p = params(&[("Key", "v")]);
        assert!(p.contains_key("Key"));
        assert!(!p.contains_key("key"));
        assert_eq!(p.get("KEY"), None);
    }

    #[test]
    fn iterates_in_insertion_order() {
        let mut p = Params::new();
        assert!(p.is_empty());
        p.push("z", "1");
        p.push(String::from("a"), "2");
        p.push("z", String::from("3"));
        let via_iter: Vec<_> = p.iter().collect();
        let via_ref: Vec<_> = (&p).into_iter().collect();
        assert_eq!(via_iter, [("z", "1"), ("a", "2"), ("z", "3")]);
        assert_eq!(via_iter, via_ref);
        let mut n = 0;
        for (_k, _v) in &p {
            n += 1;
        }
        assert_eq!(n, 3);
    }

    #[test]
    fn to_json_turns_repeated_keys_into_arrays_in_order() {
        let cases: &[(&[(&str, &str)], serde_json::Value)] = &[
            (&[], json!({})),
            (&[("a", "1")], json!({"a": "1"})),
            (&[("a", "1"), ("b", "")], json!({"a": "1", "b": ""})),
            (&[("a", "1"), ("a", "2")], json!({"a": ["1", "2"]})),
            (
                &[("a", "1"), ("b", "x"), ("a", "2"), ("a", "3")],
                json!({"a": ["1", "2", "3"], "b": "x"}),
            ),
        ];
        for (pairs, expected) in cases {
            assert_eq!(&params(pairs).to_json(), expected, "{pairs:?}");
        }
    }
}
