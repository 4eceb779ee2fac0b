//! Event mode: streams each `PUT`/`POST` body to a file (or, with
//! `?count`, only counts it as it streams by) and answers with the byte
//! count as JSON. Bodies are never held in memory whole.
//!
//! ```text
//! cargo run --example event_upload -- 8080 [DIR]
//! curl -T big.iso localhost:8080/big.iso          # saved as DIR/big.iso
//! curl -T big.iso 'localhost:8080/x?count'        # counted, not saved
//! ```

use std::path::{Path, PathBuf};

use serde_json::json;
use uhttp::{Config, Event, HttpServer, Request};

/// Where an upload goes: `DIR/NAME` for a plain file name, else nowhere.
fn target(dir: &Path, req: &Request) -> Option<PathBuf> {
    let name = req.path().strip_prefix('/')?;
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && !name.chars().any(char::is_control);
    plain.then(|| dir.join(name))
}

fn main() -> Result<(), uhttp::Error> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(8080);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| ".".into()));
    let mut config = Config::default();
    config.event_mode = true;
    config.max_content_length = 16 * 1024 * 1024 * 1024;
    let mut server = HttpServer::with_config(("127.0.0.1", port), config)?;
    println!("listening on http://{}", server.local_addr());
    loop {
        let Some(event) = server.wait(None)? else {
            continue;
        };
        let result = match event {
            Event::Request(req) if req.method() == "GET" => {
                req.respond(200, "PUT or POST a body to /NAME\n")
            }
            Event::Request(req) => {
                // A small body that arrived with its head: already here.
                match target(&dir, &req) {
                    Some(path) if !req.query().contains_key("count") => {
                        std::fs::write(&path, req.data())
                            .map_err(|source| uhttp::Error::File { path, source })
                            .and_then(|()| {
                                req.respond_json(201, &json!({"bytes": req.data().len()}))
                            })
                    }
                    _ => req.respond_json(200, &json!({"bytes": req.data().len()})),
                }
            }
            Event::Headers(req) => match (req.method(), target(&dir, &req)) {
                ("PUT" | "POST", _) if req.query().contains_key("count") => {
                    req.accept_body_streaming()
                }
                ("PUT" | "POST", Some(path)) => {
                    req.set_context(path.clone());
                    req.accept_body_to_file(path)
                }
                ("PUT" | "POST", None) => req.respond(400, "bad file name\n"),
                _ => req.respond(405, "PUT or POST only\n"),
            },
            Event::Data(req) => {
                // Counting only: drop the bytes; bytes_received() keeps
                // the total.
                req.read_buffer();
                Ok(())
            }
            Event::Complete(req) => {
                req.read_buffer();
                let status = if req.take_context::<PathBuf>().is_some() {
                    201
                } else {
                    200
                };
                req.respond_json(status, &json!({"bytes": req.bytes_received()}))
            }
            Event::Error(req) => {
                eprintln!(
                    "upload {} failed: {}",
                    req.url(),
                    req.error().unwrap_or_default()
                );
                // After a disk error the client is still there: tell it.
                if req.is_closed() {
                    Ok(())
                } else {
                    req.respond(500, "upload failed\n")
                }
            }
            _ => Ok(()),
        };
        if let Err(e) = result {
            eprintln!("cannot answer: {e}");
        }
    }
}
