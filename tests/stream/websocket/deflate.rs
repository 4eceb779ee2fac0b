//! permessage-deflate (RFC 7692) over a raw socket: the test compresses
//! and inflates with flate2 itself, independently of the library's codec.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};

use super::*;

/// The tail every compressed message ends with before it is stripped
/// (RFC 7692 §7.2.1).
const TAIL: [u8; 4] = [0x00, 0x00, 0xFF, 0xFF];

/// Opens a raw WebSocket offering `offers` (one `Sec-WebSocket-Extensions`
/// header each); returns it with the extensions the server accepted.
fn open(
    server: &TestServer,
    seen: &mpsc::Receiver<Seen>,
    offers: &[&str],
) -> (RawWs, Option<String>) {
    let mut client = server.connect();
    let mut headers = vec![("Sec-WebSocket-Key", KEY), ("Sec-WebSocket-Version", "13")];
    headers.extend(offers.iter().map(|o| ("Sec-WebSocket-Extensions", *o)));
    client.send(upgrade_request("GET", &headers).as_bytes());
    let head = client.head();
    assert_eq!(head.status, 101, "{head:?}");
    assert_eq!(head.header("sec-websocket-accept"), Some(ACCEPT));
    let accepted = head.headers_named("sec-websocket-extensions");
    assert!(accepted.len() <= 1, "{accepted:?}");
    let accepted = accepted.first().map(|v| v.to_string());
    assert_eq!(next(seen), Seen::Opened);
    (RawWs { client }, accepted)
}

/// The client's compressor: raw deflate, a sync flush per message, tail
/// stripped.
struct ClientDeflate(Compress);

impl ClientDeflate {
    fn new() -> Self {
        ClientDeflate(Compress::new(Compression::default(), false))
    }

    fn compress(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 1024);
        let start = self.0.total_in();
        let mut input = data;
        loop {
            let before = self.0.total_in();
            self.0
                .compress_vec(input, &mut out, FlushCompress::Sync)
                .unwrap();
            input = &input[(self.0.total_in() - before) as usize..];
            if input.is_empty() && out.len() < out.capacity() {
                break;
            }
            out.reserve(out.capacity());
        }
        assert_eq!(self.0.total_in() - start, data.len() as u64);
        assert!(out.ends_with(&TAIL));
        out.truncate(out.len() - TAIL.len());
        out
    }
}

/// The client's decompressor for the server's messages.
struct ClientInflate(Decompress);

impl ClientInflate {
    fn new() -> Self {
        ClientInflate(Decompress::new(false))
    }

    fn inflate(&mut self, payload: &[u8]) -> Vec<u8> {
        let input = [payload, &TAIL].concat();
        let mut out = Vec::with_capacity(input.len() * 4 + 1024);
        let mut rest = &input[..];
        loop {
            let before = self.0.total_in();
            self.0
                .decompress_vec(rest, &mut out, FlushDecompress::Sync)
                .expect("the server's deflate data");
            rest = &rest[(self.0.total_in() - before) as usize..];
            if rest.is_empty() && out.len() < out.capacity() {
                return out;
            }
            out.reserve(out.capacity());
        }
    }
}

/// `chars` characters of 1 to 4 bytes in a pseudo-random order: text
/// that deflate shrinks, but only so far.
fn varied_text(chars: usize) -> String {
    let mut seed = 0x9E37_79B9u32;
    (0..chars)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            ['a', 'b', 'é', '✓', '😀', ' ', 'z'][seed as usize % 7]
        })
        .collect()
}

#[test]
fn permessage_deflate_round_trips_compressed_messages() {
    let mut config = Config::default();
    config.max_message_size = 4 << 20;
    let (server, seen, _) = ws_server(config);
    let (mut ws, accepted) = open(
        &server,
        &seen,
        &["permessage-deflate; client_max_window_bits"],
    );
    assert_eq!(accepted.as_deref(), Some("permessage-deflate"));
    let (mut deflate, mut inflate) = (ClientDeflate::new(), ClientInflate::new());
    let text = varied_text(3000);
    // Twice: the second time both sides refer to the first (context
    // takeover), and it is much shorter on the wire.
    let mut wire = Vec::new();
    for _ in 0..2 {
        ws.send(&masked(0xC1, &deflate.compress(text.as_bytes())));
        let (b0, payload) = ws.frame();
        assert_eq!(b0, 0xC1, "a compressed text frame");
        wire.push(payload.len());
        assert_eq!(inflate.inflate(&payload), text.as_bytes());
        assert_eq!(next(&seen), Seen::Message(Message::Text(text.clone())));
    }
    assert!(wire[1] < wire[0] / 2, "{wire:?}");
    // A short message comes back uncompressed (RSV1 clear).
    ws.send(&masked(0xC1, &deflate.compress(b"hi")));
    assert_eq!(ws.frame(), (0x81, b"hi".to_vec()));
    assert_eq!(next(&seen), Seen::Message(Message::Text("hi".into())));
    // An uncompressed message between compressed ones.
    ws.send(&masked(0x82, &[9; 100]));
    let (b0, payload) = ws.frame();
    assert_eq!((b0, inflate.inflate(&payload)), (0xC2, vec![9; 100]));
    assert_eq!(next(&seen), Seen::Message(Message::Binary(vec![9; 100])));
    // 3 MiB of binary in three fragments, RSV1 on the first only.
    let big: Vec<u8> = (0..3u32 << 20).map(|i| (i * 7 / 5) as u8).collect();
    let z = deflate.compress(&big);
    let third = z.len() / 3;
    ws.send(&masked(0x42, &z[..third]));
    ws.send(&masked(0x00, &z[third..2 * third]));
    ws.send(&masked(0x80, &z[2 * third..]));
    let (b0, payload) = ws.frame();
    assert_eq!(b0, 0xC2);
    assert!(inflate.inflate(&payload) == big, "3 MiB echo differs");
    assert_eq!(next(&seen), Seen::Message(Message::Binary(big)));
    ws.send(&masked(0x88, &1000u16.to_be_bytes()));
    assert_eq!(ws.close_code(), 1000);
}

