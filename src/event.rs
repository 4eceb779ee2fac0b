//! [`Event`]: what `wait()` returns.

use crate::request::Request;

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
}

impl Event {
    /// The request the event is about.
    pub fn request(&self) -> &Request {
        match self {
            Event::Request(r)
            | Event::Headers(r)
            | Event::Data(r)
            | Event::Complete(r)
            | Event::Error(r) => r,
        }
    }

    /// The request the event is about, by value.
    pub fn into_request(self) -> Request {
        match self {
            Event::Request(r)
            | Event::Headers(r)
            | Event::Data(r)
            | Event::Complete(r)
            | Event::Error(r) => r,
        }
    }
}
