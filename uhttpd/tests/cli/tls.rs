//! HTTPS with `--cert`/`--key`, and `--redirect-http`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use tempfile::TempDir;

use crate::tls_certs::{KeyKind, generate};
use crate::util::{Response, Server, connect, path_str, port_of, read_to_close, write_file};

struct Https {
    server: Server,
    client: Arc<ClientConfig>,
    _certs: TempDir,
}

fn https(extra: &[&str], banner_lines: usize) -> Https {
    let certs = TempDir::new().unwrap();
    let material = generate(KeyKind::EcdsaP256Pkcs8, "localhost");
    let cert = write_file(certs.path(), "fullchain.pem", material.cert_pem.as_bytes());
    let key = write_file(certs.path(), "privkey.pem", material.key_pem.as_bytes());
    let builder = Server::builder()
        .args(["--cert", path_str(&cert), "--key", path_str(&key)])
        .args(extra)
        .banner_lines(banner_lines);
    write_file(builder.root(), "a.txt", b"over tls");
    let server = builder.start();
    let mut roots = RootCertStore::empty();
    roots.add(material.leaf().clone()).unwrap();
    let client =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    Https {
        server,
        client: Arc::new(client),
        _certs: certs,
    }
}

/// `request` over TLS to the server; the answer read until close.
fn tls_request(h: &Https, request: &[u8]) -> Response {
    let conn = ClientConnection::new(
        Arc::clone(&h.client),
        ServerName::try_from("localhost").unwrap(),
    )
    .unwrap();
    let tcp: TcpStream = connect(h.server.addr());
    let mut stream = StreamOwned::new(conn, tcp);
    stream.write_all(request).unwrap();
    read_to_close(&mut stream)
}

#[test]
fn serves_https_with_the_given_pair() {
    let h = https(&[], 1);
    assert!(
        h.server.banner.starts_with("serving "),
        "{}",
        h.server.banner
    );
    assert!(h.server.banner.contains("https://"), "{}", h.server.banner);
    let resp = tls_request(
        &h,
        b"GET /a.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(resp.status, 200);
    assert_eq!(resp.text(), "over tls");
    // Plain HTTP on the TLS port gets no HTTP answer.
    let mut plain = connect(h.server.addr());
    plain
        .write_all(b"GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let _ = plain.read_to_end(&mut got);
    assert!(
        !got.starts_with(b"HTTP/1.1 200"),
        "plain HTTP served over the TLS port"
    );
}

#[test]
fn redirect_http_sends_plain_requests_to_https() {
    let h = https(&["--redirect-http", "0"], 2);
    let lines: Vec<&str> = h.server.banner.lines().collect();
    assert!(lines[1].starts_with("redirecting http://"), "{lines:?}");
    let plain_port = port_of(lines[1]).unwrap();
    let https_port = h.server.port;
    assert_ne!(plain_port, https_port);
    let ask = |request: &str| {
        let mut stream = connect(std::net::SocketAddr::from(([127, 0, 0, 1], plain_port)));
        stream.write_all(request.as_bytes()).unwrap();
        crate::util::read_to_close(&mut stream)
    };
    let resp =
        ask("GET /a.txt?x=1 HTTP/1.1\r\nHost: example.test:8080\r\nConnection: close\r\n\r\n");
    assert_eq!(resp.status, 301);
    assert_eq!(
        resp.header("location").unwrap(),
        format!("https://example.test:{https_port}/a.txt?x=1")
    );
    let resp = ask(
        "POST /rpc HTTP/1.1\r\nHost: [::1]\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
    assert_eq!(resp.status, 308);
    assert_eq!(
        resp.header("location").unwrap(),
        format!("https://[::1]:{https_port}/rpc")
    );
}

/// Regression for issue 9: a Host with multi-byte UTF-8 or invalid bytes
/// on the redirect port answers 400, and the next request is redirected.
#[test]
fn redirect_http_refuses_hosts_with_odd_bytes() {
    let h = https(&["--redirect-http", "0"], 2);
    let plain_port = port_of(h.server.banner.lines().nth(1).unwrap()).unwrap();
    let ask = |host: &[u8]| {
        let mut stream = connect(std::net::SocketAddr::from(([127, 0, 0, 1], plain_port)));
        let mut request = b"GET /a.txt HTTP/1.1\r\nConnection: close\r\nHost: ".to_vec();
        request.extend_from_slice(host);
        request.extend_from_slice(b"\r\n\r\n");
        stream.write_all(&request).unwrap();
        crate::util::read_to_close(&mut stream)
    };
    let base = b"example.test:8080";
    let inserts: [&[u8]; 5] = [
        "é".as_bytes(),
        "€".as_bytes(),
        "😀".as_bytes(),
        b"\xff",
        b"\xc3",
    ];
    for insert in inserts {
        for at in [0, 1, 7, base.len() - 1, base.len()] {
            let mut host = base[..at].to_vec();
            host.extend_from_slice(insert);
            host.extend_from_slice(&base[at..]);
            let resp = ask(&host);
            assert_eq!(
                resp.status,
                400,
                "Host {:?}",
                String::from_utf8_lossy(&host)
            );
        }
    }
    assert_eq!(ask(base).status, 301);
}

#[test]
fn a_failed_handshake_is_a_debug_line_not_an_access_line() {
    let h = https(&["-v"], 1);
    // Plain HTTP to the TLS port: the handshake fails.
    let mut plain = connect(h.server.addr());
    plain
        .write_all(b"GET /plain.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut rest = Vec::new();
    let _ = plain.read_to_end(&mut rest);
    h.server.stderr.wait_for("the failed handshake", |l| {
        l.contains("DEBUG") && l.contains("read failed")
    });
    // The log goes on for real requests; the failed one has no line.
    let resp = tls_request(
        &h,
        b"GET /a.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(resp.status, 200);
    h.server.stderr.wait_for("the access line", |l| {
        l.contains("\"GET /a.txt HTTP/1.1\" 200 8 ")
    });
    let lines = h.server.stderr.all();
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("plain.txt") || l.contains("\" 400 ")),
        "{lines:#?}"
    );
}
