//! The frame layer (RFC 6455 §5): opcodes, frame headers, server-side frame
//! encoding, close payloads and close codes.
//!
//! ```text
//!  0               1               2               3
//!  F R R R opcode  M len7          extended length (0, 2 or 8 bytes)
//!  I S S S         A               then masking key (0 or 4 bytes)
//!  N V V V         S               then payload
//!    1 2 3         K
//! ```

use std::fmt;

/// The client broke the protocol: send a Close frame with `code`, then
/// close the connection (RFC 6455 §7.1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtocolError {
    /// The close status code to send (1002, 1007 or 1009).
    pub code: u16,
    /// What went wrong, short enough for a Close frame's reason.
    pub reason: &'static str,
}

impl ProtocolError {
    /// 1002: the frames themselves break the protocol.
    pub(crate) fn protocol(reason: &'static str) -> ProtocolError {
        ProtocolError {
            code: close_code::PROTOCOL_ERROR,
            reason,
        }
    }

    /// 1007: bytes that are not valid UTF-8 where text is required.
    pub(crate) fn invalid_data(reason: &'static str) -> ProtocolError {
        ProtocolError {
            code: close_code::INVALID_DATA,
            reason,
        }
    }

    /// The payload of the Close frame that reports this error.
    pub fn close_payload(&self) -> Vec<u8> {
        close_payload(self.code, self.reason)
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebSocket protocol error {}: {}", self.code, self.reason)
    }
}

impl std::error::Error for ProtocolError {}

/// A frame's opcode (RFC 6455 §5.2, §11.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    /// `0x0`: a later fragment of a data message.
    Continuation,
    /// `0x1`: the first frame of a UTF-8 text message.
    Text,
    /// `0x2`: the first frame of a binary message.
    Binary,
    /// `0x8`: close handshake.
    Close,
    /// `0x9`: ping; answered with a pong.
    Ping,
    /// `0xA`: pong.
    Pong,
}

impl Opcode {
    /// The opcode for the low four bits of a frame's first byte; `None` for
    /// the reserved values.
    pub fn from_u8(value: u8) -> Option<Opcode> {
        Some(match value {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return None,
        })
    }

    /// The opcode's wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }

    /// Whether this is a control opcode (Close, Ping, Pong; RFC 6455 §5.5).
    pub fn is_control(self) -> bool {
        self.as_u8() & 0x8 != 0
    }
}

/// Largest payload of a control frame (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// Longest possible frame header: 2 bytes, 8-byte length, 4-byte mask.
pub const MAX_HEADER_LEN: usize = 14;

/// A decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Final fragment of its message.
    pub fin: bool,
    /// What the frame carries.
    pub opcode: Opcode,
    /// Masking key; clients must mask (RFC 6455 §5.3), servers must not.
    pub mask: Option<[u8; 4]>,
    /// Payload length in bytes.
    pub payload_len: u64,
}

impl FrameHeader {
    /// Decodes a header from the start of `buf`: `Ok(None)` while more bytes
    /// are needed, else the header and its length in bytes.
    ///
    /// Refuses (close code 1002) as soon as the bytes show it: RSV bits set
    /// (no extension is negotiated), a reserved opcode, a fragmented or
    /// over-125-byte control frame, a 64-bit length with its top bit set.
    /// Masking and fragmentation order are the receiver's business.
    pub fn parse(buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
        Self::parse_with_rsv1(buf, false)
    }

