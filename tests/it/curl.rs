//! The server as `curl` sees it (skipped with a note when curl is not
//! installed).

use std::process::Command;

use serde_json::{Value, json};
use uhttp::{Config, Event};

use crate::common::require;
use crate::util::{serve, serve_events, write_pattern_file};

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--noproxy", "*"])
        .args(args)
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn curl_gets_and_posts_json() {
    require("curl");
    let server = serve(Config::default(), |req| {
        let body = req.json().unwrap_or(Value::Null);
        req.respond_json(200, &json!({"method": req.method(), "json": body}))
            .unwrap();
    });
    let got: Value = serde_json::from_str(&curl(&[&server.url("/rpc")])).unwrap();
    assert_eq!(got, json!({"method": "GET", "json": null}));
    let got: Value = serde_json::from_str(&curl(&[
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"a":1}"#,
        &server.url("/rpc"),
    ]))
    .unwrap();
    assert_eq!(got, json!({"method": "POST", "json": {"a": 1}}));
}

#[test]
fn curl_uploads_a_file_with_expect_continue_in_event_mode() {
    require("curl");
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.bin");
    write_pattern_file(&source, 3 * 1024 * 1024);
    let target = dir.path().join("target.bin");
    let to = target.clone();
    let mut config = Config::default();
    config.event_mode = true;
    config.max_content_length = 8 * 1024 * 1024;
    let server = serve_events(config, move |event| match event {
        Event::Headers(req) => req.accept_body_to_file(&to).unwrap(),
        Event::Complete(req) => req
            .respond_json(201, &json!({"size": req.bytes_received()}))
            .unwrap(),
        other => panic!("unexpected {other:?}"),
    });
    // curl sends `Expect: 100-continue` for a body this large.
    let out = curl(&[
        "-T",
        source.to_str().unwrap(),
        "-w",
        "\n%{http_code}",
        &server.url("/upload/x"),
    ]);
    assert_eq!(out, "{\"size\":3145728}\n201");
    assert!(std::fs::read(&target).unwrap() == std::fs::read(&source).unwrap());
}

#[test]
fn curl_downloads_a_file() {
    require("curl");
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("data.bin");
    write_pattern_file(&source, 5 * 1024 * 1024 + 1);
    let served = source.clone();
    let server = serve(Config::default(), move |req| {
        req.respond_file(&served).unwrap()
    });
    let out = dir.path().join("out.bin");
    curl(&["-o", out.to_str().unwrap(), &server.url("/data.bin")]);
    assert!(std::fs::read(&out).unwrap() == std::fs::read(&source).unwrap());
}
