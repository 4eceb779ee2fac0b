//! `--metrics ADDR` (issue 14, item 3) through the real server: the
//! counters move after real requests, `promtool check metrics` accepts
//! the output, and a real Prometheus scrapes it and answers a query.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use crate::common::{poll, require};
use crate::util::{PATIENCE, Server, agent, write_file};

/// A server with `--metrics 127.0.0.1:0`, and the metrics address from
/// its log.
fn start() -> (Server, SocketAddr) {
    start_with(Server::builder())
}

fn start_with(builder: crate::common::uhttpd::Builder) -> (Server, SocketAddr) {
    let builder = builder.args(["--metrics", "127.0.0.1:0"]);
    write_file(builder.root(), "hello.txt", b"hello, metrics\n");
    let server = builder.start();
    let line = server.stderr.wait_for("naming the metrics address", |l| {
        l.contains("metrics on http://")
    });
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .parse()
        .unwrap();
    (server, addr)
}

/// `GET /metrics` at `addr`: checks the content type, returns the text.
fn scrape(addr: SocketAddr) -> String {
    let mut resp = agent()
        .get(format!("http://{addr}/metrics"))
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    resp.body_mut().read_to_string().unwrap()
}

/// The value of the sample `series` (name and labels, as written).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
        .parse()
        .unwrap()
}

