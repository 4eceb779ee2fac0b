//! NDJSON: `/records?n=N` streams N numbered records (default 100000),
//! one JSON object a line, as fast as the client reads them. Shows
//! backpressure: a full send buffer answers `WouldBlock`, and
//! `Event::Writable` says when to go on.
//!
//! ```text
//! cargo run --example ndjson -- 8080
//! curl -sN 'localhost:8080/records?n=5'
//! ```

use std::collections::HashMap;

use serde_json::json;
use uhttp::{Error, Event, HttpServer, NdjsonStream, Response};

/// A stream in progress: the next record to send and how many in all.
struct Job {
    stream: NdjsonStream,
    next: u64,
    total: u64,
}

impl Job {
    /// Sends until done, or until the client stops keeping up.
    fn pump(&mut self) -> Result<bool, Error> {
        while self.next < self.total {
            let record = json!({ "n": self.next, "square": self.next * self.next });
            match self.stream.send(&record) {
                Ok(()) => self.next += 1,
                Err(Error::WouldBlock) => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        self.stream.end()?;
        Ok(true)
    }
}

fn main() -> Result<(), Error> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let mut server = HttpServer::bind(("127.0.0.1", port))?;
    println!("listening on http://{}", server.local_addr());
    let mut jobs: HashMap<u64, Job> = HashMap::new();
    loop {
        // Only the loop failing ends the program; a client that left
        // only makes its own answer fail.
        match server.wait(None)? {
            Some(Event::Request(req)) if req.path() == "/records" => {
                let total = req
                    .query()
                    .get("n")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(100_000);
                let stream = match req.response_ndjson(Response::new(200)) {
                    Ok(stream) => stream,
                    Err(e) => {
                        eprintln!("cannot answer {}: {e}", req.url());
                        continue;
                    }
                };
                let mut job = Job {
                    stream,
                    next: 0,
                    total,
                };
                if let Ok(false) = job.pump() {
                    jobs.insert(req.id(), job);
                }
            }
            Some(Event::Request(req)) => {
                if let Err(e) = req.respond(404, "Not Found\n") {
                    eprintln!("cannot answer {}: {e}", req.url());
                }
            }
            Some(Event::Writable(req)) => {
                if let Some(job) = jobs.get_mut(&req.id())
                    && !matches!(job.pump(), Ok(false))
                {
                    jobs.remove(&req.id());
                }
            }
            Some(Event::Closed(req)) => {
                jobs.remove(&req.id());
            }
            _ => {}
        }
    }
}
