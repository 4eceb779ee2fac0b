//! The receive side of a server's WebSocket session: bytes from the client
//! in, whole [`Message`]s out (RFC 6455 §5, §6.2).
//!
//! [`Receiver::feed`] takes whatever bytes arrived, consumes them up to the
//! end of the next complete message, and reports how many it consumed. It
//! returns `None` only when it consumed all of `input` (or is closed), so a
//! caller drains a read buffer like this:
//!
//! ```
//! use uhttp::ws::{Message, Receiver};
//!
//! let mut rx = Receiver::new(64 * 1024);
//! // "Hello" (RFC 6455 §5.7) split after byte 4, as a socket might deliver it.
//! let reads: [&[u8]; 2] = [
//!     &[0x81, 0x85, 0x37, 0xfa],
//!     &[0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58],
//! ];
//! let mut got = Vec::new();
//! for read in reads {
//!     let mut rest = read;
//!     while let (n, Some(event)) = rx.feed(rest) {
//!         rest = &rest[n..];
//!         match event {
//!             Ok(message) => got.push(message),
//!             // Send a Close frame with `e.code`, then close.
//!             Err(e) => panic!("{e}"),
//!         }
//!     }
//! }
//! assert_eq!(got, [Message::Text("Hello".into())]);
//! ```
//!
//! States (each owns its data):
//!
//! ```text
//! Header { bytes so far } ──header complete──▶ Payload { header, read }
//!        ▲                                          │
//!        └────────────── payload complete ──────────┘
//! any ── Close frame received / protocol error ──▶ Closed (reads nothing more)
//! ```
//!
//! Alongside, an `Assembly` state tracks a fragmented data message (§5.4): idle, or
//! a text / binary message in progress. Control frames may arrive between
//! its fragments and are returned at once.
//!
//! With permessage-deflate ([`Receiver::with_deflate`], RFC 7692) a
//! message whose first frame has RSV1 set is inflated as its payload
//! arrives; RSV1 on a control frame or a continuation is 1002.
//!
//! Memory: a data message is buffered up to `max_message_size` bytes, and
//! refused with 1009 from the frame header's length before its payload is
//! read; an inflated message is refused with 1009 as soon as its output
//! passes the cap, so a decompression bomb never grows the buffer past it
//! (the decompressor's own memory is in [`super::deflate`]). Besides that the receiver holds one frame header (at most 14 bytes)
//! and one control payload (at most 125 bytes).

use super::deflate::{Inflater, Params};
use super::frame::{
    self, FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, Opcode, ProtocolError, RSV1, close_code,
};

/// A complete message from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message, valid UTF-8.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping; answer with a pong carrying the same payload (§5.5.2).
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// The client started (or answered) the close handshake: its status code
    /// and reason, if it sent any. Echo a Close frame, then close (§5.5.1).
    Close(Option<(u16, String)>),
}

/// Where the receiver is in the byte stream.
#[derive(Debug)]
enum State {
    /// Reading a frame header; `buf[..len]` holds its bytes so far.
    Header {
        buf: [u8; MAX_HEADER_LEN],
        len: usize,
    },
    /// Reading the payload of a frame whose header passed every check,
    /// masked with `key`; `read` payload bytes are in already.
    Payload {
        header: FrameHeader,
        key: [u8; 4],
        read: u64,
    },
    /// A Close frame was received or the client broke the protocol.
    Closed,
}

impl State {
    fn header() -> State {
        State::Header {
            buf: [0; MAX_HEADER_LEN],
            len: 0,
        }
    }
}

/// The data message being reassembled from fragments (§5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Assembly {
    /// No data message started.
    Idle,
    /// A text message; its first `checked` bytes are complete, valid UTF-8.
    /// Any bytes after that are an unfinished character.
    Text { checked: usize },
    /// A binary message.
    Binary,
}

