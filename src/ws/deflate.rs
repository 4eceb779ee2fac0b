//! permessage-deflate (RFC 7692), sans-IO: the negotiation of its
//! parameters and the per-connection codec.
//!
//! [`negotiate`] reads the client's `Sec-WebSocket-Extensions` offers and
//! returns the [`Params`] of the first one the server can honour (with the
//! header value that accepts it); [`Deflater`] compresses the messages the
//! server sends, [`Inflater`] decompresses the client's, bounded by the
//! message size cap.
//!
//! Both use raw deflate (no zlib header) with a sync flush at the end of
//! each message, whose `00 00 FF FF` tail is stripped on send and appended
//! on receipt (§7.2.1, §7.2.2).
//!
//! Memory (zlib-rs, the backend flate2 uses here; memLevel 8), measured
//! with a counting allocator: a compressor with a window of `w` bits holds
//! `2^(w+2)` bytes of window and chains plus about 243 KiB of hash heads
//! and symbol buffers: 245 KiB at 9 bits, **371 KiB at 15 bits**
//! ([`DEFLATER_MEMORY`]); a decompressor holds a 32 KiB window whatever
//! the window bits and its tables, **47 KiB** ([`INFLATER_MEMORY`]). Each
//! is allocated on first use. Without context takeover on its side
//! (`server_no_context_takeover`, `client_no_context_takeover`) it is
//! freed at the end of every message, so an idle connection holds
//! nothing; with it, it lives as long as the connection: at most
//! 418 KiB per connection, besides the message buffer.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::frame::{ProtocolError, close_code};

/// The extension's registered name (RFC 7692 §7).
pub const EXTENSION: &str = "permessage-deflate";

/// The tail a sync flush ends with, stripped from every compressed
/// message (§7.2.1).
const TAIL: [u8; 4] = [0x00, 0x00, 0xFF, 0xFF];

/// Heap bytes of one compressor at 15 window bits (zlib-rs: state, 64 KiB
/// window, 64 KiB chains, 128 KiB hash heads, 112 KiB pending and symbol
/// buffers; 380 176 bytes measured).
pub const DEFLATER_MEMORY: usize = 371 * 1024;

/// Heap bytes of one decompressor (zlib-rs: state, tables and a 32 KiB
/// window whatever the window bits; 47 704 bytes measured).
pub const INFLATER_MEMORY: usize = 47 * 1024;

/// Messages shorter than this are sent uncompressed (RSV1 clear): deflate
/// would make them longer or save a byte or two for the work.
pub const MIN_COMPRESSED_LEN: usize = 32;

/// Compression level: zlib-rs's fastest with dynamic Huffman codes and a
/// stored-block fallback (level 1 uses fixed codes only, and grows
/// incompressible data by about 5 %).
const LEVEL: u32 = 2;

/// The parameters of an accepted offer (RFC 7692 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// The server starts every message with an empty window (§7.1.1.1).
    pub server_no_context_takeover: bool,
    /// The client promised to start every message with an empty window
    /// (§7.1.1.2): the decompressor is reset (and freed) between messages.
    pub client_no_context_takeover: bool,
    /// The LZ77 window the client allows the server's compressor, 8..=15
    /// (§7.1.2.1); 15 unless the offer said less. The server echoes it
    /// when the client asked for it.
    pub server_max_window_bits: u8,
    /// Whether the offer carried `server_max_window_bits` (and so the
    /// response must).
    server_window_requested: bool,
}

impl Params {
    /// The `Sec-WebSocket-Extensions` value that accepts the offer.
    pub fn response(&self) -> String {
        let mut value = String::from(EXTENSION);
        if self.server_no_context_takeover {
            value.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            value.push_str("; client_no_context_takeover");
        }
        if self.server_window_requested {
            value.push_str("; server_max_window_bits=");
            value.push_str(itoa::Buffer::new().format(self.server_max_window_bits));
        }
        value
    }
}