#[test]
fn permessage_deflate_without_context_takeover_and_with_a_small_window() {
    let (server, seen, _) = ws_server(Config::default());
    let (mut ws, accepted) = open(
        &server,
        &seen,
        &[
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10",
        ],
    );
    assert_eq!(
        accepted.as_deref(),
        Some(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"
        )
    );
    let text = varied_text(1000);
    for _ in 0..2 {
        // A fresh compressor and decompressor each message, both ways.
        ws.send(&masked(
            0xC1,
            &ClientDeflate::new().compress(text.as_bytes()),
        ));
        let (b0, payload) = ws.frame();
        assert_eq!(b0, 0xC1);
        assert_eq!(ClientInflate::new().inflate(&payload), text.as_bytes());
        assert_eq!(next(&seen), Seen::Message(Message::Text(text.clone())));
    }
    // A window of 8 bits, which zlib cannot compress with: accepted, and
    // messages come back uncompressed.
    let (mut ws, accepted) = open(
        &server,
        &seen,
        &["permessage-deflate; server_max_window_bits=8"],
    );
    assert_eq!(
        accepted.as_deref(),
        Some("permessage-deflate; server_max_window_bits=8")
    );
    ws.send(&masked(
        0xC1,
        &ClientDeflate::new().compress(text.as_bytes()),
    ));
    assert_eq!(ws.frame(), (0x81, text.clone().into_bytes()));
    assert_eq!(next(&seen), Seen::Message(Message::Text(text)));
}

#[test]
fn permessage_deflate_bomb_is_closed_with_1009() {
    let mut config = Config::default();
    config.max_message_size = 64 * 1024;
    let (server, seen, _) = ws_server(config);
    let (mut ws, accepted) = open(&server, &seen, &["permessage-deflate"]);
    assert!(accepted.is_some());
    // 16 MiB of zeros in about 16 KiB.
    let bomb = ClientDeflate::new().compress(&vec![0; 16 << 20]);
    assert!(bomb.len() < 20 * 1024, "{}", bomb.len());
    ws.send(&masked(0xC2, &bomb));
    assert_eq!(ws.close_code(), 1009);
    ws.assert_closed_by_server();
    assert_eq!(close_code_of(next(&seen)), 1009);
    // Invalid deflate data is 1007.
    let (mut ws, _) = open(&server, &seen, &["permessage-deflate"]);
    ws.send(&masked(0xC1, b"\xff\xff\xff\xff"));
    assert_eq!(ws.close_code(), 1007);
    assert_eq!(close_code_of(next(&seen)), 1007);
}

#[test]
fn permessage_deflate_rsv1_misuse_is_closed_with_1002() {
    let (server, seen, _) = ws_server(Config::default());
    let hello = ClientDeflate::new().compress(b"Hello");
    let cases: [(&[&str], Vec<u8>); 4] = [
        // On a control frame.
        (&["permessage-deflate"], masked(0xC9, b"")),
        // On a continuation.
        (
            &["permessage-deflate"],
            [masked(0x41, &hello[..2]), masked(0xC0, &hello[2..])].concat(),
        ),
        // RSV2 is never allowed.
        (&["permessage-deflate"], masked(0xA1, &hello)),
        // Not negotiated.
        (&[], masked(0xC1, &hello)),
    ];
    for (offers, frames) in cases {
        let (mut ws, _) = open(&server, &seen, offers);
        ws.send(&frames);
        assert_eq!(ws.close_code(), 1002, "{offers:?} {frames:02x?}");
        ws.assert_closed_by_server();
        assert_eq!(close_code_of(next(&seen)), 1002);
    }
}

