//! The example programs, run: each answers its documented URL.

use crate::common::examples::Example;
use crate::common::procfs::status_kib;
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

/// Issue 11: `ws_echo --max-message-size 16777216` echoes a 16 MiB
/// message (Autobahn 9.*) holding little more than the message and its
/// echo frame; a message over the limit is refused with 1009.
#[test]
fn ws_echo_echoes_up_to_its_max_message_size_flag_in_bounded_memory() {
    const MAX: usize = 16 << 20;
    let example = Example::start("ws_echo", &["--max-message-size", &MAX.to_string()], 1);
    let url = format!("ws://{}/ws", example.addr());
    let (mut ws, _) = tungstenite::connect(&url).expect("connect");
    if let tungstenite::stream::MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(crate::common::PATIENCE)).unwrap();
    }
    let before = status_kib(example.pid(), "VmRSS");
    let data: Vec<u8> = (0..MAX as u32).map(|i| (i % 251) as u8).collect();
    let message = tungstenite::Message::binary(data);
    ws.send(message.clone()).unwrap();
    assert!(ws.read().unwrap() == message, "the echo differs");
    let peak = status_kib(example.pid(), "VmHWM") - before;
    println!("ws_echo: peak RSS {peak} KiB above {before} KiB for a 16 MiB echo");
    // The message (16 MiB) and its echo frame (16 MiB), not a third copy.
    assert!(
        peak < 40 << 10,
        "peak RSS grew {peak} KiB for one 16 MiB echo"
    );
    // One byte more is refused from the frame header alone.
    let mut client = Client::connect(example.addr());
    client.send(
        "GET /ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    assert_eq!(client.head().status, 101);
    let mut header = vec![0x82, 0xFF];
    header.extend_from_slice(&(MAX as u64 + 1).to_be_bytes());
    header.extend_from_slice(&crate::common::ws::MASK);
    client.send(header);
    let close = client.exact(4);
    assert_eq!(close[..2], [0x88, 0x11], "a Close with 1009 and its reason");
    assert_eq!(u16::from_be_bytes([close[2], close[3]]), 1009);
}
