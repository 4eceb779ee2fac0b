//! [`Event`]: what `wait()` returns.

use crate::request::Request;
use crate::websocket::WebSocket;
use crate::ws::Message;

/// Something the application must look at.
///
/// In normal mode every event is [`Event::Request`]. In event mode
/// (`Config::event_mode`) a request with a body arrives as
/// [`Event::Headers`] first, and the application picks how the body is
/// received (`accept_body*()`) or answers right away (the body is then
/// never read and the connection closes).
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A complete request: head and body.
    Request(Request),
    /// Event mode: the head of a request whose body has not been read.
    Headers(Request),
    /// Event mode: body bytes wait in [`Request::read_buffer`].
    Data(Request),
    /// Event mode: the accepted body was received whole.
    Complete(Request),
    /// Event mode: receiving the body failed; [`Request::error`] says why.
    /// A partial `accept_body_to_file` target has been removed.
    Error(Request),
    /// A stream or WebSocket refused a send with `WouldBlock` earlier; its
    /// buffer has drained: send again.
    Writable(Request),
    /// The client of a streamed response went away before the stream
    /// ended; further sends fail with [`crate::Error::Closed`].
    Closed(Request),
    /// A WebSocket message. Pings are already answered. `Close` comes
    /// exactly once, when the session ends for any reason: the client's
    /// close (its code), a protocol error (the code sent: 1002, 1007,
    /// 1009) or a vanished client (1006).
    WebSocket(WebSocket, Message),
}

impl Event {
    /// The request the event is about.
    pub fn request(&self) -> &Request {
        match self {
            Event::Request(r)
            | Event::Headers(r)
            | Event::Data(r)
            | Event::Complete(r)
            | Event::Error(r)
            | Event::Writable(r)
            | Event::Closed(r) => r,
            Event::WebSocket(ws, _) => ws.request(),
        }
    }

    /// The request the event is about, by value.
    pub fn into_request(self) -> Request {
        match self {
            Event::Request(r)
            | Event::Headers(r)
            | Event::Data(r)
            | Event::Complete(r)
            | Event::Error(r)
            | Event::Writable(r)
            | Event::Closed(r) => r,
            Event::WebSocket(ws, _) => ws.request().clone(),
        }
    }
}
