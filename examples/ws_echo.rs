//! WebSocket echo: `/ws` sends back every text or binary message
//! unchanged; `/` is a page that uses it.
//!
//! ```text
//! cargo run --example ws_echo -- 8080
//! ```

use uhttp::ws::Message;
use uhttp::{Event, HttpServer, Response};

const PAGE: &str = r#"<!doctype html>
<meta charset="utf-8"><title>uhttp WebSocket echo</title>
<form id="f"><input id="text" value="hello" autofocus> <button>Send</button></form>
<pre id="log"></pre>
<script>
  const log = (line) => { document.getElementById("log").textContent += line + "\n"; };
  const ws = new WebSocket(`ws://${location.host}/ws`);
  ws.onopen = () => log("connected");
  ws.onmessage = (e) => log("echo: " + e.data);
  ws.onclose = (e) => log(`closed (${e.code})`);
  document.getElementById("f").onsubmit = (e) => {
    e.preventDefault();
    ws.send(document.getElementById("text").value);
  };
</script>
"#;

fn main() -> Result<(), uhttp::Error> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let mut server = HttpServer::bind(("127.0.0.1", port))?;
    println!("listening on http://{}", server.local_addr());
    loop {
        match server.wait(None)? {
            Some(Event::Request(req)) => match req.path() {
                "/" => req.send(
                    Response::new(200)
                        .header("Content-Type", "text/html; charset=utf-8")
                        .body(PAGE),
                )?,
                // A refused upgrade is answered (400/426) by accept_websocket.
                "/ws" => drop(req.accept_websocket()),
                _ => req.respond(404, "Not Found\n")?,
            },
            Some(Event::WebSocket(ws, message)) => {
                let sent = match message {
                    Message::Text(text) => ws.send_text(&text),
                    Message::Binary(data) => ws.send_binary(&data),
                    _ => Ok(()),
                };
                if let Err(e) = sent {
                    eprintln!("echo failed: {e}");
                }
            }
            _ => {}
        }
    }
}
