//! `uhttp::h1::body::BodyDecoder`: `Content-Length` and chunked bodies.
//!
//! Two modes, chosen by the seed:
//! - raw: arbitrary bytes decoded as a chunked (or fixed-length) body,
//!   whole and in pieces; both must give the same data, the same end and
//!   the same refusal (always a 400), and never more data than input;
//! - round trip: the payload is cut into chunks, encoded with chunk
//!   extensions and trailers as a client may send them, and must decode
//!   to exactly the payload (the reference is the encoding itself).
#![no_main]

use libfuzzer_sys::fuzz_target;
use uhttp::h1::body::BodyDecoder;
use uhttp_fuzz::{Rng, pieces, split_seed};

fuzz_target!(|data: &[u8]| {
    let (seed, payload) = split_seed(data);
    match seed >> 14 {
        0 => {
            let whole = decode(BodyDecoder::chunked(), &[payload]);
            let split = decode(BodyDecoder::chunked(), &pieces(payload, seed));
            assert_eq!(whole, split);
        }
        1 => {
            // A zero length is never decoded: the head says `BodyKind::None`.
            let len = 1 + u64::from(seed & 0x3FF);
            let whole = decode(BodyDecoder::length(len), &[payload]);
            let split = decode(BodyDecoder::length(len), &pieces(payload, seed));
            assert_eq!(whole, split);
            let want = &payload[..payload.len().min(len as usize)];
            assert_eq!(whole.data, want);
            assert_eq!(whole.done, payload.len() as u64 >= len);
        }
        _ => round_trip(seed, payload),
    }
});

/// What a decoder made of a whole input.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    data: Vec<u8>,
    done: bool,
    /// Bytes used up when the body ended (the rest is the next request).
    consumed: usize,
    refused: Option<u16>,
}

/// Feeds `reads` as the connection does: decode until a step consumes
/// nothing, keep what it did not consume for the next read.
fn decode(mut decoder: BodyDecoder, reads: &[&[u8]]) -> Outcome {
    let mut out = Outcome {
        data: Vec::new(),
        done: false,
        consumed: 0,
        refused: None,
    };
    let mut pending = Vec::new();
    let total: usize = reads.iter().map(|r| r.len()).sum();
    for read in reads {
        pending.extend_from_slice(read);
        let mut pos = 0;
        while pos < pending.len() {
            let input = &pending[pos..];
            match decoder.decode(input) {
                Err(e) => {
                    assert_eq!(e.status(), 400, "{e:?}");
                    out.refused = Some(e.status());
                    // Where in the input the fault was seen depends on
                    // the split: not compared.
                    out.consumed = 0;
                    return out;
                }
                Ok(step) => {
                    assert!(step.consumed <= input.len());
                    assert!(step.data.len() <= step.consumed);
                    // The data is a slice of what was consumed.
                    if !step.data.is_empty() {
                        let at = (step.data.as_ptr() as usize).checked_sub(input.as_ptr() as usize);
                        assert!(at.is_some_and(|at| at + step.data.len() <= step.consumed));
                    }
                    assert_eq!(step.done, decoder.is_done());
                    out.data.extend_from_slice(step.data);
                    pos += step.consumed;
                    out.consumed += step.consumed;
                    if step.done {
                        out.done = true;
                        assert!(out.data.len() <= out.consumed && out.consumed <= total);
                        return out;
                    }
                    if step.consumed == 0 {
                        break;
                    }
                }
            }
        }
        pending.drain(..pos);
    }
    assert!(out.data.len() <= total);
    out
}

/// Encodes `payload` as a chunked body, with chunk sizes, extensions and
/// trailers drawn from `seed`, and decodes it back.
fn round_trip(seed: u16, payload: &[u8]) {
    let mut rng = Rng(u32::from(seed) | 0x2_0000);
    let mut body = Vec::new();
    let mut rest = payload;
    while !rest.is_empty() {
        let n = (1 + rng.draw() as usize % 300).min(rest.len());
        let (chunk, tail) = rest.split_at(n);
        let size = match rng.draw() % 3 {
            0 => format!("{n:x}"),
            1 => format!("{n:X}"),
            _ => format!("{n:08x}"),
        };
        body.extend_from_slice(size.as_bytes());
        if rng.one_in(4) {
            body.extend_from_slice(b";name=\"va;lue\"; x");
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(chunk);
        body.extend_from_slice(b"\r\n");
        rest = tail;
    }
    body.extend_from_slice(b"0\r\n");
    if rng.one_in(2) {
        body.extend_from_slice(b"Trailer-One: 1\r\nX-\xc3\xa9: \xff\r\n");
    }
    body.extend_from_slice(b"\r\n");
    let end = body.len();
    body.extend_from_slice(b"GET /next HTTP/1.1\r\n");

    for reads in [vec![&body[..]], pieces(&body, seed)] {
        let got = decode(BodyDecoder::chunked(), &reads);
        assert_eq!(got.refused, None);
        assert!(got.done);
        assert_eq!(got.data, payload);
        assert_eq!(got.consumed, end);
    }
}
