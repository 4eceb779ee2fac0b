//! The rustls client against uhttpd: each TLS version, ALPN, files and
//! keep-alive over one connection.

use rustls::ProtocolVersion;

use crate::certs::Pair;
use crate::client::{self, Client, Trust};
use crate::harness::{Server, one_kib, site};
use crate::tls_certs::KeyKind;

fn serves_over(versions: &[&'static rustls::SupportedProtocolVersion], want: ProtocolVersion) {
    let pair = Pair::localhost(KeyKind::EcdsaP256Pkcs8);
    let root = site();
    let server = Server::serving(root.path(), &pair.args());
    let trust = Trust::Root(pair.material.leaf().clone());
    let mut client = Client::connect_with(server.addr(), client::config(&trust, versions)).unwrap();
    assert_eq!(client.version(), want);
    assert_eq!(client.alpn(), Some(&b"http/1.1"[..]));
    assert_eq!(client.leaf(), *pair.material.leaf());

    let response = client.get("/hello.txt");
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "hello over TLS\n");
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
}

#[test]
fn serves_a_file_over_tls_1_3_with_alpn_http_1_1() {
    serves_over(client::TLS13, ProtocolVersion::TLSv1_3);
}

#[test]
fn serves_a_file_over_tls_1_2_with_alpn_http_1_1() {
    serves_over(client::TLS12, ProtocolVersion::TLSv1_2);
}

#[test]
fn prefers_tls_1_3_when_the_client_offers_both() {
    serves_over(client::BOTH, ProtocolVersion::TLSv1_3);
}

#[test]
fn keeps_one_tls_connection_alive_for_a_sequence_of_requests() {
    let pair = Pair::localhost(KeyKind::Ed25519);
    let root = site();
    let server = Server::serving(root.path(), &pair.args());
    for versions in [client::TLS13, client::TLS12] {
        let trust = Trust::Root(pair.material.leaf().clone());
        let mut client =
            Client::connect_with(server.addr(), client::config(&trust, versions)).unwrap();
        for _ in 0..5 {
            let response = client.get("/1k.bin");
            assert_eq!(response.status, 200);
            assert_eq!(response.body, one_kib());
            assert_eq!(response.header("connection"), None);
        }
        // A HEAD and a /rpc echo on the same connection.
        client.send("HEAD /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
        let head = client.read_head_response();
        assert_eq!(head.status, 200);
        assert_eq!(head.header("content-length"), Some("15"));
        let echo = client.get("/rpc?tls=1");
        assert_eq!(echo.status, 200);
        let json: serde_json::Value = serde_json::from_slice(&echo.body).unwrap();
        assert_eq!(json["query"]["tls"], "1");
        // Then the client asks to close, and the server does.
        client.send("GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        let last = client.read_response();
        assert_eq!(last.status, 200);
        assert_eq!(last.header("connection"), Some("close"));
        assert!(client.is_closed_by_server());
    }
}

// Issue 9, item 8: at the connection limit an idle keep-alive connection
// makes room for a new client, and is closed as cleanly as on its timeout.
#[test]
fn closes_the_longest_idle_tls_connection_with_close_notify_to_admit_a_client() {
    let pair = Pair::localhost(KeyKind::EcdsaP256Pkcs8);
    let root = site();
    let mut args = pair.args();
    args.extend(["--max-connections".into(), "3".into()]);
    let server = Server::serving(root.path(), &args);
    let trust = Trust::Root(pair.material.leaf().clone());
    let mut idle: Vec<Client> = (0..3)
        .map(|_| {
            let mut client = Client::connect(server.addr(), &trust);
            assert_eq!(client.get("/hello.txt").status, 200);
            client
        })
        .collect();
    let mut newcomer = Client::connect(server.addr(), &trust);
    assert_eq!(newcomer.get("/hello.txt").text(), "hello over TLS\n");
    assert!(idle[0].is_closed_cleanly());
    for client in &mut idle[1..] {
        assert_eq!(client.get("/hello.txt").status, 200);
    }
}

#[test]
fn refuses_a_client_that_does_not_trust_the_certificate() {
    let pair = Pair::localhost(KeyKind::EcdsaP256Pkcs8);
    let other = Pair::localhost(KeyKind::EcdsaP256Pkcs8);
    let root = site();
    let server = Server::serving(root.path(), &pair.args());
    let trust = Trust::Root(other.material.leaf().clone());
    let error = Client::connect_with(server.addr(), client::config(&trust, client::BOTH))
        .err()
        .expect("an untrusted certificate is refused");
    assert!(error.to_string().contains("certificate"), "{error}");
    // The server goes on serving.
    let good = Trust::Root(pair.material.leaf().clone());
    assert_eq!(
        Client::connect(server.addr(), &good)
            .get("/hello.txt")
            .status,
        200
    );
}
