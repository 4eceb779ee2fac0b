//! The example programs, run: each answers its documented URL.

use crate::common::examples::Example;
use crate::util::Client;

#[test]
fn sse_clock_sends_ticks() {
    let example = Example::start("sse_clock", &[], 1);
    let mut client = Client::connect(example.addr());
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
    let example = Example::start("mjpeg", &[], 1);
    let mut client = Client::connect(example.addr());
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
    let example = Example::start("ndjson", &[], 1);
    let mut client = Client::connect(example.addr());
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
    let example = Example::start("ws_echo", &[], 1);
    let url = format!("ws://{}/ws", example.addr());
    let (mut ws, _) = tungstenite::connect(&url).expect("connect");
    for message in [
        tungstenite::Message::text("echo me"),
        tungstenite::Message::binary(vec![1u8, 2, 3]),
    ] {
        ws.send(message.clone()).unwrap();
        assert_eq!(ws.read().unwrap(), message);
    }
    let mut client = Client::connect(example.addr());
    client.request("GET", "/", "HTTP/1.1");
    let head = client.head();
    assert_eq!(head.status, 200);
    let len: usize = head.header("content-length").unwrap().parse().unwrap();
    let page = String::from_utf8(client.exact(len)).unwrap();
    assert!(page.contains("new WebSocket"));
}
