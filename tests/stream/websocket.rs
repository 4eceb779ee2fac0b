//! WebSocket sessions: tungstenite for the ordinary cases, a raw socket for
//! exact bytes and protocol violations (RFC 6455).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use uhttp::ws::{HandshakeError, Message};
use uhttp::{Config, Error, Event, WebSocket};

use crate::common::ws::masked;
use crate::util::{Client, IO_TIMEOUT, TestServer, serve_events};

/// What the application saw.
#[derive(Debug, PartialEq)]
enum Seen {
    Opened,
    Message(Message),
    Refused(HandshakeError),
    Http(String),
}

/// A server that accepts `/ws`, echoes text and binary messages, obeys a
/// few commands sent as text, answers other paths over plain HTTP, and
/// reports everything it sees.
fn ws_server(config: Config) -> (TestServer, mpsc::Receiver<Seen>, mpsc::Receiver<WebSocket>) {
    let (seen_tx, seen) = mpsc::channel();
    let (ws_tx, sockets) = mpsc::channel();
    let server = serve_events(config, move |event| match event {
        Event::Request(req) if req.path() == "/ws" => match req.accept_websocket() {
            Ok(ws) => {
                let _ = seen_tx.send(Seen::Opened);
                let _ = ws_tx.send(ws);
            }
            Err(Error::Handshake(e)) => drop(seen_tx.send(Seen::Refused(e))),
            Err(e) => panic!("{e}"),
        },
        Event::Request(req) => {
            let _ = seen_tx.send(Seen::Http(req.path().to_owned()));
            req.respond(200, "plain http").unwrap();
        }
        Event::WebSocket(ws, message) => {
            match &message {
                Message::Text(t) if t == "close me" => ws.close(1001, "bye").unwrap(),
                Message::Text(t) if t == "ping me" => ws.ping(b"Hello").unwrap(),
                Message::Text(t) if t == "256 bytes" => ws.send_binary(&[0xAB; 256]).unwrap(),
                Message::Text(t) if t == "64 KiB" => ws.send_binary(&vec![0xCD; 65536]).unwrap(),
                Message::Text(t) => ws.send_text(t).unwrap(),
                Message::Binary(b) => ws.send_binary(b).unwrap(),
                _ => {}
            }
            let _ = seen_tx.send(Seen::Message(message));
        }
        _ => {}
    });
    (server, seen, sockets)
}

fn next(seen: &mpsc::Receiver<Seen>) -> Seen {
    seen.recv_timeout(IO_TIMEOUT).expect("an application event")
}

fn close_code_of(seen: Seen) -> u16 {
    match seen {
        Seen::Message(Message::Close(Some((code, _)))) => code,
        other => panic!("expected a Close, got {other:?}"),
    }
}

/// The RFC 6455 §1.3 example key and its accept value.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// A raw WebSocket client past the handshake.
struct RawWs {
    client: Client,
}

impl RawWs {
    fn open(server: &TestServer, seen: &mpsc::Receiver<Seen>) -> RawWs {
        let mut client = server.connect();
        client.send(
            upgrade_request(
                "GET",
                &[("Sec-WebSocket-Key", KEY), ("Sec-WebSocket-Version", "13")],
            )
            .as_bytes(),
        );
        let head = client.head();
        assert_eq!(head.status, 101, "{head:?}");
        assert_eq!(head.header("sec-websocket-accept"), Some(ACCEPT));
        assert!(
            head.header("upgrade")
                .unwrap()
                .eq_ignore_ascii_case("websocket")
        );
        assert_eq!(next(seen), Seen::Opened);
        RawWs { client }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.client.send(bytes);
    }

    /// One server frame: (first byte, payload). Server frames are never
    /// masked (RFC 6455 §5.1).
    fn frame(&mut self) -> (u8, Vec<u8>) {
        let raw = self.raw_frame();
        let b1 = raw[1];
        assert_eq!(b1 & 0x80, 0, "a masked server frame");
        let start = match b1 & 0x7f {
            126 => 4,
            127 => 10,
            _ => 2,
        };
        (raw[0], raw[start..].to_vec())
    }

    /// One server frame's bytes, exactly as sent.
    fn raw_frame(&mut self) -> Vec<u8> {
        let mut raw = self.client.exact(2);
        let len = match raw[1] & 0x7f {
            126 => {
                let ext = self.client.exact(2);
                raw.extend_from_slice(&ext);
                u16::from_be_bytes([ext[0], ext[1]]) as usize
            }
            127 => {
                let ext = self.client.exact(8);
                raw.extend_from_slice(&ext);
                u64::from_be_bytes(ext.try_into().unwrap()) as usize
            }
            n => n as usize,
        };
        raw.extend_from_slice(&self.client.exact(len));
        raw
    }