    /// [`parse`](Self::parse), letting RSV1 through when `rsv1_allowed`
    /// (an extension that uses it, permessage-deflate, was negotiated;
    /// the bit is the caller's to read from the first byte).
    pub fn parse_with_rsv1(
        buf: &[u8],
        rsv1_allowed: bool,
    ) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
        let Some(&b0) = buf.first() else {
            return Ok(None);
        };
        let reserved = if rsv1_allowed { 0x30 } else { 0x70 };
        if b0 & reserved != 0 {
            return Err(ProtocolError::protocol("reserved bits set"));
        }
        let opcode =
            Opcode::from_u8(b0 & 0x0F).ok_or(ProtocolError::protocol("reserved opcode"))?;
        let fin = b0 & 0x80 != 0;
        if opcode.is_control() && !fin {
            return Err(ProtocolError::protocol("fragmented control frame"));
        }
        let Some(&b1) = buf.get(1) else {
            return Ok(None);
        };
        let len7 = b1 & 0x7F;
        if opcode.is_control() && usize::from(len7) > MAX_CONTROL_PAYLOAD {
            return Err(ProtocolError::protocol(
                "control frame payload over 125 bytes",
            ));
        }
        let masked = b1 & 0x80 != 0;
        let header_len = Self::len_from_second_byte(b1);
        if buf.len() < header_len {
            return Ok(None);
        }
        let (payload_len, at) = match len7 {
            126 => (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
            127 => {
                let mut be = [0; 8];
                be.copy_from_slice(&buf[2..10]);
                let len = u64::from_be_bytes(be);
                if len >> 63 != 0 {
                    return Err(ProtocolError::protocol("payload length top bit set"));
                }
                (len, 10)
            }
            n => (u64::from(n), 2),
        };
        let mask = masked.then(|| [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]);
        let header = FrameHeader {
            fin,
            opcode,
            mask,
            payload_len,
        };
        Ok(Some((header, header_len)))
    }

    /// The whole header's length as given by its second byte (mask bit and
    /// 7-bit length).
    pub fn len_from_second_byte(b1: u8) -> usize {
        let extended = match b1 & 0x7F {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let mask = if b1 & 0x80 != 0 { 4 } else { 0 };
        2 + extended + mask
    }

    /// Appends the header's wire form, using the shortest length encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let b0 = if self.fin { 0x80 } else { 0 } | self.opcode.as_u8();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        out.push(b0);
        match self.payload_len {
            n @ 0..=125 => out.push(mask_bit | n as u8),
            n @ 126..=0xFFFF => {
                out.push(mask_bit | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&n.to_be_bytes());
            }
        }
        if let Some(key) = self.mask {
            out.extend_from_slice(&key);
        }
    }
}

/// Appends one unmasked server frame (RFC 6455 §5.1: servers never mask).
///
/// Control frames (Close, Ping, Pong) must be final and carry at most 125
/// bytes (§5.5); [`close_payload`] keeps to that.
pub fn encode_frame(out: &mut Vec<u8>, fin: bool, opcode: Opcode, payload: &[u8]) {
    debug_assert!(
        !opcode.is_control() || (fin && payload.len() <= MAX_CONTROL_PAYLOAD),
        "control frames are final and carry at most 125 bytes"
    );
    out.reserve(MAX_HEADER_LEN + payload.len());
    FrameHeader {
        fin,
        opcode,
        mask: None,
        payload_len: payload.len() as u64,
    }
    .encode(out);
    out.extend_from_slice(payload);
}

/// [`encode_frame`] for the single frame of a message compressed by
/// permessage-deflate: RSV1 set (RFC 7692 §6).
pub fn encode_compressed_frame(out: &mut Vec<u8>, opcode: Opcode, payload: &[u8]) {
    debug_assert!(!opcode.is_control(), "control frames are never compressed");
    let start = out.len();
    encode_frame(out, true, opcode, payload);
    out[start] |= RSV1;
}

/// The first byte's RSV1 bit: "per-message compressed" under
/// permessage-deflate (RFC 7692 §6).
pub const RSV1: u8 = 0x40;

/// XORs `data` with `key`, starting `offset` bytes into the payload
/// (RFC 6455 §5.3). Masking and unmasking are the same operation.
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, byte) in data.iter_mut().enumerate() {
        *byte ^= key[(offset + i) % 4];
    }
}

