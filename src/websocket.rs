//! [`WebSocket`]: the server side of an accepted WebSocket (RFC 6455),
//! for sending; received messages arrive as [`crate::Event::WebSocket`].
//!
//! Pings are answered with pongs by the loop, the close handshake is
//! completed by the loop, and protocol errors close the connection with
//! the right status code; the application sees each as an event.

use std::sync::Arc;

use crate::error::Error;
use crate::h1::head::Version;
use crate::outbox::Outbox;
use crate::request::Request;
use crate::responder::Command;
use crate::response::{Body, Response};
use crate::ws::frame::{MAX_CONTROL_PAYLOAD, Opcode, close_payload, encode_frame};

/// Accepting an upgrade (here, next to [`WebSocket`], so that `request`
/// does not depend on the handles built on top of it).
impl Request {
    /// Accepts a WebSocket upgrade (RFC 6455 §4.2). A request that is not
    /// a valid upgrade is answered with 400 (or 426 with the supported
    /// version) and [`Error::Handshake`] returned.
    pub fn accept_websocket(&self) -> Result<WebSocket, Error> {
        self.accept_websocket_with(Response::new(200))
    }

    /// [`Request::accept_websocket`], with `response`'s headers and
    /// cookies added to the `101 Switching Protocols` answer (its status
    /// and body are not used).
    pub fn accept_websocket_with(&self, mut response: Response) -> Result<WebSocket, Error> {
        let is_http11 = self.version() == Version::Http11;
        match crate::ws::validate(self.method(), is_http11, |name| self.header(name)) {
            Ok(accept) => {
                response.body = Body::Empty;
                response.validate()?;
                self.claim()?;
                let outbox = Arc::new(Outbox::new(self.max_send_buffer()));
                let socket = WebSocket::new(Arc::clone(&outbox), self.clone());
                self.command(|conn| Command::Upgrade {
                    conn,
                    accept,
                    response,
                    outbox,
                });
                Ok(socket)
            }
            Err(e) => {
                let mut refusal = Response::new(e.status()).body(format!("{e}\n"));
                for (name, value) in e.headers() {
                    refusal = refusal.header(*name, *value);
                }
                self.send(refusal)?;
                Err(Error::Handshake(e))
            }
        }
    }
}

/// An open WebSocket. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct WebSocket {
    outbox: Arc<Outbox>,
    request: Request,
}

impl WebSocket {
    pub(crate) fn new(outbox: Arc<Outbox>, request: Request) -> Self {
        WebSocket { outbox, request }
    }

    /// Sends a text message.
    pub fn send_text(&self, text: &str) -> Result<(), Error> {
        self.send_frame(false, Opcode::Text, text.as_bytes())
    }

    /// Sends a binary message.
    pub fn send_binary(&self, data: &[u8]) -> Result<(), Error> {
        self.send_frame(false, Opcode::Binary, data)
    }

    /// Sends a ping (at most 125 bytes of payload).
    pub fn ping(&self, payload: &[u8]) -> Result<(), Error> {
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(Error::InvalidState("ping payload over 125 bytes"));
        }
        self.send_frame(false, Opcode::Ping, payload)
    }

    /// Starts the close handshake with `code` and `reason`; nothing more
    /// can be sent. The loop closes the connection once the client answers
    /// (or after a short wait).
    pub fn close(&self, code: u16, reason: &str) -> Result<(), Error> {
        self.send_frame(true, Opcode::Close, &close_payload(code, reason))
    }

    pub(crate) fn send_frame(
        &self,
        end: bool,
        opcode: Opcode,
        payload: &[u8],
    ) -> Result<(), Error> {
        if self.request.is_closed() {
            return Err(Error::Closed);
        }
        if self.outbox.push(end, |out| {
            encode_frame(out, true, opcode, payload);
            Ok(())
        })? {
            self.request.command(|conn| Command::Kick { conn });
        }
        Ok(())
    }

    /// Bytes queued and not yet taken by the loop.
    pub fn buffered(&self) -> usize {
        self.outbox.buffered()
    }

    /// Whether the connection is gone (or closing).
    pub fn is_closed(&self) -> bool {
        self.request.is_closed() || self.outbox.is_shut() || self.outbox.is_ended()
    }

    /// The upgrade request (path, headers, cookies, ...).
    pub fn request(&self) -> &Request {
        &self.request
    }

    pub(crate) fn outbox(&self) -> &Arc<Outbox> {
        &self.outbox
    }
}

impl std::fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}