    /// Reads the server's Close frame: its code.
    fn close_code(&mut self) -> u16 {
        let (b0, payload) = self.frame();
        assert_eq!(b0, 0x88, "expected a Close frame");
        u16::from_be_bytes([payload[0], payload[1]])
    }

    fn assert_closed_by_server(&mut self) {
        assert!(
            self.client.is_closed_by_server(),
            "data after the Close frame"
        );
    }
}

fn upgrade_request(method: &str, extra: &[(&str, &str)]) -> String {
    let mut text = format!(
        "{method} /ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    );
    for (name, value) in extra {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text
}

fn tungstenite_client(
    server: &TestServer,
) -> tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>> {
    let (client, response) = tungstenite::connect(server.ws_url("/ws")).expect("connect");
    assert_eq!(response.status(), 101);
    if let tungstenite::stream::MaybeTlsStream::Plain(s) = client.get_ref() {
        s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    }
    client
}

#[test]
fn echoes_text_and_binary_messages() {
    let (server, seen, _) = ws_server(Config::default());
    let mut client = tungstenite_client(&server);
    assert_eq!(next(&seen), Seen::Opened);
    let big = "large ".repeat(20_000);
    let messages = [
        tungstenite::Message::text("hello"),
        tungstenite::Message::text("héllo ✓"),
        tungstenite::Message::text(""),
        tungstenite::Message::binary(vec![0u8, 1, 2, 255]),
        tungstenite::Message::text(big.clone()),
        tungstenite::Message::binary(vec![7u8; 70_000]),
    ];
    for message in messages {
        client.send(message.clone()).unwrap();
        assert_eq!(client.read().unwrap(), message);
        let expected = match message {
            tungstenite::Message::Text(t) => Message::Text(t.as_str().to_owned()),
            tungstenite::Message::Binary(b) => Message::Binary(b.to_vec()),
            _ => unreachable!(),
        };
        assert_eq!(next(&seen), Seen::Message(expected));
    }
}

#[test]
fn reassembles_fragmented_messages_with_control_frames_between() {
    let (server, seen, _) = ws_server(Config::default());
    let mut ws = RawWs::open(&server, &seen);
    // Text in three fragments, a ping in the middle; "é" split across two.
    let mut bytes = masked(0x01, b"Hel");
    bytes.extend(masked(0x00, &"lo \u{e9}".as_bytes()[..4]));
    bytes.extend(masked(0x89, b"mid"));
    bytes.extend(masked(0x80, &"lo \u{e9}".as_bytes()[4..]));
    ws.send(&bytes);
    assert_eq!(next(&seen), Seen::Message(Message::Ping(b"mid".to_vec())));
    assert_eq!(
        next(&seen),
        Seen::Message(Message::Text("Hello \u{e9}".into()))
    );
    assert_eq!(ws.frame(), (0x8A, b"mid".to_vec()));
    assert_eq!(ws.frame(), (0x81, "Hello \u{e9}".as_bytes().to_vec()));
    // Binary in fragments sent one write at a time.
    for (i, part) in [&b"\x00\x01"[..], b"\x02", b"\x03\x04"].iter().enumerate() {
        let b0 = match i {
            0 => 0x02,
            2 => 0x80,
            _ => 0x00,
        };
        ws.send(&masked(b0, part));
    }
    assert_eq!(
        next(&seen),
        Seen::Message(Message::Binary(vec![0, 1, 2, 3, 4]))
    );
    assert_eq!(ws.frame(), (0x82, vec![0, 1, 2, 3, 4]));
}

#[test]
fn answers_ping_with_a_pong_of_the_same_payload_and_reports_the_ping() {
    let (server, seen, _) = ws_server(Config::default());
    let mut ws = RawWs::open(&server, &seen);
    ws.send(&masked(0x89, b"are you there?"));
    assert_eq!(ws.frame(), (0x8A, b"are you there?".to_vec()));
    assert_eq!(
        next(&seen),
        Seen::Message(Message::Ping(b"are you there?".to_vec()))
    );
    ws.send(&masked(0x89, b""));
    assert_eq!(ws.frame(), (0x8A, vec![]));
    assert_eq!(next(&seen), Seen::Message(Message::Ping(vec![])));
    // tungstenite sees the pong too.
    let mut client = tungstenite_client(&server);
    assert_eq!(next(&seen), Seen::Opened);
    client
        .send(tungstenite::Message::Ping(b"tp".to_vec().into()))
        .unwrap();
    assert_eq!(
        client.read().unwrap(),
        tungstenite::Message::Pong(b"tp".to_vec().into())
    );
}

#[test]
fn echoes_the_clients_close_1000_and_closes_the_connection() {
    let (server, seen, _) = ws_server(Config::default());
    let mut ws = RawWs::open(&server, &seen);
    let mut payload = 1000u16.to_be_bytes().to_vec();
    payload.extend_from_slice(b"done");
    ws.send(&masked(0x88, &payload));
    assert_eq!(ws.close_code(), 1000);
    ws.assert_closed_by_server();
    assert_eq!(
        next(&seen),
        Seen::Message(Message::Close(Some((1000, "done".into()))))
    );

    // The same with tungstenite.
    let mut client = tungstenite_client(&server);
    assert_eq!(next(&seen), Seen::Opened);
    client
        .close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "bye".into(),
        }))
        .unwrap();
    loop {
        match client.read() {
            Ok(tungstenite::Message::Close(Some(frame))) => {
                assert_eq!(frame.code, CloseCode::Normal);
            }
            Ok(other) => panic!("unexpected {other:?}"),
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(
        next(&seen),
        Seen::Message(Message::Close(Some((1000, "bye".into()))))
    );
}

#[test]
fn closes_with_1001_when_the_server_says_so_and_refuses_sends_after() {
    let (server, seen, sockets) = ws_server(Config::default());
    let mut client = tungstenite_client(&server);
    assert_eq!(next(&seen), Seen::Opened);
    let ws = sockets.recv_timeout(IO_TIMEOUT).unwrap();
    client.send(tungstenite::Message::text("close me")).unwrap();
    match client.read().unwrap() {
        tungstenite::Message::Close(Some(frame)) => {
            assert_eq!(frame.code, CloseCode::Away);
            assert_eq!(frame.reason.as_str(), "bye");
        }
        other => panic!("expected Close, got {other:?}"),
    }
    // tungstenite answers the close; the server then closes.
    match client.read() {
        Err(tungstenite::Error::ConnectionClosed) => {}
        other => panic!("expected the end, got {other:?}"),
    }
    assert_eq!(next(&seen), Seen::Message(Message::Text("close me".into())));
    assert_eq!(close_code_of(next(&seen)), 1001);
    assert!(ws.is_closed());
    assert!(ws.send_text("late").is_err());
    assert!(
        seen.recv_timeout(Duration::from_millis(100)).is_err(),
        "a second Close"
    );
}

#[test]
fn closes_with_1002_on_an_unmasked_client_frame() {
    let (server, seen, _) = ws_server(Config::default());
    let mut ws = RawWs::open(&server, &seen);
    ws.send(b"\x81\x05Hello");
    assert_eq!(ws.close_code(), 1002);
    ws.assert_closed_by_server();
    assert_eq!(close_code_of(next(&seen)), 1002);
}

#[test]
fn closes_with_1002_on_other_protocol_errors() {
    let cases: [(&str, Vec<u8>); 4] = [
        ("reserved bit", masked(0xC1, b"x")),
        ("reserved opcode", masked(0x83, b"x")),
        ("continuation first", masked(0x80, b"x")),
        ("fragmented ping", masked(0x09, b"x")),
    ];
    let (server, seen, _) = ws_server(Config::default());
    for (what, bytes) in cases {
        let mut ws = RawWs::open(&server, &seen);
        ws.send(&bytes);
        assert_eq!(ws.close_code(), 1002, "{what}");
        ws.assert_closed_by_server();
        assert_eq!(close_code_of(next(&seen)), 1002, "{what}");
    }
}

#[test]
fn closes_with_1007_on_invalid_utf8_text() {
    let (server, seen, _) = ws_server(Config::default());
    let mut ws = RawWs::open(&server, &seen);
    ws.send(&masked(0x81, b"ok \xff\xfe"));
    assert_eq!(ws.close_code(), 1007);
    ws.assert_closed_by_server();
    assert_eq!(close_code_of(next(&seen)), 1007);
}

#[test]
fn closes_with_1009_on_a_message_over_max_message_size() {
    let mut config = Config::default();
    config.max_message_size = 1024;
    // Request bodies have their own limit.
    config.max_content_length = 10;
    let (server, seen, _) = ws_server(config);
    let mut ws = RawWs::open(&server, &seen);
    ws.send(&masked(0x82, &[1; 1024]));
    assert_eq!(ws.frame(), (0x82, vec![1; 1024]), "at the limit is fine");
    assert_eq!(next(&seen), Seen::Message(Message::Binary(vec![1; 1024])));
    // Refused from the header: the payload is never sent.
    ws.send(&masked(0x82, &[2; 1025])[..8]);
    assert_eq!(ws.close_code(), 1009);
    ws.assert_closed_by_server();
    assert_eq!(close_code_of(next(&seen)), 1009);
    // Fragments count together.
    let mut ws = RawWs::open(&server, &seen);
    ws.send(&masked(0x01, &[b'a'; 600]));
    ws.send(&masked(0x80, &[b'a'; 600]));
    assert_eq!(ws.close_code(), 1009);
    assert_eq!(close_code_of(next(&seen)), 1009);
}

#[test]
fn refuses_bad_upgrades_with_400_or_426() {
    let (server, seen, _) = ws_server(Config::default());
    let version = ("Sec-WebSocket-Version", "13");
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16, HandshakeError);
    let cases: [Case; 5] = [
        ("GET", vec![version], 400, HandshakeError::BadKey),
        (
            "GET",
            vec![("Sec-WebSocket-Key", "c2hvcnQ="), version],
            400,
            HandshakeError::BadKey,
        ),
        (
            "GET",
            vec![("Sec-WebSocket-Key", KEY), ("Sec-WebSocket-Version", "8")],
            426,
            HandshakeError::BadVersion,
        ),
        (
            "GET",
            vec![("Sec-WebSocket-Key", KEY)],
            426,
            HandshakeError::BadVersion,
        ),
        (
            "POST",
            vec![("Sec-WebSocket-Key", KEY), version, ("Content-Length", "0")],
            400,
            HandshakeError::NotGet,
        ),
    ];
    for (method, headers, status, error) in cases {
        let mut client = server.connect();
        client.send(upgrade_request(method, &headers).as_bytes());
        let head = client.head();
        assert_eq!(head.status, status, "{method} {headers:?}");
        assert_eq!(head.header("sec-websocket-accept"), None);
        if status == 426 {
            assert_eq!(head.header("sec-websocket-version"), Some("13"));
        }
        assert_eq!(next(&seen), Seen::Refused(error));
        // Still HTTP: the body is the refusal text.
        let len: usize = head.header("content-length").unwrap().parse().unwrap();
        client.exact(len);
    }
}

