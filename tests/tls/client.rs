//! A small blocking HTTPS client: rustls over a std `TcpStream`, HTTP/1.1
//! with `Content-Length` framing, enough to check what uhttpd sends.

use std::io::{self, Read, Write};
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

/// A parsed response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

/// One HTTPS connection, handshake done.
pub struct Client {
    tls: StreamOwned<ClientConnection, TcpStream>,
    buf: Vec<u8>,
}

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
        Ok(Client {
            tls,
            buf: Vec::new(),
        })
    }

    /// The certificate chain the server sent, leaf first.
    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        self.tls.conn.peer_certificates().unwrap().to_vec()
    }

    /// The server's leaf certificate.
    pub fn leaf(&self) -> CertificateDer<'static> {
        self.chain().swap_remove(0)
    }

    pub fn version(&self) -> ProtocolVersion {
        self.tls.conn.protocol_version().unwrap()
    }

    pub fn alpn(&self) -> Option<&[u8]> {
        self.tls.conn.alpn_protocol()
    }

    /// `GET PATH` with keep-alive; the whole response.
    pub fn get(&mut self, path: &str) -> Response {
        self.send(&format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        self.read_response(false)
    }

    /// Writes raw request bytes.
    pub fn send(&mut self, request: &str) {
        self.tls.write_all(request.as_bytes()).unwrap();
        self.tls.flush().unwrap();
    }

    /// Reads a response head: status and headers.
    pub fn read_head(&mut self) -> (u16, Vec<(String, String)>) {
        let end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            assert!(
                self.fill() > 0,
                "connection closed before the response head"
            );
        };
        let head = String::from_utf8(self.buf[..end].to_vec()).unwrap();
        self.buf.drain(..end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
        let headers = lines
            .map(|l| {
                let (n, v) = l.split_once(':').unwrap();
                (n.trim().to_owned(), v.trim().to_owned())
            })
            .collect();
        (status, headers)
    }

    /// Reads a whole response (`Content-Length` framing; without it, to
    /// the end of the stream).
    pub fn read_response(&mut self, head_only: bool) -> Response {
        let (status, headers) = self.read_head();
        let mut response = Response {
            status,
            headers,
            body: Vec::new(),
        };
        if head_only || status == 204 || status == 304 {
            return response;
        }
        match response.header("content-length") {
            Some(len) => {
                let len: usize = len.parse().unwrap();
                while self.buf.len() < len {
                    assert!(self.fill() > 0, "connection closed inside the body");
                }
                response.body = self.buf.drain(..len).collect();
            }
            None => {
                while self.fill() > 0 {}
                response.body = std::mem::take(&mut self.buf);
            }
        }
        response
    }

    /// Reads body bytes: what is buffered, else one read. 0 at the end.
    pub fn read_some(&mut self, out: &mut [u8]) -> usize {
        if self.buf.is_empty() {
            return self.tls.read(out).unwrap_or_else(|e| panic!("read: {e}"));
        }
        let n = self.buf.len().min(out.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        self.buf.drain(..n);
        n
    }

    /// Whether the server ended the connection (after what is buffered).
    pub fn is_closed_by_server(&mut self) -> bool {
        let mut one = [0u8; 1];
        matches!(self.tls.read(&mut one), Ok(0) | Err(_))
    }

    /// Whether the server ended the connection cleanly: a TLS
    /// `close_notify` before the EOF (without one, rustls reports an
    /// error).
    pub fn is_closed_cleanly(&mut self) -> bool {
        let mut one = [0u8; 1];
        matches!(self.tls.read(&mut one), Ok(0))
    }

    fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.tls.read(&mut chunk).unwrap();
        self.buf.extend_from_slice(&chunk[..n]);
        n
    }
}