/// The first permessage-deflate offer in `values` (the request's
/// `Sec-WebSocket-Extensions` headers, in order) the server can honour,
/// or `None` (§7.1: an offer with an unknown or duplicate parameter, a
/// window outside 8..=15 or a malformed value is declined; so is a
/// header that does not parse).
///
/// Every parameter of RFC 7692 can be honoured: the client's window
/// (`client_max_window_bits`) needs nothing from the server's
/// decompressor, which always has a 32 KiB window; a server window of 8
/// bits, which zlib cannot compress with, is honoured by sending every
/// message uncompressed ([`Deflater::compresses`]).
pub fn negotiate<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Option<Params> {
    values
        .into_iter()
        .flat_map(|value| split_outside_quotes(value, b','))
        .find_map(accept_offer)
}

/// The parameters of one offer (`permessage-deflate; a; b=1`), if it is a
/// permessage-deflate offer the server can honour.
fn accept_offer(element: &[u8]) -> Option<Params> {
    let mut parts = split_outside_quotes(element, b';');
    let name = trim(parts.next()?);
    if !name.eq_ignore_ascii_case(EXTENSION.as_bytes()) {
        return None;
    }
    let mut params = Params {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        server_window_requested: false,
    };
    let mut client_window_seen = false;
    for part in parts {
        let (key, value) = match part.iter().position(|&b| b == b'=') {
            Some(eq) => (trim(&part[..eq]), Some(param_value(&part[eq + 1..])?)),
            None => (trim(part), None),
        };
        if !is_token(key) {
            return None;
        }
        match (key, value) {
            (b"server_no_context_takeover", None) if !params.server_no_context_takeover => {
                params.server_no_context_takeover = true;
            }
            (b"client_no_context_takeover", None) if !params.client_no_context_takeover => {
                params.client_no_context_takeover = true;
            }
            (b"server_max_window_bits", Some(v)) if !params.server_window_requested => {
                params.server_max_window_bits = window_bits(&v)?;
                params.server_window_requested = true;
            }
            (b"client_max_window_bits", v) if !client_window_seen => {
                if let Some(v) = v {
                    window_bits(&v)?;
                }
                client_window_seen = true;
            }
            _ => return None,
        }
    }
    Some(params)
}

/// A parameter's value: a token, or a quoted string whose unescaped
/// content is a token (§7.1); `None` if it is neither.
fn param_value(raw: &[u8]) -> Option<Vec<u8>> {
    let raw = trim(raw);
    let value = match raw {
        [b'"', inner @ .., b'"'] => {
            let mut out = Vec::with_capacity(inner.len());
            let mut bytes = inner.iter();
            while let Some(&b) = bytes.next() {
                match b {
                    b'\\' => out.push(*bytes.next()?),
                    b'"' => return None,
                    _ => out.push(b),
                }
            }
            out
        }
        _ => raw.to_vec(),
    };
    is_token(&value).then_some(value)
}

/// `1*DIGIT` from 8 to 15 without a leading zero (§7.1.2.1, §7.1.2.2).
fn window_bits(value: &[u8]) -> Option<u8> {
    match value {
        [d @ b'8'..=b'9'] => Some(d - b'0'),
        [b'1', d @ b'0'..=b'5'] => Some(10 + d - b'0'),
        _ => None,
    }
}

