//! TLS: PEM loading and the run-time swappable server configuration.
//!
//! [`load_server_config`] turns a PEM certificate chain and private key (for
//! example certbot's `fullchain.pem` and `privkey.pem`) into a
//! [`rustls::ServerConfig`] offering TLS 1.2 and 1.3 with ALPN `http/1.1`.
//! The key must belong to the leaf certificate; a mismatched pair is refused
//! here rather than at the first handshake.
//!
//! [`TlsConfig`] holds the current config behind a lock. The server clones
//! the current `Arc` for each accepted connection, so [`TlsConfig::replace`]
//! (or [`TlsConfig::reload`]) affects new connections only; open ones keep
//! the config they started with.
//!
//! Only the `ring` crypto provider is used, passed explicitly, so no
//! process-wide default provider has to be installed.
//!
//! A config may offer more ALPN protocols than `http/1.1` (uhttpd adds
//! `acme-tls/1` for TLS-ALPN-01 validation, RFC 8737, with a certificate
//! resolver of its own). A connection that negotiates any other protocol
//! is closed once its handshake is done: it is never served HTTP.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{InconsistentKeys, ServerConfig};
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// The ALPN protocol offered to clients.
pub(crate) const ALPN_HTTP_1_1: &[u8] = b"http/1.1";

/// Why a certificate/key pair could not be loaded.
///
/// `Display` names the file and the cause in one line (so a log line or a
/// start-up error is complete on its own); `source()` also gives the cause.
#[derive(Debug)]
#[non_exhaustive]
pub enum TlsError {
    /// The file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The file is not well-formed PEM (a section without its END line, bad
    /// base64, ...).
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: pem::Error,
    },
    /// The certificate file holds no `CERTIFICATE` section.
    NoCertificates {
        /// The file.
        path: PathBuf,
    },
    /// The key file holds no `PRIVATE KEY`, `RSA PRIVATE KEY` or
    /// `EC PRIVATE KEY` section.
    NoPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// The key file holds only a passphrase-protected key, which cannot be
    /// used unattended.
    EncryptedPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// The private key is of a type or curve the crypto provider cannot sign
    /// with, or its DER is malformed.
    UnsupportedKey {
        /// The key file.
        path: PathBuf,
        /// rustls's reason.
        source: rustls::Error,
    },
    /// The leaf (first) certificate could not be parsed.
    BadCertificate {
        /// The certificate file.
        path: PathBuf,
        /// rustls's reason.
        source: rustls::Error,
    },
    /// The private key does not belong to the leaf certificate.
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// Building the config from already-parsed parts failed
    /// ([`server_config`]); a mismatched pair is
    /// `rustls::Error::InconsistentKeys(KeyMismatch)`.
    Rustls(rustls::Error),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::Read { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
            TlsError::Pem { path, source } => {
                write!(f, "{}: malformed PEM: ", path.display())?;
                fmt_pem_error(source, f)
            }
            TlsError::NoCertificates { path } => write!(
                f,
                "{}: no PEM certificate (BEGIN CERTIFICATE) found",
                path.display()
            ),
            TlsError::NoPrivateKey { path } => write!(
                f,
                "{}: no PEM private key (BEGIN PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY) found",
                path.display()
            ),
            TlsError::EncryptedPrivateKey { path } => write!(
                f,
                "{}: the private key is encrypted; decrypt it first (openssl pkey)",
                path.display()
            ),
            TlsError::UnsupportedKey { path, source } => {
                write!(f, "{}: unusable private key: {source}", path.display())
            }
            TlsError::BadCertificate { path, source } => {
                write!(f, "{}: invalid leaf certificate: {source}", path.display())
            }
            TlsError::KeyMismatch { cert, key } => write!(
                f,
                "private key {} does not match certificate {}",
                key.display(),
                cert.display()
            ),
            TlsError::Rustls(source) => write!(f, "TLS configuration: {source}"),
        }
    }
}

