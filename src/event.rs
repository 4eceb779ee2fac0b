//! [`Event`]: what `wait()` returns.

use std::collections::VecDeque;

#[cfg(feature = "websocket")]
use crate::ids::ConnRef;
use crate::request::Request;
#[cfg(feature = "websocket")]
use crate::websocket::WebSocket;
#[cfg(feature = "websocket")]
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
    ///
    /// Every message that arrived whole before the client's Close frame
    /// (or before the frame that broke the protocol) is handed out, and
    /// what the application sends in answer before it calls `wait()`
    /// again goes out before the server's Close frame (RFC 6455 §7.1.7).
    /// The loop queues that Close when `wait()` is called past the last
    /// of those messages (or, if a send was refused with
    /// [`crate::Error::WouldBlock`], past the [`Event::Writable`] that
    /// follows), and the `Close` event follows; from then on sends fail
    /// with [`crate::Error::Closed`]. So a handler that
    /// answers on another thread gets its answer out only if it sends it
    /// before the loop thread calls `wait()` again (e.g. the loop thread
    /// waits for it); an answer sent later is refused, never sent after
    /// the Close.
    #[cfg(feature = "websocket")]
    #[cfg_attr(docsrs, doc(cfg(feature = "websocket")))]
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
            #[cfg(feature = "websocket")]
            Event::WebSocket(ws, _) => ws.request(),
        }
    }

    /// The same event with the request handle counted as the
    /// application's (see [`Request`]'s drop rule).
    pub(crate) fn for_app(self) -> Event {
        match self {
            Event::Request(r) => Event::Request(r.for_app()),
            Event::Headers(r) => Event::Headers(r.for_app()),
            Event::Data(r) => Event::Data(r.for_app()),
            Event::Complete(r) => Event::Complete(r.for_app()),
            Event::Error(r) => Event::Error(r.for_app()),
            Event::Writable(r) => Event::Writable(r.for_app()),
            Event::Closed(r) => Event::Closed(r.for_app()),
            #[cfg(feature = "websocket")]
            ws @ Event::WebSocket(..) => ws,
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
            #[cfg(feature = "websocket")]
            Event::WebSocket(ws, _) => ws.request().clone(),
        }
    }
}

/// What waits in the queue: an event for the application, or a step of
/// the loop's own that must wait until the application has taken the
/// events queued before it.
#[derive(Debug)]
pub(crate) enum Queued {
    Event(Event),
    /// A WebSocket session whose client sent its Close (or broke the
    /// protocol): the application has taken the messages that came before,
    /// and answered them; our Close frame goes out now, behind those
    /// answers.
    #[cfg(feature = "websocket")]
    EndSession(ConnRef),
}

/// Events waiting for `wait()`, in order, with the loop's steps between
/// them. Their requests count as the application's from the moment they
/// are queued, so a request whose handles were all dropped is told apart
/// from one with an event still on the way.
#[derive(Default)]
pub(crate) struct EventQueue(VecDeque<Queued>);

impl EventQueue {
    pub fn push_back(&mut self, event: Event) {
        self.0.push_back(Queued::Event(event.for_app()));
    }

    /// Queues [`Queued::EndSession`] behind the events queued so far.
    #[cfg(feature = "websocket")]
    pub fn push_end_session(&mut self, conn: ConnRef) {
        self.0.push_back(Queued::EndSession(conn));
    }

    pub fn pop_front(&mut self) -> Option<Queued> {
        self.0.pop_front()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
