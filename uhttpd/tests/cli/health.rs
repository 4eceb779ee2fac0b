//! `--health PATH` and `--drain SECS` (issue 14, item 2), and the start-up
//! summary (item 7), through the real server: the JSON parsed with
//! serde_json, TLS with certificates made here (one of them expired), a
//! real SIGTERM.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use serde_json::Value;
use tempfile::TempDir;

use crate::common::client::small_buffer_tcp;
use crate::common::poll;
use crate::tls_certs::{AnyCertificate, KeyKind, Material, generate, generate_with};
use crate::util::{PATIENCE, Response, Server, connect, path_str, read_to_close, write_file};

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").into_bytes()
}

/// `request` on a new plain connection to `addr`, read until close.
fn plain(addr: SocketAddr, request: &[u8]) -> Response {
    let mut stream = connect(addr);
    stream.write_all(request).unwrap();
    read_to_close(&mut stream)
}

/// `request` over TLS (any certificate accepted) to `addr`.
fn tls(addr: SocketAddr, request: &[u8]) -> Response {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    let conn = ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap())
        .unwrap();
    let mut stream = StreamOwned::new(conn, connect(addr));
    stream.write_all(request).unwrap();
    read_to_close(&mut stream)
}

/// The health answer's JSON, after checking the headers every one has.
fn health_json(resp: &Response) -> Value {
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    assert_eq!(resp.header("content-type"), Some("application/json"));
    resp.json()
}

/// `cert.pem` and `key.pem` of `material` in a new directory.
fn cert_files(material: &Material) -> (TempDir, String, String) {
    let dir = TempDir::new().unwrap();
    let cert = write_file(dir.path(), "cert.pem", material.cert_pem.as_bytes());
    let key = write_file(dir.path(), "key.pem", material.key_pem.as_bytes());
    let (cert, key) = (path_str(&cert).to_owned(), path_str(&key).to_owned());
    (dir, cert, key)
}