/// Whether `bytes` is an RFC 7230 token (non-empty, tchars only).
fn is_token(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// `bytes` without leading and trailing spaces and tabs.
fn trim(bytes: &[u8]) -> &[u8] {
    let mut bytes = bytes;
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

/// The pieces of `bytes` between `sep`s that are not inside a quoted
/// string (a backslash escapes the next byte there).
fn split_outside_quotes(bytes: &[u8], sep: u8) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(bytes);
    std::iter::from_fn(move || {
        let current = rest?;
        let (mut quoted, mut escaped) = (false, false);
        for (i, &b) in current.iter().enumerate() {
            match b {
                _ if escaped => escaped = false,
                b'\\' if quoted => escaped = true,
                b'"' => quoted = !quoted,
                _ if b == sep && !quoted => {
                    rest = current.get(i + 1..);
                    return current.get(..i);
                }
                _ => {}
            }
        }
        rest = None;
        Some(current)
    })
}

/// The server's compressor: whole messages in, RSV1 payloads out.
pub struct Deflater {
    /// Allocated on first use; freed after each message without context
    /// takeover.
    compress: Option<Box<Compress>>,
    window_bits: u8,
    no_context_takeover: bool,
}

impl std::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflater")
            .field("allocated", &self.compress.is_some())
            .field("window_bits", &self.window_bits)
            .field("no_context_takeover", &self.no_context_takeover)
            .finish()
    }
}

impl Deflater {
    /// A compressor for the server side of `params`.
    pub fn new(params: &Params) -> Deflater {
        Deflater {
            compress: None,
            window_bits: params.server_max_window_bits,
            no_context_takeover: params.server_no_context_takeover,
        }
    }

    /// Whether a message of `len` bytes is worth compressing: it is not
    /// too short, and the window is not 8 bits (zlib's smallest raw window
    /// is 9; a message sent uncompressed honours any window).
    pub fn compresses(&self, len: usize) -> bool {
        self.window_bits >= 9 && len >= MIN_COMPRESSED_LEN
    }

    /// Appends the compressed form of the message `data` to `out`: raw
    /// deflate up to a sync flush, its `00 00 FF FF` tail removed
    /// (§7.2.1). The frame that carries it has RSV1 set.
    ///
    /// Returns `false`, `out` as it was and the window forgotten, if the
    /// compressor failed (it does not on its own raw stream): send the
    /// message uncompressed then.
    #[must_use = "on false, send the message uncompressed"]
    pub fn compress(&mut self, data: &[u8], out: &mut Vec<u8>) -> bool {
        let window_bits = self.window_bits.clamp(9, 15);
        let compress = self.compress.get_or_insert_with(|| {
            Box::new(Compress::new_with_window_bits(
                Compression::new(LEVEL),
                false,
                window_bits,
            ))
        });
        let start = out.len();
        // Deflate's worst case is a few bytes per 16 KiB block over the
        // input; the loop grows `out` should it need more.
        out.reserve(data.len() + data.len() / 1024 + 16);
        let mut input = data;
        loop {
            let before = compress.total_in();
            // Raw deflate into spare capacity cannot fail: the stream is
            // ours and well formed.
            let status = compress.compress_vec(input, out, FlushCompress::Sync);
            let used = (compress.total_in() - before) as usize;
            input = input.get(used..).unwrap_or_default();
            let spare = out.capacity() - out.len();
            if matches!(status, Ok(Status::Ok | Status::BufError)) && input.is_empty() && spare > 0
            {
                break;
            }
            if status.is_err() {
                log::error!("deflate failed: {status:?}");
                out.truncate(start);
                self.compress = None;
                return false;
            }
            out.reserve(out.capacity().max(64));
        }
        debug_assert!(out.ends_with(&TAIL), "a sync flush ends with 00 00 FF FF");
        if out.len() >= start + TAIL.len() && out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        if self.no_context_takeover {
            self.compress = None;
        }
        true
    }

    /// Forgets the window: the next message refers to nothing sent before
    /// (always correct for the client, whatever it kept). Used when a
    /// compressed message could not be queued after all.
    pub fn reset(&mut self) {
        if let Some(compress) = &mut self.compress {
            compress.reset();
        }
    }

    /// Whether the compressor is allocated now.
    pub fn is_allocated(&self) -> bool {
        self.compress.is_some()
    }
}

/// The server's decompressor: the payloads of a compressed message in,
/// its data out, never more than the message cap.
pub struct Inflater {
    /// Allocated on first use; freed after each message without context
    /// takeover.
    decompress: Option<Box<Decompress>>,
    no_context_takeover: bool,
    /// The current message reached the end of a final deflate block:
    /// whatever follows is ignored, and the stream starts anew after it.
    ended: bool,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("allocated", &self.decompress.is_some())
            .field("no_context_takeover", &self.no_context_takeover)
            .finish()
    }
}

