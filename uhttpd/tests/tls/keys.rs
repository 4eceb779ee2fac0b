//! Every key type and encoding uhttpd accepts starts and serves; a chain
//! is sent whole.

use rustls::ProtocolVersion;

use crate::certs::Pair;
use crate::client::{self, Client, Trust};
use crate::harness::{Server, site};
use crate::tls_certs::{KeyKind, can_generate, generate_chain};

fn starts_and_serves(kind: KeyKind) {
    if !can_generate(kind) {
        eprintln!("note: skipped {kind:?}: no `openssl` command to make RSA keys");
        return;
    }
    let pair = Pair::localhost(kind);
    let root = site();
    let server = Server::serving(root.path(), &pair.args());
    let trust = Trust::Root(pair.material.leaf().clone());
    for (versions, want) in [
        (client::TLS13, ProtocolVersion::TLSv1_3),
        (client::TLS12, ProtocolVersion::TLSv1_2),
    ] {
        let mut client = Client::connect_with(server.addr(), client::config(&trust, versions))
            .unwrap_or_else(|e| panic!("{kind:?} {want:?}: {e}"));
        assert_eq!(client.version(), want, "{kind:?}");
        assert_eq!(client.chain(), pair.material.chain, "{kind:?}");
        assert_eq!(client.get("/hello.txt").text(), "hello over TLS\n");
    }
}

#[test]
fn serves_with_an_rsa_pkcs1_key() {
    starts_and_serves(KeyKind::RsaPkcs1);
}

#[test]
fn serves_with_an_rsa_pkcs8_key() {
    starts_and_serves(KeyKind::RsaPkcs8);
}

#[test]
fn serves_with_an_ecdsa_sec1_key() {
    starts_and_serves(KeyKind::EcdsaP256Sec1);
}

#[test]
fn serves_with_an_ecdsa_pkcs8_key() {
    starts_and_serves(KeyKind::EcdsaP256Pkcs8);
}

#[test]
fn serves_with_an_ed25519_key() {
    starts_and_serves(KeyKind::Ed25519);
}

#[test]
fn sends_the_whole_chain_leaf_then_intermediate() {
    let pair = Pair::write(generate_chain("localhost"));
    let root = site();
    let server = Server::serving(root.path(), &pair.args());
    for versions in [client::TLS13, client::TLS12] {
        let mut client =
            Client::connect_with(server.addr(), client::config(&Trust::Any, versions)).unwrap();
        let chain = client.chain();
        assert_eq!(chain.len(), 2);
        assert_eq!(chain, pair.material.chain);
        assert_eq!(client.get("/hello.txt").status, 200);
    }
}
