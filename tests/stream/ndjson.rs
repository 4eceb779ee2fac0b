//! NDJSON: one value per line, parsed back.

use serde_json::{Value, json};
use uhttp::{Config, Response};

use crate::util::{IO_TIMEOUT, serve_streams};

#[test]
fn sends_one_value_per_line_and_keeps_newlines_in_strings_on_the_line() {
    let (server, streams) = serve_streams(Config::default(), |req| {
        req.response_ndjson(Response::new(200)).unwrap()
    });
    let mut client = server.connect();
    client.request("GET", "/records", "HTTP/1.1");
    let stream = streams.recv_timeout(IO_TIMEOUT).unwrap();
    let head = client.head();
    assert_eq!(head.header("content-type"), Some("application/x-ndjson"));
    let values = [
        json!({ "n": 1, "name": "first" }),
        json!("two\nlines\r\nand\u{2028}more"),
        json!([1, 2.5, null, true]),
        json!(null),
        json!({ "nested": { "text": "a\"quote\"\n" } }),
    ];
    for value in &values {
        stream.send(value).unwrap();
        let chunk = String::from_utf8(client.chunk().unwrap()).unwrap();
        let line = chunk.strip_suffix('\n').expect("a line");
        assert!(!line.contains('\n') && !line.contains('\r'), "{chunk:?}");
        let parsed: Value = serde_json::from_str(line).unwrap();
        assert_eq!(&parsed, value);
    }
    stream.end().unwrap();
    assert_eq!(client.chunk(), None);
}

#[test]
fn sends_any_serializable_value() {
    let (server, streams) = serve_streams(Config::default(), |req| {
        req.response_ndjson(Response::new(200)).unwrap()
    });
    let mut client = server.connect();
    client.request("GET", "/", "HTTP/1.1");
    let stream = streams.recv_timeout(IO_TIMEOUT).unwrap();
    client.head();
    for id in 0..3 {
        stream.send(&(id, "x")).unwrap();
    }
    stream.end().unwrap();
    let body = String::from_utf8(client.chunked_body()).unwrap();
    let ids: Vec<u64> = body
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()[0]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(ids, [0, 1, 2]);
}