/// How much `out` grows at a time while inflating (at most to the cap).
const INFLATE_STEP: usize = 16 * 1024;

impl Inflater {
    /// A decompressor for the client side of `params`.
    pub fn new(params: &Params) -> Inflater {
        Inflater {
            decompress: None,
            no_context_takeover: params.client_no_context_takeover,
            ended: false,
        }
    }

    /// Inflates `input` (the next bytes of a compressed message) and
    /// appends the result to `out`, which never grows past `max + 1`
    /// bytes: 1009 as soon as the message would pass `max`, 1007 if the
    /// bytes are not deflate data.
    pub fn inflate(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        max: usize,
    ) -> Result<(), ProtocolError> {
        if self.ended {
            return Ok(());
        }
        let decompress = self
            .decompress
            .get_or_insert_with(|| Box::new(Decompress::new_with_window_bits(false, 15)));
        let mut input = input;
        loop {
            if out.len() == out.capacity() {
                let room = max.saturating_add(1).saturating_sub(out.len());
                out.reserve_exact(room.min(INFLATE_STEP.max(out.len())));
            }
            let (before, produced) = (decompress.total_in(), out.len());
            let status = decompress.decompress_vec(input, out, FlushDecompress::None);
            let used = (decompress.total_in() - before) as usize;
            let stuck = used == 0 && out.len() == produced;
            input = input.get(used..).unwrap_or_default();
            if out.len() > max {
                return Err(ProtocolError {
                    code: close_code::TOO_BIG,
                    reason: "message too big",
                });
            }
            match status {
                Err(_) => return Err(ProtocolError::invalid_data("invalid deflate data")),
                Ok(Status::StreamEnd) => {
                    self.ended = true;
                    return Ok(());
                }
                // All input taken and room left: everything is out.
                Ok(_) if input.is_empty() && out.len() < out.capacity() => return Ok(()),
                // Input and room left, yet no progress.
                Ok(_) if stuck && out.len() < out.capacity() => {
                    return Err(ProtocolError::invalid_data("invalid deflate data"));
                }
                Ok(_) => {}
            }
        }
    }

    /// Ends a compressed message: inflates the `00 00 FF FF` tail (§7.2.2),
    /// then forgets or frees the window as negotiated.
    pub fn finish(&mut self, out: &mut Vec<u8>, max: usize) -> Result<(), ProtocolError> {
        self.inflate(&TAIL, out, max)?;
        if self.ended || self.no_context_takeover {
            self.decompress = None;
        }
        self.ended = false;
        Ok(())
    }