/// RFC 6455 §5.7, byte for byte.
#[test]
fn speaks_the_rfc_6455_section_5_7_examples() {
    let (server, seen, sockets) = ws_server(Config::default());
    let mut ws = RawWs::open(&server, &seen);
    let socket = sockets.recv_timeout(IO_TIMEOUT).unwrap();
    let hello = [0x48, 0x65, 0x6c, 0x6c, 0x6f];
    // A single-frame masked text message from the client...
    ws.send(&[
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ]);
    assert_eq!(next(&seen), Seen::Message(Message::Text("Hello".into())));
    // ...and the single-frame unmasked text message the server echoes.
    assert_eq!(ws.raw_frame(), [&[0x81, 0x05][..], &hello].concat());
    // An unmasked ping from the server, a masked pong from the client.
    socket.ping(b"Hello").unwrap();
    assert_eq!(ws.raw_frame(), [&[0x89, 0x05][..], &hello].concat());
    ws.send(&[
        0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ]);
    assert_eq!(next(&seen), Seen::Message(Message::Pong(b"Hello".to_vec())));
    // A fragmented text message (§5.7 sends it unmasked; clients mask).
    ws.send(&[masked(0x01, b"Hel"), masked(0x80, b"lo")].concat());
    assert_eq!(next(&seen), Seen::Message(Message::Text("Hello".into())));
    assert_eq!(ws.raw_frame(), [&[0x81, 0x05][..], &hello].concat());
    // 256 bytes and 64 KiB binary messages in a single unmasked frame.
    socket.send_binary(&[0xAB; 256]).unwrap();
    assert_eq!(
        ws.raw_frame(),
        [&[0x82, 0x7E, 0x01, 0x00][..], &[0xAB; 256]].concat()
    );
    socket.send_binary(&vec![0xCD; 65536]).unwrap();
    let frame = ws.raw_frame();
    assert_eq!(frame[..10], [0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]);
    assert!(frame[10..] == [0xCD; 65536]);
}