/// `pem::Error`'s own `Display` prints marker lines as byte arrays; show
/// them as text.
fn fmt_pem_error(error: &pem::Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match error {
        pem::Error::MissingSectionEnd { end_marker } => write!(
            f,
            "no \"-----END {}-----\" line",
            String::from_utf8_lossy(end_marker).trim()
        ),
        pem::Error::IllegalSectionStart { line } => write!(
            f,
            "bad section start {:?}",
            String::from_utf8_lossy(line).trim()
        ),
        other => write!(f, "{other}"),
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TlsError::Read { source, .. } => Some(source),
            TlsError::Pem { source, .. } => Some(source),
            TlsError::UnsupportedKey { source, .. } => Some(source),
            TlsError::BadCertificate { source, .. } => Some(source),
            TlsError::Rustls(source) => Some(source),
            TlsError::NoCertificates { .. }
            | TlsError::NoPrivateKey { .. }
            | TlsError::EncryptedPrivateKey { .. }
            | TlsError::KeyMismatch { .. } => None,
        }
    }
}

/// Reads a whole file; PEM files are small. Reading once (rather than one
/// open per parse) also gives one consistent `Read` error.
fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Loads every `CERTIFICATE` section of a PEM file, in file order: the leaf
/// first, then its intermediates (certbot's `fullchain.pem`). Other sections
/// are skipped.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Pem {
            path: path.to_owned(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificates {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// Loads the first private key of a PEM file: PKCS#1 (`RSA PRIVATE KEY`),
/// PKCS#8 (`PRIVATE KEY`: RSA, ECDSA or Ed25519) or SEC1 (`EC PRIVATE KEY`).
pub fn load_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read(path)?;
    match PrivateKeyDer::from_pem_slice(&bytes) {
        Ok(key) => Ok(key),
        Err(pem::Error::NoItemsFound) => {
            let encrypted = bytes
                .windows(ENCRYPTED_KEY_MARKER.len())
                .any(|w| w == ENCRYPTED_KEY_MARKER);
            Err(if encrypted {
                TlsError::EncryptedPrivateKey {
                    path: path.to_owned(),
                }
            } else {
                TlsError::NoPrivateKey {
                    path: path.to_owned(),
                }
            })
        }
        Err(source) => Err(TlsError::Pem {
            path: path.to_owned(),
            source,
        }),
    }
}

/// The section start of an encrypted PKCS#8 key, which `PemObject` skips.
const ENCRYPTED_KEY_MARKER: &[u8] = b"-----BEGIN ENCRYPTED PRIVATE KEY-----";

/// Loads a certificate chain and its private key into a server config:
/// TLS 1.2 and 1.3, ALPN `http/1.1`, no client authentication. Refuses a key
/// that does not belong to the leaf certificate.
pub fn load_server_config(cert: &Path, key: &Path) -> Result<ServerConfig, TlsError> {
    let certs = load_certs(cert)?;
    let private_key = load_private_key(key)?;
    build(certs, private_key).map_err(|failure| match failure {
        BuildError::Key(source) => TlsError::UnsupportedKey {
            path: key.to_owned(),
            source,
        },
        BuildError::Certificate(source) => TlsError::BadCertificate {
            path: cert.to_owned(),
            source,
        },
        BuildError::Mismatch => TlsError::KeyMismatch {
            cert: cert.to_owned(),
            key: key.to_owned(),
        },
        BuildError::Config(source) => TlsError::Rustls(source),
    })
}

/// Same as [`load_server_config`], from an already-parsed chain (leaf first)
/// and key. Errors are [`TlsError::Rustls`], since there are no file names
/// to report.
pub fn server_config(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<ServerConfig, TlsError> {
    build(certs, key).map_err(|failure| {
        TlsError::Rustls(match failure {
            BuildError::Key(e) | BuildError::Certificate(e) | BuildError::Config(e) => e,
            BuildError::Mismatch => InconsistentKeys::KeyMismatch.into(),
        })
    })
}

/// Which part of [`build`] failed, so file loading can name the right file.
enum BuildError {
    Key(rustls::Error),
    Certificate(rustls::Error),
    Mismatch,
    Config(rustls::Error),
}

fn build(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<ServerConfig, BuildError> {
    let provider: Arc<CryptoProvider> = Arc::new(rustls::crypto::ring::default_provider());
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(BuildError::Key)?;
    let certified = CertifiedKey::new(certs, signing_key);
    match certified.keys_match() {
        Ok(()) => {}
        // The key cannot report its public half: nothing to compare, and
        // rustls's own `with_single_cert` accepts it too.
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::Unknown)) => {}
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => {
            return Err(BuildError::Mismatch);
        }
        Err(other) => return Err(BuildError::Certificate(other)),
    }
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(BuildError::Config)?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(SingleCertAndKey::from(certified)));
    config.alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];
    Ok(config)
}