/// Turns client bytes into [`Message`]s, enforcing the server side of
/// RFC 6455: masked frames only, no RSV bits or reserved opcodes, control
/// frame rules, fragment order, UTF-8 text, Close payloads and a message
/// size cap. See the [module docs](self) for the feeding loop.
#[derive(Debug)]
pub struct Receiver {
    max_message_size: usize,
    state: State,
    assembly: Assembly,
    /// The data message so far; never longer than `max_message_size`.
    data: Vec<u8>,
    /// The current control frame's payload; never longer than 125 bytes.
    control: Vec<u8>,
    /// permessage-deflate, when negotiated.
    inflater: Option<Inflater>,
    /// The current data message has RSV1 set: its payload is deflated.
    compressed: bool,
    /// Payload bytes of the current data message's frames so far.
    wire: u64,
}

impl Receiver {
    /// A receiver that refuses, with close code 1009, any data message (all
    /// fragments together) longer than `max_message_size` bytes.
    pub fn new(max_message_size: usize) -> Receiver {
        Receiver {
            max_message_size,
            state: State::header(),
            assembly: Assembly::Idle,
            data: Vec::new(),
            control: Vec::new(),
            inflater: None,
            compressed: false,
            wire: 0,
        }
    }

    /// [`new`](Self::new), with permessage-deflate negotiated as `params`
    /// say: a message with RSV1 set is inflated, its inflated size held to
    /// the same cap (RFC 7692 §6.2).
    pub fn with_deflate(max_message_size: usize, params: &Params) -> Receiver {
        Receiver {
            inflater: Some(Inflater::new(params)),
            ..Receiver::new(max_message_size)
        }
    }

    /// The size cap given to [`new`](Self::new).
    pub fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// Whether the receiver has stopped: a Close frame came in or the client
    /// broke the protocol. It consumes nothing more.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Consumes bytes of `input` up to the end of the next complete message
    /// and returns how many it consumed, with that message or the protocol
    /// error that stopped it.
    ///
    /// Returns `None` only when all of `input` was consumed (the bytes are
    /// kept until their frame completes) or the receiver is closed. After an
    /// `Err` or a [`Message::Close`], the receiver is closed.
    pub fn feed(&mut self, input: &[u8]) -> (usize, Option<Result<Message, ProtocolError>>) {
        let mut consumed = 0;
        loop {
            let rest = &input[consumed..];
            let step = match &mut self.state {
                State::Closed => return (consumed, None),
                State::Header { .. } if rest.is_empty() => return (consumed, None),
                // Wait for more payload. A frame whose payload is all in
                // (maybe empty) is finished below even without input.
                State::Payload { header, read, .. }
                    if rest.is_empty() && *read < header.payload_len =>
                {
                    return (consumed, None);
                }
                State::Header { buf, len } => {
                    let need = if *len < 2 {
                        2
                    } else {
                        FrameHeader::len_from_second_byte(buf[1])
                    };
                    let take = (need - *len).min(rest.len());
                    buf[*len..*len + take].copy_from_slice(&rest[..take]);
                    *len += take;
                    consumed += take;
                    let rsv1 = buf[0] & RSV1 != 0;
                    match FrameHeader::parse_with_rsv1(&buf[..*len], self.inflater.is_some()) {
                        Err(e) => Err(e),
                        // Refuse an unmasked frame as soon as its second byte shows it.
                        Ok(_) if *len >= 2 && buf[1] & 0x80 == 0 => {
                            Err(ProtocolError::protocol("unmasked client frame"))
                        }
                        Ok(None) => Ok(None),
                        Ok(Some((header, _))) => self.start_frame(header, rsv1).map(|()| None),
                    }
                }
                State::Payload { header, key, read } => {
                    let (header, key) = (*header, *key);
                    let take = (header.payload_len - *read).min(rest.len() as u64) as usize;
                    let offset = *read;
                    *read += take as u64;
                    let done = *read == header.payload_len;
                    consumed += take;
                    self.read_payload(header, key, offset, &rest[..take])
                        .and_then(|()| {
                            if done {
                                self.end_frame(header)
                            } else {
                                Ok(None)
                            }
                        })
                }
            };
            match step {
                Ok(None) => {}
                Ok(Some(message)) => {
                    if matches!(message, Message::Close(_)) {
                        self.close();
                    }
                    return (consumed, Some(Ok(message)));
                }
                Err(e) => {
                    self.close();
                    return (consumed, Some(Err(e)));
                }
            }
        }
    }

