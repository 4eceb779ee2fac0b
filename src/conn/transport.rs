//! [`Transport`]: a non-blocking stream socket (TCP or Unix), plain, or
//! TCP wrapped in rustls.
//!
//! Both variants read and write like a socket: `WouldBlock` means "wait for
//! readiness". TLS records are written as plaintext is accepted; plaintext
//! is accepted only while no encrypted bytes wait, so rustls' buffers stay
//! small and backpressure reaches the application.
//!
//! A TLS stream counts its handshake on the loop's counters
//! ([`LoopHandle::tls_handshakes`](crate::LoopHandle::tls_handshakes)),
//! once, as it completes or fails.

use std::io::{self, Read, Write};
use std::net::Shutdown;
#[cfg(feature = "tls")]
use std::sync::Arc;

use mio::event::Source;
use mio::net::{TcpStream, UnixStream};

#[cfg(feature = "tls")]
use crate::responder::Shared;

/// Plaintext accepted into rustls per write call: four full records
/// (rustls' own limit on queued TLS bytes is 64 KiB), sent with one
/// `writev` rather than one write per record.
#[cfg(feature = "tls")]
const TLS_WRITE_CHUNK: usize = 64 * 1024;

/// A connection's byte stream.
pub(crate) enum Transport {
    /// Plain TCP.
    Plain(TcpStream),
    /// A Unix stream socket (plain: TLS over a local socket is not offered).
    Unix(UnixStream),
    /// TLS over TCP; the handshake runs as bytes flow.
    #[cfg(feature = "tls")]
    Tls(Box<TlsStream>),
}

#[cfg(feature = "tls")]
pub(crate) struct TlsStream {
    sock: TcpStream,
    tls: rustls::ServerConnection,
    /// The last socket read came back short (the socket is drained).
    socket_drained: bool,
    /// Plaintext rustls holds that `read` has not handed out yet.
    plaintext: usize,
    handshake: HandshakeTally,
}

#[cfg(feature = "tls")]
impl TlsStream {
    /// `shared`: the loop's counters, where the handshake is counted.
    pub fn new(sock: TcpStream, tls: rustls::ServerConnection, shared: Arc<Shared>) -> Self {
        TlsStream {
            sock,
            tls,
            socket_drained: false,
            plaintext: 0,
            handshake: HandshakeTally {
                shared,
                state: Handshake::Unbegun,
            },
        }
    }
}

/// Where a connection's TLS handshake stands, for its count.
#[cfg(feature = "tls")]
#[derive(Clone, Copy, PartialEq, Eq)]
enum Handshake {
    /// No byte from the client yet: a connection closed now (a port
    /// probe, a browser's unused preconnect) had no handshake to count.
    Unbegun,
    /// The client sent something; rustls has not finished.
    Underway,
    /// Counted, completed or failed.
    Counted,
}

/// Counts one handshake on the loop's counters: completed when rustls
/// finishes it; failed when rustls refuses the client's bytes (not TLS, a
/// bad ClientHello, an alert such as a client not trusting the
/// certificate), or when the connection ends for any other reason (the
/// client closing, a timeout, the loop stopping) after the client's
/// first byte and before completion.
#[cfg(feature = "tls")]
struct HandshakeTally {
    shared: Arc<Shared>,
    state: Handshake,
}

#[cfg(feature = "tls")]
impl HandshakeTally {
    fn received(&mut self) {
        if self.state == Handshake::Unbegun {
            self.state = Handshake::Underway;
        }
    }

    /// Counts the completion once; true the first time.
    fn completed(&mut self) -> bool {
        let first = self.state != Handshake::Counted;
        if first {
            self.state = Handshake::Counted;
            self.shared.note_tls_handshake();
        }
        first
    }

    fn failed(&mut self) {
        if self.state == Handshake::Underway {
            self.shared.note_tls_handshake_failure();
        }
        self.state = Handshake::Counted;
    }
}

#[cfg(feature = "tls")]
impl Drop for HandshakeTally {
    fn drop(&mut self) {
        self.failed();
    }
}

/// A socket reader that notes whether a read came back short.
#[cfg(feature = "tls")]
struct Tracked<'a> {
    sock: &'a mut TcpStream,
    short: bool,
}

#[cfg(feature = "tls")]
impl Read for Tracked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.sock.read(buf)?;
        self.short = n < buf.len();
        Ok(n)
    }
}

impl Transport {
    /// The socket, to register with the poll.
    pub fn source_mut(&mut self) -> &mut dyn Source {
        match self {
            Transport::Plain(s) => s,
            Transport::Unix(s) => s,
            #[cfg(feature = "tls")]
            Transport::Tls(t) => &mut t.sock,
        }
    }

    /// Sets `TCP_NODELAY` (nothing on a Unix socket, which has no Nagle).
    pub fn set_nodelay(&self) -> io::Result<()> {
        match self {
            Transport::Plain(s) => s.set_nodelay(true),
            Transport::Unix(_) => Ok(()),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.sock.set_nodelay(true),
        }
    }

