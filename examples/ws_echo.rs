//! WebSocket echo: `/ws` sends back every text or binary message
//! unchanged; `/` is a page that uses it.
//!
//! ```text
//! ws_echo [PORT] [--max-message-size BYTES]
//! cargo run --example ws_echo -- 8080 --max-message-size 16777216
//! ```
//!
//! `--max-message-size` sets `Config::max_message_size` (default 1 MiB);
//! the Autobahn suite's 9.* cases need 16 MiB.

use uhttp::ws::Message;
use uhttp::{Config, Event, HttpServer, Response};

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

const USAGE: &str = "usage: ws_echo [PORT] [--max-message-size BYTES]";

/// The port and configuration from the command line.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<(u16, Config), String> {
    let mut port = 8080;
    let mut config = Config::default();
    while let Some(arg) = args.next() {
        if arg == "--max-message-size" {
            let bytes = args.next().ok_or("--max-message-size needs a value")?;
            config.max_message_size = bytes
                .parse()
                .map_err(|e| format!("--max-message-size {bytes:?}: {e}"))?;
        } else {
            port = arg.parse().map_err(|e| format!("port {arg:?}: {e}"))?;
        }
    }
    Ok((port, config))
}

fn main() -> Result<(), uhttp::Error> {
    let (port, config) = match parse_args(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("ws_echo: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let mut server = HttpServer::with_config(("127.0.0.1", port), config)?;
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