    /// Checks a complete header against the receiver's rules and state, then
    /// moves to reading its payload.
    /// `rsv1`: the frame has RSV1 set (the header let it through only
    /// with permessage-deflate negotiated).
    fn start_frame(&mut self, header: FrameHeader, rsv1: bool) -> Result<(), ProtocolError> {
        let Some(key) = header.mask else {
            return Err(ProtocolError::protocol("unmasked client frame"));
        };
        if rsv1 && header.opcode.is_control() {
            return Err(ProtocolError::protocol("RSV1 set on a control frame"));
        }
        if rsv1 && header.opcode == Opcode::Continuation {
            return Err(ProtocolError::protocol("RSV1 set on a continuation frame"));
        }
        match (header.opcode, self.assembly) {
            (Opcode::Continuation, Assembly::Idle) => {
                return Err(ProtocolError::protocol("continuation without a message"));
            }
            (Opcode::Text | Opcode::Binary, Assembly::Text { .. } | Assembly::Binary) => {
                return Err(ProtocolError::protocol(
                    "new message inside a fragmented one",
                ));
            }
            (Opcode::Text | Opcode::Binary, Assembly::Idle) => {
                self.assembly = if header.opcode == Opcode::Text {
                    Assembly::Text { checked: 0 }
                } else {
                    Assembly::Binary
                };
                self.compressed = rsv1;
                self.wire = 0;
            }
            (Opcode::Continuation, _) => {}
            (Opcode::Close | Opcode::Ping | Opcode::Pong, _) => self.control.clear(),
        }
        if !header.opcode.is_control() {
            let total = self.wire.saturating_add(header.payload_len);
            // Deflate may grow incompressible data a little; what is
            // buffered (the inflated data) is held to the cap itself.
            let max = self.max_message_size as u64;
            let cap = if self.compressed {
                max.saturating_add(max / 256 + 64)
            } else {
                max
            };
            if total > cap {
                return Err(ProtocolError {
                    code: close_code::TOO_BIG,
                    reason: "message too big",
                });
            }
            self.wire = total;
        }
        self.state = State::Payload {
            header,
            key,
            read: 0,
        };
        Ok(())
    }

    /// Unmasks (with `key`) and stores payload bytes starting `offset` bytes
    /// into the frame; text is checked for UTF-8 as it arrives.
    fn read_payload(
        &mut self,
        header: FrameHeader,
        key: [u8; 4],
        offset: u64,
        bytes: &[u8],
    ) -> Result<(), ProtocolError> {
        // Only the position modulo 4 matters for the mask.
        let phase = (offset % 4) as usize;
        if header.opcode.is_control() {
            debug_assert!(self.control.len() + bytes.len() <= MAX_CONTROL_PAYLOAD);
            let start = self.control.len();
            self.control.extend_from_slice(bytes);
            frame::apply_mask(&mut self.control[start..], key, phase);
            return Ok(());
        }
        match &mut self.inflater {
            Some(inflater) if self.compressed => {
                // Unmasked a piece at a time on the stack, then inflated.
                let mut chunk = [0; 4096];
                for piece in bytes.chunks(chunk.len()) {
                    let unmasked = &mut chunk[..piece.len()];
                    unmasked.copy_from_slice(piece);
                    // Pieces are a multiple of 4 long: the phase holds.
                    frame::apply_mask(unmasked, key, phase);
                    let inflated =
                        inflater.inflate(unmasked, &mut self.data, self.max_message_size);
                    // What came out before an error is checked first, so
                    // the error does not depend on how the bytes arrived.
                    check_utf8(&mut self.assembly, &self.data)?;
                    inflated?;
                }
            }
            _ => {
                reserve_capped(&mut self.data, bytes.len(), self.max_message_size);
                let start = self.data.len();
                self.data.extend_from_slice(bytes);
                frame::apply_mask(&mut self.data[start..], key, phase);
            }
        }
        self.check_utf8()
    }