/// A shared server config that can be swapped at run time.
///
/// Clones share the same slot. The server takes [`current`](Self::current)
/// for each new connection; [`replace`](Self::replace) and
/// [`reload`](Self::reload) make later connections use the new certificate
/// while open connections continue with the one they started with.
#[derive(Clone, Debug)]
pub struct TlsConfig {
    current: Arc<RwLock<Arc<ServerConfig>>>,
}

impl TlsConfig {
    /// Wraps a server config.
    pub fn new(config: ServerConfig) -> Self {
        Self::from_arc(Arc::new(config))
    }

    /// Wraps an already shared server config.
    pub fn from_arc(config: Arc<ServerConfig>) -> Self {
        Self {
            current: Arc::new(RwLock::new(config)),
        }
    }

    /// The config for a new connection.
    pub fn current(&self) -> Arc<ServerConfig> {
        // A poisoned lock still holds a whole `Arc` (the only write is one
        // assignment), so it is safe to keep using.
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Makes new connections use `config`; open ones keep theirs.
    ///
    /// ```no_run
    /// use std::path::Path;
    /// use uhttp::tls::{TlsConfig, load_server_config};
    ///
    /// let tls = TlsConfig::load(Path::new("old.pem"), Path::new("old.key"))?;
    /// let mut config = uhttp::Config::default();
    /// config.tls = Some(tls.clone()); // the server holds the same slot
    /// // Later, e.g. on a thread of its own after a renewal:
    /// tls.replace(load_server_config(Path::new("new.pem"), Path::new("new.key"))?);
    /// # Ok::<(), uhttp::tls::TlsError>(())
    /// ```
    pub fn replace(&self, config: ServerConfig) {
        let config = Arc::new(config);
        let old = std::mem::replace(
            &mut *self.current.write().unwrap_or_else(PoisonError::into_inner),
            config,
        );
        // Dropped outside the lock.
        drop(old);
    }

    /// Loads a certificate chain and key ([`load_server_config`]) into a new
    /// shared config.
    pub fn load(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        load_server_config(cert, key).map(Self::new)
    }

    /// Loads a certificate chain and key and makes new connections use them.
    /// On error the current config stays in place.
    pub fn reload(&self, cert: &Path, key: &Path) -> Result<(), TlsError> {
        let config = load_server_config(cert, key)?;
        self.replace(config);
        Ok(())
    }
}

#[cfg(test)]
#[path = "../tests/common/tls_certs.rs"]
mod tls_certs;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::tls_certs::{
        KeyKind, Material, can_generate, generate, generate_chain, served,
    };
    use std::fs;

    fn skip(kind: KeyKind) -> bool {
        let missing = !can_generate(kind);
        if missing {
            eprintln!("note: skipping {kind:?}: no `openssl` command to generate RSA keys");
        }
        missing
    }