    /// Reads plaintext. `Ok(0)` is the end of the stream.
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.read(buf),
            Transport::Unix(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.read(buf),
        }
    }

    /// Reads from the socket itself, below TLS: the PROXY protocol header
    /// comes before the ClientHello.
    pub fn read_raw(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.read(buf),
            Transport::Unix(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.sock.read(buf),
        }
    }

    /// Hands TLS the bytes that came from the socket after the PROXY
    /// protocol header (the start of the ClientHello), as if it had read
    /// them itself. Nothing to do on a plain connection, whose bytes stay
    /// where they were read.
    #[cfg_attr(not(feature = "tls"), allow(unused_variables))]
    pub fn feed_tls(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Transport::Plain(_) | Transport::Unix(_) => Ok(()),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.feed(bytes),
        }
    }

    /// Writes plaintext; returns how much was taken.
    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.write(buf),
            Transport::Unix(s) => s.write(buf),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.write(buf),
        }
    }

    /// Sends up to `count` bytes of `file` from `offset` with `sendfile`
    /// (plain connections only: TLS must encrypt what it sends).
    pub fn sendfile(
        &mut self,
        file: &std::fs::File,
        offset: &mut u64,
        count: usize,
    ) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => Ok(rustix::fs::sendfile(&*s, file, Some(offset), count)?),
            Transport::Unix(s) => Ok(rustix::fs::sendfile(&*s, file, Some(offset), count)?),
            #[cfg(feature = "tls")]
            Transport::Tls(_) => Err(io::ErrorKind::Unsupported.into()),
        }
    }

    /// Sends what is buffered below the plaintext (TLS records).
    pub fn flush(&mut self) -> io::Result<()> {
        match self {
            Transport::Plain(_) | Transport::Unix(_) => Ok(()),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.flush_tls(),
        }
    }

    /// Whether encrypted bytes wait to be written.
    pub fn wants_write(&self) -> bool {
        match self {
            Transport::Plain(_) | Transport::Unix(_) => false,
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.tls.wants_write(),
        }
    }

    /// Sends TLS `close_notify` (nothing for plain TCP), before a close.
    pub fn close_notify(&mut self) {
        #[cfg(feature = "tls")]
        if let Transport::Tls(t) = self {
            t.tls.send_close_notify();
            let _ = t.flush_tls();
        }
    }

    /// Ends our side: TLS `close_notify`, then TCP FIN (or the Unix
    /// socket's end of stream).
    pub fn shutdown_write(&mut self) {
        let _ = match self {
            Transport::Plain(s) => s.shutdown(Shutdown::Write),
            Transport::Unix(s) => s.shutdown(Shutdown::Write),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => {
                t.tls.send_close_notify();
                let _ = t.flush_tls();
                t.sock.shutdown(Shutdown::Write)
            }
        };
    }

    /// After a read that returned data: whether nothing more can be read
    /// until the poll reports new data (the socket came back short and,
    /// for TLS, no decrypted bytes are left over).
    pub fn drained_after(&self, n: usize, room: usize) -> bool {
        match self {
            Transport::Plain(_) | Transport::Unix(_) => n < room,
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.socket_drained && t.plaintext == 0 && n < room,
        }
    }

    pub fn is_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return matches!(self, Transport::Tls(_));
        #[cfg(not(feature = "tls"))]
        false
    }
}

#[cfg(feature = "tls")]
impl TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.tls.reader().read(buf) {
                Ok(n) => {
                    self.plaintext = self.plaintext.saturating_sub(n);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            // No plaintext yet: pull records from the socket.
            let mut tracked = Tracked {
                sock: &mut self.sock,
                short: false,
            };
            match self.tls.read_tls(&mut tracked) {
                Ok(0) => return Ok(0),
                Ok(_) => {
                    self.socket_drained = tracked.short;
                    self.handshake.received();
                    self.process()?;
                }
                Err(e) => {
                    self.socket_drained = e.kind() == io::ErrorKind::WouldBlock;
                    return Err(e);
                }
            }
        }
    }

    fn feed(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            // `&[u8]` reads from its front and moves past what was read.
            if self.tls.read_tls(&mut bytes)? == 0 {
                break;
            }
            self.handshake.received();
            self.process()?;
        }
        Ok(())
    }

    /// Lets rustls work through the records it holds. A handshake that
    /// negotiated an ALPN protocol other than `http/1.1` (RFC 8737's
    /// `acme-tls/1`: a validation handshake, no data) ends the connection
    /// once done, with a close_notify.
    fn process(&mut self) -> io::Result<()> {
        match self.tls.process_new_packets() {
            Ok(state) => {
                self.plaintext = state.plaintext_bytes_to_read();
                // The negotiated protocol is looked at once, when the
                // handshake completes, not on every record after it.
                if !self.tls.is_handshaking() && self.handshake.completed() {
                    let other_protocol = self
                        .tls
                        .alpn_protocol()
                        .is_some_and(|p| p != crate::tls::ALPN_HTTP_1_1);
                    if other_protocol {
                        self.tls.send_close_notify();
                        let _ = self.flush_tls();
                        return Err(io::Error::new(
                            io::ErrorKind::ConnectionAborted,
                            "handshake-only ALPN protocol",
                        ));
                    }
                }
                Ok(())
            }
            Err(e) => {
                // A failed handshake, unless it had completed.
                self.handshake.failed();
                // Tell the peer why (an alert), then give up.
                let _ = self.flush_tls();
                Err(io::Error::new(io::ErrorKind::InvalidData, e))
            }
        }
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.flush_tls()?;
        if self.tls.is_handshaking() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = self
            .tls
            .writer()
            .write(&buf[..buf.len().min(TLS_WRITE_CHUNK)])?;
        match self.flush_tls() {
            Err(e) if e.kind() != io::ErrorKind::WouldBlock => Err(e),
            _ => Ok(n),
        }
    }

    fn flush_tls(&mut self) -> io::Result<()> {
        while self.tls.wants_write() {
            self.tls.write_tls(&mut self.sock)?;
        }
        Ok(())
    }
}