    /// Checks the text message's bytes that came in since the last check;
    /// an unfinished character at the end waits for the rest.
    fn check_utf8(&mut self) -> Result<(), ProtocolError> {
        check_utf8(&mut self.assembly, &self.data)
    }
}

/// [`Receiver::check_utf8`], on borrowed parts.
fn check_utf8(assembly: &mut Assembly, data: &[u8]) -> Result<(), ProtocolError> {
    if let Assembly::Text { checked } = assembly {
        match std::str::from_utf8(data.get(*checked..).unwrap_or_default()) {
            Ok(_) => *checked = data.len(),
            // The tail is the start of a character still to come.
            Err(e) if e.error_len().is_none() => *checked += e.valid_up_to(),
            Err(_) => return Err(ProtocolError::invalid_data("invalid UTF-8 in text message")),
        }
    }
    Ok(())
}

impl Receiver {
    /// Finishes a frame whose payload is all in: returns a message when the
    /// frame completes one.
    fn end_frame(&mut self, header: FrameHeader) -> Result<Option<Message>, ProtocolError> {
        self.state = State::header();
        let message = match header.opcode {
            Opcode::Ping => Message::Ping(std::mem::take(&mut self.control)),
            Opcode::Pong => Message::Pong(std::mem::take(&mut self.control)),
            Opcode::Close => Message::Close(parse_close(&self.control)?),
            Opcode::Text | Opcode::Binary | Opcode::Continuation if !header.fin => return Ok(None),
            Opcode::Text | Opcode::Binary | Opcode::Continuation => {
                if let (Some(inflater), true) = (&mut self.inflater, self.compressed) {
                    let finished = inflater.finish(&mut self.data, self.max_message_size);
                    check_utf8(&mut self.assembly, &self.data)?;
                    finished?;
                }
                let data = std::mem::take(&mut self.data);
                match std::mem::replace(&mut self.assembly, Assembly::Idle) {
                    Assembly::Binary => Message::Binary(data),
                    // Fails only on a character cut short at the end.
                    Assembly::Text { .. } => {
                        Message::Text(String::from_utf8(data).map_err(|_| {
                            ProtocolError::invalid_data("text message ends inside a character")
                        })?)
                    }
                    Assembly::Idle => unreachable!("start_frame refuses a stray continuation"),
                }
            }
        };
        Ok(Some(message))
    }

    /// Stops reading and frees the buffers.
    fn close(&mut self) {
        self.state = State::Closed;
        self.assembly = Assembly::Idle;
        self.data = Vec::new();
        self.control = Vec::new();
        self.inflater = None;
    }
}

/// Grows `buf` for `additional` more bytes, doubling as usual but never past
/// `cap` (unless the bytes themselves need more, which callers rule out).
fn reserve_capped(buf: &mut Vec<u8>, additional: usize, cap: usize) {
    let need = buf.len() + additional;
    if need > buf.capacity() {
        let target = need.max((buf.capacity() * 2).min(cap));
        buf.reserve_exact(target - buf.len());
    }
}

/// A Close frame's payload (§5.5.1, §7.4): nothing, or a status code the
/// client may send followed by a UTF-8 reason.
fn parse_close(payload: &[u8]) -> Result<Option<(u16, String)>, ProtocolError> {
    match payload {
        [] => Ok(None),
        [_] => Err(ProtocolError::protocol("close payload of one byte")),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            if !frame::is_valid_received_close_code(code) {
                return Err(ProtocolError::protocol("invalid close code"));
            }
            let reason = std::str::from_utf8(reason)
                .map_err(|_| ProtocolError::invalid_data("close reason is not UTF-8"))?;
            Ok(Some((code, reason.to_owned())))
        }
    }
}

/// Masked client frames built by hand, independent of `encode_frame`
/// (the integration tests use the same builder).
#[cfg(test)]
#[path = "../../tests/common/ws.rs"]
mod client_frames;

#[cfg(test)]
mod tests {
    use super::*;

    type Event = Result<Message, ProtocolError>;

    use super::client_frames::{MASK as KEY, masked as client_frame};

