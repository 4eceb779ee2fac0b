//! Start-up with a bad certificate or key: one line on stderr naming the
//! file, a non-zero exit, nothing served.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::certs::{Pair, tls_args};
use crate::harness::{bin, site};
use crate::tls_certs::KeyKind;

/// Runs uhttpd with `cert` and `key`; returns its stderr, after checking
/// it failed with exactly one line and printed no banner.
fn fails_with(cert: &Path, key: &Path) -> String {
    let root = site();
    let out = Command::new(bin())
        .args(["--bind", "127.0.0.1", "--port", "0"])
        .args(tls_args(cert, key))
        .arg(root.path())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success(), "started anyway: {stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "printed a banner: {:?}", out.stdout);
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr:?}");
    assert!(stderr.starts_with("uhttpd: "), "{stderr:?}");
    stderr
}

fn names(stderr: &str, path: &Path) {
    assert!(
        stderr.contains(path.to_str().unwrap()),
        "{stderr:?} does not name {}",
        path.display()
    );
}

#[test]
fn missing_certificate_file_is_one_line_naming_it() {
    let pair = Pair::localhost(KeyKind::EcdsaP256Pkcs8);
    let missing = pair.dir.path().join("absent-fullchain.pem");
    let stderr = fails_with(&missing, &pair.key);
    names(&stderr, &missing);
    assert!(stderr.contains("No such file"), "{stderr:?}");
}

#[test]
fn missing_key_file_is_one_line_naming_it() {
    let pair = Pair::localhost(KeyKind::EcdsaP256Pkcs8);
    let missing = pair.dir.path().join("absent-privkey.pem");
    let stderr = fails_with(&pair.cert, &missing);
    names(&stderr, &missing);
}

#[test]
fn mismatched_pair_is_one_line_naming_both_files() {
    let one = Pair::localhost(KeyKind::EcdsaP256Pkcs8);
    let other = Pair::localhost(KeyKind::EcdsaP256Pkcs8);
    let stderr = fails_with(&one.cert, &other.key);
    names(&stderr, &one.cert);
    names(&stderr, &other.key);
    assert!(stderr.contains("does not match"), "{stderr:?}");
}

#[test]
fn garbage_certificate_is_one_line_naming_it() {
    let pair = Pair::localhost(KeyKind::Ed25519);
    let garbage = pair.dir.path().join("garbage.pem");
    std::fs::write(&garbage, random_bytes(1024)).unwrap();
    let stderr = fails_with(&garbage, &pair.key);
    names(&stderr, &garbage);
}

#[test]
fn garbage_key_is_one_line_naming_it() {
    let pair = Pair::localhost(KeyKind::Ed25519);
    let garbage = pair.dir.path().join("garbage.pem");
    std::fs::write(&garbage, random_bytes(1024)).unwrap();
    let stderr = fails_with(&pair.cert, &garbage);
    names(&stderr, &garbage);
}

#[test]
fn key_and_certificate_swapped_is_one_line_naming_a_file() {
    let pair = Pair::localhost(KeyKind::EcdsaP256Sec1);
    let stderr = fails_with(&pair.key, &pair.cert);
    assert!(
        stderr.contains(pair.key.to_str().unwrap()) || stderr.contains(pair.cert.to_str().unwrap()),
        "{stderr:?}"
    );
}

/// Bytes from a small xorshift generator seeded from the clock: different
/// every run, no extra dependency.
pub fn random_bytes(len: usize) -> Vec<u8> {
    let mut x = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}
