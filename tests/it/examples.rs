//! The examples, run as programs for a request or two each (built first
//! with `cargo build --examples`; a test fails when its example cannot be
//! built).

use std::time::Instant;

use serde_json::json;

use crate::common::examples::Example;
use crate::util::{Client, write_pattern_file};

#[test]
fn hello_serves_html_json_and_404() {
    let example = Example::start("hello", &[], 1);
    let mut client = Client::connect(example.addrs[0]);
    let page = client.get("/");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Hello"));
    client.send(
        "POST /rpc?x=1 HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
         Content-Length: 8\r\n\r\n{\"a\": 1}",
    );
    let rpc = client.read_response().json();
    assert_eq!(rpc["data"], json!({"a": 1}));
    assert_eq!(rpc["query"], json!({"x": "1"}));
    assert_eq!(client.get("/nope").status, 404);
}

#[test]
fn event_upload_streams_a_body_to_a_file_and_answers_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let example = Example::start("event_upload", &[dir.path().to_str().unwrap()], 1);
    let source = dir.path().join("source.bin");
    write_pattern_file(&source, 1024 * 1024 + 5);
    let body = std::fs::read(&source).unwrap();
    let mut client = Client::connect(example.addrs[0]);
    client.send(format!(
        "PUT /saved.bin HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    ));
    client.expect_bytes(b"HTTP/1.1 100 Continue\r\n\r\n");
    client.send(&body);
    let resp = client.read_response();
    assert_eq!(resp.status, 201);
    assert_eq!(resp.json(), json!({"bytes": body.len()}));
    assert!(std::fs::read(dir.path().join("saved.bin")).unwrap() == body);

    // Counted as it streams by, not saved.
    client.send(
        "POST /x?count HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
         5\r\nhello\r\n0\r\n\r\n",
    );
    assert_eq!(client.read_response().json(), json!({"bytes": 5}));
    assert!(!dir.path().join("x").exists());
}

#[test]
fn delayed_answers_a_fast_request_while_a_slow_one_waits() {
    let example = Example::start("delayed", &[], 1);
    let mut slow = Client::connect(example.addrs[0]);
    slow.send("GET /slow?ms=700 HTTP/1.1\r\nHost: t\r\n\r\n");
    let start = Instant::now();
    let fast = Client::connect(example.addrs[0]).get("/fast?ms=0").json();
    assert_eq!(fast["path"], "/fast");
    let slow = slow.read_response().json();
    assert_eq!(slow["path"], "/slow");
    assert!(start.elapsed().as_millis() >= 600);
    assert!(slow["waited_ms"].as_u64().unwrap() >= 600);
}

#[test]
fn two_servers_answers_each_listener_with_its_name() {
    let example = Example::start("two_servers", &[], 2);
    assert_eq!(Client::connect(example.addrs[0]).get("/").text(), "site\n");
    assert_eq!(Client::connect(example.addrs[1]).get("/").text(), "admin\n");
}