    fn frames(parts: &[(u8, &[u8])]) -> Vec<u8> {
        parts
            .iter()
            .flat_map(|(b0, payload)| client_frame(*b0, payload))
            .collect()
    }

    /// Feeds `input` in pieces cut at `cuts`, draining each piece fully.
    fn run_cut(max: usize, input: &[u8], cuts: &[usize]) -> Vec<Event> {
        run_with(Receiver::new(max), input, cuts)
    }

    /// [`run_cut`] with a given receiver.
    fn run_with(mut rx: Receiver, input: &[u8], cuts: &[usize]) -> Vec<Event> {
        let mut events = Vec::new();
        let mut start = 0;
        for end in cuts.iter().copied().chain([input.len()]) {
            let mut rest = &input[start..end];
            start = end;
            loop {
                let (n, event) = rx.feed(rest);
                assert!(n <= rest.len());
                rest = &rest[n..];
                match event {
                    Some(event) => events.push(event),
                    None => {
                        assert!(rest.is_empty() || rx.is_closed());
                        break;
                    }
                }
            }
        }
        events
    }

    fn run(max: usize, input: &[u8]) -> Vec<Event> {
        run_cut(max, input, &[])
    }

    /// Same events whole, one byte at a time, and (for small inputs) cut in
    /// two at every position.
    fn assert_decodes(max: usize, input: &[u8], want: &[Event]) {
        assert_eq!(run(max, input), want, "whole");
        let bytes: Vec<usize> = (1..input.len()).collect();
        assert_eq!(run_cut(max, input, &bytes), want, "byte at a time");
        if input.len() <= 1024 {
            for cut in 1..input.len() {
                assert_eq!(run_cut(max, input, &[cut]), want, "cut at {cut}");
            }
        }
    }

    fn text(s: &str) -> Event {
        Ok(Message::Text(s.into()))
    }

    fn err(code: u16, reason: &'static str) -> Event {
        Err(ProtocolError { code, reason })
    }

    #[test]
    fn decodes_masked_rfc_6455_section_5_7_examples() {
        let hello = b"Hello";
        let bytes_256: Vec<u8> = (0..=255).collect();
        let bytes_64k: Vec<u8> = (0..65536u32).map(|i| (i * 7) as u8).collect();
        let cases: Vec<(&str, Vec<u8>, Vec<Event>)> = vec![
            (
                "masked text, RFC bytes",
                vec![
                    0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
                ],
                vec![text("Hello")],
            ),
            (
                "fragmented text",
                frames(&[(0x01, b"Hel"), (0x80, b"lo")]),
                vec![text("Hello")],
            ),
            (
                "ping",
                client_frame(0x89, hello),
                vec![Ok(Message::Ping(hello.to_vec()))],
            ),
            (
                "masked pong, RFC bytes",
                vec![
                    0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
                ],
                vec![Ok(Message::Pong(hello.to_vec()))],
            ),
            (
                "256-byte binary",
                client_frame(0x82, &bytes_256),
                vec![Ok(Message::Binary(bytes_256.clone()))],
            ),
            (
                "64KiB binary",
                client_frame(0x82, &bytes_64k),
                vec![Ok(Message::Binary(bytes_64k.clone()))],
            ),
        ];
        assert_eq!(&cases[4].1[..4], [0x82, 0xFE, 0x01, 0x00]);
        assert_eq!(&cases[5].1[..10], [0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0]);
        for (name, input, want) in cases {
            println!("{name}");
            assert_decodes(1 << 20, &input, &want);
        }
    }

