//! `/rpc`: echoes the request back as JSON.
//!
//! The echo is serialised straight from the request into the response's
//! buffer: no `serde_json::Value` tree, no copy of a header, query pair
//! or address. Keys come out in the order the `Value` maps always gave
//! (sorted; repeated header names joined with `", "`, repeated query and
//! cookie keys as arrays), so the answer's bytes did not change.

use std::fmt::Display;

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;
use uhttp::util::{Params, parse_query};
use uhttp::{Body, Headers, Request, Response};

use crate::errors::json_error;

/// Room reserved for the echo besides the header bytes it repeats.
const ECHO_OVERHEAD: usize = 256;

/// The echo of `req`, whose body is `body`.
pub fn echo(req: &Request, body: &[u8]) -> Response {
    let mut echo = Echo {
        req,
        cookies: req.cookies(),
        body: None,
    };
    let mut capacity = ECHO_OVERHEAD + req.url().len() + header_bytes(req.headers());
    if req.has_body() || !body.is_empty() {
        let content_type = req.content_type().unwrap_or_default();
        let parsed = if is_json(&content_type) {
            match serde_json::from_slice::<Value>(body) {
                Ok(value) => Parsed::Json(value),
                Err(e) => return json_error(400, &format!("invalid JSON body: {e}")),
            }
        } else if content_type == "application/x-www-form-urlencoded" {
            Parsed::Form(parse_query(&String::from_utf8_lossy(body)))
        } else {
            Parsed::Neither
        };
        // Twice: the text, and the parsed JSON or form.
        capacity += 2 * body.len();
        echo.body = Some(EchoBody {
            text: std::str::from_utf8(body).ok(),
            length: body.len(),
            parsed,
        });
    }
    let mut json = Vec::with_capacity(capacity);
    // Writing into a `Vec` cannot fail, and every key is a string.
    if let Err(e) = serde_json::to_writer(&mut json, &echo) {
        return json_error(500, &format!("echo not serialised: {e}"));
    }
    // The echo holds the request's cookies and credentials: never cached.
    Response::new(200)
        .header("Cache-Control", "no-store")
        .body(Body::Json(json))
}

/// `application/json` and `+json` types (`application/ld+json`, ...).
fn is_json(media_type: &str) -> bool {
    media_type == "application/json"
        || (media_type.starts_with("application/") && media_type.ends_with("+json"))
}

/// Bytes of the header names and values, which the echo repeats.
fn header_bytes(headers: &Headers) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.len() + value.len() + 8)
        .sum()
}

/// What the echo says of a request.
struct Echo<'a> {
    req: &'a Request,
    cookies: Params,
    body: Option<EchoBody<'a>>,
}

/// What the echo says of a request body.
struct EchoBody<'a> {
    /// The body, if it is UTF-8.
    text: Option<&'a str>,
    length: usize,
    parsed: Parsed,
}

/// A body read as its content type says.
enum Parsed {
    Json(Value),
    Form(Params),
    Neither,
}

impl Serialize for Echo<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let req = self.req;
        let mut map = serializer.serialize_map(None)?;
        // Sorted, as a `serde_json::Map` orders them.
        map.serialize_entry("cookies", &Grouped::arrays(self.cookies.iter()))?;
        if let Some(body) = &self.body {
            if let Some(text) = body.text {
                map.serialize_entry("data", text)?;
            }
            if let Parsed::Form(form) = &body.parsed {
                map.serialize_entry("form", &Grouped::arrays(form.iter()))?;
            }
        }
        map.serialize_entry("headers", &Grouped::joined(req.headers().iter()))?;
        if let Some(body) = &self.body {
            if let Parsed::Json(value) = &body.parsed {
                map.serialize_entry("json", value)?;
            }
            map.serialize_entry("length", &body.length)?;
        }
        map.serialize_entry("method", req.method())?;
        map.serialize_entry("path", req.path())?;
        map.serialize_entry("query", &Grouped::arrays(req.query().iter()))?;
        // A peer of the Unix socket (`--unix`) has no IP: `unix:`.
        match req.remote_address() {
            ip if ip == uhttp::UNIX_SOCKET_ADDR.ip() => {
                map.serialize_entry("remote_addr", "unix:")?
            }
            ip => map.serialize_entry("remote_addr", &AsString(ip))?,
        }
        map.end()
    }
}