    /// Whether the decompressor is allocated now.
    pub fn is_allocated(&self) -> bool {
        self.decompress.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(values: &[&[u8]]) -> Option<String> {
        negotiate(values.iter().copied()).map(|p| p.response())
    }

    #[test]
    fn negotiation_takes_the_first_offer_it_can_honour() {
        let pmd = Some("permessage-deflate".to_owned());
        let cases: Vec<(Vec<&[u8]>, Option<String>)> = vec![
            (vec![b"permessage-deflate"], pmd.clone()),
            (vec![b"PerMessage-Deflate"], pmd.clone()),
            // Chrome's and Firefox's offer.
            (
                vec![b"permessage-deflate; client_max_window_bits"],
                pmd.clone(),
            ),
            (
                vec![b"permessage-deflate;client_max_window_bits=10"],
                pmd.clone(),
            ),
            (
                vec![b"permessage-deflate; server_no_context_takeover; client_no_context_takeover"],
                Some(
                    "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
                        .into(),
                ),
            ),
            (
                vec![b"permessage-deflate; server_max_window_bits=10"],
                Some("permessage-deflate; server_max_window_bits=10".into()),
            ),
            (
                vec![b"permessage-deflate; server_max_window_bits=\"8\""],
                Some("permessage-deflate; server_max_window_bits=8".into()),
            ),
            (
                vec![b"permessage-deflate ; server_max_window_bits = 15 "],
                Some("permessage-deflate; server_max_window_bits=15".into()),
            ),
            // Several offers: the first that can be honoured.
            (
                vec![b"x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=16, permessage-deflate; client_no_context_takeover"],
                Some("permessage-deflate; client_no_context_takeover".into()),
            ),
            // ... across headers too.
            (
                vec![b"foo; bar=\"a,b\"", b"permessage-deflate; bogus", b"permessage-deflate"],
                pmd.clone(),
            ),
            // Declined: unknown, duplicate, out of range, malformed.
            (vec![b"permessage-deflate; bogus"], None),
            (vec![b"permessage-deflate; server_no_context_takeover; server_no_context_takeover"], None),
            (vec![b"permessage-deflate; client_max_window_bits; client_max_window_bits=9"], None),
            (vec![b"permessage-deflate; server_max_window_bits=9; server_max_window_bits=9"], None),
            (vec![b"permessage-deflate; server_max_window_bits"], None),
            (vec![b"permessage-deflate; server_max_window_bits=7"], None),
            (vec![b"permessage-deflate; server_max_window_bits=16"], None),
            (vec![b"permessage-deflate; server_max_window_bits=08"], None),
            (vec![b"permessage-deflate; server_max_window_bits=-9"], None),
            (vec![b"permessage-deflate; server_max_window_bits=\"1\"0"], None),
            (vec![b"permessage-deflate; server_max_window_bits=\"10"], None),
            (vec![b"permessage-deflate; client_max_window_bits=7"], None),
            (vec![b"permessage-deflate; client_max_window_bits=\"\""], None),
            (vec![b"permessage-deflate; server_no_context_takeover=1"], None),
            (vec![b"permessage-deflate; client_no_context_takeover=\"x\""], None),
            (vec![b"permessage-deflate; =1"], None),
            (vec![b"permessage-deflate; a b"], None),
            (vec![b"permessage-deflate;"], None),
            (vec![b"permessage-deflate x"], None),
            (vec![b"deflate-frame"], None),
            (vec![b""], None),
            (vec![b",,, ;;; \"\\"], None),
            (vec![], None),
        ];
        for (values, want) in cases {
            let shown: Vec<_> = values.iter().map(|v| String::from_utf8_lossy(v)).collect();
            assert_eq!(offer(&values), want, "{shown:?}");
        }
    }

    #[test]
    fn negotiation_survives_any_byte_at_every_offset() {
        let value: &[u8] = b"permessage-deflate; server_no_context_takeover; \
            server_max_window_bits=\"12\"; client_max_window_bits, permessage-deflate";
        let inserts: [&[u8]; 9] = [
            "é".as_bytes(),
            "€".as_bytes(),
            "😀".as_bytes(),
            b"\xff",
            b"\xc3",
            b"\"",
            b"\\",
            b",",
            b";",
        ];
        for at in 0..=value.len() {
            for insert in inserts {
                let mut bytes = value[..at].to_vec();
                bytes.extend_from_slice(insert);
                bytes.extend_from_slice(&value[at..]);
                if let Some(params) = negotiate([&bytes[..]]) {
                    // Whatever was accepted answers with valid parameters.
                    let response = params.response();
                    assert!(response.is_ascii());
                    assert_eq!(negotiate([response.as_bytes()]), Some(params));
                }
                // Cut anywhere too.
                let _ = negotiate([&bytes[..at]]);
            }
        }
    }

    fn params(server_nct: bool, client_nct: bool, bits: u8) -> Params {
        Params {
            server_no_context_takeover: server_nct,
            client_no_context_takeover: client_nct,
            server_max_window_bits: bits,
            server_window_requested: bits != 15,
        }
    }

    /// A message's data, or the close code that refused it.
    type Inflated = Result<Vec<u8>, u16>;

    fn inflate_all(inflater: &mut Inflater, payload: &[u8], max: usize) -> Inflated {
        let mut out = Vec::new();
        inflater
            .inflate(payload, &mut out, max)
            .map_err(|e| e.code)?;
        inflater.finish(&mut out, max).map_err(|e| e.code)?;
        Ok(out)
    }

    #[test]
    fn inflates_the_rfc_7692_examples() {
        let takeover = params(false, false, 15);
        let hello = Ok(b"Hello".to_vec());
        // §7.2.3.1, §7.2.3.3 (no compression), §7.2.3.4 (BFINAL set),
        // §7.2.3.5 (two blocks); §7.2.3.6: an empty message.
        let cases: [(&[u8], Inflated); 5] = [
            (&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], hello.clone()),
            (
                &[
                    0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
                ],
                hello.clone(),
            ),
            (
                &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
                hello.clone(),
            ),
            (
                &[
                    0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
                ],
                hello.clone(),
            ),
            (&[0x00], Ok(Vec::new())),
        ];
        for (payload, want) in cases {
            let mut inflater = Inflater::new(&takeover);
            assert_eq!(
                inflate_all(&mut inflater, payload, 100),
                want,
                "{payload:02x?}"
            );
            // Byte by byte, as frames may cut it.
            let mut inflater = Inflater::new(&takeover);
            let mut out = Vec::new();
            for byte in payload.chunks(1) {
                inflater.inflate(byte, &mut out, 100).unwrap();
            }
            inflater.finish(&mut out, 100).unwrap();
            assert_eq!(Ok(out), want);
        }
        // §7.2.3.2: the second "Hello" refers to the first's window.
        let first: &[u8] = &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        let second: &[u8] = &[0xf2, 0x00, 0x11, 0x00, 0x00];
        let mut inflater = Inflater::new(&takeover);
        assert_eq!(inflate_all(&mut inflater, first, 100), hello);
        assert_eq!(inflate_all(&mut inflater, second, 100), hello);
        assert!(inflater.is_allocated());
        // Without context takeover the window is gone (and freed).
        let mut inflater = Inflater::new(&params(false, true, 15));
        assert_eq!(inflate_all(&mut inflater, first, 100), hello);
        assert!(!inflater.is_allocated());
        assert_eq!(inflate_all(&mut inflater, second, 100), Err(1007));
    }

