//! TechEmpower plaintext and JSON on may_minihttp (one may worker).

use std::io;

use bytes::BufMut;
use may_minihttp::{HttpService, HttpServiceFactory, Request, Response};
use serde::Serialize;

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

#[derive(Clone)]
struct Techempower;

impl HttpService for Techempower {
    fn call(&mut self, req: Request, rsp: &mut Response) -> io::Result<()> {
        match req.path() {
            "/plaintext" => {
                rsp.header("Content-Type: text/plain").body("Hello, World!");
            }
            "/json" => {
                rsp.header("Content-Type: application/json");
                let message = Message {
                    message: "Hello, World!",
                };
                serde_json::to_writer(rsp.body_mut().writer(), &message)?;
            }
            _ => {
                rsp.status_code(404, "Not Found");
            }
        }
        Ok(())
    }
}

struct Server;

impl HttpServiceFactory for Server {
    type Service = Techempower;

    fn new_service(&self, _id: usize) -> Techempower {
        Techempower
    }
}

fn main() {
    let port = std::env::args().nth(1).unwrap_or_else(|| "8080".into());
    may::config()
        .set_workers(1)
        .set_pool_capacity(1000)
        .set_stack_size(0x1000);
    let server = Server
        .start(format!("127.0.0.1:{port}"))
        .expect("cannot listen");
    server.join().expect("server thread panicked");
}
