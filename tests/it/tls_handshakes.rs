//! `LoopHandle::tls_handshakes()` and `tls_handshake_failures()`: what
//! the loop counts as a completed and a failed TLS handshake, with real
//! rustls clients over loopback.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned, SupportedProtocolVersion};
use tempfile::TempDir;
use uhttp::Config;
use uhttp::tls::TlsConfig;

use crate::common::tls_certs::{AnyCertificate, KeyKind, generate};
use crate::common::{IO_TIMEOUT, write_file};
use crate::util::{TestServer, serve, wait_until};

/// A TLS server answering every request with 200 `ok`.
fn tls_server() -> TestServer {
    let dir = TempDir::new().unwrap();
    let material = generate(KeyKind::EcdsaP256Pkcs8, "localhost");
    let cert = write_file(dir.path(), "cert.pem", material.cert_pem.as_bytes());
    let key = write_file(dir.path(), "key.pem", material.key_pem.as_bytes());
    let mut config = Config::default();
    config.tls = Some(TlsConfig::load(&cert, &key).unwrap());
    serve(config, |req| req.respond(200, "ok").unwrap())
}

/// A client offering `versions`, accepting any certificate.
fn client(versions: &[&'static SupportedProtocolVersion]) -> ClientConnection {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(versions)
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap()).unwrap()
}

fn tcp(addr: SocketAddr) -> TcpStream {
    crate::common::client::tcp(addr, IO_TIMEOUT)
}

fn counts(server: &TestServer) -> (u64, u64) {
    let handle = server.handle();
    (handle.tls_handshakes(), handle.tls_handshake_failures())
}

#[test]
fn counts_a_completed_handshake_for_tls_1_2_and_1_3() {
    let server = tls_server();
    assert_eq!(counts(&server), (0, 0));
    for (n, version) in [&rustls::version::TLS12, &rustls::version::TLS13]
        .into_iter()
        .enumerate()
    {
        let mut stream = StreamOwned::new(client(&[version]), tcp(server.addr()));
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut got = Vec::new();
        stream.read_to_end(&mut got).unwrap();
        assert!(got.starts_with(b"HTTP/1.1 200"), "{got:?}");
        assert!(got.ends_with(b"ok"), "{got:?}");
        // Counted before the answer went out.
        assert_eq!(counts(&server), (n as u64 + 1, 0));
    }
}

#[test]
fn counts_a_failure_for_bytes_that_are_not_tls_and_for_a_handshake_cut_short() {
    let server = tls_server();
    // Connected and gone without a byte: nothing to count. The loop
    // handles connections one at a time, so once the next one is
    // accepted this one's close has been seen.
    drop(tcp(server.addr()));
    wait_until("the first connection closed", || {
        server.handle().accepted() == 1 && server.handle().connections() == 0
    });

    // Plain HTTP to the TLS port.
    let mut plain = tcp(server.addr());
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let _ = plain.read_to_end(&mut Vec::new());
    wait_until("the plain-bytes failure", || counts(&server).1 >= 1);
    assert_eq!(counts(&server), (0, 1));

    // The first byte of a ClientHello, then the client leaves.
    let mut hello = Vec::new();
    client(&[&rustls::version::TLS13])
        .write_tls(&mut hello)
        .unwrap();
    let mut cut = tcp(server.addr());
    cut.write_all(&hello[..1]).unwrap();
    cut.shutdown(std::net::Shutdown::Write).unwrap();
    let _ = cut.read_to_end(&mut Vec::new());
    wait_until("the cut-short failure", || counts(&server).1 >= 2);
    assert_eq!(counts(&server), (0, 2));
    wait_until("every connection closed", || {
        server.handle().accepted() == 3 && server.handle().connections() == 0
    });
    assert_eq!(counts(&server), (0, 2));
}
