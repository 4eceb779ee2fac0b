//! A small blocking HTTPS client: the shared raw client over rustls over a
//! std `TcpStream`, enough to check what uhttpd sends.

use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{
    ClientConfig, ClientConnection, ProtocolVersion, RootCertStore, StreamOwned,
    SupportedProtocolVersion,
};

/// How long one read may block.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

pub const TLS12: &[&SupportedProtocolVersion] = &[&rustls::version::TLS12];
pub const TLS13: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13];
pub const BOTH: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

/// Which server certificates the client accepts.
pub enum Trust {
    /// Verified against this (self-signed) certificate as the only root,
    /// names included.
    Root(CertificateDer<'static>),
    /// Any certificate; handshake signatures are still checked, so the
    /// server proves it holds the key of the certificate it sent.
    Any,
}

/// A client config offering `versions` and ALPN `h2`, `http/1.1` (the
/// server must pick the second).
pub fn config(trust: &Trust, versions: &[&'static SupportedProtocolVersion]) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(versions)
        .unwrap();
    let mut config = match trust {
        Trust::Root(cert) => {
            let mut roots = RootCertStore::empty();
            roots.add(cert.clone()).unwrap();
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::Any => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(crate::tls_certs::AnyCertificate(provider)))
            .with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

/// The TLS stream under a [`Client`].
pub type Tls = StreamOwned<ClientConnection, TcpStream>;

/// One HTTPS connection, handshake done: the shared raw client over TLS.
pub type Client = crate::common::client::Client<Tls>;

impl Client {
    /// Connects, trusting `trust`, offering TLS 1.3 and 1.2.
    pub fn connect(addr: SocketAddr, trust: &Trust) -> Client {
        Client::connect_with(addr, config(trust, BOTH)).unwrap()
    }

    /// Connects with `config` and completes the handshake; errors are
    /// the socket's or the handshake's.
    pub fn connect_with(addr: SocketAddr, config: Arc<ClientConfig>) -> io::Result<Client> {
        let sock = TcpStream::connect(addr)?;
        sock.set_read_timeout(Some(READ_TIMEOUT))?;
        sock.set_write_timeout(Some(READ_TIMEOUT))?;
        let name = ServerName::try_from("localhost").unwrap();
        let conn = ClientConnection::new(config, name).map_err(io::Error::other)?;
        let mut tls = StreamOwned::new(conn, sock);
        while tls.conn.is_handshaking() {
            tls.conn.complete_io(&mut tls.sock)?;
        }
        Ok(Client::new(tls))
    }

    /// The certificate chain the server sent, leaf first.
    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        self.stream.conn.peer_certificates().unwrap().to_vec()
    }

    /// The server's leaf certificate.
    pub fn leaf(&self) -> CertificateDer<'static> {
        self.chain().swap_remove(0)
    }

    pub fn version(&self) -> ProtocolVersion {
        self.stream.conn.protocol_version().unwrap()
    }

    pub fn alpn(&self) -> Option<&[u8]> {
        self.stream.conn.alpn_protocol()
    }

    /// Whether the server ended the connection cleanly: a TLS
    /// `close_notify` before the EOF (without one, rustls reports an
    /// error).
    pub fn is_closed_cleanly(&mut self) -> bool {
        let mut one = [0u8; 1];
        matches!(self.stream.read(&mut one), Ok(0))
    }
}