#[test]
fn counters_move_after_requests() {
    let (server, addr) = start();
    let before = scrape(addr);
    assert_eq!(
        sample(
            &before,
            r#"uhttpd_requests_total{method="GET",status="2xx"}"#
        ),
        0.0
    );
    assert_eq!(
        sample(
            &before,
            &format!(
                r#"uhttpd_build_info{{version="{}"}}"#,
                env!("CARGO_PKG_VERSION")
            )
        ),
        1.0
    );
    for _ in 0..3 {
        let resp = agent()
            .get(server.url("/hello.txt"))
            .header("Connection", "close")
            .call()
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    let resp = agent()
        .get(server.url("/missing"))
        .header("Connection", "close")
        .call()
        .unwrap();
    assert_eq!(resp.status(), 404);
    let resp = agent()
        .post(server.url("/rpc"))
        .header("Connection", "close")
        .send("0123456789")
        .unwrap();
    assert_eq!(resp.status(), 200);

    // The access-log hook runs as each response ends: poll, bounded.
    let after = poll("the counts after five requests", PATIENCE, || {
        let text = scrape(addr);
        let done = sample(&text, "uhttpd_request_duration_seconds_count") >= 5.0;
        done.then_some(text)
    });
    let get = |series: &str| sample(&after, series);
    assert_eq!(
        get(r#"uhttpd_requests_total{method="GET",status="2xx"}"#),
        3.0
    );
    assert_eq!(
        get(r#"uhttpd_requests_total{method="GET",status="4xx"}"#),
        1.0
    );
    assert_eq!(
        get(r#"uhttpd_requests_total{method="POST",status="2xx"}"#),
        1.0
    );
    assert_eq!(get("uhttpd_request_body_bytes_total"), 10.0);
    assert!(get("uhttpd_response_body_bytes_total") >= 3.0 * 15.0);
    assert_eq!(
        get(r#"uhttpd_request_duration_seconds_bucket{le="+Inf"}"#),
        5.0
    );
    // One connection each: every request asked to close.
    assert_eq!(get("uhttpd_connections_total"), 5.0);
    // The requests above asked to close; one held open is counted open
    // until it closes.
    let open = || sample(&scrape(addr), "uhttpd_open_connections");
    poll("no connection open", PATIENCE, || {
        (open() == 0.0).then_some(())
    });
    let held = server.connect();
    poll("one connection open", PATIENCE, || {
        (open() == 1.0).then_some(())
    });
    drop(held);
    poll("no connection open", PATIENCE, || {
        (open() == 0.0).then_some(())
    });
    // Not a file route of the main listener: its own paths only.
    let resp = agent()
        .get(format!("http://{addr}/hello.txt"))
        .call()
        .unwrap();
    assert_eq!(resp.status(), 404);
}

#[test]
fn promtool_accepts_the_output() {
    require("promtool");
    let (server, addr) = start();
    agent().get(server.url("/")).call().unwrap();
    let text = scrape(addr);
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {}\n{}{}\n{text}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Prometheus, killed when dropped.
struct Prometheus(Child);

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_real_prometheus_scrapes_the_series() {
    require("prometheus");
    let (server, addr) = start();
    agent().get(server.url("/")).call().unwrap();

    let dir = TempDir::new().unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
         scrape_configs:\n  - job_name: uhttpd\n    static_configs:\n      - targets: ['{addr}']\n"
    );
    let config = write_file(dir.path(), "prometheus.yml", config.as_bytes());
    // A free loopback port for its web interface.
    let web = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let _prometheus = Prometheus(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={web}"))
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run prometheus"),
    );

    let query = format!("http://{web}/api/v1/query?query=uhttpd_requests_total");
    let result = poll(
        "uhttpd_requests_total in Prometheus",
        Duration::from_secs(60),
        || {
            let mut resp = agent().get(&query).call().ok()?;
            if resp.status() != 200 {
                return None;
            }
            let body: Value = serde_json::from_str(&resp.body_mut().read_to_string().ok()?).ok()?;
            let result = body["data"]["result"].as_array()?.clone();
            (!result.is_empty()).then_some(result)
        },
    );
    let get_2xx = result
        .iter()
        .find(|r| r["metric"]["method"] == "GET" && r["metric"]["status"] == "2xx")
        .unwrap_or_else(|| panic!("no GET 2xx series in {result:?}"));
    assert_eq!(get_2xx["metric"]["job"], "uhttpd");
    let value: f64 = get_2xx["value"][1].as_str().unwrap().parse().unwrap();
    assert!(value >= 1.0, "{get_2xx:?}");
}

#[test]
fn uploads_are_counted_started_completed_and_failed() {
    let (server, addr) = start_with(Server::builder().uploads());
    let resp = agent()
        .put(server.url("/upload/a.txt"))
        .send("twelve bytes")
        .unwrap();
    assert_eq!(resp.status(), 201);
    // A body cut short: the upload fails once the connection closes.
    let mut stream = server.connect();
    stream
        .write_all(b"PUT /upload/b.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nfive.")
        .unwrap();
    poll("the cut-short upload in progress", PATIENCE, || {
        (sample(&scrape(addr), "uhttpd_uploads_in_progress") == 1.0).then_some(())
    });
    drop(stream);
    let text = poll("the cut-short upload counted", PATIENCE, || {
        let text = scrape(addr);
        (sample(&text, "uhttpd_uploads_failed_total") == 1.0).then_some(text)
    });
    assert_eq!(sample(&text, "uhttpd_uploads_started_total"), 2.0);
    assert_eq!(sample(&text, "uhttpd_uploads_completed_total"), 1.0);
    assert_eq!(sample(&text, "uhttpd_uploads_in_progress"), 0.0);
    assert_eq!(server.uploaded(), ["a.txt"]);
    assert_eq!(sample(&text, "uhttpd_resumable_uploads_open"), 0.0);
    // A resumable upload (tus) begun and left open.
    let resp = agent()
        .post(server.url("/upload/"))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "10")
        .header("Upload-Metadata", "filename Yy50eHQ=")
        .send_empty()
        .unwrap();
    assert_eq!(resp.status(), 201, "{:?}", resp.headers());
    assert_eq!(sample(&scrape(addr), "uhttpd_resumable_uploads_open"), 1.0);
}

/// A certificate for localhost that expires at midnight UTC on 1 January
/// of `year`.
fn expiring(year: i32) -> crate::tls_certs::Material {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(year, 1, 1);
    crate::tls_certs::generate_with(crate::tls_certs::KeyKind::EcdsaP256Pkcs8, params)
}

#[test]
fn the_certificate_expiry_and_reloads_follow_sighup() {
    let certs = TempDir::new().unwrap();
    let write = |material: &crate::tls_certs::Material| {
        let cert = write_file(certs.path(), "cert.pem", material.cert_pem.as_bytes());
        let key = write_file(certs.path(), "key.pem", material.key_pem.as_bytes());
        (cert, key)
    };
    let (cert, key) = write(&expiring(2030));
    let builder = Server::builder().args([
        "--cert",
        cert.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ]);
    let (server, addr) = start_with(builder);
    let text = scrape(addr);
    // 2030-01-01T00:00:00Z
    assert_eq!(
        sample(&text, "uhttpd_certificate_not_after_timestamp_seconds"),
        1_893_456_000.0
    );
    assert_eq!(sample(&text, "uhttpd_certificate_reloads_total"), 0.0);

    write(&expiring(2031));
    server.signal("HUP");
    let text = poll("the reload counted", PATIENCE, || {
        let text = scrape(addr);
        (sample(&text, "uhttpd_certificate_reloads_total") == 1.0).then_some(text)
    });
    // 2031-01-01T00:00:00Z
    assert_eq!(
        sample(&text, "uhttpd_certificate_not_after_timestamp_seconds"),
        1_924_992_000.0
    );
    assert_eq!(
        sample(&text, "uhttpd_certificate_reload_failures_total"),
        0.0
    );

    // A key that is not one: the reload fails, the old certificate stays.
    write_file(certs.path(), "key.pem", b"not a key");
    server.signal("HUP");
    let text = poll("the failed reload counted", PATIENCE, || {
        let text = scrape(addr);
        (sample(&text, "uhttpd_certificate_reload_failures_total") == 1.0).then_some(text)
    });
    assert_eq!(sample(&text, "uhttpd_certificate_reloads_total"), 1.0);
    assert_eq!(
        sample(&text, "uhttpd_certificate_not_after_timestamp_seconds"),
        1_924_992_000.0
    );
}
