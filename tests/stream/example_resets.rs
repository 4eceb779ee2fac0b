//! Issue 17: an example keeps serving when a client resets its connection
//! (SO_LINGER 0) at any point of the example's exchange: after connecting,
//! inside the request line, after the head, inside the body, after the
//! first response bytes, inside a stream, inside a WebSocket frame or
//! message. Only start-up errors may end an example.
//!
//! Each exchange is a list of steps; the client performs a prefix of it
//! (a send may stop half-way), resets, and then a second client must get
//! its answer from the same, still running, example. A reset that ended
//! the example a moment later is caught by the next check at the latest,
//! and by the last one after every point.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use crate::common::client::tcp;
use crate::common::examples::Example;
use crate::common::ws::masked;
use crate::common::{PATIENCE, find};
use crate::util::Client;

/// One step of a client's side of an exchange.
#[derive(Clone)]
enum Step {
    /// Sends these bytes.
    Send(Vec<u8>),
    /// Reads this many response bytes.
    Read(usize),
    /// Reads until these bytes have arrived.
    ReadPast(&'static [u8]),
}

use Step::{Read, ReadPast, Send};

fn send(bytes: impl AsRef<[u8]>) -> Step {
    Send(bytes.as_ref().to_vec())
}

/// A request head for `path` with `extra` header lines.
fn head(method: &str, path: &str, extra: &str) -> Step {
    send(format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\n{extra}\r\n"
    ))
}

/// The WebSocket upgrade of `/ws`.
fn upgrade() -> Step {
    head(
        "GET",
        "/ws",
        "Upgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
    )
}

/// A client of the example, a separate process: timeouts of
/// [`PATIENCE`].
fn connect(addr: SocketAddr) -> Client {
    Client::new(tcp(addr, PATIENCE))
}

/// Every point to reset at: before any step, after each step, and half-way
/// through each send.
fn points(steps: &[Step]) -> Vec<Vec<Step>> {
    let mut points = vec![Vec::new()];
    for (i, step) in steps.iter().enumerate() {
        let done = &steps[..i];
        if let Send(bytes) = step
            && bytes.len() > 1
        {
            let mut half = done.to_vec();
            half.push(Send(bytes[..bytes.len() / 2].to_vec()));
            points.push(half);
        }
        points.push(steps[..=i].to_vec());
    }
    points
}

/// Performs `steps` on a new connection to `addr`, then resets it.
fn reset_after(addr: SocketAddr, steps: &[Step]) {
    let mut client = connect(addr);
    for step in steps {
        match step {
            Send(bytes) => {
                client.stream.write_all(bytes).expect("send");
            }
            Read(n) => drop(client.exact(*n)),
            ReadPast(needle) => {
                // Byte by byte, so nothing after the needle is read.
                let mut tail = Vec::new();
                let mut read = 0;
                while find(&tail, needle).is_none() {
                    assert!(read < 1 << 20, "no {needle:?} in the first MiB");
                    if tail.len() == needle.len() {
                        tail.remove(0);
                    }
                    tail.extend(client.exact(1));
                    read += 1;
                }
            }
        }
    }
    let socket = socket2::SockRef::from(&client.stream);
    socket.set_linger(Some(Duration::ZERO)).unwrap();
    // Dropped with linger 0: the kernel sends RST, not FIN.
}

/// An example, the exchanges to cut short, and the request (on which
/// listener, path, expected status) that shows it still serves.
struct Case<'a> {
    example: Example,
    exchanges: &'a [(usize, Vec<Step>)],
    check: &'a [(usize, &'a str, u16)],
}

impl Case<'_> {
    fn assert_serving(&mut self, after: &str) {
        for &(listener, path, status) in self.check {
            if let Some(exit) = self.example.exit_status() {
                panic!("the example ended ({exit}) after a reset {after}");
            }
            let addr = self.example.addrs[listener];
            let answer = std::panic::catch_unwind(|| connect(addr).get(path).status);
            match (answer, self.example.exit_status()) {
                (_, Some(exit)) => panic!("the example ended ({exit}) after a reset {after}"),
                (Ok(got), None) => assert_eq!(got, status, "GET {path} after a reset {after}"),
                (Err(_), None) => panic!("GET {path} failed after a reset {after}"),
            }
        }
    }

    fn run(mut self) {
        self.assert_serving("(none yet)");
        let mut count = 0;
        for (listener, steps) in self.exchanges {
            for point in points(steps) {
                reset_after(self.example.addrs[*listener], &point);
                count += 1;
                let described = describe(&point);
                self.assert_serving(&described);
            }
        }
        // A late death from the last point shows here.
        self.assert_serving("at every point");
        println!("survived {count} resets");
    }
}

/// What a point did, for failure messages.
fn describe(point: &[Step]) -> String {
    let parts: Vec<String> = point
        .iter()
        .map(|step| match step {
            Send(bytes) => format!("sent {:?}", String::from_utf8_lossy(bytes)),
            Read(n) => format!("read {n} bytes"),
            ReadPast(needle) => format!("read past {:?}", String::from_utf8_lossy(needle)),
        })
        .collect();
    if parts.is_empty() {
        "right after connecting".into()
    } else {
        format!("after: {}", parts.join(", "))
    }
}

