//! TechEmpower plaintext and JSON on tiny_http (answered on one thread;
//! tiny_http reads connections on its own threads).

use serde::Serialize;
use tiny_http::{Header, Response, Server};

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

fn header(name: &str, value: &str) -> Header {
    // unwrap: the names and values below are ASCII.
    Header::from_bytes(name, value).unwrap()
}

fn main() {
    let port = std::env::args().nth(1).unwrap_or_else(|| "8080".into());
    let server = Server::http(format!("127.0.0.1:{port}")).expect("cannot listen");
    let server_header = header("Server", "tiny_http");
    let text = header("Content-Type", "text/plain");
    let json = header("Content-Type", "application/json");
    for request in server.incoming_requests() {
        let response = match request.url() {
            "/plaintext" => Response::from_data(&b"Hello, World!"[..]).with_header(text.clone()),
            "/json" => {
                let message = Message {
                    message: "Hello, World!",
                };
                // unwrap: a struct of one string always serialises.
                let body = serde_json::to_vec(&message).unwrap();
                Response::from_data(body).with_header(json.clone())
            }
            _ => Response::from_data(Vec::new()).with_status_code(404),
        };
        let _ = request.respond(response.with_header(server_header.clone()));
    }
}
