//! Chunked request bodies: extensions, trailers, sizes in any case, and
//! bodies arriving a byte at a time.

use uhttp::Config;

use crate::util::{agent, serve};

fn echo(req: uhttp::Request) {
    assert!(req.is_chunked());
    assert_eq!(req.content_length(), None);
    req.respond(200, req.data().to_vec()).unwrap();
}

fn post_raw(body: &str) -> Vec<u8> {
    let server = serve(Config::default(), echo);
    let mut client = server.connect();
    client.send(format!(
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n{body}"
    ));
    let resp = client.read_response();
    assert_eq!(resp.status, 200);
    // The connection is still in step after the body.
    client.send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    assert!(client.read_response().body.is_empty());
    resp.body
}

#[test]
fn decodes_a_chunked_body() {
    assert_eq!(
        post_raw("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
        b"hello world"
    );
}

#[test]
fn accepts_chunk_extensions() {
    assert_eq!(
        post_raw("5;name=value\r\nhello\r\n1 ; x=\"q;r\"\r\n!\r\n0;last\r\n\r\n"),
        b"hello!"
    );
}

#[test]
fn accepts_trailers() {
    assert_eq!(
        post_raw("3\r\nabc\r\n0\r\nX-Checksum: 123\r\nX-Other: y\r\n\r\n"),
        b"abc"
    );
}

#[test]
fn accepts_hex_sizes_in_either_case() {
    let body = "x".repeat(0x1a);
    assert_eq!(
        post_raw(&format!("1A\r\n{body}\r\n0\r\n\r\n")),
        body.as_bytes()
    );
    assert_eq!(
        post_raw(&format!("1a\r\n{body}\r\n0\r\n\r\n")),
        body.as_bytes()
    );
}

#[test]
fn decodes_a_body_sent_one_byte_per_write() {
    let server = serve(Config::default(), echo);
    let mut client = server.connect();
    client.stream.set_nodelay(true).unwrap();
    let raw = "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
               4;e=1\r\nwiki\r\n5\r\npedia\r\n0\r\nT: v\r\n\r\n";
    for b in raw.bytes() {
        client.send([b]);
    }
    assert_eq!(client.read_response().body, b"wikipedia");
}

#[test]
fn receives_a_streamed_ureq_body_as_chunked() {
    let server = serve(Config::default(), echo);
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut resp = agent()
        .post(server.url("/"))
        .send(ureq::SendBody::from_reader(&mut data.as_slice()))
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.body_mut().read_to_vec().unwrap(), data);
}