    #[test]
    fn refuses_bad_deflate_data_with_1007() {
        for payload in [&b"\xff\xff\xff"[..], b"\x06", b"\xf2\x00\x11\x00\x00"] {
            let mut inflater = Inflater::new(&params(false, false, 15));
            assert_eq!(
                inflate_all(&mut inflater, payload, 100),
                Err(1007),
                "{payload:02x?}"
            );
        }
    }

    /// Raw deflate by flate2 with a sync flush, tail stripped.
    fn reference_deflate(data: &[u8]) -> Vec<u8> {
        let mut c = Compress::new(Compression::best(), false);
        let mut out = Vec::with_capacity(data.len() + 64);
        c.compress_vec(data, &mut out, FlushCompress::Sync).unwrap();
        assert!(out.ends_with(&TAIL));
        out.truncate(out.len() - 4);
        out
    }

    #[test]
    fn a_decompression_bomb_stops_at_the_cap() {
        let bomb = reference_deflate(&vec![0; 10 << 20]);
        assert!(bomb.len() < 20_000, "{}", bomb.len());
        let max = 64 * 1024;
        let mut inflater = Inflater::new(&params(false, false, 15));
        let mut out = Vec::new();
        let err = inflater.inflate(&bomb, &mut out, max).unwrap_err();
        assert_eq!((err.code, err.reason), (1009, "message too big"));
        assert!(out.capacity() <= max + 1, "{}", out.capacity());
        // Exactly at the cap is fine.
        let at_cap = reference_deflate(&vec![7; max]);
        let mut inflater = Inflater::new(&params(false, false, 15));
        assert_eq!(inflate_all(&mut inflater, &at_cap, max), Ok(vec![7; max]));
        assert_eq!(inflate_all(&mut inflater, &at_cap, max - 1), Err(1009));
    }

