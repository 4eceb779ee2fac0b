//! [`Outbox`]: the bounded buffer between a streaming producer (a
//! [`crate::ResponseStream`] or [`crate::WebSocket`], on any thread) and
//! the poll loop that writes it to the socket.
//!
//! The producer appends framed bytes; the loop swaps the whole buffer out
//! when its own is empty. A push that would take the buffer past the cap
//! is refused with [`Error::WouldBlock`] (never silent growth), and the
//! loop reports [`crate::Event::Writable`] once the buffer has drained.

use std::sync::Mutex;

use crate::error::Error;
use crate::sync::lock;

pub(crate) struct Outbox {
    state: Mutex<State>,
    cap: usize,
}

#[derive(Default)]
struct State {
    buf: Vec<u8>,
    /// The last bytes are in, and who put them there.
    ended: Option<Ender>,
    /// The loop takes nothing more from this outbox: the response may
    /// have no body (`HEAD`, 204, 304), the stream never started, or the
    /// WebSocket session ended.
    /// Whether the connection is gone is the request's to say
    /// ([`crate::Request::is_closed`]), not the outbox's.
    shut: bool,
    /// A push was refused; report `Writable` after the next drain.
    want_writable: bool,
    /// Body bytes still owed, for a body of announced length.
    remaining: Option<u64>,
    /// The stream ended without its whole body (aborted, or ended short
    /// of its announced length): the connection closes once what is
    /// queued is sent.
    broken: bool,
}

/// Who ended an outbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ender {
    /// The producer, with its last push: more pushes are a mistake.
    Producer,
    /// The loop, on the producer's behalf ([`Outbox::finish`]): the
    /// session is over, more pushes find it closed.
    #[cfg(feature = "websocket")]
    Loop,
}

/// What the loop took out.
pub(crate) struct Taken {
    /// The producer ended the stream (and everything is now taken).
    pub ended: bool,
    /// A producer was refused earlier and waits for room.
    pub want_writable: bool,
    /// The stream ended without its whole body: close after sending.
    pub broken: bool,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("buffered", &self.buffered())
            .field("cap", &self.cap)
            .finish()
    }
}

impl Outbox {
    pub fn new(cap: usize) -> Self {
        Outbox {
            state: Mutex::new(State::default()),
            cap,
        }
    }

    /// An outbox for a body of exactly `len` bytes: pushes past it are
    /// refused, and an end short of it is [`Taken::broken`].
    pub fn sized(cap: usize, len: u64) -> Self {
        Outbox {
            state: Mutex::new(State {
                remaining: Some(len),
                ..State::default()
            }),
            cap,
        }
    }

    /// Appends what `encode` writes. Returns whether the buffer was empty
    /// before (the loop must then be told there is something to send).
    /// One push larger than the cap is accepted when the buffer is empty,
    /// so a big frame is never refused forever.
    pub fn push(
        &self,
        end: bool,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
    ) -> Result<bool, Error> {
        let mut state = lock(&self.state);
        if state.shut {
            return Err(Error::Closed);
        }
        match state.ended {
            Some(Ender::Producer) => return Err(Error::InvalidState("the stream has ended")),
            #[cfg(feature = "websocket")]
            Some(Ender::Loop) => return Err(Error::Closed),
            None => {}
        }
        let before = state.buf.len();
        if before >= self.cap {
            state.want_writable = true;
            return Err(Error::WouldBlock);
        }
        if let Err(e) = encode(&mut state.buf) {
            state.buf.truncate(before);
            return Err(e);
        }
        if before > 0 && state.buf.len() > self.cap {
            state.buf.truncate(before);
            state.want_writable = true;
            return Err(Error::WouldBlock);
        }
        if let Some(remaining) = state.remaining {
            let added = (state.buf.len() - before) as u64;
            let Some(left) = remaining.checked_sub(added) else {
                state.buf.truncate(before);
                return Err(Error::InvalidState(
                    "the stream's body is longer than its Content-Length",
                ));
            };
            state.remaining = Some(left);
            state.broken |= end && left > 0;
        }
        if end {
            state.ended = Some(Ender::Producer);
        }
        Ok(before == 0)
    }

    /// Ends the outbox with what `encode` writes, appended on the
    /// producer's behalf behind everything it queued, even past the cap
    /// (the loop's WebSocket Close frame, at most 127 bytes, is never
    /// refused); later pushes get [`Error::Closed`]. Returns false,
    /// appending nothing, when the producer ended the outbox itself or it
    /// is shut.
    #[cfg(feature = "websocket")]
    pub fn finish(&self, encode: impl FnOnce(&mut Vec<u8>)) -> bool {
        let mut state = lock(&self.state);
        if state.shut || state.ended.is_some() {
            return false;
        }
        encode(&mut state.buf);
        state.ended = Some(Ender::Loop);
        true
    }

    /// Ends the stream as broken: what is queued is sent, then the
    /// connection closes. Returns whether the loop must be told.
    pub fn abort(&self) -> bool {
        let mut state = lock(&self.state);
        if state.shut || state.ended.is_some() {
            return false;
        }
        state.ended = Some(Ender::Producer);
        state.broken = true;
        true
    }