#[test]
fn reports_close_1006_when_the_client_vanishes() {
    let (server, seen, sockets) = ws_server(Config::default());
    let mut client = tungstenite_client(&server);
    assert_eq!(next(&seen), Seen::Opened);
    let ws = sockets.recv_timeout(IO_TIMEOUT).unwrap();
    client.send(tungstenite::Message::text("hi")).unwrap();
    assert_eq!(next(&seen), Seen::Message(Message::Text("hi".into())));
    drop(client);
    assert_eq!(close_code_of(next(&seen)), 1006);
    assert!(ws.is_closed());
    assert!(matches!(ws.send_text("late"), Err(Error::Closed)));
}

/// WebSocket events and plain requests on other connections share one
/// `wait()` loop, each answered in turn.
#[test]
fn interleaves_websocket_events_with_http_requests_in_one_loop() {
    let (server, seen, _) = ws_server(Config::default());
    let mut client = tungstenite_client(&server);
    assert_eq!(next(&seen), Seen::Opened);
    let mut http = server.connect();
    for i in 0..5 {
        let text = format!("message {i}");
        client
            .send(tungstenite::Message::text(text.clone()))
            .unwrap();
        assert_eq!(
            client.read().unwrap(),
            tungstenite::Message::text(text.clone())
        );
        assert_eq!(next(&seen), Seen::Message(Message::Text(text)));
        http.request("GET", &format!("/page{i}"), "HTTP/1.1");
        assert_eq!(http.head().status, 200);
        assert_eq!(http.exact(10), b"plain http");
        assert_eq!(next(&seen), Seen::Http(format!("/page{i}")));
    }
    // Both at once: a message and a request in flight together.
    client.send(tungstenite::Message::text("together")).unwrap();
    http.request("GET", "/together", "HTTP/1.1");
    let mut got = vec![next(&seen), next(&seen)];
    got.sort_by_key(|s| matches!(s, Seen::Http(_)));
    assert_eq!(
        got,
        [
            Seen::Message(Message::Text("together".into())),
            Seen::Http("/together".into())
        ]
    );
    assert_eq!(
        client.read().unwrap(),
        tungstenite::Message::text("together")
    );
    assert_eq!(http.head().status, 200);
}