/// A Close frame payload: the status code, big-endian, then `reason`
/// truncated on a char boundary so the payload fits 125 bytes (§5.5.1).
pub fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut end = reason.len().min(MAX_CONTROL_PAYLOAD - 2);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut payload = Vec::with_capacity(2 + end);
    payload.extend_from_slice(&code.to_be_bytes());
    payload.extend_from_slice(&reason.as_bytes()[..end]);
    payload
}

/// Close status codes (RFC 6455 §7.4.1).
pub mod close_code {
    /// 1000: the purpose of the connection is fulfilled.
    pub const NORMAL: u16 = 1000;
    /// 1001: the endpoint is going away (server shutdown, page left).
    pub const GOING_AWAY: u16 = 1001;
    /// 1002: protocol error.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED: u16 = 1003;
    /// The connection ended without a Close frame (never sent on the wire,
    /// RFC 6455 §7.4.1).
    pub const ABNORMAL: u16 = 1006;
    /// 1007: message data not consistent with its type (e.g. bad UTF-8).
    pub const INVALID_DATA: u16 = 1007;
    /// 1008: a message violates the endpoint's policy.
    pub const POLICY: u16 = 1008;
    /// 1009: a message too big to process.
    pub const TOO_BIG: u16 = 1009;
    /// 1011: an unexpected condition on the server.
    pub const INTERNAL: u16 = 1011;
}