    #[test]
    fn refuses_unmasked_rfc_6455_section_5_7_examples_with_1002() {
        let unmasked: [&[u8]; 4] = [
            &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
            &[0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f],
            &[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
            &[0x82, 0x7E, 0x01, 0x00],
        ];
        for input in unmasked {
            assert_decodes(1 << 20, input, &[err(1002, "unmasked client frame")]);
        }
    }

    #[test]
    fn several_frames_in_one_buffer_come_out_in_order() {
        let input = frames(&[
            (0x81, b"one"),
            (0x82, b"\x00\x01"),
            (0x8A, b""),
            (0x81, b""),
            (0x88, b"\x03\xE8bye"),
        ]);
        assert_decodes(
            1 << 20,
            &input,
            &[
                text("one"),
                Ok(Message::Binary(vec![0, 1])),
                Ok(Message::Pong(vec![])),
                text(""),
                Ok(Message::Close(Some((1000, "bye".into())))),
            ],
        );
    }

    #[test]
    fn control_frames_may_interleave_fragments() {
        let input = frames(&[
            (0x02, b"ab"),
            (0x89, b"p1"),
            (0x00, b"cd"),
            (0x8A, b"p2"),
            (0x00, b""),
            (0x80, b"ef"),
        ]);
        assert_decodes(
            1 << 20,
            &input,
            &[
                Ok(Message::Ping(b"p1".to_vec())),
                Ok(Message::Pong(b"p2".to_vec())),
                Ok(Message::Binary(b"abcdef".to_vec())),
            ],
        );
    }

    #[test]
    fn close_ends_reading() {
        let mut input = client_frame(0x88, b"");
        input.extend(client_frame(0x81, b"ignored"));
        let mut rx = Receiver::new(100);
        assert_eq!(rx.feed(&input), (6, Some(Ok(Message::Close(None)))));
        assert!(rx.is_closed());
        assert_eq!(rx.feed(&input[6..]), (0, None));
    }

    #[test]
    fn refuses_protocol_errors_with_their_close_code() {
        let mut top_bit = vec![0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0];
        top_bit.extend_from_slice(&KEY);
        let cases: Vec<(&str, Vec<u8>, Event)> = vec![
            (
                "RSV1",
                client_frame(0xC1, b"x"),
                err(1002, "reserved bits set"),
            ),
            (
                "RSV3",
                client_frame(0x91, b"x"),
                err(1002, "reserved bits set"),
            ),
            (
                "opcode 3",
                client_frame(0x83, b"x"),
                err(1002, "reserved opcode"),
            ),
            (
                "opcode 0xB",
                client_frame(0x8B, b""),
                err(1002, "reserved opcode"),
            ),
            (
                "ping of 126 bytes",
                client_frame(0x89, &[0; 126]),
                err(1002, "control frame payload over 125 bytes"),
            ),
            (
                "fragmented ping",
                client_frame(0x09, b"x"),
                err(1002, "fragmented control frame"),
            ),
            (
                "continuation first",
                client_frame(0x80, b"x"),
                err(1002, "continuation without a message"),
            ),
            (
                "text inside text",
                frames(&[(0x01, b"a"), (0x81, b"b")]),
                err(1002, "new message inside a fragmented one"),
            ),
            (
                "binary inside text",
                frames(&[(0x01, b"a"), (0x82, b"b")]),
                err(1002, "new message inside a fragmented one"),
            ),
            (
                "64-bit length top bit",
                top_bit,
                err(1002, "payload length top bit set"),
            ),
            (
                "invalid UTF-8",
                client_frame(0x81, b"ok\xFFok"),
                err(1007, "invalid UTF-8 in text message"),
            ),
            (
                "surrogate in UTF-8",
                client_frame(0x81, b"\xED\xA0\x80"),
                err(1007, "invalid UTF-8 in text message"),
            ),
            (
                "text ends inside a character",
                client_frame(0x81, b"\xE2\x82"),
                err(1007, "text message ends inside a character"),
            ),
            (
                "close with one byte",
                client_frame(0x88, b"\x03"),
                err(1002, "close payload of one byte"),
            ),
            (
                "close code 1005",
                client_frame(0x88, b"\x03\xED"),
                err(1002, "invalid close code"),
            ),
            (
                "close code 999",
                client_frame(0x88, b"\x03\xE7"),
                err(1002, "invalid close code"),
            ),
            (
                "close reason not UTF-8",
                client_frame(0x88, b"\x03\xE8\xC3"),
                err(1007, "close reason is not UTF-8"),
            ),
            (
                "single frame over the cap",
                client_frame(0x82, &[0; 17]),
                err(1009, "message too big"),
            ),
            (
                "fragments over the cap",
                frames(&[(0x01, b"12345678"), (0x00, b"12345678"), (0x80, b"9")]),
                err(1009, "message too big"),
            ),
        ];
        for (name, input, want) in cases {
            println!("{name}");
            assert!(want.as_ref().unwrap_err().close_payload().len() > 2);
            assert_decodes(16, &input, &[want]);
        }
    }

    #[test]
    fn message_at_the_cap_is_accepted() {
        assert_decodes(
            16,
            &frames(&[(0x01, b"12345678"), (0x80, b"12345678")]),
            &[text("1234567812345678")],
        );
        // Control frames do not count against the data cap.
        assert_decodes(
            0,
            &client_frame(0x89, &[1; 125]),
            &[Ok(Message::Ping(vec![1; 125]))],
        );
    }

    #[test]
    fn oversized_frame_is_refused_from_its_header_alone() {
        let mut rx = Receiver::new(1000);
        // Header of a 1 GiB masked binary frame, no payload.
        let header = [0x82, 0xFF, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3, 4];
        assert_eq!(rx.feed(&header), (14, Some(err(1009, "message too big"))));
        assert!(rx.is_closed());
        assert_eq!(rx.data.capacity(), 0);
    }

    #[test]
    fn invalid_utf8_is_refused_before_the_message_ends() {
        let input = frames(&[(0x01, b"fine"), (0x00, b"\xC0\xAF")]);
        let mut rx = Receiver::new(100);
        let (n, event) = rx.feed(&input);
        assert_eq!(n, input.len());
        assert_eq!(event, Some(err(1007, "invalid UTF-8 in text message")));
    }

    #[test]
    fn utf8_may_split_across_fragments() {
        let s = "h€llo😀ü";
        for cut in 0..=s.len() {
            let input = frames(&[(0x01, &s.as_bytes()[..cut]), (0x80, &s.as_bytes()[cut..])]);
            assert_eq!(run(100, &input), [text(s)], "cut at {cut}");
            let bytes: Vec<usize> = (1..input.len()).collect();
            assert_eq!(
                run_cut(100, &input, &bytes),
                [text(s)],
                "cut at {cut}, bytewise"
            );
        }
        // One character over three fragments, with a ping in between.
        let input = frames(&[
            (0x01, b"\xF0\x9F"),
            (0x89, b""),
            (0x00, b"\x98"),
            (0x80, b"\x80"),
        ]);
        assert_decodes(100, &input, &[Ok(Message::Ping(vec![])), text("😀")]);
    }

    #[test]
    fn buffer_never_grows_past_the_cap() {
        let max = 1000;
        let mut rx = Receiver::new(max);
        let parts: Vec<Vec<u8>> = (0..10)
            .map(|i| {
                client_frame(
                    if i == 9 {
                        0x80
                    } else if i == 0 {
                        0x02
                    } else {
                        0x00
                    },
                    &[i; 100],
                )
            })
            .collect();
        for (i, part) in parts.iter().enumerate() {
            for byte in part.chunks(7) {
                let (n, event) = rx.feed(byte);
                assert_eq!(n, byte.len());
                assert!(rx.data.capacity() <= max, "capacity {}", rx.data.capacity());
                if let Some(event) = event {
                    assert_eq!(i, 9);
                    let Ok(Message::Binary(data)) = event else {
                        panic!("{event:?}")
                    };
                    assert_eq!(data.len(), max);
                    assert!(data.capacity() <= max);
                }
            }
        }
    }

    #[test]
    fn protocol_error_display_and_close_payload() {
        let e = ProtocolError::protocol("unmasked client frame");
        assert_eq!(
            e.to_string(),
            "WebSocket protocol error 1002: unmasked client frame"
        );
        assert_eq!(e.close_payload(), b"\x03\xEAunmasked client frame");
    }

    mod deflate {
        use super::*;
        use crate::ws::deflate::negotiate;
        use flate2::{Compress, Compression, FlushCompress};

        /// Raw deflate with a sync flush, tail stripped (RFC 7692 §7.2.1).
        fn deflated(data: &[u8]) -> Vec<u8> {
            let mut c = Compress::new(Compression::default(), false);
            let mut out = Vec::with_capacity(data.len() + 64);
            c.compress_vec(data, &mut out, FlushCompress::Sync).unwrap();
            out.truncate(out.len() - 4);
            out
        }

        fn receiver(max: usize) -> Receiver {
            let params = negotiate([&b"permessage-deflate"[..]]).unwrap();
            Receiver::with_deflate(max, &params)
        }

        fn run_deflate(max: usize, input: &[u8]) -> Vec<Event> {
            let whole = run_with(receiver(max), input, &[]);
            let bytewise: Vec<usize> = (1..input.len()).collect();
            assert_eq!(run_with(receiver(max), input, &bytewise), whole);
            whole
        }

        #[test]
        fn inflates_compressed_messages_whole_and_fragmented() {
            let s = "h€llo😀ü ".repeat(20);
            let z = deflated(s.as_bytes());
            for cut in [0, 1, z.len() / 2, z.len()] {
                let input = frames(&[
                    (0x41, &z[..cut]),
                    (0x89, b"p"),
                    (0x80, &z[cut..]),
                    // An uncompressed message between compressed ones.
                    (0x82, b"raw"),
                    (0xC2, &deflated(b"bin")),
                ]);
                assert_eq!(
                    run_deflate(1000, &input),
                    [
                        Ok(Message::Ping(b"p".to_vec())),
                        text(&s),
                        Ok(Message::Binary(b"raw".to_vec())),
                        Ok(Message::Binary(b"bin".to_vec())),
                    ],
                    "cut at {cut}"
                );
            }
            // RFC 7692 §7.2.3.2: the second message uses the first's window.
            let input = frames(&[
                (0xC1, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]),
                (0xC1, &[0xf2, 0x00, 0x11, 0x00, 0x00]),
            ]);
            assert_eq!(run_deflate(10, &input), [text("Hello"), text("Hello")]);
        }

        #[test]
        fn rsv1_misuse_is_1002() {
            let z = deflated(b"Hello");
            let cases: [(Vec<u8>, &str); 4] = [
                (frames(&[(0xC9, b"")]), "RSV1 set on a control frame"),
                (frames(&[(0xC8, b"")]), "RSV1 set on a control frame"),
                (
                    frames(&[(0x41, &z[..2]), (0xC0, &z[2..])]),
                    "RSV1 set on a continuation frame",
                ),
                (frames(&[(0xA1, &z)]), "reserved bits set"),
            ];
            for (input, reason) in cases {
                assert_eq!(run_deflate(100, &input), [err(1002, reason)], "{reason}");
            }
            // Not negotiated: RSV1 is a reserved bit.
            let input = frames(&[(0xC1, &z)]);
            assert_eq!(run(100, &input), [err(1002, "reserved bits set")]);
        }

        #[test]
        fn bombs_bad_data_and_bad_text_are_refused() {
            let bomb = deflated(&vec![b'a'; 1 << 20]);
            let mut rx = receiver(4096);
            let (_, event) = rx.feed(&frames(&[(0xC2, &bomb)]));
            assert_eq!(event, Some(err(1009, "message too big")));
            assert!(rx.is_closed());
            let cases: [(Vec<u8>, Event); 4] = [
                (
                    frames(&[(0xC1, b"\xff\xff\xff")]),
                    err(1007, "invalid deflate data"),
                ),
                (
                    frames(&[(0xC1, &deflated(b"ok \xff"))]),
                    err(1007, "invalid UTF-8 in text message"),
                ),
                (
                    frames(&[(0xC1, &deflated(b"cut \xc3"))]),
                    err(1007, "text message ends inside a character"),
                ),
                // The compressed size alone can be over the cap.
                (frames(&[(0xC2, &[0u8; 200])]), err(1009, "message too big")),
            ];
            for (input, want) in cases {
                assert_eq!(run_deflate(100, &input), [want]);
            }
        }
    }
}
