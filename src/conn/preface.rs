//! What comes before HTTP (or the TLS handshake) on a connection: the
//! PROXY protocol header of a load balancer ([`Config::proxy_protocol`]),
//! read from the socket below TLS, parsed by [`proxy_protocol::parse`].
//! Its source address becomes the connection's peer; the bytes after it
//! are the client's (for TLS, handed to rustls as if it had read them).
//!
//! [`Config::proxy_protocol`]: crate::Config::proxy_protocol

use std::io;

use super::{Connection, Ctx, Preface};
use crate::h1::conn::CloseReason;
use crate::proxy_protocol::{self, Header, MAX_HEADER_LENGTH, Parsed};

impl Connection {
    /// Reads the header as far as the socket allows. Returns whether it
    /// is read and the connection goes on; `false`: still waiting, or
    /// closed.
    pub(super) fn read_proxy_header(&mut self, ctx: &mut Ctx<'_>) -> bool {
        if !ctx.config.proxy_protocol.is_trusted(self.peer.ip()) {
            return self.refuse_proxy_header(
                ctx,
                "not a trusted proxy, and a PROXY protocol header is required",
            );
        }
        loop {
            match proxy_protocol::parse(self.rx.bytes()) {
                Ok(Parsed::Complete(header)) => return self.proxy_header_read(ctx, header),
                Ok(Parsed::Partial) => {}
                Err(e) => return self.refuse_proxy_header(ctx, &e.to_string()),
            }
            if !self.can_read {
                return false;
            }
            // No further than the longest header could reach (`Partial`
            // says the bytes are fewer), so that little is left for TLS.
            let want = MAX_HEADER_LENGTH.saturating_sub(self.rx.len()).max(1);
            let spare = self.rx.spare(ctx.pool, want);
            let room = spare.len().min(want);
            match self.transport.read_raw(&mut spare[..room]) {
                Ok(0) => {
                    self.can_read = false;
                    if self.rx.is_empty() {
                        log::debug!("{}: closed before its PROXY protocol header", self.peer);
                    } else {
                        log::warn!(
                            "{}: closed: the proxy left within its PROXY protocol header",
                            self.peer
                        );
                    }
                    self.close(ctx, CloseReason::PeerClosed, "client disconnected");
                    return false;
                }
                Ok(n) => self.rx.commit(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.can_read = false;
                    self.fin_unseen = false;
                    return false;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log::debug!("{}: read failed: {e}", self.peer);
                    self.close(ctx, CloseReason::Io, "connection error");
                    return false;
                }
            }
        }
    }

    /// The header is whole: the client it names is the peer from now on,
    /// and what followed it is the client's.
    fn proxy_header_read(&mut self, ctx: &mut Ctx<'_>, header: Header) -> bool {
        self.rx.consume(header.len);
        if self.transport.is_tls() {
            let fed = self.transport.feed_tls(self.rx.bytes());
            self.rx.clear();
            if let Err(e) = fed {
                log::debug!(
                    "{}: TLS failed after the PROXY protocol header: {e}",
                    self.peer
                );
                self.close(ctx, CloseReason::Io, "connection error");
                return false;
            }
        }
        let proxy = self.peer;
        if let Some(client) = header.source {
            self.peer = client;
        }
        log::debug!(
            "{proxy}: PROXY protocol v{} header: client {}",
            header.version,
            self.peer
        );
        self.preface = Preface::None;
        self.admit(ctx);
        self.closed().is_none()
    }

    /// Closes the connection before reading anything of it as HTTP.
    fn refuse_proxy_header(&mut self, ctx: &mut Ctx<'_>, why: &str) -> bool {
        log::warn!("{}: connection closed: {why}", self.peer);
        self.close(ctx, CloseReason::ProxyHeader, why);
        false
    }

    /// The request timeout passed with the header still incomplete.
    pub(super) fn proxy_header_timed_out(&mut self, ctx: &mut Ctx<'_>) {
        log::warn!(
            "{}: connection closed: no whole PROXY protocol header within {:?}",
            self.peer,
            ctx.config.request_timeout
        );
        self.close(ctx, CloseReason::Timeout, "timeout");
    }
}