/// Whether a peer may send `code` in a Close frame (RFC 6455 §7.4):
/// 1000–1003, 1007–1014 and 3000–4999; any other is a protocol error
/// (1002).
///
/// - 1004 is reserved, 1005, 1006 and 1015 are never sent on the wire
///   (§7.4.1).
/// - 1012 (Service Restart), 1013 (Try Again Later) and 1014 (Bad Gateway)
///   came after the RFC, in the IANA WebSocket Close Code Number Registry
///   (§11.7), as codes an endpoint sends: accepted. The rest of 1016–2999
///   is unassigned (the Autobahn suite's cases 7.9.* send 1016, 1100, 2000,
///   2999 and expect 1002).
/// - §7.4.2 defines ranges up to 4999 only (3000–3999 registered,
///   4000–4999 private): from 5000 no code is defined, so 5000–65535 are
///   refused too. The suite's cases 7.13.1 and 7.13.2 (5000, 65535) leave
///   the answer to the server (INFORMATIONAL: the code echoed, 1000 or
///   1002 are all taken); 1002 treats them as the invalid codes they are.
pub fn is_valid_received_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(fin: bool, opcode: Opcode, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_frame(&mut out, fin, opcode, payload);
        out
    }

    #[test]
    fn encode_frame_matches_rfc_6455_section_5_7() {
        let hello = b"Hello";
        let cases: [(&[u8], Vec<u8>); 5] = [
            (
                &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
                encoded(true, Opcode::Text, hello),
            ),
            (
                &[0x01, 0x03, 0x48, 0x65, 0x6c],
                encoded(false, Opcode::Text, b"Hel"),
            ),
            (
                &[0x80, 0x02, 0x6c, 0x6f],
                encoded(true, Opcode::Continuation, b"lo"),
            ),
            (
                &[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
                encoded(true, Opcode::Ping, hello),
            ),
            (
                &[0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
                encoded(true, Opcode::Pong, hello),
            ),
        ];
        for (want, got) in cases {
            assert_eq!(got, want);
        }
    }

    #[test]
    fn encode_frame_uses_16_and_64_bit_lengths() {
        let cases: [(usize, &[u8]); 6] = [
            (0, &[0x82, 0x00]),
            (125, &[0x82, 0x7D]),
            (126, &[0x82, 0x7E, 0x00, 0x7E]),
            (256, &[0x82, 0x7E, 0x01, 0x00]),
            (65535, &[0x82, 0x7E, 0xFF, 0xFF]),
            (65536, &[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]),
        ];
        for (len, head) in cases {
            let payload = vec![0xA5; len];
            let out = encoded(true, Opcode::Binary, &payload);
            assert_eq!(&out[..head.len()], head, "length {len}");
            assert_eq!(&out[head.len()..], &payload[..], "length {len}");
        }
    }

    #[test]
    fn header_round_trips_through_parse() {
        for payload_len in [0, 1, 125, 126, 65535, 65536, 1 << 40] {
            for mask in [None, Some([1, 2, 3, 4])] {
                let header = FrameHeader {
                    fin: payload_len % 2 == 0,
                    opcode: Opcode::Binary,
                    mask,
                    payload_len,
                };
                let mut out = Vec::new();
                header.encode(&mut out);
                assert_eq!(FrameHeader::len_from_second_byte(out[1]), out.len());
                for cut in 0..out.len() {
                    assert_eq!(FrameHeader::parse(&out[..cut]), Ok(None));
                }
                assert_eq!(FrameHeader::parse(&out), Ok(Some((header, out.len()))));
            }
        }
    }

    #[test]
    fn parse_refuses_malformed_headers_with_1002() {
        let cases: [(&[u8], &str); 7] = [
            (&[0xC1], "reserved bits set"),
            (&[0xA1], "reserved bits set"),
            (&[0x91], "reserved bits set"),
            (&[0x83], "reserved opcode"),
            (&[0x8B], "reserved opcode"),
            (&[0x09], "fragmented control frame"),
            (&[0x89, 0xFE], "control frame payload over 125 bytes"),
        ];
        for (bytes, reason) in cases {
            let err = FrameHeader::parse(bytes).unwrap_err();
            assert_eq!((err.code, err.reason), (1002, reason), "{bytes:02x?}");
        }
        let top_bit = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
        assert_eq!(FrameHeader::parse(&top_bit).unwrap_err().code, 1002);
    }

    #[test]
    fn mask_matches_rfc_example() {
        let mut data = *b"Hello";
        apply_mask(&mut data, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        // Unmasking in two pieces gives the same result.
        apply_mask(&mut data[..3], [0x37, 0xfa, 0x21, 0x3d], 0);
        apply_mask(&mut data[3..], [0x37, 0xfa, 0x21, 0x3d], 3);
        assert_eq!(&data, b"Hello");
    }

    #[test]
    fn close_payload_truncates_reason_on_char_boundary() {
        assert_eq!(close_payload(1000, ""), [0x03, 0xE8]);
        assert_eq!(close_payload(1001, "bye"), b"\x03\xE9bye");
        let long = "x".repeat(200);
        assert_eq!(close_payload(1000, &long).len(), 125);
        // 61 two-byte chars = 122 bytes fit; a 62nd would need 124.
        let wide = "é".repeat(70);
        let payload = close_payload(1000, &wide);
        assert_eq!(payload.len(), 2 + 122);
        assert!(std::str::from_utf8(&payload[2..]).is_ok());
        // A 4-byte char straddling byte 123 is dropped whole.
        let straddle = format!("{}😀", "a".repeat(121));
        assert_eq!(close_payload(1000, &straddle).len(), 2 + 121);
    }

    #[test]
    fn received_close_codes_per_section_7_4() {
        let cases = [
            (0, false),
            (999, false),
            (1000, true),
            (1001, true),
            (1002, true),
            (1003, true),
            (1004, false),
            (1005, false),
            (1006, false),
            (1007, true),
            (1008, true),
            (1009, true),
            (1010, true),
            (1011, true),
            (1012, true),
            (1013, true),
            (1014, true),
            (1015, false),
            (1016, false),
            (1100, false),
            (2000, false),
            (2999, false),
            (3000, true),
            (4999, true),
            (5000, false),
            (u16::MAX, false),
        ];
        for (code, valid) in cases {
            assert_eq!(is_valid_received_close_code(code), valid, "{code}");
        }
    }

    #[test]
    fn opcodes_round_trip() {
        for value in 0..16u8 {
            if let Some(op) = Opcode::from_u8(value) {
                assert_eq!(op.as_u8(), value);
                assert_eq!(op.is_control(), value >= 8);
            }
        }
        assert_eq!(Opcode::from_u8(0x3), None);
    }
}