    fn write(dir: &Path, name: &str, contents: &[u8]) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, contents).unwrap();
        path
    }

    fn write_pair(dir: &Path, material: &Material) -> (PathBuf, PathBuf) {
        (
            write(dir, "cert.pem", material.cert_pem.as_bytes()),
            write(dir, "key.pem", material.key_pem.as_bytes()),
        )
    }

    /// Loads the pair, then checks a real handshake (in memory) over TLS 1.2
    /// and 1.3 presents the certificate, proves the key and picks http/1.1.
    fn assert_loads_and_serves(kind: KeyKind, key_label: &str) {
        if skip(kind) {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let material = generate(kind, "example.test");
        assert!(
            material
                .key_pem
                .starts_with(&format!("-----BEGIN {key_label}-----")),
            "{kind:?}: {}",
            material.key_pem
        );
        let (cert, key) = write_pair(dir.path(), &material);

        let key_der = load_private_key(&key).unwrap();
        let config = Arc::new(load_server_config(&cert, &key).unwrap());
        for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
            let served = served(Arc::clone(&config), version);
            assert_eq!(served.chain, material.chain, "{kind:?}");
            assert_eq!(served.alpn.as_deref(), Some(ALPN_HTTP_1_1));
            assert_eq!(served.version, version.version);
        }
        let from_parts = server_config(material.chain.clone(), key_der).unwrap();
        assert_eq!(
            served(Arc::new(from_parts), &rustls::version::TLS13).chain,
            material.chain
        );
    }

    #[test]
    fn loads_rsa_pkcs1() {
        assert_loads_and_serves(KeyKind::RsaPkcs1, "RSA PRIVATE KEY");
    }

    #[test]
    fn loads_rsa_pkcs8() {
        assert_loads_and_serves(KeyKind::RsaPkcs8, "PRIVATE KEY");
    }

    #[test]
    fn loads_ecdsa_p256_pkcs8() {
        assert_loads_and_serves(KeyKind::EcdsaP256Pkcs8, "PRIVATE KEY");
    }

    #[test]
    fn loads_ecdsa_p256_sec1() {
        assert_loads_and_serves(KeyKind::EcdsaP256Sec1, "EC PRIVATE KEY");
    }

    #[test]
    fn loads_ed25519_pkcs8() {
        assert_loads_and_serves(KeyKind::Ed25519, "PRIVATE KEY");
    }

    #[test]
    fn loads_leaf_and_intermediate_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let material = generate_chain("example.test");
        assert_eq!(material.chain.len(), 2);
        let (cert, key) = write_pair(dir.path(), &material);

        assert_eq!(load_certs(&cert).unwrap(), material.chain);
        let config = Arc::new(load_server_config(&cert, &key).unwrap());
        assert_eq!(
            served(config, &rustls::version::TLS13).chain,
            material.chain
        );
    }

    #[test]
    fn skips_other_sections_in_a_combined_file() {
        let dir = tempfile::tempdir().unwrap();
        let material = generate(KeyKind::EcdsaP256Pkcs8, "example.test");
        let both = format!("{}{}", material.key_pem, material.cert_pem);
        let path = write(dir.path(), "both.pem", both.as_bytes());
        assert_eq!(load_certs(&path).unwrap(), material.chain);
        load_server_config(&path, &path).unwrap();
    }

    fn assert_names(error: &TlsError, path: &Path, words: &str) {
        let shown = error.to_string();
        assert!(
            shown.contains(&path.display().to_string()),
            "{shown:?} does not name {}",
            path.display()
        );
        assert!(shown.contains(words), "{shown:?} does not say {words:?}");
        assert!(!shown.contains('\n'), "{shown:?} is not one line");
    }

    #[test]
    fn missing_file_is_a_read_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.pem");
        let error = load_certs(&path).unwrap_err();
        assert!(
            matches!(&error, TlsError::Read { source, .. } if source.kind() == io::ErrorKind::NotFound),
            "{error:?}"
        );
        assert_names(&error, &path, "cannot read");
        assert!(std::error::Error::source(&error).is_some());
        let error = load_private_key(&path).unwrap_err();
        assert!(matches!(error, TlsError::Read { .. }), "{error:?}");
        let error = TlsConfig::load(&path, &path).unwrap_err();
        assert!(matches!(error, TlsError::Read { .. }), "{error:?}");
    }

    #[test]
    fn empty_files_hold_no_certificate_and_no_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "empty.pem", b"");
        let error = load_certs(&path).unwrap_err();
        assert!(
            matches!(error, TlsError::NoCertificates { .. }),
            "{error:?}"
        );
        assert_names(&error, &path, "no PEM certificate");
        let error = load_private_key(&path).unwrap_err();
        assert!(matches!(error, TlsError::NoPrivateKey { .. }), "{error:?}");
        assert_names(&error, &path, "no PEM private key");
    }

    #[test]
    fn key_file_holding_only_a_certificate_has_no_key() {
        let dir = tempfile::tempdir().unwrap();
        let material = generate(KeyKind::EcdsaP256Pkcs8, "example.test");
        let (cert, _) = write_pair(dir.path(), &material);
        let error = load_server_config(&cert, &cert).unwrap_err();
        assert!(matches!(error, TlsError::NoPrivateKey { .. }), "{error:?}");
        assert_names(&error, &cert, "no PEM private key");
    }

    #[test]
    fn certificate_file_holding_only_a_key_has_no_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let material = generate(KeyKind::EcdsaP256Pkcs8, "example.test");
        let (_, key) = write_pair(dir.path(), &material);
        let error = load_server_config(&key, &key).unwrap_err();
        assert!(
            matches!(error, TlsError::NoCertificates { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn garbage_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let binary = write(dir.path(), "binary.pem", &[0, 0xff, 0xfe, b'\n', 7, 200]);
        let error = load_certs(&binary).unwrap_err();
        assert!(
            matches!(error, TlsError::NoCertificates { .. }),
            "{error:?}"
        );
        let error = load_private_key(&binary).unwrap_err();
        assert!(matches!(error, TlsError::NoPrivateKey { .. }), "{error:?}");

        let bad_base64 = write(
            dir.path(),
            "bad64.pem",
            b"-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n",
        );
        let error = load_certs(&bad_base64).unwrap_err();
        assert!(matches!(error, TlsError::Pem { .. }), "{error:?}");
        assert_names(&error, &bad_base64, "malformed PEM");

        let unterminated = write(
            dir.path(),
            "open.pem",
            b"-----BEGIN PRIVATE KEY-----\nMIIB\n",
        );
        let error = load_private_key(&unterminated).unwrap_err();
        assert!(matches!(error, TlsError::Pem { .. }), "{error:?}");
        assert_names(&error, &unterminated, "\"-----END PRIVATE KEY-----\"");
    }

    #[test]
    fn well_formed_pem_with_bad_der_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let material = generate(KeyKind::EcdsaP256Pkcs8, "example.test");
        let (cert, key) = write_pair(dir.path(), &material);
        let junk = "-----BEGIN PRIVATE KEY-----\nAAECAwQFBgcICQ==\n-----END PRIVATE KEY-----\n";
        let bad_key = write(dir.path(), "junk-key.pem", junk.as_bytes());
        let error = load_server_config(&cert, &bad_key).unwrap_err();
        assert!(
            matches!(error, TlsError::UnsupportedKey { .. }),
            "{error:?}"
        );
        assert_names(&error, &bad_key, "unusable private key");

        let junk = "-----BEGIN CERTIFICATE-----\nAAECAwQFBgcICQ==\n-----END CERTIFICATE-----\n";
        let bad_cert = write(dir.path(), "junk-cert.pem", junk.as_bytes());
        let error = load_server_config(&bad_cert, &key).unwrap_err();
        assert!(
            matches!(error, TlsError::BadCertificate { .. }),
            "{error:?}"
        );
        assert_names(&error, &bad_cert, "invalid leaf certificate");
    }

    #[test]
    fn encrypted_key_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "enc.pem",
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n",
        );
        let error = load_private_key(&path).unwrap_err();
        assert!(
            matches!(error, TlsError::EncryptedPrivateKey { .. }),
            "{error:?}"
        );
        assert_names(&error, &path, "encrypted");
    }

    #[test]
    fn mismatched_pair_is_refused_at_load_time() {
        let dir = tempfile::tempdir().unwrap();
        let one = generate(KeyKind::EcdsaP256Pkcs8, "one.test");
        let other = generate(KeyKind::EcdsaP256Pkcs8, "other.test");
        let cert = write(dir.path(), "cert.pem", one.cert_pem.as_bytes());
        let key = write(dir.path(), "key.pem", other.key_pem.as_bytes());

        let error = load_server_config(&cert, &key).unwrap_err();
        assert!(
            matches!(&error, TlsError::KeyMismatch { cert: c, key: k } if *c == cert && *k == key),
            "{error:?}"
        );
        assert_names(&error, &cert, "does not match");
        assert_names(&error, &key, "does not match");

        // A key of another algorithm does not match either.
        let ed = generate(KeyKind::Ed25519, "ed.test");
        let ed_key = write(dir.path(), "ed-key.pem", ed.key_pem.as_bytes());
        let error = load_server_config(&cert, &ed_key).unwrap_err();
        assert!(matches!(error, TlsError::KeyMismatch { .. }), "{error:?}");

        // From parsed parts there is no file to name.
        let error = server_config(one.chain.clone(), load_private_key(&key).unwrap()).unwrap_err();
        assert!(
            matches!(
                error,
                TlsError::Rustls(rustls::Error::InconsistentKeys(
                    InconsistentKeys::KeyMismatch
                ))
            ),
            "{error:?}"
        );
    }

    #[test]
    fn empty_chain_from_parts_is_refused() {
        let material = generate(KeyKind::EcdsaP256Pkcs8, "example.test");
        let key = PrivateKeyDer::from_pem_slice(material.key_pem.as_bytes()).unwrap();
        let error = server_config(Vec::new(), key).unwrap_err();
        assert!(matches!(error, TlsError::Rustls(_)), "{error:?}");
    }

    #[test]
    fn replace_switches_new_connections_and_keeps_handed_out_configs() {
        let first = generate(KeyKind::EcdsaP256Pkcs8, "first.test");
        let second = generate(KeyKind::Ed25519, "second.test");
        let key = |m: &Material| PrivateKeyDer::from_pem_slice(m.key_pem.as_bytes()).unwrap();
        let tls = TlsConfig::new(server_config(first.chain.clone(), key(&first)).unwrap());
        let shared = tls.clone();
        let open_connection = tls.current();
        assert!(Arc::ptr_eq(&open_connection, &tls.current()));

        shared.replace(server_config(second.chain.clone(), key(&second)).unwrap());
        assert!(!Arc::ptr_eq(&open_connection, &tls.current()));
        let version = &rustls::version::TLS13;
        assert_eq!(served(tls.current(), version).chain, second.chain);
        assert_eq!(served(open_connection, version).chain, first.chain);
    }

    #[test]
    fn from_arc_shares_the_given_config() {
        let material = generate(KeyKind::EcdsaP256Pkcs8, "example.test");
        let key = PrivateKeyDer::from_pem_slice(material.key_pem.as_bytes()).unwrap();
        let config = Arc::new(server_config(material.chain, key).unwrap());
        let tls = TlsConfig::from_arc(Arc::clone(&config));
        assert!(Arc::ptr_eq(&config, &tls.current()));
    }

    #[test]
    fn reload_swaps_on_success_and_keeps_the_old_config_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let first = generate(KeyKind::EcdsaP256Pkcs8, "first.test");
        let (cert, key) = write_pair(dir.path(), &first);
        let tls = TlsConfig::load(&cert, &key).unwrap();
        let before = tls.current();

        // Broken pair: the new certificate with the old key.
        let second = generate(KeyKind::EcdsaP256Pkcs8, "second.test");
        fs::write(&cert, &second.cert_pem).unwrap();
        let error = tls.reload(&cert, &key).unwrap_err();
        assert!(matches!(error, TlsError::KeyMismatch { .. }), "{error:?}");
        assert!(Arc::ptr_eq(&before, &tls.current()));

        fs::remove_file(&key).unwrap();
        let error = tls.reload(&cert, &key).unwrap_err();
        assert!(matches!(error, TlsError::Read { .. }), "{error:?}");
        assert!(Arc::ptr_eq(&before, &tls.current()));

        fs::write(&key, &second.key_pem).unwrap();
        tls.reload(&cert, &key).unwrap();
        assert!(!Arc::ptr_eq(&before, &tls.current()));
        assert_eq!(
            served(tls.current(), &rustls::version::TLS12).chain,
            second.chain
        );
    }

    #[test]
    fn config_offers_only_http_1_1() {
        let material = generate(KeyKind::EcdsaP256Pkcs8, "example.test");
        let key = PrivateKeyDer::from_pem_slice(material.key_pem.as_bytes()).unwrap();
        let config = server_config(material.chain, key).unwrap();
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }
}
