//! `respond_file`: streamed from disk, intact, typed by extension.

use uhttp::{Config, Error};

use crate::util::{agent, digest, serve, write_pattern_file};

#[test]
fn streams_a_64_mib_file_intact() {
    const LEN: usize = 64 * 1024 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    write_pattern_file(&path, LEN);
    let served = path.clone();
    let server = serve(Config::default(), move |req| {
        req.respond_file(&served).unwrap()
    });
    let resp = agent().get(server.url("/big.bin")).call().unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers().get("content-length").unwrap(),
        &LEN.to_string()
    );
    assert_eq!(
        resp.headers().get("content-type").unwrap(),
        "application/octet-stream"
    );
    let (len, received) = digest(&mut resp.into_body().into_reader());
    assert_eq!(len, LEN as u64);
    let (_, sent) = digest(&mut std::fs::File::open(&path).unwrap());
    assert_eq!(received, sent);
}

#[test]
fn serves_files_back_to_back_on_one_connection() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("page.html");
    std::fs::write(&path, "<h1>page</h1>").unwrap();
    let css = dir.path().join("style.css");
    std::fs::write(&css, "body{}").unwrap();
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let root = dir.path().to_owned();
    let server = serve(Config::default(), move |req| {
        req.respond_file(root.join(&req.path()[1..])).unwrap()
    });
    let mut client = server.connect();
    let html = client.get("/page.html");
    assert_eq!(html.text(), "<h1>page</h1>");
    assert_eq!(
        html.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let style = client.get("/style.css");
    assert_eq!(style.text(), "body{}");
    assert_eq!(
        style.header("content-type"),
        Some("text/css; charset=utf-8")
    );
    let nothing = client.get("/empty.txt");
    assert_eq!(nothing.header("content-length"), Some("0"));
    assert!(nothing.body.is_empty());
    assert_eq!(client.get("/page.html").text(), "<h1>page</h1>");
}

#[test]
fn a_missing_file_is_an_error_and_the_request_can_still_be_answered() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.txt");
    let server = serve(Config::default(), move |req| {
        match req.respond_file(&missing) {
            Err(Error::File { path, .. }) => assert_eq!(path, missing),
            other => panic!("expected Error::File, got {other:?}"),
        }
        req.respond(404, "no such file").unwrap();
    });
    let resp = server.connect().get("/");
    assert_eq!(resp.status, 404);
    assert_eq!(resp.text(), "no such file");
}

#[test]
fn refuses_to_send_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    let server = serve(Config::default(), move |req| {
        assert!(matches!(req.respond_file(&root), Err(Error::File { .. })));
        req.respond(403, "").unwrap();
    });
    assert_eq!(server.connect().get("/").status, 403);
}

#[test]
fn streams_a_file_intact_through_a_tiny_max_send_buffer() {
    const LEN: usize = 300 * 1024 + 7;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("file.bin");
    write_pattern_file(&path, LEN);
    let mut config = Config::default();
    config.max_send_buffer = 1000;
    let served = path.clone();
    let server = serve(config, move |req| req.respond_file(&served).unwrap());
    let mut client = server.connect();
    let resp = client.get("/");
    assert_eq!(resp.body.len(), LEN);
    assert!(resp.body == std::fs::read(&path).unwrap());
    // And again on the same connection.
    assert_eq!(client.get("/").body.len(), LEN);
}
