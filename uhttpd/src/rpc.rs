//! `/rpc`: echoes the request back as JSON.

use serde_json::{Map, Value, json};
use uhttp::Request;
use uhttp::Response;
use uhttp::util::parse_query;

use crate::errors::json_error;

/// The echo of `req`, whose body is `body`.
pub fn echo(req: &Request, body: &[u8]) -> Response {
    let mut object = Map::new();
    object.insert("method".into(), json!(req.method()));
    object.insert("path".into(), json!(req.path()));
    object.insert("query".into(), req.query().to_json());
    object.insert("headers".into(), req.headers().to_json());
    object.insert("cookies".into(), req.cookies().to_json());
    // A peer of the Unix socket (`--unix`) has no IP: `unix:`.
    let remote = match req.remote_address() {
        ip if ip == uhttp::UNIX_SOCKET_ADDR.ip() => "unix:".to_owned(),
        ip => ip.to_string(),
    };
    object.insert("remote_addr".into(), json!(remote));
    if req.has_body() || !body.is_empty() {
        let content_type = req.content_type().unwrap_or_default();
        if is_json(&content_type) {
            match serde_json::from_slice::<Value>(body) {
                Ok(value) => {
                    object.insert("json".into(), value);
                }
                Err(e) => return json_error(400, &format!("invalid JSON body: {e}")),
            }
        } else if content_type == "application/x-www-form-urlencoded" {
            let form = parse_query(&String::from_utf8_lossy(body));
            object.insert("form".into(), form.to_json());
        }
        if let Ok(text) = std::str::from_utf8(body) {
            object.insert("data".into(), json!(text));
        }
        object.insert("length".into(), json!(body.len()));
    }
    // The echo holds the request's cookies and credentials: never cached.
    Response::new(200)
        .header("Cache-Control", "no-store")
        .body(Value::Object(object))
}

/// `application/json` and `+json` types (`application/ld+json`, ...).
fn is_json(media_type: &str) -> bool {
    media_type == "application/json"
        || (media_type.starts_with("application/") && media_type.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn recognises_json_media_types() {
        assert!(is_json("application/json"));
        assert!(is_json("application/problem+json"));
        assert!(!is_json("text/json-ish"));
        assert!(!is_json("application/x-www-form-urlencoded"));
    }
}
