//! Headless Chromium driven over the Chrome DevTools Protocol (CDP), with
//! tungstenite: the browser tests of `cli` (the listing's upload form)
//! and `stream` (permessage-deflate from a real browser).

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use serde_json::{Value, json};
use tempfile::TempDir;
use tungstenite::{Message, WebSocket};

use super::PATIENCE;

pub const CHROMIUM: &str = "/usr/bin/chromium";

/// A headless Chromium, closed on drop.
pub struct Chromium {
    child: Child,
    _profile: TempDir,
    /// `ws://127.0.0.1:PORT/devtools/browser/ID`
    pub ws_url: String,
}

impl Chromium {
    pub fn start() -> Chromium {
        let profile = TempDir::new().unwrap();
        let mut child = Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--no-first-run",
                "--no-default-browser-check",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        // Chromium announces its DevTools endpoint on stderr.
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent && let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                    sent = true;
                }
            }
        });
        let ws_url = match rx.recv_timeout(PATIENCE) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium did not print its DevTools address");
            }
        };
        Chromium {
            child,
            _profile: profile,
            ws_url,
        }
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A DevTools connection: commands by id, events kept until asked for.
pub struct Cdp {
    ws: WebSocket<TcpStream>,
    next_id: u64,
    events: Vec<Value>,
}

impl Cdp {
    pub fn connect(ws_url: &str) -> Cdp {
        let host_port = ws_url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .expect("ws:// URL");
        let stream = TcpStream::connect(host_port).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream.set_write_timeout(Some(PATIENCE)).unwrap();
        let (ws, _) = tungstenite::client(ws_url, stream).expect("DevTools handshake");
        Cdp {
            ws,
            next_id: 1,
            events: Vec::new(),
        }
    }

    fn receive(&mut self) -> Value {
        loop {
            match self.ws.read().expect("DevTools message") {
                Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
                Message::Close(_) => panic!("DevTools closed the connection"),
                _ => {}
            }
        }
    }

    /// Sends a command (to a page when `session` is set) and returns its
    /// result.
    pub fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut command = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            command["sessionId"] = json!(session);
        }
        self.ws
            .send(Message::text(command.to_string()))
            .expect("send to DevTools");
        loop {
            let message = self.receive();
            if message["id"] == id {
                assert!(message.get("error").is_none(), "{method} failed: {message}");
                return message["result"].clone();
            }
            self.events.push(message);
        }
    }

    /// Waits for an event named `method`, consuming it.
    pub fn wait_event(&mut self, method: &str) -> Value {
        if let Some(i) = self.events.iter().position(|e| e["method"] == method) {
            return self.events.remove(i);
        }
        loop {
            let message = self.receive();
            if message["method"] == method {
                return message;
            }
            self.events.push(message);
        }
    }

    /// Asks Chromium to quit with its helper processes (dropping
    /// [`Chromium`] kills it anyway).
    pub fn close_browser(&mut self) {
        let close = json!({"id": 0, "method": "Browser.close"});
        let _ = self.ws.send(Message::text(close.to_string()));
    }
}

pub fn require_chromium() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is not installed: scripts/install-test-deps.sh installs it"
    );
}