/// Messages per second through the `ws_echo` example, 16-byte text
/// messages over one connection on loopback. Run with:
/// `cargo test --release --test stream -- --ignored ws_echo_throughput --nocapture`
#[test]
#[ignore = "a measurement, not a check"]
fn ws_echo_throughput() {
    let example = crate::common::examples::Example::start("ws_echo", &[], 1);
    let url = format!("ws://{}/ws", example.addr());
    let (mut client, _) = tungstenite::connect(&url).expect("connect");
    if let tungstenite::stream::MaybeTlsStream::Plain(s) = client.get_ref() {
        s.set_nodelay(true).unwrap();
    }
    let message = tungstenite::Message::text("0123456789abcdef");
    const N: usize = 20_000;
    // Strict request/response: one message in flight.
    let start = Instant::now();
    for _ in 0..N {
        client.send(message.clone()).unwrap();
        client.read().unwrap();
    }
    let strict = N as f64 / start.elapsed().as_secs_f64();
    // Pipelined: up to `WINDOW` messages in flight.
    for window in [16usize, 256] {
        let start = Instant::now();
        let total = N * 10;
        let (mut sent, mut received) = (0, 0);
        while received < total {
            while sent < total && sent - received < window {
                client.write(message.clone()).unwrap();
                sent += 1;
            }
            client.flush().unwrap();
            client.read().unwrap();
            received += 1;
        }
        let rate = total as f64 / start.elapsed().as_secs_f64();
        println!("ws_echo, 16-byte text, {window} in flight: {rate:.0} messages/s");
    }
    println!("ws_echo, 16-byte text, strict request/response: {strict:.0} messages/s");
    let _ = client.close(None);
    let mut rest = Vec::new();
    let _ = client.get_mut().read_to_end(&mut rest);
}

