//! `--metrics ADDR` (issue 14, item 3) through the real server: the
//! counters move after real requests, TLS handshakes and their failures
//! are counted exactly, connections carry a `worker` label, `promtool
//! check metrics` accepts the output, and a real Prometheus scrapes it and
//! answers a query.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use serde_json::Value;
use tempfile::TempDir;

use crate::common::{poll, require};
use crate::tls_certs::{KeyKind, Material, generate};
use crate::util::{PATIENCE, Server, agent, connect, path_str, read_to_close, write_file};

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
    assert_eq!(get(r#"uhttpd_connections_total{worker="1"}"#), 5.0);
    // Without TLS, no handshake series.
    assert!(!after.contains("uhttpd_tls_handshake"), "{after}");
    // The requests above asked to close; one held open is counted open
    // until it closes.
    let open = || sample(&scrape(addr), r#"uhttpd_open_connections{worker="1"}"#);
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

/// Fails unless `promtool check metrics` finds nothing to say of `text`.
fn promtool_check(text: &str) {
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

#[test]
fn promtool_accepts_the_output() {
    require("promtool");
    let (server, addr) = start();
    agent().get(server.url("/")).call().unwrap();
    promtool_check(&scrape(addr));
    // With TLS and two workers: the handshake and per-worker series.
    let tls = Tls::new();
    let (server, addr) = start_with(tls.args(Server::builder().args(["--workers", "2"])));
    let resp = tls.get(server.addr(), "/hello.txt");
    assert_eq!(resp.status, 200);
    let text = scrape(addr);
    assert!(
        text.contains(r#"uhttpd_tls_handshakes_total{worker="2"}"#),
        "{text}"
    );
    promtool_check(&text);
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
    let tls = Tls::new();
    let (server, addr) = start_with(tls.args(Server::builder().args(["--workers", "2"])));
    assert_eq!(tls.get(server.addr(), "/hello.txt").status, 200);

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

    // The series of `name` Prometheus holds, once it has some.
    let query = |name: &str| {
        let url = format!("http://{web}/api/v1/query?query={name}");
        poll(
            &format!("{name} in Prometheus"),
            Duration::from_secs(60),
            || {
                let mut resp = agent().get(&url).call().ok()?;
                if resp.status() != 200 {
                    return None;
                }
                let body: Value =
                    serde_json::from_str(&resp.body_mut().read_to_string().ok()?).ok()?;
                let result = body["data"]["result"].as_array()?.clone();
                (!result.is_empty()).then_some(result)
            },
        )
    };
    let result = query("uhttpd_requests_total");
    let get_2xx = result
        .iter()
        .find(|r| r["metric"]["method"] == "GET" && r["metric"]["status"] == "2xx")
        .unwrap_or_else(|| panic!("no GET 2xx series in {result:?}"));
    assert_eq!(get_2xx["metric"]["job"], "uhttpd");
    let value: f64 = get_2xx["value"][1].as_str().unwrap().parse().unwrap();
    assert!(value >= 1.0, "{get_2xx:?}");

    // The handshake counter, one series per worker, summing to the one
    // handshake made (the scrapes are plain HTTP on their own listener).
    let result = query("uhttpd_tls_handshakes_total");
    let mut workers: Vec<&str> = result
        .iter()
        .map(|r| r["metric"]["worker"].as_str().unwrap())
        .collect();
    workers.sort_unstable();
    assert_eq!(workers, ["1", "2"], "{result:?}");
    let sum: f64 = result
        .iter()
        .map(|r| r["value"][1].as_str().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(sum, 1.0, "{result:?}");
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

/// A certificate for localhost on disk, and rustls clients that trust it
/// or do not.
struct Tls {
    material: Material,
    dir: TempDir,
}

impl Tls {
    fn new() -> Tls {
        let dir = TempDir::new().unwrap();
        let material = generate(KeyKind::EcdsaP256Pkcs8, "localhost");
        write_file(dir.path(), "cert.pem", material.cert_pem.as_bytes());
        write_file(dir.path(), "key.pem", material.key_pem.as_bytes());
        Tls { material, dir }
    }

    fn args(&self, builder: crate::common::uhttpd::Builder) -> crate::common::uhttpd::Builder {
        let file = |name: &str| path_str(&self.dir.path().join(name)).to_owned();
        builder.args(["--cert", &file("cert.pem"), "--key", &file("key.pem")])
    }

    /// A client trusting `root` only.
    fn client(root: &Material) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(root.leaf().clone()).unwrap();
        let config =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth();
        Arc::new(config)
    }

    fn connection(config: Arc<ClientConfig>) -> ClientConnection {
        ClientConnection::new(config, ServerName::try_from("localhost").unwrap()).unwrap()
    }

    /// `GET path` over a connection of its own, the answer read to the
    /// close.
    fn get(&self, addr: SocketAddr, path: &str) -> crate::util::Response {
        let conn = Tls::connection(Tls::client(&self.material));
        let mut stream = StreamOwned::new(conn, connect(addr));
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        read_to_close(&mut stream)
    }
}

/// Reads until the server closes (or resets) the connection.
fn until_closed(stream: &mut TcpStream) {
    let mut sink = Vec::new();
    let _ = stream.read_to_end(&mut sink);
}

#[test]
fn tls_handshakes_and_their_failures_are_counted_exactly() {
    let tls = Tls::new();
    let (server, addr) = start_with(tls.args(Server::builder()));
    let text = scrape(addr);
    let handshakes = r#"uhttpd_tls_handshakes_total{worker="1"}"#;
    let failures = r#"uhttpd_tls_handshake_failures_total{worker="1"}"#;
    assert_eq!(sample(&text, handshakes), 0.0);
    assert_eq!(sample(&text, failures), 0.0);
    let counts = || {
        let text = scrape(addr);
        (sample(&text, handshakes), sample(&text, failures))
    };
    // `accepted` connections accepted, all closed since.
    let all_closed = |accepted: f64| {
        poll("the connections accepted and closed", PATIENCE, || {
            let text = scrape(addr);
            let done = sample(&text, r#"uhttpd_connections_total{worker="1"}"#) == accepted
                && sample(&text, r#"uhttpd_open_connections{worker="1"}"#) == 0.0;
            done.then_some(())
        })
    };

    // A trusting rustls client: one handshake, completed.
    let resp = tls.get(server.addr(), "/hello.txt");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.text(), "hello, metrics\n");
    assert_eq!(counts(), (1.0, 0.0));

    // A client that connects and leaves without a byte: neither. The loop
    // serves connections one after the other, so once the next one is
    // counted, this one's close has been too.
    drop(connect(server.addr()));
    all_closed(2.0);

    // Plain HTTP on the TLS port: refused by rustls, one failure.
    let mut plain = connect(server.addr());
    plain
        .write_all(b"GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    until_closed(&mut plain);
    poll("the plain-bytes failure", PATIENCE, || {
        (counts().1 >= 1.0).then_some(())
    });
    assert_eq!(counts(), (1.0, 1.0));

    // A client that does not trust the certificate (it trusts another):
    // it gives up with an alert, one failure.
    let other = generate(KeyKind::EcdsaP256Pkcs8, "localhost");
    let mut conn = Tls::connection(Tls::client(&other));
    let mut sock = connect(server.addr());
    let mut refused = None;
    for _ in 0..100 {
        if !conn.is_handshaking() {
            break;
        }
        if let Err(e) = conn.complete_io(&mut sock) {
            refused = Some(e);
            break;
        }
    }
    let refused = refused.expect("the untrusting client refused the certificate");
    assert!(
        refused.to_string().contains("invalid peer certificate"),
        "{refused}"
    );
    drop(sock);
    poll("the untrusted-certificate failure", PATIENCE, || {
        (counts().1 >= 2.0).then_some(())
    });
    assert_eq!(counts(), (1.0, 2.0));

    // Half a ClientHello, then the client leaves: one failure.
    let mut hello = Vec::new();
    Tls::connection(Tls::client(&tls.material))
        .write_tls(&mut hello)
        .unwrap();
    assert!(hello.len() > 10, "{hello:?}");
    let mut half = connect(server.addr());
    half.write_all(&hello[..hello.len() / 2]).unwrap();
    half.shutdown(std::net::Shutdown::Write).unwrap();
    until_closed(&mut half);
    poll("the cut-short handshake failure", PATIENCE, || {
        (counts().1 >= 3.0).then_some(())
    });
    assert_eq!(counts(), (1.0, 3.0));

    // Every connection closed; the counts stay.
    all_closed(5.0);
    assert_eq!(counts(), (1.0, 3.0));
}

#[test]
fn connections_are_counted_per_worker() {
    let (server, addr) = start_with(Server::builder().args(["--workers", "2"]));
    const CONNECTIONS: usize = 32;
    for _ in 0..CONNECTIONS {
        let resp = server.raw(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert_eq!(resp.status, 200);
    }
    let series = |text: &str, name: &str| -> Vec<f64> {
        ["1", "2"]
            .iter()
            .map(|w| sample(text, &format!("{name}{{worker=\"{w}\"}}")))
            .collect()
    };
    let text = poll("every connection closed", PATIENCE, || {
        let text = scrape(addr);
        let open = series(&text, "uhttpd_open_connections");
        (open == [0.0, 0.0]).then_some(text)
    });
    // Exactly the two workers, no series without the label, none for a
    // third.
    for name in ["uhttpd_open_connections", "uhttpd_connections_total"] {
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with(name) && !l.starts_with('#'))
            .collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
    }
    let accepted = series(&text, "uhttpd_connections_total");
    assert_eq!(
        accepted.iter().sum::<f64>(),
        CONNECTIONS as f64,
        "{accepted:?}"
    );
    // The kernel spreads connections over the two listeners by their
    // addresses: all 32 on one worker would be a chance of 2 in 2^32.
    assert!(accepted.iter().all(|&n| n >= 1.0), "{accepted:?}");

    // One held open: counted open on one worker, until it closes.
    let held = server.connect();
    let open = poll("one connection open", PATIENCE, || {
        let open = series(&scrape(addr), "uhttpd_open_connections");
        (open.iter().sum::<f64>() == 1.0).then_some(open)
    });
    assert!(open.contains(&0.0) && open.contains(&1.0), "{open:?}");
    drop(held);
    poll("no connection open", PATIENCE, || {
        let open = series(&scrape(addr), "uhttpd_open_connections");
        (open == [0.0, 0.0]).then_some(())
    });
}
