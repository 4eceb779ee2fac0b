//! multipart/x-mixed-replace: frames parse back, the end closes the
//! boundary.

use uhttp::{Config, Response};

use crate::util::{Client, IO_TIMEOUT, serve_streams};

/// Parses one whole part (one chunk): its content type and data.
fn parse_part(body: &[u8], boundary: &str) -> (String, Vec<u8>) {
    let text_end = body
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("part head")
        + 4;
    let head = std::str::from_utf8(&body[..text_end]).unwrap();
    let mut lines = head.split("\r\n");
    assert_eq!(lines.next(), Some(format!("--{boundary}").as_str()));
    let (mut content_type, mut length) = (None, None);
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(": ").expect("part header");
        match name.to_ascii_lowercase().as_str() {
            "content-type" => content_type = Some(value.to_owned()),
            "content-length" => length = Some(value.parse::<usize>().unwrap()),
            other => panic!("unexpected part header {other}"),
        }
    }
    let length = length.expect("Content-Length");
    let data = body[text_end..text_end + length].to_vec();
    assert_eq!(&body[text_end + length..], b"\r\n", "part ends with CRLF");
    (content_type.expect("Content-Type"), data)
}

fn boundary_of(client: &mut Client) -> String {
    let head = client.head();
    assert_eq!(head.status, 200);
    let content_type = head.header("content-type").unwrap();
    let boundary = content_type
        .strip_prefix("multipart/x-mixed-replace; boundary=")
        .unwrap_or_else(|| panic!("{content_type}"));
    assert_eq!(head.header("cache-control"), Some("no-cache"));
    boundary.to_owned()
}

#[test]
fn sends_frames_with_their_type_and_length_then_the_closing_boundary() {
    let (server, streams) = serve_streams(Config::default(), |req| {
        req.response_multipart(Response::new(200)).unwrap()
    });
    let mut client = server.connect();
    client.request("GET", "/stream", "HTTP/1.1");
    let stream = streams.recv_timeout(IO_TIMEOUT).unwrap();
    let boundary = boundary_of(&mut client);
    assert_eq!(stream.boundary(), boundary);
    // Binary data holding CRLFs and dashes parses by its length.
    let png = b"\x89PNG\r\n\x1a\n\r\n--not-the-boundary\r\n\0\xff".to_vec();
    let frames: [(&str, &[u8]); 3] = [
        ("image/png", &png),
        ("image/jpeg", b"\xff\xd8\xff\xe0 jpeg bytes \xff\xd9"),
        ("text/plain; charset=utf-8", b""),
    ];
    for (content_type, data) in frames {
        stream.send_frame(content_type, data).unwrap();
        let part = client.chunk().expect("a frame");
        assert_eq!(
            parse_part(&part, &boundary),
            (content_type.to_owned(), data.to_vec())
        );
    }
    assert!(stream.send_frame("bad\r\ntype", b"x").is_err());
    stream.end().unwrap();
    let closing = client.chunk().expect("the closing boundary");
    assert_eq!(closing, format!("--{boundary}--\r\n").into_bytes());
    assert_eq!(client.chunk(), None);
}
