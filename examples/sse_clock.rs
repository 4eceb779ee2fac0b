//! Server-Sent Events: the time, every second, to every open `/events`
//! stream, and a page at `/` that shows it.
//!
//! ```text
//! cargo run --example sse_clock -- 8080
//! curl -N localhost:8080/events
//! ```

use std::time::{Duration, Instant, SystemTime};

use uhttp::{Event, HttpServer, Response, SseStream};

const PAGE: &str = r#"<!doctype html>
<meta charset="utf-8"><title>uhttp clock</title>
<h1 id="time">waiting for the server…</h1>
<script>
  const events = new EventSource("/events");
  events.addEventListener("tick", (e) => {
    document.getElementById("time").textContent = e.data;
  });
</script>
"#;

fn main() -> Result<(), uhttp::Error> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let mut server = HttpServer::bind(("127.0.0.1", port))?;
    println!("listening on http://{}", server.local_addr());
    let mut streams: Vec<SseStream> = Vec::new();
    let mut next_tick = Instant::now();
    let mut tick: u64 = 0;
    loop {
        let timeout = next_tick.saturating_duration_since(Instant::now());
        // Only the loop failing ends the program; a client that left
        // only makes its own answer fail.
        if let Some(Event::Request(req)) = server.wait(Some(timeout))? {
            let result = match req.path() {
                "/" => req.send(
                    Response::new(200)
                        .header("Content-Type", "text/html; charset=utf-8")
                        .body(PAGE),
                ),
                "/events" => req.response_sse(Response::new(200)).and_then(|stream| {
                    // Tell the browser to reconnect after 1 s if cut off.
                    stream.send_event("connected", None, None, Some(1000))?;
                    streams.push(stream);
                    Ok(())
                }),
                _ => req.respond(404, "Not Found\n"),
            };
            if let Err(e) = result {
                eprintln!("cannot answer {}: {e}", req.url());
            }
        }
        // A client that left: its stream's sends fail, dropped below.
        if Instant::now() >= next_tick {
            tick += 1;
            let now = httpdate::fmt_http_date(SystemTime::now());
            let id = tick.to_string();
            // A slow or gone client is dropped rather than buffered forever.
            streams.retain(|s| s.send_event(&now, Some("tick"), Some(&id), None).is_ok());
            next_tick += Duration::from_secs(1);
        }
    }
}
