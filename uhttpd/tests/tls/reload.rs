//! Certificate reload while serving: files replaced by rename, certbot's
//! symlinks re-pointed, a broken replacement, SIGHUP. Open connections
//! keep working; new ones get the new certificate.

use std::os::unix::fs::symlink;
use std::time::Duration;

use rustls::pki_types::CertificateDer;

use crate::certs::{Pair, localhost, tls_args};
use crate::client::{Client, Trust};
use crate::harness::{Server, poll, site};
use crate::tls_certs::{KeyKind, replace_file};

/// The watcher reloads within a few seconds of a change (debounce 0.5 s,
/// at most 3 s).
const RELOAD_WITHIN: Duration = Duration::from_secs(10);

/// Polls new connections until one presents `want`.
fn wait_for_leaf(server: &Server, want: &CertificateDer<'_>) {
    poll(
        "new connections to get the new certificate",
        RELOAD_WITHIN,
        || {
            let client = Client::connect(server.addr(), &Trust::Any);
            (client.leaf() == *want).then_some(())
        },
    );
}

/// A keep-alive connection that was open before the reload goes on
/// working, still with the certificate it started with.
fn still_serves(client: &mut Client, leaf: &CertificateDer<'_>) {
    assert_eq!(client.leaf(), *leaf);
    for _ in 0..3 {
        let response = client.get("/hello.txt");
        assert_eq!(response.status, 200);
        assert_eq!(response.text(), "hello over TLS\n");
    }
}

#[test]
fn reloads_files_replaced_by_rename_keeping_open_connections() {
    let pair = Pair::localhost(KeyKind::EcdsaP256Pkcs8);
    let root = site();
    let server = Server::serving(root.path(), &pair.args());
    let old = pair.material.leaf().clone();
    let mut open = Client::connect(server.addr(), &Trust::Root(old.clone()));
    assert_eq!(open.get("/hello.txt").status, 200);

    // A new pair of another key type: key first, then certificate.
    let new = localhost(KeyKind::Ed25519);
    replace_file(&pair.key, &new.key_pem);
    replace_file(&pair.cert, &new.cert_pem);
    wait_for_leaf(&server, new.leaf());

    still_serves(&mut open, &old);
    let mut fresh = Client::connect(server.addr(), &Trust::Root(new.leaf().clone()));
    assert_eq!(fresh.get("/hello.txt").status, 200);
    let (_, line) = server
        .stderr
        .wait_for_from(0, "reloaded", |l| l.contains("reloaded certificate"));
    assert!(line.contains(pair.cert.to_str().unwrap()), "{line}");
    assert!(line.contains("subject localhost"), "{line}");
    assert!(line.contains("expires "), "{line}");
}

/// certbot's layout: `live/NAME/*.pem` are relative symlinks into
/// `archive/NAME/`, and renewal writes `*2.pem` there and re-points them.
#[test]
fn reloads_when_certbot_repoints_the_live_symlinks() {
    let base = tempfile::TempDir::new().unwrap();
    let archive = base.path().join("archive/example");
    let live = base.path().join("live/example");
    std::fs::create_dir_all(&archive).unwrap();
    std::fs::create_dir_all(&live).unwrap();
    let first = localhost(KeyKind::EcdsaP256Sec1);
    std::fs::write(archive.join("fullchain1.pem"), &first.cert_pem).unwrap();
    std::fs::write(archive.join("privkey1.pem"), &first.key_pem).unwrap();
    let link = |name: &str, target: &str| {
        // Atomic re-pointing: a new link beside the old, renamed over it.
        let tmp = live.join(format!("{name}.new"));
        symlink(format!("../../archive/example/{target}"), &tmp).unwrap();
        std::fs::rename(&tmp, live.join(name)).unwrap();
    };
    link("fullchain.pem", "fullchain1.pem");
    link("privkey.pem", "privkey1.pem");
    let cert = live.join("fullchain.pem");
    let key = live.join("privkey.pem");

    let root = site();
    let server = Server::serving(root.path(), &tls_args(&cert, &key));
    let mut open = Client::connect(server.addr(), &Trust::Root(first.leaf().clone()));
    assert_eq!(open.get("/hello.txt").status, 200);

    let second = localhost(KeyKind::EcdsaP256Pkcs8);
    std::fs::write(archive.join("fullchain2.pem"), &second.cert_pem).unwrap();
    std::fs::write(archive.join("privkey2.pem"), &second.key_pem).unwrap();
    link("fullchain.pem", "fullchain2.pem");
    link("privkey.pem", "privkey2.pem");
    wait_for_leaf(&server, second.leaf());
    still_serves(&mut open, first.leaf());

    // The next renewal too: the watch follows the new targets.
    let third = localhost(KeyKind::Ed25519);
    std::fs::write(archive.join("fullchain3.pem"), &third.cert_pem).unwrap();
    std::fs::write(archive.join("privkey3.pem"), &third.key_pem).unwrap();
    link("privkey.pem", "privkey3.pem");
    link("fullchain.pem", "fullchain3.pem");
    wait_for_leaf(&server, third.leaf());
    still_serves(&mut open, first.leaf());
}

