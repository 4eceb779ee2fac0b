//! ALPN protocols other than http/1.1: a config that offers one (uhttpd
//! adds `acme-tls/1` for TLS-ALPN-01 validation, RFC 8737) completes the
//! handshake for it, then closes the connection without serving HTTP;
//! http/1.1 clients of the same config are served as usual.

use std::io::{Read, Write};
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use uhttp::Config;
use uhttp::tls::{TlsConfig, server_config};

use crate::common::IO_TIMEOUT;
use crate::common::client::tcp;
use crate::common::library::{TestServer, serve};
use crate::common::tls_certs::{KeyKind, generate};

fn server(client_alpn: &[u8]) -> (TestServer, Arc<ClientConfig>) {
    let material = generate(KeyKind::EcdsaP256Pkcs8, "localhost");
    let key =
        rustls::pki_types::pem::PemObject::from_pem_slice(material.key_pem.as_bytes()).unwrap();
    let mut tls = server_config(material.chain.clone(), key).unwrap();
    tls.alpn_protocols.push(b"acme-tls/1".to_vec());
    let mut config = Config::default();
    config.tls = Some(TlsConfig::new(tls));
    let server = serve(config, |req| {
        let _ = req.respond(200, "served");
    });
    let mut roots = RootCertStore::empty();
    roots.add(material.leaf().clone()).unwrap();
    let mut client =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    client.alpn_protocols = vec![client_alpn.to_vec()];
    (server, Arc::new(client))
}

/// Handshakes, sends a request, reads until the server closes.
fn exchange(server: &TestServer, client: &Arc<ClientConfig>) -> (Option<Vec<u8>>, Vec<u8>) {
    let conn = ClientConnection::new(
        Arc::clone(client),
        ServerName::try_from("localhost").unwrap(),
    )
    .unwrap();
    let mut stream = StreamOwned::new(conn, tcp(server.addr(), IO_TIMEOUT));
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock).unwrap();
    }
    let alpn = stream.conn.alpn_protocol().map(<[u8]>::to_vec);
    // The server may have closed already: a failed write is fine.
    let _ = stream.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    let mut got = Vec::new();
    let _ = stream.read_to_end(&mut got);
    (alpn, got)
}

#[test]
fn acme_tls_alpn_handshake_completes_then_the_connection_closes_unserved() {
    let (server, client) = server(b"acme-tls/1");
    let (alpn, got) = exchange(&server, &client);
    assert_eq!(alpn.as_deref(), Some(&b"acme-tls/1"[..]));
    assert!(got.is_empty(), "{:?}", String::from_utf8_lossy(&got));
}

#[test]
fn http_1_1_clients_of_a_config_offering_more_are_served() {
    let (server, client) = server(b"http/1.1");
    let (alpn, got) = exchange(&server, &client);
    assert_eq!(alpn.as_deref(), Some(&b"http/1.1"[..]));
    assert!(
        got.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
    assert!(got.ends_with(b"served"));
}
