//! `--redirect-http`: the plain listener in the same loop sends every
//! request to the HTTPS listener. (The port-443 case, which needs
//! privileges to bind, is a unit test in `uhttpd/src/redirect.rs`.)

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::certs::Pair;
use crate::client::{Client, Trust};
use crate::harness::{Server, site};
use crate::tls_certs::KeyKind;

/// Sends `request` on a new plain connection; returns the status, the
/// `Location` header and the whole response text. The request asks to
/// close, so the response ends with the stream.
fn send(addr: SocketAddr, request: &str) -> (u16, Option<String>, String) {
    let mut sock = TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    sock.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    sock.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    let location = text
        .split("\r\n")
        .take_while(|l| !l.is_empty())
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("location")
                .then(|| value.trim().to_owned())
        });
    (status, location, text)
}

fn start() -> (Server, Pair, tempfile::TempDir) {
    let pair = Pair::localhost(KeyKind::EcdsaP256Pkcs8);
    let root = site();
    let mut args = pair.args();
    args.extend(["--redirect-http".into(), "0".into()]);
    let server = Server::serving(root.path(), &args);
    (server, pair, root)
}

#[test]
fn prints_the_redirect_listener_and_redirects_get_and_head_with_301() {
    let (server, pair, _root) = start();
    let plain = server.redirect.expect("a redirect listener");
    assert_ne!(plain.port(), server.addr().port());
    let https = server.addr().port();
    for method in ["GET", "HEAD"] {
        let (status, location, text) = send(
            plain,
            &format!(
                "{method} /dir/file.txt?a=1&b=%20 HTTP/1.1\r\nHost: example.org:{}\r\nConnection: close\r\n\r\n",
                plain.port()
            ),
        );
        assert_eq!(status, 301, "{method}: {text}");
        assert_eq!(
            location.as_deref(),
            Some(&*format!(
                "https://example.org:{https}/dir/file.txt?a=1&b=%20"
            )),
            "{method}"
        );
    }
    // Following the redirect by hand reaches the file over HTTPS.
    let (_, location, _) = send(
        plain,
        "GET /hello.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(
        location.as_deref(),
        Some(&*format!("https://127.0.0.1:{https}/hello.txt"))
    );
    let mut client = Client::connect(server.addr(), &Trust::Root(pair.material.leaf().clone()));
    assert_eq!(client.get("/hello.txt").text(), "hello over TLS\n");
}

#[test]
fn redirects_other_methods_with_308() {
    let (server, _pair, _root) = start();
    let plain = server.redirect.unwrap();
    let https = server.addr().port();
    for (method, body) in [
        ("POST", "a=1"),
        ("PUT", "some file"),
        ("DELETE", ""),
        ("OPTIONS", ""),
    ] {
        let (status, location, text) = send(
            plain,
            &format!(
                "{method} /upload/x?y=z HTTP/1.1\r\nHost: example.org\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        );
        assert_eq!(status, 308, "{method}: {text}");
        assert_eq!(
            location.as_deref(),
            Some(&*format!("https://example.org:{https}/upload/x?y=z")),
            "{method}"
        );
    }
    // A large upload is answered on its headers, unread.
    let (status, _, text) = send(
        plain,
        "PUT /big HTTP/1.1\r\nHost: example.org\r\nContent-Length: 10000000000\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 308, "{text}");
    assert!(!text.contains("100 Continue"), "{text}");
    // Chunked too.
    let (status, _, text) = send(
        plain,
        "POST /form HTTP/1.1\r\nHost: example.org\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    );
    assert_eq!(status, 308, "{text}");
}

#[test]
fn keeps_ipv6_literals_in_brackets_and_strips_the_port() {
    let (server, _pair, _root) = start();
    let plain = server.redirect.unwrap();
    let https = server.addr().port();
    for (host, want) in [
        ("[::1]:8080", format!("https://[::1]:{https}/p?q=1")),
        ("[::1]", format!("https://[::1]:{https}/p?q=1")),
        (
            "[2001:db8::7]:80",
            format!("https://[2001:db8::7]:{https}/p?q=1"),
        ),
        ("localhost:80", format!("https://localhost:{https}/p?q=1")),
    ] {
        let (status, location, text) = send(
            plain,
            &format!("GET /p?q=1 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        );
        assert_eq!(status, 301, "{host}: {text}");
        assert_eq!(location.as_deref(), Some(&*want), "{host}");
    }
}

#[test]
fn uses_the_host_of_an_absolute_form_target() {
    let (server, _pair, _root) = start();
    let plain = server.redirect.unwrap();
    let (status, location, text) = send(
        plain,
        "GET http://example.net:80/a/b?c HTTP/1.1\r\nHost: example.net:80\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 301, "{text}");
    assert_eq!(
        location.as_deref(),
        Some(&*format!(
            "https://example.net:{}/a/b?c",
            server.addr().port()
        ))
    );
}

#[test]
fn refuses_a_request_without_host_with_400() {
    let (server, _pair, _root) = start();
    let plain = server.redirect.unwrap();
    let (status, location, text) = send(plain, "GET /x HTTP/1.0\r\n\r\n");
    assert_eq!(status, 400, "{text}");
    assert_eq!(location, None);
    let (status, _, text) = send(plain, "GET /x HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert_eq!(status, 400, "{text}");
    let (status, _, text) = send(plain, "GET /x HTTP/1.0\r\nHost: [::1\r\n\r\n");
    assert_eq!(status, 400, "{text}");
}

#[test]
fn keeps_a_plain_connection_alive_across_redirects() {
    let (server, _pair, _root) = start();
    let plain = server.redirect.unwrap();
    let mut sock = TcpStream::connect(plain).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    sock.write_all(
        b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut raw = String::new();
    sock.read_to_string(&mut raw).unwrap();
    let port = server.addr().port();
    let first = raw
        .find(&format!("Location: https://h:{port}/a"))
        .expect(&raw);
    let second = raw
        .find(&format!("Location: https://h:{port}/b"))
        .expect(&raw);
    assert!(first < second);
}
