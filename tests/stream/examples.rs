//! The example programs, run: each answers its documented URL.

use crate::util::Client;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A running example program; killed on drop.
pub struct Example {
    child: Child,
    pub port: u16,
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Example {
    /// Starts `target/<profile>/examples/NAME` on a free port; `None` (with
    /// a note) when it was not built.
    pub fn start(name: &str) -> Option<Example> {
        let Some(path) = example_path(name) else {
            eprintln!("skipped: example {name} not built (cargo test --all-targets builds it)");
            return None;
        };
        // The port is picked by binding port 0 and letting go; another
        // process may grab it meanwhile, so try twice.
        for _ in 0..2 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let mut child = Command::new(&path)
                .arg(port.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("run the example");
            // It prints "listening on ..." once bound; EOF means it failed.
            let mut line = String::new();
            let mut stdout = BufReader::new(child.stdout.take().unwrap());
            if stdout.read_line(&mut line).unwrap_or(0) > 0 && line.starts_with("listening on") {
                return Some(Example { child, port });
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("example {name} did not start");
    }

    fn connect(&self) -> Client {
        Client::connect(([127, 0, 0, 1], self.port).into())
    }
}

fn example_path(name: &str) -> Option<PathBuf> {
    // The test binary is target/<profile>/deps/stream-HASH.
    let exe = std::env::current_exe().ok()?;
    let profile_dir = exe.parent()?.parent()?;
    let path = profile_dir.join("examples").join(name);
    path.is_file().then_some(path)
}

#[test]
fn sse_clock_sends_ticks() {
    let Some(example) = Example::start("sse_clock") else {
        return;
    };
    let mut client = example.connect();
    client.request("GET", "/events", "HTTP/1.1");
    let head = client.head();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-type"), Some("text/event-stream"));
    let mut ticks = 0;
    while ticks < 2 {
        let event = String::from_utf8(client.chunk().expect("an event")).unwrap();
        if event.starts_with("event: tick\n") {
            assert!(
                event.contains("\ndata: ") && event.ends_with("GMT\n\n"),
                "{event:?}"
            );
            ticks += 1;
        }
    }
}

#[test]
fn mjpeg_sends_png_frames() {
    let Some(example) = Example::start("mjpeg") else {
        return;
    };
    let mut client = example.connect();
    client.request("GET", "/stream", "HTTP/1.1");
    let head = client.head();
    let content_type = head.header("content-type").unwrap();
    let boundary = content_type
        .strip_prefix("multipart/x-mixed-replace; boundary=")
        .unwrap();
    let delimiter = format!("--{boundary}\r\n");
    for _ in 0..2 {
        let part = client.chunk().expect("a frame");
        assert!(part.starts_with(delimiter.as_bytes()));
        let body_at = part.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let part_head = std::str::from_utf8(&part[..body_at]).unwrap();
        assert!(
            part_head.contains("Content-Type: image/png\r\n"),
            "{part_head}"
        );
        let len = part.len() - body_at - 2;
        assert!(
            part_head.contains(&format!("Content-Length: {len}\r\n")),
            "{part_head}"
        );
        assert!(part[body_at..].starts_with(b"\x89PNG\r\n\x1a\n"));
    }
}

#[test]
fn ndjson_sends_the_requested_number_of_records() {
    let Some(example) = Example::start("ndjson") else {
        return;
    };
    let mut client = example.connect();
    client.request("GET", "/records?n=1000", "HTTP/1.1");
    let head = client.head();
    assert_eq!(head.header("content-type"), Some("application/x-ndjson"));
    let body = String::from_utf8(client.chunked_body()).unwrap();
    let numbers: Vec<u64> = body
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            value["n"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(numbers, (0..1000).collect::<Vec<_>>());
}

#[test]
fn ws_echo_echoes_and_serves_its_page() {
    let Some(example) = Example::start("ws_echo") else {
        return;
    };
    let url = format!("ws://127.0.0.1:{}/ws", example.port);
    let (mut ws, _) = tungstenite::connect(&url).expect("connect");
    for message in [
        tungstenite::Message::text("echo me"),
        tungstenite::Message::binary(vec![1u8, 2, 3]),
    ] {
        ws.send(message.clone()).unwrap();
        assert_eq!(ws.read().unwrap(), message);
    }
    let mut client = example.connect();
    client.request("GET", "/", "HTTP/1.1");
    let head = client.head();
    assert_eq!(head.status, 200);
    let len: usize = head.header("content-length").unwrap().parse().unwrap();
    let page = String::from_utf8(client.exact(len)).unwrap();
    assert!(page.contains("new WebSocket"));
}
