//! TechEmpower plaintext and JSON on uhttp: one thread, one poll loop.

use serde::Serialize;
use uhttp::{Config, Event, HttpServer, Response};

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

fn main() -> Result<(), uhttp::Error> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let mut config = Config::default();
    // wrk keeps its connections for the whole run.
    config.keep_alive_max_requests = usize::MAX;
    config.max_waiting_clients = 4096;
    let mut server = HttpServer::with_config(("127.0.0.1", port), config)?;
    loop {
        let Some(Event::Request(req)) = server.wait(None)? else {
            continue;
        };
        let response = match req.path() {
            "/plaintext" => Response::new(200)
                .header("Server", "uhttp")
                .header("Content-Type", "text/plain")
                .body("Hello, World!"),
            "/json" => {
                let body = serde_json::to_vec(&Message {
                    message: "Hello, World!",
                })
                .map_err(uhttp::Error::from)?;
                Response::new(200)
                    .header("Server", "uhttp")
                    .header("Content-Type", "application/json")
                    .body(body)
            }
            _ => Response::new(404).header("Server", "uhttp"),
        };
        // A peer gone before its answer is not an error of the server.
        let _ = req.send(response);
    }
}