/// A value serialised as the string its `Display` writes, without
/// allocating it first.
struct AsString<T>(T);

impl<T: Display> Serialize for AsString<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// Key/value pairs as a JSON object with sorted keys; the values of a
/// repeated key, in their order, become one value.
struct Grouped<'a> {
    /// Sorted by key (a stable sort: repeated keys keep their order).
    pairs: Vec<(&'a str, &'a str)>,
    /// Values of a repeated key: joined with `", "` (headers, RFC 9110
    /// §5.3) rather than an array (query, form, cookies).
    join: bool,
}

impl<'a> Grouped<'a> {
    fn new(pairs: impl Iterator<Item = (&'a str, &'a str)>, join: bool) -> Self {
        let mut pairs: Vec<_> = pairs.collect();
        pairs.sort_by_key(|&(key, _)| key);
        Grouped { pairs, join }
    }

    fn arrays(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Self {
        Grouped::new(pairs, false)
    }

    fn joined(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Self {
        Grouped::new(pairs, true)
    }
}

impl Serialize for Grouped<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for group in self.pairs.chunk_by(|a, b| a.0 == b.0) {
            let key = group[0].0;
            match group {
                [(_, value)] => map.serialize_entry(key, value)?,
                _ if self.join => map.serialize_entry(key, &Joined(group))?,
                _ => map.serialize_entry(key, &Values(group))?,
            }
        }
        map.end()
    }
}

/// The values of pairs as one string, `", "` between them.
struct Joined<'a>(&'a [(&'a str, &'a str)]);

impl Display for Joined<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (_, value)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(value)?;
        }
        Ok(())
    }
}

impl Serialize for Joined<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The values of pairs as a JSON array.
struct Values<'a>(&'a [(&'a str, &'a str)]);

impl Serialize for Values<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for (_, value) in self.0 {
            seq.serialize_element(value)?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::{Grouped, is_json};
    use uhttp::Headers;
    use uhttp::util::Params;

    #[test]
    fn recognises_json_media_types() {
        assert!(is_json("application/json"));
        assert!(is_json("application/problem+json"));
        assert!(!is_json("text/json-ish"));
        assert!(!is_json("application/x-www-form-urlencoded"));
    }

    /// Keys and values with 2-, 3- and 4-byte characters, repeated and
    /// interleaved, empty.
    const PAIRS: &[(&str, &str)] = &[
        ("b", "1"),
        ("é", "ü"),
        ("a", ""),
        ("b", "€ 2"),
        ("x-😀", "\"quoted\" \\ \u{1}"),
        ("é", "3"),
        ("b", "😀"),
        ("", "empty key"),
    ];

    #[test]
    fn grouped_pairs_serialise_as_the_params_map_does() {
        for n in 0..=PAIRS.len() {
            let params: Params = PAIRS[..n]
                .iter()
                .map(|&(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            let grouped = serde_json::to_string(&Grouped::arrays(params.iter())).unwrap();
            assert_eq!(grouped, params.to_json().to_string(), "{n} pairs");
        }
    }

    #[test]
    fn grouped_headers_serialise_as_the_headers_map_does() {
        for n in 0..=PAIRS.len() {
            let mut headers = Headers::new();
            for &(name, value) in &PAIRS[..n] {
                headers.push(name, value);
            }
            let grouped = serde_json::to_string(&Grouped::joined(headers.iter())).unwrap();
            assert_eq!(grouped, headers.to_json().to_string(), "{n} headers");
        }
    }
}
