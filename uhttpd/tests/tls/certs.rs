//! Certificate files for a test server: generated now, written to a
//! temporary directory, named the way certbot names them.

use std::path::{Path, PathBuf};

use rcgen::CertificateParams;
use tempfile::TempDir;

use crate::tls_certs::{KeyKind, Material, generate_with};

/// A self-signed certificate for `localhost` and `127.0.0.1`, so that a
/// client that verifies names accepts it when it trusts it.
pub fn localhost(kind: KeyKind) -> Material {
    let mut params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    generate_with(kind, params)
}

/// A certificate and key on disk.
pub struct Pair {
    pub dir: TempDir,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub material: Material,
}

impl Pair {
    /// `fullchain.pem` and `privkey.pem` holding `material`.
    pub fn write(material: Material) -> Pair {
        let dir = TempDir::new().unwrap();
        let cert = dir.path().join("fullchain.pem");
        let key = dir.path().join("privkey.pem");
        std::fs::write(&cert, &material.cert_pem).unwrap();
        std::fs::write(&key, &material.key_pem).unwrap();
        Pair {
            dir,
            cert,
            key,
            material,
        }
    }

    /// A pair of `kind` for localhost.
    pub fn localhost(kind: KeyKind) -> Pair {
        Pair::write(localhost(kind))
    }

    /// `--cert FILE --key FILE`.
    pub fn args(&self) -> Vec<String> {
        tls_args(&self.cert, &self.key)
    }
}

/// `--cert CERT --key KEY`.
pub fn tls_args(cert: &Path, key: &Path) -> Vec<String> {
    vec![
        "--cert".into(),
        cert.to_str().unwrap().into(),
        "--key".into(),
        key.to_str().unwrap().into(),
    ]
}
