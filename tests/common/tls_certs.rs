//! Test certificates, made at test time so that no private key is committed,
//! and an in-memory TLS handshake that shows what a server config presents.
//!
//! ECDSA P-256 and Ed25519 keys come from rcgen (ring). ring cannot generate
//! RSA keys, so RSA keys come from the `openssl` command; [`can_generate`]
//! says whether it is there, and tests skip RSA with a note when it is not.
//! PKCS#1 and SEC1 keys are cut out of the PKCS#8 wrapping here, without
//! openssl.
//!
//! Used by unit tests through `#[path]` and by integration tests as a module
//! of `tests/common/`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use base64::Engine as _;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    ClientConfig, ClientConnection, DigitallySignedStruct, ProtocolVersion, ServerConfig,
    ServerConnection, SignatureScheme, SupportedProtocolVersion,
};

/// Key algorithm and PEM encoding of a generated pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA 2048, `RSA PRIVATE KEY` (needs `openssl`).
    RsaPkcs1,
    /// RSA 2048, `PRIVATE KEY` (needs `openssl`).
    RsaPkcs8,
    /// ECDSA P-256, `PRIVATE KEY`.
    EcdsaP256Pkcs8,
    /// ECDSA P-256, `EC PRIVATE KEY`.
    EcdsaP256Sec1,
    /// Ed25519, `PRIVATE KEY`.
    Ed25519,
}

impl KeyKind {
    /// Every kind.
    pub const ALL: [KeyKind; 5] = [
        KeyKind::RsaPkcs1,
        KeyKind::RsaPkcs8,
        KeyKind::EcdsaP256Pkcs8,
        KeyKind::EcdsaP256Sec1,
        KeyKind::Ed25519,
    ];

    fn is_rsa(self) -> bool {
        matches!(self, KeyKind::RsaPkcs1 | KeyKind::RsaPkcs8)
    }
}

/// A generated certificate chain and key.
pub struct Material {
    /// The chain as PEM, leaf first.
    pub cert_pem: String,
    /// The private key as PEM.
    pub key_pem: String,
    /// The chain as DER, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
}

impl Material {
    /// The leaf certificate.
    pub fn leaf(&self) -> &CertificateDer<'static> {
        &self.chain[0]
    }
}

/// Whether keys of `kind` can be generated here (RSA needs `openssl`).
pub fn can_generate(kind: KeyKind) -> bool {
    !kind.is_rsa() || openssl_available()
}

/// Whether the `openssl` command runs.
pub fn openssl_available() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|out| out.status.success())
}

