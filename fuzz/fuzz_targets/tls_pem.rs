//! `uhttp::tls` PEM loading: a certificate file and a key file built from
//! the input (split at the first `\0`), loaded one by one and as a pair.
//!
//! Invariants: no panic (in the PEM reader, the DER parsing behind
//! `load_server_config`, or the error's `Display`); an error names its
//! file; a chain is never empty.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use uhttp::tls::{load_certs, load_private_key, load_server_config};

/// Two files in a fresh directory under `TMPDIR` (`scripts/fuzz.sh`
/// points it at memory), rewritten for every input.
fn files() -> &'static (PathBuf, PathBuf) {
    static FILES: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("uhttp-fuzz-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        (dir.join("cert.pem"), dir.join("key.pem"))
    })
}

fuzz_target!(|data: &[u8]| {
    let (cert, key) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, data),
    };
    let (cert_path, key_path) = files();
    std::fs::write(cert_path, cert).expect("write the certificate file");
    std::fs::write(key_path, key).expect("write the key file");

    match load_certs(cert_path) {
        Ok(chain) => assert!(!chain.is_empty()),
        Err(e) => assert!(e.to_string().contains("cert.pem"), "{e}"),
    }
    if let Err(e) = load_private_key(key_path) {
        assert!(e.to_string().contains("key.pem"), "{e}");
    }
    if let Err(e) = load_server_config(cert_path, key_path) {
        let _ = e.to_string();
        let _ = std::error::Error::source(&e);
    }
});