#[test]
fn health_answers_json_with_typed_fields_summed_over_workers() {
    let builder = Server::builder().args(["--health", "/healthz", "--workers", "2"]);
    write_file(builder.root(), "healthz.txt", b"a file");
    let server = builder.start();

    // Three idle keep-alive connections, each answered (so accepted and
    // counted by whichever worker took it).
    let mut idle: Vec<TcpStream> = (0..3).map(|_| server.connect()).collect();
    for stream in &mut idle {
        stream
            .write_all(b"GET /healthz.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .unwrap();
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"HTTP/1.1 200");
    }

    let resp = server.raw_get("/healthz");
    assert_eq!(resp.status, 200);
    let json = health_json(&resp);
    assert_eq!(json["status"], "ok");
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
    assert!(json["uptime_seconds"].is_u64(), "{json}");
    // The three idle ones and this one, over both workers.
    assert_eq!(json["connections"], 4, "{json}");
    assert_eq!(json["workers"], 2);
    assert_eq!(json["draining"], false);
    assert_eq!(json["tls"], false);
    assert!(json["certificate"].is_null(), "{json}");
    assert_eq!(
        json.as_object().unwrap().len(),
        8,
        "no field more than documented: {json}"
    );

    // A query does not matter; another path is not the check.
    assert_eq!(server.raw_get("/healthz?from=lb").status, 200);
    assert_eq!(server.raw_get("/healthz/").status, 404);
    assert_eq!(server.raw_get("/healthz.txt").text(), "a file");

    // HEAD: the same head, no body.
    let head =
        server.raw(b"HEAD /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    assert_eq!(head.status, 200);
    assert_eq!(head.header("cache-control"), Some("no-store"));
    assert_eq!(head.header("content-length"), resp.header("content-length"));
    assert!(head.body.is_empty());

    let post = server.raw(
        b"POST /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
    );
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
}

#[test]
fn without_health_the_path_is_an_ordinary_one() {
    let server = Server::start();
    assert_eq!(server.raw_get("/healthz").status, 404);
}

#[test]
fn health_over_tls_reports_the_certificate_needs_no_login_and_answers_on_the_redirect_port() {
    let (_certs, cert, key) = cert_files(&generate(KeyKind::EcdsaP256Pkcs8, "localhost"));
    let users = TempDir::new().unwrap();
    let hash = bcrypt::hash("secret", 4).unwrap();
    let auth = write_file(users.path(), "users", format!("alice:{hash}\n").as_bytes());
    let builder = Server::builder()
        .args(["--cert", &cert, "--key", &key, "--redirect-http", "0"])
        .args(["--auth-file", path_str(&auth), "--health", "/healthz"]);
    write_file(builder.root(), "a.txt", b"private");
    let server = builder.start();

    // Everything else needs a login; the health check does not.
    assert_eq!(tls(server.addr(), &get("/a.txt")).status, 401);
    let resp = tls(server.addr(), &get("/healthz"));
    assert_eq!(resp.status, 200);
    let json = health_json(&resp);
    assert_eq!(json["status"], "ok");
    assert_eq!(json["tls"], true);
    let certificate = &json["certificate"];
    assert_eq!(certificate["subject"], "localhost");
    assert_eq!(certificate["expired"], false);
    // rcgen's default validity runs to 4096.
    let days = certificate["days_left"]
        .as_i64()
        .expect("days_left an integer");
    assert!(days > 365, "{certificate}");
    let not_after = certificate["not_after"]
        .as_str()
        .expect("not_after a string");
    assert!(
        not_after.len() == 20 && not_after.ends_with('Z') && not_after.as_bytes()[10] == b'T',
        "RFC 3339 in UTC: {not_after}"
    );

    // The plain redirect port answers the check itself (a load balancer
    // may check that port), and redirects everything else.
    let redirect = server.redirect.unwrap();
    let resp = plain(redirect, &get("/healthz"));
    assert_eq!(resp.status, 200);
    assert_eq!(health_json(&resp)["certificate"]["subject"], "localhost");
    assert_eq!(plain(redirect, &get("/a.txt")).status, 301);
}

#[test]
fn an_expired_certificate_turns_health_503() {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "expired.test");
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let (_certs, cert, key) = cert_files(&generate_with(KeyKind::EcdsaP256Pkcs8, params));
    let server = Server::builder()
        .args(["--cert", &cert, "--key", &key, "--health", "/healthz"])
        .start();

    let resp = tls(server.addr(), &get("/healthz"));
    assert_eq!(resp.status, 503);
    let json = health_json(&resp);
    assert_eq!(json["status"], "certificate_expired");
    assert_eq!(json["draining"], false);
    assert_eq!(json["certificate"]["subject"], "expired.test");
    assert_eq!(json["certificate"]["expired"], true);
    assert_eq!(json["certificate"]["not_after"], "2021-01-01T00:00:00Z");
    assert!(json["certificate"]["days_left"].as_i64().unwrap() < -365);
    // The start-up summary says so too.
    server.stderr.wait_for("the summary's EXPIRED", |l| {
        l.contains("tls: certificate expired.test") && l.ends_with("(EXPIRED)")
    });
}

/// The status of a health check on a new connection.
fn health_status(server: &Server) -> u16 {
    server.raw_get("/healthz").status
}

#[test]
fn sigterm_with_drain_fails_health_serves_on_then_closes_listeners_and_exits_0() {
    const DRAIN: Duration = Duration::from_secs(3);
    let builder = Server::builder().args(["--health", "/healthz", "--drain", "3"]);
    let big: Vec<u8> = (0..8u32 << 20).map(|i| (i % 251) as u8).collect();
    write_file(builder.root(), "big.bin", &big);
    write_file(builder.root(), "a.txt", b"still here");
    let mut server = builder.start();
    assert_eq!(health_status(&server), 200);

    // A download started before the signal, read slowly: most of it is
    // still on the server's side when the listeners close.
    let mut slow = small_buffer_tcp(server.addr(), PATIENCE);
    slow.write_all(&get("/big.bin")).unwrap();
    let mut received = vec![0u8; 64 * 1024];
    let first = slow.read(&mut received).unwrap();
    received.truncate(first);

    let signalled = Instant::now();
    server.signal("TERM");
    poll("health to fail", PATIENCE, || {
        (health_status(&server) == 503).then_some(())
    });
    let json = health_json(&server.raw_get("/healthz"));
    assert_eq!(
        (&json["status"], &json["draining"]),
        (&"draining".into(), &true.into())
    );
    // Requests are still served, and told to close.
    let resp = server.raw_get("/a.txt");
    assert_eq!((resp.status, resp.text().as_str()), (200, "still here"));
    assert_eq!(resp.header("connection"), Some("close"));
    assert!(
        signalled.elapsed() < DRAIN,
        "the checks above took longer than the drain"
    );

    // After the drain, new connections are refused.
    poll("the listener to close", PATIENCE, || {
        TcpStream::connect_timeout(&server.addr(), PATIENCE)
            .is_err()
            .then_some(())
    });
    assert!(
        signalled.elapsed() >= DRAIN,
        "closed after {:?}",
        signalled.elapsed()
    );

    // The download started before finishes intact.
    slow.read_to_end(&mut received).unwrap();
    let body_at = crate::util::find(&received, b"\r\n\r\n").expect("a head") + 4;
    assert!(received.starts_with(b"HTTP/1.1 200"));
    assert!(
        received[body_at..] == big[..],
        "the download was cut or damaged"
    );

    let status = server.wait_exit(Duration::from_secs(15));
    assert!(status.success(), "exit status {status:?}");
    server.stderr.wait_for("the drain line", |l| {
        l.contains("draining: health answers 503")
    });
}