/// A broken replacement is logged with its cause and the old pair keeps
/// serving; a good one afterwards is still picked up.
#[test]
fn keeps_the_old_certificate_when_the_replacement_is_broken() {
    let pair = Pair::localhost(KeyKind::EcdsaP256Pkcs8);
    let root = site();
    let server = Server::serving(root.path(), &pair.args());
    let old = pair.material.leaf().clone();

    // A new certificate whose key never arrives: mismatched pair.
    let new = localhost(KeyKind::EcdsaP256Pkcs8);
    replace_file(&pair.cert, &new.cert_pem);
    let (at, line) = server
        .stderr
        .wait_for_from(0, "about the failed reload", |l| {
            l.contains("certificate reload failed")
        });
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains("does not match"), "{line}");
    assert!(line.contains(pair.cert.to_str().unwrap()), "{line}");
    let mut client = Client::connect(server.addr(), &Trust::Root(old.clone()));
    assert_eq!(client.get("/hello.txt").status, 200);

    // Garbage in the key file: still the old certificate.
    replace_file(&pair.key, "-----BEGIN PRIVATE KEY-----\nnot base64\n");
    server
        .stderr
        .wait_for_from(at + 1, "about the second failure", |l| {
            l.contains("certificate reload failed") && l.contains(pair.key.to_str().unwrap())
        });
    assert_eq!(Client::connect(server.addr(), &Trust::Any).leaf(), old);
    still_serves(&mut client, &old);

    // The matching key arrives: the new pair is served.
    replace_file(&pair.key, &new.key_pem);
    wait_for_leaf(&server, new.leaf());
}

/// SIGHUP reloads even when the files look unchanged to the watcher.
#[test]
fn sighup_reloads_the_certificate() {
    let pair = Pair::localhost(KeyKind::Ed25519);
    let root = site();
    let server = Server::serving(root.path(), &pair.args());
    let mut open = Client::connect(server.addr(), &Trust::Root(pair.material.leaf().clone()));
    assert_eq!(open.get("/hello.txt").status, 200);
    assert!(
        !server
            .stderr
            .all()
            .iter()
            .any(|l| l.contains("reloaded certificate")),
        "{:?}",
        server.stderr.all()
    );

    server.signal("HUP");
    let (at, _) = server
        .stderr
        .wait_for_from(0, "SIGHUP", |l| l.contains("SIGHUP: reloading"));
    server
        .stderr
        .wait_for_from(at, "after SIGHUP", |l| l.contains("reloaded certificate"));
    still_serves(&mut open, pair.material.leaf());

    // Files edited in place, then SIGHUP (as `ExecReload=` does after a
    // deploy script): new connections get the new pair.
    let new = localhost(KeyKind::Ed25519);
    std::fs::write(&pair.key, &new.key_pem).unwrap();
    std::fs::write(&pair.cert, &new.cert_pem).unwrap();
    server.signal("HUP");
    wait_for_leaf(&server, new.leaf());
    still_serves(&mut open, pair.material.leaf());
}
