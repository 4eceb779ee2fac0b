//! Delayed responses: every request is handed to a worker thread that
//! answers it after `?ms=N` milliseconds (default 1000), while the loop
//! goes on serving other requests. The answer wakes the sleeping loop.
//!
//! ```text
//! cargo run --example delayed -- 8080
//! curl 'localhost:8080/?ms=2000' & curl 'localhost:8080/?ms=10'
//! ```

use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::json;
use uhttp::{Event, HttpServer, Request};

fn main() -> Result<(), uhttp::Error> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let mut server = HttpServer::bind(("127.0.0.1", port))?;
    println!("listening on http://{}", server.local_addr());

    // One worker holds every pending request, ordered by when it is due.
    let (tx, rx) = mpsc::channel::<(Instant, Request)>();
    std::thread::spawn(move || worker(rx));

    loop {
        let Some(Event::Request(req)) = server.wait(None)? else {
            continue;
        };
        let ms: u64 = req
            .query()
            .get("ms")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000)
            .min(60_000);
        let due = Instant::now() + Duration::from_millis(ms);
        if tx.send((due, req)).is_err() {
            break Ok(());
        }
    }
}

fn worker(rx: mpsc::Receiver<(Instant, Request)>) {
    let mut pending: Vec<(Instant, Request, Instant)> = Vec::new();
    loop {
        let now = Instant::now();
        // Answer everything that is due.
        pending.retain(|(due, req, received)| {
            if *due > now {
                return true;
            }
            let waited = now.duration_since(*received).as_millis() as u64;
            if let Err(e) = req.respond_json(200, &json!({"path": req.path(), "waited_ms": waited}))
            {
                eprintln!("cannot answer {}: {e}", req.url());
            }
            false
        });
        let next = pending.iter().map(|(due, ..)| *due).min();
        let received = match next {
            Some(due) => match rx.recv_timeout(due.saturating_duration_since(now)) {
                Ok(item) => item,
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            },
            None => match rx.recv() {
                Ok(item) => item,
                Err(_) => return,
            },
        };
        pending.push((received.0, received.1, Instant::now()));
    }
}
