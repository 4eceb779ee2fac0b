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
//!
//! An echo refused for want of room (`Error::WouldBlock`: the client reads
//! slower than it sends) waits with the session's later echoes until the
//! `Writable` event, so every message is echoed, in order.

use std::collections::{HashMap, VecDeque};

use uhttp::ws::Message;
use uhttp::{Config, Error, Event, HttpServer, Response, WebSocket};

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
    // Echoes waiting for room, per session (by the upgrade request's id).
    let mut waiting: HashMap<u64, (WebSocket, VecDeque<Message>)> = HashMap::new();
    loop {
        // Only the loop failing ends the program; a client that left
        // only makes its own answer fail.
        match server.wait(None)? {
            Some(Event::Request(req)) => {
                let result = match req.path() {
                    "/" => req.send(
                        Response::new(200)
                            .header("Content-Type", "text/html; charset=utf-8")
                            .body(PAGE),
                    ),
                    // A refused upgrade is answered (400/426) by
                    // accept_websocket; the session's messages come as events.
                    "/ws" => req.accept_websocket().map(drop),
                    _ => req.respond(404, "Not Found\n"),
                };
                if let Err(e) = result {
                    eprintln!("cannot answer {}: {e}", req.url());
                }
            }
            Some(Event::WebSocket(ws, Message::Close(_))) => {
                waiting.remove(&ws.request().id());
            }
            Some(Event::WebSocket(ws, message @ (Message::Text(_) | Message::Binary(_)))) => {
                match waiting.get_mut(&ws.request().id()) {
                    Some((_, queue)) => queue.push_back(message),
                    None => {
                        let queue = VecDeque::from([message]);
                        if let Some(queue) = echo(&ws, queue) {
                            waiting.insert(ws.request().id(), (ws, queue));
                        }
                    }
                }
            }
            Some(Event::Writable(req)) => {
                if let Some((ws, queue)) = waiting.remove(&req.id())
                    && let Some(queue) = echo(&ws, queue)
                {
                    waiting.insert(req.id(), (ws, queue));
                }
            }
            _ => {}
        }
    }
}

/// Echoes `queue` in order; what must wait for room is given back.
fn echo(ws: &WebSocket, mut queue: VecDeque<Message>) -> Option<VecDeque<Message>> {
    while let Some(message) = queue.front() {
        let sent = match message {
            Message::Text(text) => ws.send_text(text),
            Message::Binary(data) => ws.send_binary(data),
            _ => Ok(()),
        };
        match sent {
            Ok(()) => drop(queue.pop_front()),
            Err(Error::WouldBlock) => return Some(queue),
            Err(e) => {
                eprintln!("echo failed: {e}");
                return None;
            }
        }
    }
    None
}
