//! TechEmpower plaintext and JSON on astra (blocking hyper).

use astra::{Body, Request, Response, ResponseBuilder, Server};
use serde::Serialize;

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

fn respond(content_type: &str, body: Body) -> Response {
    // unwrap: the status and headers are valid.
    ResponseBuilder::new()
        .header("Server", "astra")
        .header("Content-Type", content_type)
        .body(body)
        .unwrap()
}

fn handle(req: Request) -> Response {
    match req.uri().path() {
        "/plaintext" => respond("text/plain", Body::new("Hello, World!")),
        "/json" => {
            let message = Message {
                message: "Hello, World!",
            };
            // unwrap: a struct of one string always serialises.
            respond(
                "application/json",
                Body::new(serde_json::to_vec(&message).unwrap()),
            )
        }
        _ => {
            // unwrap: the status and headers are valid.
            ResponseBuilder::new()
                .status(404)
                .header("Server", "astra")
                .body(Body::empty())
                .unwrap()
        }
    }
}

fn main() {
    let port = std::env::args().nth(1).unwrap_or_else(|| "8080".into());
    Server::bind(format!("127.0.0.1:{port}"))
        .serve(|req, _info| handle(req))
        .expect("server failed");
}
