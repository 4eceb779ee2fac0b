//! The answers to the CA's challenges while an order is open, shared by
//! the ACME thread (which sets them) and the workers (which serve them):
//!
//! - HTTP-01 (RFC 8555 §8.3): `GET /.well-known/acme-challenge/TOKEN` on
//!   a plain listener gets the key authorization ([`Challenges::http01`]);
//! - TLS-ALPN-01 (RFC 8737): a ClientHello offering `acme-tls/1` alone
//!   (§3: the CA offers no other protocol) gets the challenge certificate
//!   of its SNI name instead of the served one ([`Resolver`]); the library
//!   closes such a connection once its handshake is done. A client that
//!   offers `http/1.1` too gets the served certificate and `http/1.1`.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// RFC 8737 §6.2: the ALPN protocol of TLS-ALPN-01 validation.
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// The path prefix of HTTP-01 challenges (RFC 8555 §8.3).
const HTTP01_PREFIX: &str = "/.well-known/acme-challenge/";

/// The challenge answers of the open order; empty between orders.
#[derive(Debug, Default)]
pub struct Challenges {
    /// HTTP-01: token → key authorization.
    http: RwLock<HashMap<String, String>>,
    /// TLS-ALPN-01: domain name → challenge certificate.
    alpn: RwLock<HashMap<String, Arc<CertifiedKey>>>,
}

impl Challenges {
    /// The key authorization to answer `path` with, if it is the path of
    /// an HTTP-01 challenge of the open order.
    pub fn http01(&self, path: &str) -> Option<String> {
        let token = path.strip_prefix(HTTP01_PREFIX)?;
        read(&self.http).get(token).cloned()
    }

    /// Whether `path` is under `/.well-known/acme-challenge/`.
    pub fn is_http01_path(path: &str) -> bool {
        path.starts_with(HTTP01_PREFIX)
    }

    /// Answers the HTTP-01 challenge `token` with `key_authorization`.
    pub fn set_http01(&self, token: &str, key_authorization: &str) {
        write(&self.http).insert(token.to_owned(), key_authorization.to_owned());
    }

    /// Answers TLS-ALPN-01 handshakes for `domain` with a certificate
    /// carrying the `acmeIdentifier` extension (RFC 8737 §3) of
    /// `digest`, the SHA-256 of the key authorization.
    /// Fails only if the key or certificate cannot be made (the reason).
    pub fn set_tls_alpn01(&self, domain: &str, digest: &[u8]) -> Result<(), String> {
        let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
        let mut params =
            rcgen::CertificateParams::new(vec![domain.to_owned()]).map_err(|e| e.to_string())?;
        params.custom_extensions = vec![rcgen::CustomExtension::new_acme_identifier(digest)];
        let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let signing =
            rustls::crypto::ring::sign::any_supported_type(&der).map_err(|e| e.to_string())?;
        let certified = CertifiedKey::new(vec![CertificateDer::from(cert.der().to_vec())], signing);
        write(&self.alpn).insert(domain.to_ascii_lowercase(), Arc::new(certified));
        Ok(())
    }

    /// Forgets every answer (the order is over).
    pub fn clear(&self) {
        write(&self.http).clear();
        write(&self.alpn).clear();
    }

    fn tls_alpn01(&self, domain: &str) -> Option<Arc<CertifiedKey>> {
        read(&self.alpn).get(&domain.to_ascii_lowercase()).cloned()
    }
}

// A poisoned lock still holds a whole map (each write is one operation).
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

/// The TLS listener's certificate resolver with `--acme`: the challenge
/// certificate for a validation handshake, else the served certificate.
#[derive(Debug)]
pub struct Resolver {
    /// The served certificate (the library's resolver of the loaded pair).
    pub served: Arc<dyn ResolvesServerCert>,
    pub challenges: Arc<Challenges>,
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let validation = hello.alpn().is_some_and(|protocols| {
            let mut protocols = protocols.peekable();
            protocols.peek().is_some() && protocols.all(|p| p == ACME_TLS_ALPN)
        });
        if validation {
            // No answer (no open challenge for the name): the handshake fails.
            return self.challenges.tls_alpn01(hello.server_name()?);
        }
        self.served.resolve(hello)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http01_answers_only_open_tokens_under_the_prefix() {
        let challenges = Challenges::default();
        challenges.set_http01("tok-1", "tok-1.thumb");
        for (path, answer) in [
            ("/.well-known/acme-challenge/tok-1", Some("tok-1.thumb")),
            ("/.well-known/acme-challenge/tok-2", None),
            ("/.well-known/acme-challenge/", None),
            ("/.well-known/acme-challenge/tok-1/x", None),
            ("/tok-1", None),
            ("/.well-known/acme-challenge/t\u{e9}", None),
            ("/.well-known/acme-challenge/\u{1f600}", None),
        ] {
            assert_eq!(challenges.http01(path).as_deref(), answer, "{path}");
        }
        challenges.clear();
        assert_eq!(challenges.http01("/.well-known/acme-challenge/tok-1"), None);
    }

    #[test]
    fn tls_alpn01_certificate_is_kept_per_name() {
        let challenges = Challenges::default();
        challenges.set_tls_alpn01("Test.Example", &[7; 32]).unwrap();
        assert!(challenges.tls_alpn01("test.example").is_some());
        assert!(challenges.tls_alpn01("other.example").is_none());
        challenges.clear();
        assert!(challenges.tls_alpn01("test.example").is_none());
    }
}
