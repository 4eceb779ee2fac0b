//! `respond_file`: streamed from disk, intact, typed by extension.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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

/// Issue 16: a download read as fast as the client can is sent a bounded
/// amount per turn of the loop, so requests on other connections are
/// answered while it goes on, not after it.
#[test]
fn answers_small_requests_while_a_fast_download_goes_on() {
    // Sparse: 16 GiB that take no disk and cannot all be sent while the
    // small requests are answered.
    const LEN: u64 = 16 << 30;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.bin");
    std::fs::File::create(&path).unwrap().set_len(LEN).unwrap();
    let served = path.clone();
    let server = serve(Config::default(), move |req| {
        if req.path() == "/huge" {
            req.respond_file(&served).unwrap();
        } else {
            req.respond(200, "ok").unwrap();
        }
    });
    let mut download = server.connect();
    download.send("GET /huge HTTP/1.1\r\nHost: t\r\n\r\n");
    // The download is under way: its first 8 MiB arrived.
    let mut stream = download.stream.try_clone().unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut got = 0u64;
    while got < 8 << 20 {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "the download ended after {got} bytes");
        got += n as u64;
    }
    // From now on it is read as fast as it comes.
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = Arc::clone(&stop);
    let reader = std::thread::spawn(move || {
        while !stopped.load(Ordering::Relaxed) {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got += n as u64,
                Err(e) => panic!("download read: {e} after {got} bytes"),
            }
        }
        got
    });
    let mut other = server.connect();
    for _ in 0..20 {
        let resp = other.get("/small");
        assert_eq!(resp.status, 200);
        assert_eq!(resp.text(), "ok");
    }
    stop.store(true, Ordering::Relaxed);
    let got = reader.join().unwrap();
    assert!(
        got < LEN,
        "the small requests were answered only after the whole download"
    );
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