/// A self-signed certificate for `common_name` (also its DNS name).
/// Panics for RSA without `openssl`; check [`can_generate`] first.
pub fn generate(kind: KeyKind, common_name: &str) -> Material {
    let mut params = CertificateParams::new(vec![common_name.to_owned()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    generate_with(kind, params)
}

/// A self-signed certificate made from `params`.
pub fn generate_with(kind: KeyKind, params: CertificateParams) -> Material {
    let (key_pair, key_pem) = key_pair(kind);
    let cert = params.self_signed(&key_pair).unwrap();
    Material {
        cert_pem: cert.pem(),
        key_pem,
        chain: vec![cert.der().clone()],
    }
}

/// An ECDSA leaf for `common_name` issued by an intermediate CA, which is in
/// turn issued by a root; `cert_pem` holds leaf then intermediate (like
/// certbot's `fullchain.pem`).
pub fn generate_chain(common_name: &str) -> Material {
    let ca_params = |name: &str| {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
    };
    let root_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let root = ca_params("Test Root").self_signed(&root_key).unwrap();
    let inter_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let inter = ca_params("Test Intermediate")
        .signed_by(&inter_key, &root, &root_key)
        .unwrap();
    let (leaf_key, key_pem) = key_pair(KeyKind::EcdsaP256Pkcs8);
    let mut params = CertificateParams::new(vec![common_name.to_owned()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    let leaf = params.signed_by(&leaf_key, &inter, &inter_key).unwrap();
    Material {
        cert_pem: format!("{}{}", leaf.pem(), inter.pem()),
        key_pem,
        chain: vec![leaf.der().clone(), inter.der().clone()],
    }
}

/// Writes a self-signed pair as `cert.pem` and `key.pem` in `dir`.
pub fn write_self_signed(dir: &Path, kind: KeyKind) -> (PathBuf, PathBuf) {
    let material = generate(kind, "localhost");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, &material.cert_pem).unwrap();
    std::fs::write(&key, &material.key_pem).unwrap();
    (cert, key)
}

/// Replaces `path` the way deployment tools do: write a temporary file
/// beside it, then rename it over.
pub fn replace_file(path: &Path, contents: &str) {
    let mut temp = path.as_os_str().to_owned();
    temp.push(".tmp");
    std::fs::write(&temp, contents).unwrap();
    std::fs::rename(&temp, path).unwrap();
}

/// A key pair rcgen can sign with, and its PEM in the encoding of `kind`.
fn key_pair(kind: KeyKind) -> (KeyPair, String) {
    match kind {
        KeyKind::RsaPkcs1 | KeyKind::RsaPkcs8 => {
            let out = Command::new("openssl")
                .args(["genpkey", "-algorithm", "RSA"])
                .args(["-pkeyopt", "rsa_keygen_bits:2048"])
                .output()
                .expect("openssl is needed to generate RSA keys");
            assert!(out.status.success(), "openssl genpkey failed");
            let pkcs8_pem = String::from_utf8(out.stdout).unwrap();
            let pair =
                KeyPair::from_pem_and_sign_algo(&pkcs8_pem, &rcgen::PKCS_RSA_SHA256).unwrap();
            let pem = if kind == KeyKind::RsaPkcs1 {
                // PKCS#8's privateKey of an RSA key is the PKCS#1 RSAPrivateKey.
                pem_encode("RSA PRIVATE KEY", pkcs8_private_key(&pair.serialize_der()))
            } else {
                pkcs8_pem
            };
            (pair, pem)
        }
        KeyKind::EcdsaP256Pkcs8 | KeyKind::EcdsaP256Sec1 => {
            let pair = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
            let pem = if kind == KeyKind::EcdsaP256Sec1 {
                pem_encode("EC PRIVATE KEY", &sec1_with_curve(&pair.serialize_der()))
            } else {
                pair.serialize_pem()
            };
            (pair, pem)
        }
        KeyKind::Ed25519 => {
            let pair = KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
            let pem = pair.serialize_pem();
            (pair, pem)
        }
    }
}

/// PEM with 64-column base64 lines.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Reads one DER element (tag, contents) off the front of `input`.
fn der_next<'a>(input: &mut &'a [u8]) -> (u8, &'a [u8]) {
    let tag = input[0];
    let (len, header) = match input[1] {
        short @ 0..=0x7f => (usize::from(short), 2),
        long => {
            let n = usize::from(long & 0x7f);
            let len = input[2..2 + n]
                .iter()
                .fold(0usize, |acc, b| acc << 8 | usize::from(*b));
            (len, 2 + n)
        }
    };
    let contents = &input[header..header + len];
    *input = &input[header + len..];
    (tag, contents)
}

fn der_encode(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match contents.len() {
        len @ 0..=0x7f => out.push(len as u8),
        len @ 0x80..=0xff => out.extend([0x81, len as u8]),
        len => out.extend([0x82, (len >> 8) as u8, len as u8]),
    }
    out.extend_from_slice(contents);
    out
}

/// The `privateKey` OCTET STRING contents of a PKCS#8 `PrivateKeyInfo`.
fn pkcs8_private_key(pkcs8: &[u8]) -> &[u8] {
    let mut outer = pkcs8;
    let (_, mut info) = der_next(&mut outer);
    let _version = der_next(&mut info);
    let _algorithm = der_next(&mut info);
    let (tag, key) = der_next(&mut info);
    assert_eq!(tag, 0x04, "privateKey is an OCTET STRING");
    key
}

/// The SEC1 `ECPrivateKey` inside a P-256 PKCS#8 key, with the `[0]` curve
/// parameters added when absent (ring leaves them out; openssl writes them).
fn sec1_with_curve(pkcs8: &[u8]) -> Vec<u8> {
    const PRIME256V1: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    let mut inner = pkcs8_private_key(pkcs8);
    let (_, mut fields) = der_next(&mut inner);
    let start = fields;
    let _version = der_next(&mut fields);
    let _key = der_next(&mut fields);
    let mut body = start[..start.len() - fields.len()].to_vec();
    if fields.first() != Some(&0xa0) {
        body.extend(der_encode(0xa0, &PRIME256V1));
    }
    body.extend_from_slice(fields);
    der_encode(0x30, &body)
}

/// What a client saw in a handshake with a server config.
pub struct Served {
    /// The certificate chain the server sent.
    pub chain: Vec<CertificateDer<'static>>,
    /// The negotiated ALPN protocol.
    pub alpn: Option<Vec<u8>>,
    /// The negotiated TLS version.
    pub version: ProtocolVersion,
}

/// Runs a handshake in memory between `config` and a client limited to
/// `version` that offers ALPN `h2` and `http/1.1`. The client accepts any
/// certificate but checks the handshake signatures, so success proves the
/// server holds the key of the certificate it sent.
pub fn served(config: Arc<ServerConfig>, version: &'static SupportedProtocolVersion) -> Served {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut client_config = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[version])
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    client_config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let name = ServerName::try_from("localhost").unwrap();
    let mut client = ClientConnection::new(Arc::new(client_config), name).unwrap();
    let mut server = ServerConnection::new(config).unwrap();

    let mut buf = Vec::new();
    for _ in 0..20 {
        if !client.is_handshaking() && !server.is_handshaking() {
            break;
        }
        buf.clear();
        while client.wants_write() {
            client.write_tls(&mut buf).unwrap();
        }
        let mut input = &buf[..];
        while !input.is_empty() {
            server.read_tls(&mut input).unwrap();
        }
        server.process_new_packets().unwrap();
        buf.clear();
        while server.wants_write() {
            server.write_tls(&mut buf).unwrap();
        }
        let mut input = &buf[..];
        while !input.is_empty() {
            client.read_tls(&mut input).unwrap();
        }
        client.process_new_packets().unwrap();
    }
    assert!(!client.is_handshaking() && !server.is_handshaking());
    Served {
        chain: client.peer_certificates().unwrap().to_vec(),
        alpn: client.alpn_protocol().map(<[u8]>::to_vec),
        version: client.protocol_version().unwrap(),
    }
}

/// Trusts any certificate, but verifies handshake signatures with it.
#[derive(Debug)]
pub struct AnyCertificate(pub Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