    /// Bytes that do not compress: a xorshift stream.
    fn noise(len: usize, mut seed: u32) -> Vec<u8> {
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as u8
            })
            .collect()
    }

    #[test]
    fn deflater_round_trips_with_and_without_context_takeover() {
        let text: String = noise(3000, 3)
            .iter()
            .map(|b| ['a', 'é', '€', '😀', ' '][usize::from(b % 5)])
            .collect();
        for server_nct in [false, true] {
            let p = params(server_nct, false, 15);
            let mut deflater = Deflater::new(&p);
            let mut inflater = Inflater::new(&p);
            let mut sizes = Vec::new();
            for _ in 0..3 {
                let mut out = Vec::new();
                assert!(deflater.compress(text.as_bytes(), &mut out));
                assert!(!out.ends_with(&TAIL));
                assert_eq!(deflater.is_allocated(), !server_nct);
                assert_eq!(
                    inflate_all(&mut inflater, &out, 1 << 20),
                    Ok(text.clone().into())
                );
                sizes.push(out.len());
            }
            // With the window kept, a repeat costs a few bytes.
            if server_nct {
                assert_eq!(sizes[0], sizes[1]);
            } else {
                assert!(
                    sizes[1] < sizes[0] / 2 && sizes[2] < sizes[0] / 2,
                    "{sizes:?}"
                );
            }
        }
        // After a reset the next message stands alone, and the client,
        // whatever it kept, still inflates it.
        let p = params(false, false, 15);
        let (mut deflater, mut inflater) = (Deflater::new(&p), Inflater::new(&p));
        let mut out = Vec::new();
        assert!(deflater.compress(text.as_bytes(), &mut out));
        assert!(inflate_all(&mut inflater, &out, 1 << 20).is_ok());
        deflater.reset();
        let mut again = Vec::new();
        assert!(deflater.compress(text.as_bytes(), &mut again));
        assert_eq!(again.len(), out.len());
        assert_eq!(inflate_all(&mut inflater, &again, 1 << 20), Ok(text.into()));
    }

    #[test]
    fn deflater_keeps_to_the_window_it_was_given() {
        // A 600-byte block twice: the repeat is 600 bytes back, out of
        // reach of a 512-byte window, in reach of a 1 KiB one.
        let block = noise(600, 1);
        let data = [&block[..], &block[..]].concat();
        let size = |bits| {
            let mut out = Vec::new();
            assert!(Deflater::new(&params(false, false, bits)).compress(&data, &mut out));
            let mut inflater = Inflater::new(&params(false, false, 15));
            assert_eq!(inflate_all(&mut inflater, &out, 4096), Ok(data.clone()));
            out.len()
        };
        assert!(size(9) > 1150, "{}", size(9));
        assert!(size(10) < 700, "{}", size(10));
        // 8 bits: zlib has no such window; messages go out uncompressed.
        assert!(!Deflater::new(&params(false, false, 8)).compresses(1000));
        assert!(Deflater::new(&params(false, false, 9)).compresses(1000));
        assert!(!Deflater::new(&params(false, false, 15)).compresses(MIN_COMPRESSED_LEN - 1));
    }

    #[test]
    fn an_empty_message_deflates_to_one_zero_byte() {
        // §7.2.3.6.
        let mut out = Vec::new();
        assert!(Deflater::new(&params(false, false, 15)).compress(b"", &mut out));
        assert_eq!(out, [0x00]);
        // Incompressible data grows by a few bytes only.
        let data = noise(100_000, 7);
        let mut out = Vec::new();
        assert!(Deflater::new(&params(false, false, 15)).compress(&data, &mut out));
        assert!(
            out.len() < data.len() + data.len() / 256 + 64,
            "{}",
            out.len()
        );
    }
}