/// A client that sends pings but never reads the pongs: the server stops
/// reading once its unsent bytes reach `max_send_buffer`, so the client's
/// writes block instead of the server's memory growing without bound.
#[test]
fn stops_reading_a_ping_flood_whose_pongs_are_not_read() {
    const CAP: usize = 64 * 1024;
    const LIMIT: usize = 48 << 20;
    let mut config = Config::default();
    config.max_send_buffer = CAP;
    let (server, seen, _) = ws_server(config);
    let mut ws = RawWs::open(&server, &seen);
    let ping = masked(0x89, &[b'p'; 125]);
    let mut batch = Vec::new();
    for _ in 0..512 {
        batch.extend_from_slice(&ping);
    }
    let socket = &mut ws.client.stream;
    socket
        .set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut written = 0;
    while written < LIMIT {
        // Continue where the last write stopped, so frames stay whole.
        let at = written % batch.len();
        match socket.write(&batch[at..]) {
            Ok(n) => written += n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(
        written < LIMIT,
        "the server took {written} bytes of pings without its pongs being read"
    );
    // Once the client reads, the server reads the rest: every whole ping
    // sent is answered.
    socket.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    for n in 0..written / ping.len() {
        assert_eq!(ws.frame(), (0x8A, vec![b'p'; 125]), "pong {n}");
    }
}

#[test]
fn carries_cookies_and_headers_on_the_101() {
    let server = serve_events(Config::default(), |event| {
        if let Event::Request(req) = event {
            let response = uhttp::Response::new(200)
                .header("X-Session", "abc")
                .cookie(uhttp::Cookie::new("seen", "1").http_only(true));
            let ws = req.accept_websocket_with(response).unwrap();
            ws.send_text("hi").unwrap();
        }
    });
    let (mut client, response) = tungstenite::connect(server.ws_url("/ws")).expect("connect");
    assert_eq!(response.status(), 101);
    assert_eq!(response.headers()["x-session"], "abc");
    assert_eq!(response.headers()["set-cookie"], "seen=1; HttpOnly");
    let message = client.read().unwrap();
    assert_eq!(message.into_text().unwrap().as_str(), "hi");
}

#[test]
fn closes_a_client_that_never_answers_the_servers_close_within_the_short_wait() {
    let (seen_tx, seen) = mpsc::channel();
    let server = serve_events(Config::default(), move |event| match event {
        Event::Request(req) => {
            req.accept_websocket().unwrap();
            let _ = seen_tx.send(Seen::Opened);
        }
        // The first message is answered with a Close; later ones (the
        // client did not stop) are ignored.
        Event::WebSocket(ws, Message::Text(_)) if !ws.is_closed() => ws.close(1001, "bye").unwrap(),
        _ => {}
    });
    let mut ws = RawWs::open(&server, &seen);
    ws.send(&masked(0x81, b"close me"));
    assert_eq!(ws.close_code(), 1001);
    // The client keeps talking and never sends its Close: the server's
    // wait (2 s) must not restart with every frame.
    let start = Instant::now();
    let stream = ws.client.stream.try_clone().unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut closed = false;
    while start.elapsed() < Duration::from_secs(6) {
        if (&stream).write_all(&masked(0x81, b"still here")).is_err() {
            closed = true;
            break;
        }
        let mut byte = [0u8; 1];
        match ws.client.read_some(&mut byte) {
            Ok(0) => {
                closed = true;
                break;
            }
            Err(e)
                if e.kind() != std::io::ErrorKind::WouldBlock
                    && e.kind() != std::io::ErrorKind::TimedOut =>
            {
                closed = true;
                break;
            }
            _ => {}
        }
    }
    assert!(closed, "still open after {:?}", start.elapsed());
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// The client's Close frame with `code`.
fn close_frame(code: u16) -> Vec<u8> {
    masked(0x88, &code.to_be_bytes())
}

/// Issue 11 (Autobahn 3.2, 4.1.3, 5.15): a valid message and a bad frame in
/// one read. The message reaches the application, its echo goes out, then
/// the Close with the error's code.
#[test]
fn answers_a_message_that_came_with_a_bad_frame_then_closes_with_1002() {
    let (server, seen, _) = ws_server(Config::default());
    let bad_frames: [(&str, Vec<u8>); 3] = [
        ("reserved bits", masked(0xC1, b"x")),
        ("reserved opcode", masked(0x83, b"")),
        ("continuation first", masked(0x80, b"x")),
    ];
    for (what, bad) in bad_frames {
        let mut ws = RawWs::open(&server, &seen);
        ws.send(&[masked(0x81, "h\u{e9}llo \u{20ac}\u{1F600}".as_bytes()), bad].concat());
        let text = "h\u{e9}llo \u{20ac}\u{1F600}";
        assert_eq!(ws.frame(), (0x81, text.as_bytes().to_vec()), "{what}");
        assert_eq!(ws.close_code(), 1002, "{what}");
        ws.assert_closed_by_server();
        assert_eq!(next(&seen), Seen::Message(Message::Text(text.into())));
        assert_eq!(close_code_of(next(&seen)), 1002, "{what}");
    }
}

/// Issue 11 (Autobahn 7.1.6): a message then the client's Close in one
/// write: the echo, then our Close 1000.
#[test]
fn answers_a_message_that_came_with_the_close_then_closes_with_1000() {
    let (server, seen, _) = ws_server(Config::default());
    let mut ws = RawWs::open(&server, &seen);
    // What follows the Close (a ping here) is never read.
    ws.send(
        &[
            masked(0x82, &[0, 0xff, 0xc3]),
            close_frame(1000),
            masked(0x89, b"late"),
        ]
        .concat(),
    );
    assert_eq!(ws.frame(), (0x82, vec![0, 0xff, 0xc3]));
    assert_eq!(ws.close_code(), 1000);
    ws.assert_closed_by_server();
    assert_eq!(
        next(&seen),
        Seen::Message(Message::Binary(vec![0, 0xff, 0xc3]))
    );
    assert_eq!(
        next(&seen),
        Seen::Message(Message::Close(Some((1000, String::new()))))
    );
    assert!(
        seen.recv_timeout(Duration::from_millis(100)).is_err(),
        "an event after the Close"
    );
}

/// Several messages, a ping and a fragmented message, then invalid UTF-8,
/// in one write: the pong, every echo in order, then Close 1007.
#[test]
fn answers_every_message_before_a_protocol_error_in_order() {
    let (server, seen, _) = ws_server(Config::default());
    let mut ws = RawWs::open(&server, &seen);
    ws.send(
        &[
            masked(0x81, b"one"),
            masked(0x82, &[2; 300]),
            masked(0x89, b"are you there?"),
            masked(0x01, "thr".as_bytes()),
            masked(0x80, "\u{e9}e".as_bytes()),
            masked(0x81, b"four \xc3"),
        ]
        .concat(),
    );
    assert_eq!(ws.frame(), (0x8A, b"are you there?".to_vec()));
    assert_eq!(ws.frame(), (0x81, b"one".to_vec()));
    assert_eq!(ws.frame(), (0x82, vec![2; 300]));
    assert_eq!(ws.frame(), (0x81, "thr\u{e9}e".as_bytes().to_vec()));
    assert_eq!(ws.close_code(), 1007);
    ws.assert_closed_by_server();
    let want = [
        Message::Text("one".into()),
        Message::Binary(vec![2; 300]),
        Message::Ping(b"are you there?".to_vec()),
        Message::Text("thr\u{e9}e".into()),
    ];
    for message in want {
        assert_eq!(next(&seen), Seen::Message(message));
    }
    assert_eq!(close_code_of(next(&seen)), 1007);
}

/// The application answers on another thread: what it sends before the
/// loop thread calls `wait()` again goes out before the Close; a send after
/// the session's `Close` event is refused, never sent after our Close.
#[test]
fn answers_from_another_thread_go_out_before_the_close_and_later_ones_are_refused() {
    let (seen_tx, seen) = mpsc::channel();
    let (late_tx, late) = mpsc::channel();
    let server = serve_events(Config::default(), move |event| match event {
        Event::Request(req) => {
            req.accept_websocket().unwrap();
            let _ = seen_tx.send(Seen::Opened);
        }
        Event::WebSocket(ws, Message::Text(text)) => {
            // A worker answers; the loop thread waits for it.
            std::thread::spawn(move || ws.send_text(&format!("worker: {text}")))
                .join()
                .unwrap()
                .unwrap();
        }
        Event::WebSocket(ws, message @ Message::Close(_)) => {
            let worker = std::thread::spawn(move || ws.send_text("too late"));
            let _ = late_tx.send(worker.join().unwrap());
            let _ = seen_tx.send(Seen::Message(message));
        }
        _ => {}
    });
    let mut ws = RawWs::open(&server, &seen);
    ws.send(&[masked(0x81, b"a"), masked(0x81, b"b"), close_frame(1001)].concat());
    assert_eq!(ws.frame(), (0x81, b"worker: a".to_vec()));
    assert_eq!(ws.frame(), (0x81, b"worker: b".to_vec()));
    assert_eq!(ws.close_code(), 1001);
    ws.assert_closed_by_server();
    assert_eq!(
        next(&seen),
        Seen::Message(Message::Close(Some((1001, String::new()))))
    );
    assert!(matches!(
        late.recv_timeout(IO_TIMEOUT).unwrap(),
        Err(Error::Closed)
    ));
}

/// A client that sends a message and its Close and goes away at once:
/// the application still gets both (one `Close`), and the connection is
/// freed.
#[test]
fn a_client_gone_right_after_its_close_frees_the_connection() {
    let mut event_loop = uhttp::EventLoop::new().unwrap();
    let id = event_loop
        .add_server(&["127.0.0.1:0".parse().unwrap()], Config::default())
        .unwrap();
    let addr = event_loop.local_addrs(id)[0];
    let (seen_tx, seen) = mpsc::channel();
    let handle = event_loop.handle();
    let _server = crate::common::library::run_loop(vec![vec![addr]], handle, move || {
        // A timer, so the count is reported while nothing happens too.
        match event_loop.wait(Some(Duration::from_millis(20))).unwrap() {
            Some(Event::Request(req)) => {
                req.accept_websocket().unwrap();
                let _ = seen_tx.send((Some(Seen::Opened), event_loop.connections()));
            }
            Some(Event::WebSocket(ws, message)) => {
                if let Message::Text(text) = &message {
                    // The client is gone: the answer may or may not be taken.
                    let _ = ws.send_text(text);
                }
                let _ = seen_tx.send((Some(Seen::Message(message)), event_loop.connections()));
            }
            _ => drop(seen_tx.send((None, event_loop.connections()))),
        }
    });
    let mut client = Client::connect(addr);
    client.send(
        upgrade_request(
            "GET",
            &[("Sec-WebSocket-Key", KEY), ("Sec-WebSocket-Version", "13")],
        )
        .as_bytes(),
    );
    assert_eq!(client.head().status, 101);
    client.send([masked(0x81, b"bye"), close_frame(1000)].concat());
    drop(client);
    let mut events = Vec::new();
    let start = Instant::now();
    loop {
        let (event, connections) = seen.recv_timeout(IO_TIMEOUT).expect("a turn of the loop");
        events.extend(event);
        if connections == 0 && events.len() == 3 {
            break;
        }
        assert!(start.elapsed() < IO_TIMEOUT, "still open; saw {events:?}");
    }
    assert_eq!(
        events,
        [
            Seen::Opened,
            Seen::Message(Message::Text("bye".into())),
            Seen::Message(Message::Close(Some((1000, String::new())))),
        ]
    );
}

/// Issue 11 (Autobahn 9.*): a 16 MiB message, whole and in fragments, is
/// echoed with `max_message_size` at 16 MiB; one byte more is refused with
/// 1009 from the frame header.
#[test]
fn echoes_16_mib_messages_at_max_message_size_and_refuses_one_byte_more() {
    const MAX: usize = 16 << 20;
    let mut config = Config::default();
    config.max_message_size = MAX;
    let (server, seen, _) = ws_server(config);
    let data: Vec<u8> = (0..MAX as u32).map(|i| (i % 251) as u8).collect();
    let mut ws = RawWs::open(&server, &seen);
    ws.client
        .stream
        .set_read_timeout(Some(crate::common::PATIENCE))
        .unwrap();
    ws.send(&masked(0x82, &data));
    let (b0, echoed) = ws.frame();
    assert_eq!(b0, 0x82);
    assert!(echoed == data, "the echo differs");
    assert!(matches!(next(&seen), Seen::Message(Message::Binary(b)) if b.len() == MAX));
    // In 1 MiB fragments.
    let fragments = data.chunks(1 << 20).enumerate().map(|(i, part)| {
        let last = (i + 1) << 20 == MAX;
        masked(
            if i == 0 { 0x02 } else { 0x00 } | if last { 0x80 } else { 0 },
            part,
        )
    });
    ws.send(&fragments.collect::<Vec<_>>().concat());
    let (b0, echoed) = ws.frame();
    assert_eq!(b0, 0x82);
    assert!(echoed == data, "the echo of the fragments differs");
    assert!(matches!(next(&seen), Seen::Message(Message::Binary(b)) if b.len() == MAX));
    // One byte over: refused from the header, before any payload.
    let mut header = vec![0x82, 0xFF];
    header.extend_from_slice(&(MAX as u64 + 1).to_be_bytes());
    header.extend_from_slice(&crate::common::ws::MASK);
    ws.send(&header);
    assert_eq!(ws.close_code(), 1009);
    ws.assert_closed_by_server();
    assert_eq!(close_code_of(next(&seen)), 1009);
}

/// An answer refused for want of room (`WouldBlock`) is sent after the
/// `Writable` event, and still goes out before our Close.
#[test]
fn an_answer_that_waits_for_room_still_goes_out_before_the_close() {
    let mut config = Config::default();
    config.max_send_buffer = 1024;
    let (seen_tx, seen) = mpsc::channel();
    let mut waiting: Option<(WebSocket, Vec<u8>)> = None;
    let server = serve_events(config, move |event| match event {
        Event::Request(req) => {
            req.accept_websocket().unwrap();
            let _ = seen_tx.send(Seen::Opened);
        }
        Event::WebSocket(ws, Message::Binary(data)) => {
            // Over the cap: the first send is taken whole, the second waits.
            ws.send_binary(&data).unwrap();
            assert!(matches!(
                ws.send_binary(&data[..10]),
                Err(Error::WouldBlock)
            ));
            waiting = Some((ws, data[..10].to_vec()));
        }
        Event::Writable(_) => {
            let (ws, rest) = waiting.take().expect("an answer waits");
            ws.send_binary(&rest).unwrap();
        }
        Event::WebSocket(_, message) => drop(seen_tx.send(Seen::Message(message))),
        _ => {}
    });
    let mut ws = RawWs::open(&server, &seen);
    let data: Vec<u8> = (0..2000u32).map(|i| (i % 256) as u8).collect();
    ws.send(&[masked(0x82, &data), close_frame(1000)].concat());
    assert_eq!(ws.frame(), (0x82, data.clone()));
    assert_eq!(ws.frame(), (0x82, data[..10].to_vec()));
    assert_eq!(ws.close_code(), 1000);
    ws.assert_closed_by_server();
    assert_eq!(
        next(&seen),
        Seen::Message(Message::Close(Some((1000, String::new()))))
    );
}

mod deflate;
