//! Error answers: a short text body naming the status.

use uhttp::Response;

/// `status` with a one-line text body, e.g. `404 Not Found`.
pub fn error_response(status: u16) -> Response {
    let reason = uhttp::h1::encode::reason(status);
    Response::new(status).body(format!("{status} {reason}\n"))
}

/// `status` with a JSON body `{"error": message}`.
pub fn json_error(status: u16, message: &str) -> Response {
    Response::new(status).body(serde_json::json!({ "error": message }))
}
