//! The listing's upload form, driven in headless Chromium over the Chrome
//! DevTools Protocol: open the listing, choose a file, submit, check disk.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use serde_json::{Value, json};
use tempfile::TempDir;
use tungstenite::{Message, WebSocket};

use crate::util::{PATIENCE, Server, path_str, write_file};

const CHROMIUM: &str = "/usr/bin/chromium";

/// A headless Chromium, closed on drop.
struct Chromium {
    child: Child,
    _profile: TempDir,
    /// `ws://127.0.0.1:PORT/devtools/browser/ID`
    ws_url: String,
}

impl Chromium {
    fn start() -> Chromium {
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
            .arg(format!("--user-data-dir={}", path_str(profile.path())))
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
                if !sent {
                    if let Some(url) = line.strip_prefix("DevTools listening on ") {
                        let _ = tx.send(url.trim().to_owned());
                        sent = true;
                    }
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
struct Cdp {
    ws: WebSocket<TcpStream>,
    next_id: u64,
    events: Vec<Value>,
}

impl Cdp {
    fn connect(ws_url: &str) -> Cdp {
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
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
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
    fn wait_event(&mut self, method: &str) -> Value {
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
}

fn require_chromium() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is not installed: scripts/install-test-deps.sh installs it"
    );
}

#[test]
fn listing_upload_form_works_in_headless_chromium() {
    require_chromium();
    let server = Server::builder().uploads().start();
    write_file(server.root(), "existing.txt", b"listed");
    let source = TempDir::new().unwrap();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let file = write_file(source.path(), "from browser.bin", &data);

    let browser = Chromium::start();
    let mut cdp = Cdp::connect(&browser.ws_url);
    let target = cdp.call(None, "Target.createTarget", json!({"url": "about:blank"}));
    let attached = cdp.call(
        None,
        "Target.attachToTarget",
        json!({"targetId": target["targetId"], "flatten": true}),
    );
    let session = attached["sessionId"].as_str().unwrap().to_owned();
    let page = Some(session.as_str());

    cdp.call(page, "Page.enable", json!({}));
    let navigated = cdp.call(page, "Page.navigate", json!({"url": server.url("/")}));
    assert!(navigated.get("errorText").is_none(), "{navigated}");
    cdp.wait_event("Page.loadEventFired");

    let document = cdp.call(page, "DOM.getDocument", json!({}));
    let input = cdp.call(
        page,
        "DOM.querySelector",
        json!({"nodeId": document["root"]["nodeId"], "selector": "form input[type=file]"}),
    );
    let input_id = input["nodeId"].as_u64().unwrap();
    assert_ne!(input_id, 0, "the listing has no file input");
    cdp.call(
        page,
        "DOM.setFileInputFiles",
        json!({"nodeId": input_id, "files": [path_str(&file)]}),
    );
    // Click the button, as a user would.
    cdp.call(
        page,
        "Runtime.evaluate",
        json!({"expression": "document.querySelector('form button[type=submit]').click()"}),
    );
    cdp.wait_event("Page.loadEventFired");

    server
        .stderr
        .wait_for("the upload to be saved", |l| l.contains("saved upload"));
    let access = server
        .stderr
        .wait_for("the POST /upload answer", |l| l.contains("\"POST /upload"));
    assert!(access.contains(" 201 "), "{access}");
    assert_eq!(server.uploaded(), ["from browser.bin"]);
    let saved = std::fs::read(server.upload_dir().join("from browser.bin")).unwrap();
    assert!(saved == data, "the saved file differs from the chosen one");

    // Ask Chromium to quit with its helper processes; drop kills it anyway.
    let close = json!({"id": 0, "method": "Browser.close"});
    let _ = cdp.ws.send(Message::text(close.to_string()));
}
