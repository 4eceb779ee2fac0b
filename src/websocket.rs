//! [`WebSocket`]: the server side of an accepted WebSocket (RFC 6455),
//! for sending; received messages arrive as [`crate::Event::WebSocket`].
//!
//! Pings are answered with pongs by the loop, the close handshake is
//! completed by the loop, and protocol errors close the connection with
//! the right status code; the application sees each as an event.
//!
//! permessage-deflate (RFC 7692) is negotiated when the client offers it
//! and [`crate::Config::websocket_deflate`] is on (the default): received
//! messages are inflated by the loop (their inflated size held to the
//! message cap), and [`WebSocket::send_text`] / [`WebSocket::send_binary`]
//! compress on the thread that calls them, under the connection's
//! compressor lock, so that messages enter the send queue in the order
//! the compressor saw them. Messages under
//! [`MIN_COMPRESSED_LEN`](crate::ws::deflate::MIN_COMPRESSED_LEN) bytes go
//! out uncompressed. Memory is given in [`crate::ws::deflate`].

use std::sync::{Arc, Mutex};

use crate::error::Error;
use crate::h1::head::Version;
use crate::outbox::Outbox;
use crate::request::Request;
use crate::responder::{Accepted, Command};
use crate::response::{Body, Response};
use crate::sync::lock;
use crate::ws::deflate::{self, Deflater};
use crate::ws::frame::{
    MAX_CONTROL_PAYLOAD, Opcode, close_payload, encode_compressed_frame, encode_frame,
};

/// Accepting an upgrade (here, next to [`WebSocket`], so that `request`
/// does not depend on the handles built on top of it).
#[cfg_attr(docsrs, doc(cfg(feature = "websocket")))]
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
    ///
    /// permessage-deflate is accepted when the client offers it (the first
    /// offer of its `Sec-WebSocket-Extensions` headers the server can
    /// honour) and [`crate::Config::websocket_deflate`] is on.
    pub fn accept_websocket_with(&self, mut response: Response) -> Result<WebSocket, Error> {
        let is_http11 = self.version() == Version::Http11;
        match crate::ws::validate(self.method(), is_http11, |name| self.header(name)) {
            Ok(key) => {
                response.body = Body::Empty;
                let params = if self.websocket_deflate() {
                    deflate::negotiate(
                        self.headers()
                            .get_all("Sec-WebSocket-Extensions")
                            .map(str::as_bytes),
                    )
                } else {
                    None
                };
                if let Some(params) = &params {
                    response = response.header("Sec-WebSocket-Extensions", params.response());
                }
                response.validate()?;
                self.claim()?;
                let outbox = Arc::new(Outbox::new(self.max_send_buffer()));
                let deflate = params.map(|p| (p, Arc::new(Mutex::new(Deflater::new(&p)))));
                let deflater = deflate.as_ref().map(|(_, d)| Arc::clone(d));
                let socket = WebSocket::new(Arc::clone(&outbox), self.clone(), deflater);
                self.command(|conn| Command::Upgrade {
                    conn,
                    accept: Accepted { key, deflate },
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
///
/// Its messages come from `wait()` as
/// [`Event::WebSocket`](crate::Event::WebSocket); sends are bounded as a
/// stream's are ([`Error::WouldBlock`], then
/// [`Event::Writable`](crate::Event::Writable)).
///
/// ```
/// use uhttp::ws::Message;
/// use uhttp::{Event, WebSocket};
///
/// /// Echoes text, greets new sessions: what a loop does with each event.
/// fn on_event(event: Event) -> Result<(), uhttp::Error> {
///     match event {
///         Event::Request(req) if req.path() == "/ws" => {
///             let ws: WebSocket = req.accept_websocket()?;
///             ws.send_text("hello")
///         }
///         Event::Request(req) => req.respond(404, "Not Found\n"),
///         Event::WebSocket(ws, Message::Text(text)) => ws.send_text(&text),
///         Event::WebSocket(ws, Message::Binary(_)) => ws.close(1003, "text only"),
///         _ => Ok(()),
///     }
/// }
/// ```
#[derive(Clone)]
pub struct WebSocket {
    outbox: Arc<Outbox>,
    request: Request,
    /// The compressor, when permessage-deflate was negotiated; shared by
    /// every handle of the connection.
    deflater: Option<Arc<Mutex<Deflater>>>,
}

impl WebSocket {
    pub(crate) fn new(
        outbox: Arc<Outbox>,
        request: Request,
        deflater: Option<Arc<Mutex<Deflater>>>,
    ) -> Self {
        WebSocket {
            outbox,
            request,
            deflater,
        }
    }

    /// Sends a text message (compressed when permessage-deflate was
    /// negotiated, on this thread).
    pub fn send_text(&self, text: &str) -> Result<(), Error> {
        self.send_message(Opcode::Text, text.as_bytes())
    }

    /// Sends a binary message (compressed when permessage-deflate was
    /// negotiated, on this thread).
    pub fn send_binary(&self, data: &[u8]) -> Result<(), Error> {
        self.send_message(Opcode::Binary, data)
    }

    /// Whether permessage-deflate was negotiated for this connection.
    pub fn is_compressed(&self) -> bool {
        self.deflater.is_some()
    }

    /// One data message, deflated when negotiated and worth it.
    ///
    /// The compressor's lock is held from compressing to queueing, so
    /// its window follows the order messages enter the send queue. A
    /// message the queue refuses is not in the client's window: the
    /// compressor then forgets its own.
    fn send_message(&self, opcode: Opcode, payload: &[u8]) -> Result<(), Error> {
        let Some(deflater) = &self.deflater else {
            return self.send_frame(false, opcode, payload);
        };
        let mut deflater = lock(deflater);
        if !deflater.compresses(payload.len()) {
            return self.send_frame(false, opcode, payload);
        }
        if self.request.is_closed() {
            return Err(Error::Closed);
        }
        let mut compressed = Vec::new();
        if !deflater.compress(payload, &mut compressed) {
            return self.send_frame(false, opcode, payload);
        }
        let pushed = self.outbox.push(false, |out| {
            encode_compressed_frame(out, opcode, &compressed);
            Ok(())
        });
        match pushed {
            Ok(was_empty) => {
                if was_empty {
                    self.request.command(|conn| Command::Kick { conn });
                }
                Ok(())
            }
            Err(e) => {
                deflater.reset();
                Err(e)
            }
        }
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
