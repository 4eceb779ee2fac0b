//! The uHTTP Server usage example: an HTML page at `/`, a JSON echo at
//! `/rpc`, 404 for anything else.
//!
//! ```text
//! cargo run --example hello -- 8080
//! curl -d '{"a": 1}' -H 'Content-Type: application/json' localhost:8080/rpc
//! ```

use serde_json::json;
use uhttp::{Event, HttpServer};

fn main() -> Result<(), uhttp::Error> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let mut server = HttpServer::bind(("127.0.0.1", port))?;
    println!("listening on http://{}", server.local_addr());
    loop {
        let Some(Event::Request(req)) = server.wait(None)? else {
            continue;
        };
        let result = match req.path() {
            "/" => req.send(
                uhttp::Response::new(200)
                    .header("Content-Type", "text/html; charset=utf-8")
                    .body("<!doctype html><h1>Hello from uhttp</h1>"),
            ),
            "/rpc" => {
                let body = match req.json() {
                    Ok(value) => value,
                    Err(_) => json!(String::from_utf8_lossy(req.data())),
                };
                req.respond_json(
                    200,
                    &json!({
                        "method": req.method(),
                        "path": req.path(),
                        "query": req.query().to_json(),
                        "data": body,
                    }),
                )
            }
            _ => req.respond(404, "Not Found\n"),
        };
        if let Err(e) = result {
            eprintln!("cannot answer {}: {e}", req.url());
        }
    }
}