    /// Moves the buffered bytes into `into` (which the loop has emptied).
    pub fn take(&self, into: &mut Vec<u8>) -> Taken {
        let mut state = lock(&self.state);
        if into.is_empty() {
            std::mem::swap(into, &mut state.buf);
        } else {
            into.append(&mut state.buf);
        }
        Taken {
            ended: state.ended.is_some(),
            want_writable: std::mem::take(&mut state.want_writable),
            broken: state.broken,
        }
    }

    /// Nothing of this outbox will be sent; producers get
    /// [`Error::Closed`].
    pub fn shut(&self) {
        let mut state = lock(&self.state);
        state.shut = true;
        state.buf = Vec::new();
    }

    /// The connection is gone (the request says so): frees what was
    /// queued.
    pub fn discard(&self) {
        lock(&self.state).buf = Vec::new();
    }

    pub fn buffered(&self) -> usize {
        lock(&self.state).buf.len()
    }

    /// Whether a producer was refused for want of room and waits for the
    /// `Writable` report of the next take.
    #[cfg(feature = "websocket")]
    pub fn is_waiting_for_room(&self) -> bool {
        lock(&self.state).want_writable
    }

    pub fn is_shut(&self) -> bool {
        lock(&self.state).shut
    }

    #[cfg(feature = "websocket")]
    pub fn is_ended(&self) -> bool {
        lock(&self.state).ended.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(data: &'static [u8]) -> impl FnOnce(&mut Vec<u8>) -> Result<(), Error> {
        move |buf: &mut Vec<u8>| {
            buf.extend_from_slice(data);
            Ok(())
        }
    }

    #[test]
    fn refuses_pushes_past_the_cap_and_asks_for_a_writable_report() {
        let outbox = Outbox::new(8);
        assert!(outbox.push(false, bytes(b"12345")).unwrap());
        assert!(matches!(
            outbox.push(false, bytes(b"6789")),
            Err(Error::WouldBlock)
        ));
        assert_eq!(outbox.buffered(), 5);
        let mut out = Vec::new();
        let taken = outbox.take(&mut out);
        assert_eq!(out, b"12345");
        assert!(taken.want_writable && !taken.ended);
        assert!(outbox.push(true, bytes(b"6789")).unwrap());
    }

    #[test]
    fn accepts_one_oversized_push_into_an_empty_buffer() {
        let outbox = Outbox::new(4);
        assert!(outbox.push(false, bytes(b"0123456789")).is_ok());
        assert!(matches!(
            outbox.push(false, bytes(b"x")),
            Err(Error::WouldBlock)
        ));
    }

    #[cfg(feature = "websocket")]
    #[test]
    fn finish_appends_behind_the_producer_even_past_the_cap_once() {
        let outbox = Outbox::new(4);
        outbox.push(false, bytes(b"0123456789")).unwrap();
        assert!(outbox.finish(|out| out.extend_from_slice(b"end")));
        assert!(outbox.is_ended());
        assert!(!outbox.finish(|_| panic!("ended already")));
        assert!(matches!(
            outbox.push(false, bytes(b"late")),
            Err(Error::Closed)
        ));
        let mut out = Vec::new();
        assert!(outbox.take(&mut out).ended);
        assert_eq!(out, b"0123456789end");
        // Nothing is added to what the producer ended, or to a shut outbox.
        let outbox = Outbox::new(64);
        outbox.push(true, bytes(b"last")).unwrap();
        assert!(!outbox.finish(|_| panic!("ended by the producer")));
        let outbox = Outbox::new(64);
        outbox.shut();
        assert!(!outbox.finish(|_| panic!("shut")));
    }

    #[test]
    fn a_sized_outbox_refuses_bytes_past_its_length_and_marks_a_short_end_broken() {
        let outbox = Outbox::sized(64, 6);
        outbox.push(false, bytes(b"1234")).unwrap();
        assert!(matches!(
            outbox.push(false, bytes(b"567")),
            Err(Error::InvalidState(_))
        ));
        outbox.push(true, bytes(b"5")).unwrap();
        let mut out = Vec::new();
        let taken = outbox.take(&mut out);
        assert_eq!(out, b"12345");
        assert!(taken.ended && taken.broken);

        let whole = Outbox::sized(64, 2);
        whole.push(true, bytes(b"ok")).unwrap();
        let taken = whole.take(&mut Vec::new());
        assert!(taken.ended && !taken.broken);
    }

    #[test]
    fn an_aborted_outbox_ends_broken() {
        let outbox = Outbox::new(64);
        outbox.push(false, bytes(b"part")).unwrap();
        assert!(outbox.abort());
        assert!(!outbox.abort());
        let taken = outbox.take(&mut Vec::new());
        assert!(taken.ended && taken.broken);
    }

    #[test]
    fn reports_shut_and_ended() {
        let outbox = Outbox::new(64);
        outbox.push(true, bytes(b"last")).unwrap();
        assert!(matches!(
            outbox.push(false, bytes(b"more")),
            Err(Error::InvalidState(_))
        ));
        outbox.shut();
        assert!(matches!(
            outbox.push(false, bytes(b"x")),
            Err(Error::Closed)
        ));
    }
}