#[test]
fn permessage_deflate_is_not_negotiated_when_off_or_malformed() {
    let (server, seen, _) = ws_server(Config::default());
    let declined = [
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; client_max_window_bits=7",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; unknown_parameter",
        "permessage-deflate; server_max_window_bits=\"10",
        "x-webkit-deflate-frame",
        "permessage-deflate; \u{e9}=1",
    ];
    for offer in declined {
        let (mut ws, accepted) = open(&server, &seen, &[offer]);
        assert_eq!(accepted, None, "{offer}");
        // Plain RFC 6455 still works.
        ws.send(&masked(0x81, b"plain"));
        assert_eq!(ws.frame(), (0x81, b"plain".to_vec()));
        assert_eq!(next(&seen), Seen::Message(Message::Text("plain".into())));
        drop(ws);
        assert_eq!(close_code_of(next(&seen)), 1006);
    }
    // The first offer that can be honoured, across headers.
    let (ws, accepted) = open(
        &server,
        &seen,
        &[
            "permessage-deflate; server_max_window_bits=99, x-foo",
            "permessage-deflate; client_no_context_takeover, permessage-deflate",
        ],
    );
    assert_eq!(
        accepted.as_deref(),
        Some("permessage-deflate; client_no_context_takeover")
    );
    drop(ws);
    assert_eq!(close_code_of(next(&seen)), 1006);
    // Switched off.
    let mut config = Config::default();
    config.websocket_deflate = false;
    let (server, seen, _) = ws_server(config);
    let (mut ws, accepted) = open(&server, &seen, &["permessage-deflate"]);
    assert_eq!(accepted, None);
    ws.send(&masked(0xC1, &ClientDeflate::new().compress(b"Hello")));
    assert_eq!(ws.close_code(), 1002);
}

/// The page script: opens a WebSocket to `url`, sends a text and a binary
/// message of each size and checks each echo; resolves to a JSON report.
const BROWSER_SCRIPT: &str = r#"(async (url, sizes) => {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  await new Promise((ok, fail) => {
    ws.onopen = ok;
    ws.onerror = () => fail(new Error("WebSocket error"));
  });
  const queue = [];
  let waiting = null;
  ws.onmessage = (e) => {
    if (waiting) { const w = waiting; waiting = null; w(e.data); } else { queue.push(e.data); }
  };
  const receive = () => queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => { waiting = r; });
  let seed = 12345;
  const next = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 16; };
  const results = [];
  for (const size of sizes) {
    const letters = "abcdefghijklmnop";
    let text = "";
    const parts = [];
    for (let i = 0; i < size; i++) { parts.push(letters[next() % 16]); }
    text = parts.join("");
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) { bytes[i] = next() % 32; }
    ws.send(text);
    const textEcho = await receive();
    ws.send(bytes);
    const binaryEcho = new Uint8Array(await receive());
    let same = binaryEcho.length === size;
    for (let i = 0; same && i < size; i++) { same = binaryEcho[i] === bytes[i]; }
    results.push({ size, text: textEcho === text, binary: same });
  }
  const extensions = ws.extensions;
  ws.close(1000);
  return JSON.stringify({ extensions, results });
})"#;

#[test]
fn permessage_deflate_from_headless_chromium() {
    use crate::common::chromium::{Cdp, Chromium, require_chromium};
    use serde_json::{Value, json};

    require_chromium();
    let mut config = Config::default();
    // The 4 MiB messages are over the default 1 MiB cap.
    config.max_message_size = 8 << 20;
    let (server, seen, _) = ws_server(config);
    let browser = Chromium::start();
    let mut cdp = Cdp::connect(&browser.ws_url);
    let target = cdp.call(None, "Target.createTarget", json!({"url": "about:blank"}));
    let attached = cdp.call(
        None,
        "Target.attachToTarget",
        json!({"targetId": target["targetId"], "flatten": true}),
    );
    let session = attached["sessionId"].as_str().unwrap().to_owned();
    let url = server.ws_url("/ws");
    let sizes = [1, 100 * 1024, 4 << 20];
    let evaluated = cdp.call(
        Some(&session),
        "Runtime.evaluate",
        json!({
            "expression": format!("{BROWSER_SCRIPT}({}, {})", json!(url), json!(sizes)),
            "awaitPromise": true,
            "returnByValue": true,
        }),
    );
    assert!(
        evaluated.get("exceptionDetails").is_none(),
        "the page script failed: {evaluated}"
    );
    let report: Value =
        serde_json::from_str(evaluated["result"]["value"].as_str().unwrap()).unwrap();
    // Chromium offers `permessage-deflate; client_max_window_bits`.
    assert_eq!(report["extensions"], "permessage-deflate", "{report}");
    for (result, size) in report["results"].as_array().unwrap().iter().zip(sizes) {
        assert_eq!(result["size"], size);
        assert_eq!(result["text"], true, "text of {size} bytes: {report}");
        assert_eq!(result["binary"], true, "binary of {size} bytes: {report}");
    }
    assert_eq!(report["results"].as_array().unwrap().len(), sizes.len());
    // The server saw every message, then the browser's Close.
    assert_eq!(next(&seen), Seen::Opened);
    for size in sizes {
        for _ in 0..2 {
            match next(&seen) {
                Seen::Message(Message::Text(t)) => assert_eq!(t.len(), size),
                Seen::Message(Message::Binary(b)) => assert_eq!(b.len(), size),
                other => panic!("{other:?}"),
            }
        }
    }
    assert_eq!(close_code_of(next(&seen)), 1000);
    cdp.close_browser();
}