#[test]
fn hello_keeps_serving_after_resets_at_every_point() {
    Case {
        example: Example::start("hello", &[], 1),
        exchanges: &[
            (
                0,
                vec![
                    send("POST /rpc HTTP/1.1\r\n"),
                    send("Host: t\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n"),
                    send("{\"a\": 1}"),
                    Read(1),
                    ReadPast(b"\r\n\r\n"),
                ],
            ),
            (0, vec![head("GET", "/", ""), Read(1)]),
            (0, vec![head("GET", "/nothing", ""), Read(1)]),
        ],
        check: &[(0, "/", 200)],
    }
    .run();
}

#[test]
fn delayed_keeps_serving_after_resets_at_every_point() {
    Case {
        example: Example::start("delayed", &[], 1),
        exchanges: &[
            (0, vec![head("GET", "/?ms=0", ""), Read(1)]),
            // Reset while the worker holds the request: its answer fails.
            (0, vec![head("GET", "/?ms=20", "")]),
        ],
        check: &[(0, "/?ms=0", 200)],
    }
    .run();
}

#[test]
fn event_upload_keeps_serving_after_resets_at_every_point() {
    let dir = tempfile::tempdir().unwrap();
    let body = vec![b'x'; 256 * 1024];
    let length = format!("Content-Length: {}\r\n", body.len());
    Case {
        example: Example::start("event_upload", &[dir.path().to_str().unwrap()], 1),
        exchanges: &[
            (
                0,
                vec![head("PUT", "/up.bin", &length), send(&body), Read(1)],
            ),
            (
                0,
                vec![
                    head(
                        "POST",
                        "/x?count",
                        &format!("{length}Expect: 100-continue\r\n"),
                    ),
                    ReadPast(b"100 Continue\r\n\r\n"),
                    send(&body),
                    Read(1),
                ],
            ),
            (
                0,
                vec![
                    head("PUT", "/small", "Content-Length: 5\r\n"),
                    send("hello"),
                    Read(1),
                ],
            ),
        ],
        check: &[(0, "/", 200)],
    }
    .run();
}

#[test]
fn two_servers_keeps_serving_after_resets_at_every_point() {
    Case {
        example: Example::start("two_servers", &[], 2),
        exchanges: &[
            (0, vec![head("GET", "/", ""), Read(1)]),
            (1, vec![head("GET", "/", ""), Read(1)]),
        ],
        check: &[(0, "/", 200), (1, "/", 200)],
    }
    .run();
}

#[test]
fn mjpeg_keeps_serving_after_resets_at_every_point() {
    Case {
        example: Example::start("mjpeg", &[], 1),
        exchanges: &[
            (
                0,
                vec![
                    head("GET", "/stream", ""),
                    Read(1),
                    // Inside the first frame.
                    ReadPast(b"IHDR"),
                    // Inside the second.
                    ReadPast(b"IHDR"),
                ],
            ),
            (0, vec![head("GET", "/", ""), Read(1)]),
            (0, vec![head("GET", "/nothing", ""), Read(1)]),
        ],
        check: &[(0, "/", 200)],
    }
    .run();
}

#[test]
fn ndjson_keeps_serving_after_resets_at_every_point() {
    Case {
        example: Example::start("ndjson", &[], 1),
        exchanges: &[
            (
                0,
                vec![
                    head("GET", "/records?n=1000000", ""),
                    Read(1),
                    // Mid-stream, while it waits for the client to read.
                    ReadPast(b"{\"n\":1000,"),
                ],
            ),
            (
                0,
                vec![head("GET", "/records?n=3", ""), ReadPast(b"0\r\n\r\n")],
            ),
            (0, vec![head("GET", "/nothing", ""), Read(1)]),
        ],
        check: &[(0, "/nothing", 404)],
    }
    .run();
}

#[test]
fn sse_clock_keeps_serving_after_resets_at_every_point() {
    Case {
        example: Example::start("sse_clock", &[], 1),
        exchanges: &[
            (
                0,
                vec![
                    head("GET", "/events", ""),
                    Read(1),
                    ReadPast(b"data: connected\n"),
                    ReadPast(b"event: tick\n"),
                ],
            ),
            (0, vec![head("GET", "/", ""), Read(1)]),
            (0, vec![head("GET", "/nothing", ""), Read(1)]),
        ],
        check: &[(0, "/", 200)],
    }
    .run();
}

#[test]
fn ws_echo_keeps_serving_after_resets_at_every_point() {
    Case {
        example: Example::start("ws_echo", &[], 1),
        exchanges: &[
            (
                0,
                vec![
                    upgrade(),
                    ReadPast(b"\r\n\r\n"),
                    send(masked(0x81, b"hello")),
                    Read(1),
                    ReadPast(b"hello"),
                    // A message in two fragments: reset between them.
                    send(masked(0x01, b"frag")),
                    send(masked(0x80, b"ment")),
                    ReadPast(b"fragment"),
                    send(masked(0x88, &1000u16.to_be_bytes())),
                ],
            ),
            (
                0,
                vec![
                    upgrade(),
                    // The echo of a large message is cut off mid-way.
                    send(masked(0x82, &vec![7u8; 512 * 1024])),
                    Read(1000),
                ],
            ),
            (0, vec![head("GET", "/", ""), Read(1)]),
            (0, vec![head("GET", "/nothing", ""), Read(1)]),
        ],
        check: &[(0, "/", 200)],
    }
    .run();
}