#[test]
fn a_second_sigterm_during_the_drain_exits_at_once() {
    let mut server = Server::builder()
        .args(["--health", "/healthz", "--drain", "600"])
        .start();
    server.signal("TERM");
    poll("health to fail", PATIENCE, || {
        (health_status(&server) == 503).then_some(())
    });
    server.signal("TERM");
    let status = server.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(1));
    server.stderr.wait_for("the second-signal line", |l| {
        l.contains("second stop signal")
    });
}

#[test]
fn startup_summary_names_listeners_tls_uploads_auth_limits_and_health() {
    let (_certs, cert, key) = cert_files(&generate(KeyKind::EcdsaP256Pkcs8, "summary.test"));
    let users = TempDir::new().unwrap();
    let hash = bcrypt::hash("pw", 4).unwrap();
    let auth = write_file(
        users.path(),
        "users",
        format!("alice:{hash}\nbob:{hash}\n").as_bytes(),
    );
    let server = Server::builder()
        .uploads()
        .args(["--cert", &cert, "--key", &key, "--redirect-http", "0"])
        .args(["--auth-file", path_str(&auth), "--auth-uploads-only"])
        .args(["--max-connections", "50", "--max-upload-size", "10M"])
        .args(["--health", "/healthz", "--drain", "20"])
        .start();
    let line = |prefix: &str| {
        let found = server
            .stderr
            .wait_for(prefix, |l| l.contains(&format!("INFO ] {prefix}")));
        found.split_once("INFO ] ").unwrap().1.to_owned()
    };
    let redirect = server.redirect.unwrap();
    assert_eq!(
        line("listening: "),
        format!(
            "listening: https://127.0.0.1:{}/, http://{redirect}/ (redirects to https)",
            server.port
        )
    );
    let tls = line("tls: ");
    assert!(
        tls.starts_with(&format!(
            "tls: certificate summary.test from {cert}, expires 4096-01-01 "
        )),
        "{tls}"
    );
    assert!(tls.ends_with(" days)"), "{tls}");
    let uploads = std::fs::canonicalize(server.upload_dir()).unwrap();
    assert_eq!(
        line("uploads: "),
        format!(
            "uploads: into {}, up to 10M each, existing files kept (409)",
            uploads.display()
        )
    );
    assert_eq!(
        line("auth: "),
        format!("auth: 2 users from {}, for uploads only", path_str(&auth))
    );
    assert_eq!(
        line("limits: "),
        "limits: 1 worker x 50 connections, headers 8K, bodies 512K, keep-alive 15s x 100 requests, request 5s, send 60s"
    );
    assert_eq!(line("health: "), "health: /healthz; drain: 20s on SIGTERM");
    // All of it before the server says it started.
    server
        .stderr
        .wait_for("the started line", |l| l.contains(" started"));
    let lines = server.stderr.all();
    let started = lines.iter().position(|l| l.contains(" started")).unwrap();
    let summary = lines
        .iter()
        .position(|l| l.contains("INFO ] listening: "))
        .unwrap();
    assert!(summary < started, "{lines:#?}");
}
