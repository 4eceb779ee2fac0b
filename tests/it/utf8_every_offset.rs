//! Multi-byte UTF-8 (`é`, `€`, `😀`) and bytes that are not UTF-8 (`\xff`,
//! a lone `\xc3`) at every offset of the request line and of each header
//! line, sent raw to a real server (issue 9: `GET abcdef\xc3\xa9x` took
//! the server down). Every request gets a 2xx or a 4xx status line, and a
//! fresh connection is served after each batch.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};

use uhttp::Config;

use crate::util::{IO_TIMEOUT, serve};

const INSERTS: [&[u8]; 5] = [
    "\u{e9}".as_bytes(),
    "\u{20ac}".as_bytes(),
    "\u{1f600}".as_bytes(),
    b"\xff",
    b"\xc3",
];

/// `text` with `insert` at each offset, before the first byte to after
/// the last.
fn each_offset<'a>(text: &'a str, insert: &'a [u8]) -> impl Iterator<Item = Vec<u8>> + 'a {
    (0..=text.len()).map(move |at| {
        let mut bytes = text.as_bytes()[..at].to_vec();
        bytes.extend_from_slice(insert);
        bytes.extend_from_slice(&text.as_bytes()[at..]);
        bytes
    })
}

/// Sends `raw` on a new connection; the status of the answer.
fn status_of(addr: SocketAddr, raw: &[u8]) -> u16 {
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect");
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.write_all(raw).expect("send");
    let mut line = String::new();
    BufReader::new(&stream)
        .read_line(&mut line)
        .unwrap_or_else(|e| panic!("no answer to {:?}: {e}", String::from_utf8_lossy(raw)));
    let status = line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok());
    status.unwrap_or_else(|| {
        panic!(
            "no status line for {:?}: {line:?}",
            String::from_utf8_lossy(raw)
        )
    })
}

/// A server whose handler uses what a request offers (path, query,
/// cookies, header parameters, the WebSocket handshake) and answers 200.
fn server() -> crate::util::TestServer {
    serve(Config::default(), |req| {
        let _ = (req.path(), req.query().to_json(), req.cookies().to_json());
        let _ = (req.content_type(), req.full_url(), req.headers().to_json());
        if req.header("upgrade").is_some() {
            // Refused with 400 or 426 here; 101 would fail the test.
            let _ = req.accept_websocket();
        } else {
            req.respond(200, req.path().len().to_string()).unwrap();
        }
    })
}

#[test]
fn request_lines_with_multibyte_and_invalid_bytes_get_2xx_or_4xx() {
    let server = server();
    let lines = [
        "GET /p/a%C3%A9?q=1&r=%20 HTTP/1.1",
        "GET http://h.example:8080/p?q=1 HTTP/1.1",
        "GET https://h.example/p?q HTTP/1.1",
        "OPTIONS * HTTP/1.1",
        "POST /u HTTP/1.0",
    ];
    for line in lines {
        for insert in INSERTS {
            for mut raw in each_offset(line, insert) {
                raw.extend_from_slice(b"\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
                let status = status_of(server.addr(), &raw);
                assert!(
                    (200..300).contains(&status) || (400..500).contains(&status),
                    "{status} for {:?}",
                    String::from_utf8_lossy(&raw)
                );
            }
            assert_eq!(server.connect().get("/").status, 200);
        }
    }
}

#[test]
fn header_lines_with_multibyte_and_invalid_bytes_get_2xx_or_4xx() {
    let server = server();
    // Whether a mutated line may still be answered 200: a Host or a
    // WebSocket handshake that is not exactly right is refused.
    let lines = [
        ("Host: h.example:8080", false),
        ("Cookie: a=1; b=\"x y\"; c=%C3%A9", true),
        ("Content-Type: text/plain; charset=\"utf-8\"", true),
        ("X-Name: v\u{e9}lue", true),
        ("Upgrade: websocket", false),
        ("Connection: Upgrade", false),
        ("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", false),
        ("Sec-WebSocket-Version: 13", false),
    ];
    for (index, (line, may_pass)) in lines.iter().enumerate() {
        // The other lines as they are: the Host (unless it is the one
        // mutated), then the rest of the handshake for a WebSocket line,
        // the other plain lines otherwise.
        let others: Vec<&str> = lines
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != index && (i == 0 || (i >= 4) == (index >= 4)))
            .map(|(_, (l, _))| *l)
            .collect();
        for insert in INSERTS {
            for mutated in each_offset(line, insert) {
                let mut raw = b"GET /p?q=%C3%A9 HTTP/1.1\r\n".to_vec();
                for other in &others {
                    raw.extend_from_slice(other.as_bytes());
                    raw.extend_from_slice(b"\r\n");
                }
                raw.extend_from_slice(&mutated);
                raw.extend_from_slice(b"\r\n\r\n");
                let status = status_of(server.addr(), &raw);
                let ok = (400..500).contains(&status) || (*may_pass && status == 200);
                assert!(ok, "{status} for {:?}", String::from_utf8_lossy(&raw));
            }
            assert_eq!(server.connect().get("/").status, 200);
        }
    }
}

#[test]
fn the_request_from_issue_9_is_refused_and_the_server_stays_up() {
    let server = server();
    let raw = b"GET abcdef\xc3\xa9x HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_eq!(status_of(server.addr(), raw), 400);
    assert_eq!(server.connect().get("/").status, 200);
}
