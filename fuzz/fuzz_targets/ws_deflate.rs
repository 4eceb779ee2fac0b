//! permessage-deflate (RFC 7692): `uhttp::ws::deflate::negotiate` on
//! arbitrary header values, and `uhttp::ws::Receiver::with_deflate` on
//! arbitrary and on compressed frames.
//!
//! Three modes, chosen by the seed:
//! - negotiation: the payload, cut at newlines into several header
//!   values; no panic, and an accepted offer's response is itself an
//!   offer that negotiates to the same parameters;
//! - inflation: arbitrary bytes fed (whole and in pieces) to a receiver
//!   with permessage-deflate; the same events either way, nothing over
//!   the cap, errors carry 1002, 1007 or 1009;
//! - round trip: messages cut from the payload, compressed by
//!   `Deflater` with the parameters the seed picks, framed with RSV1
//!   (fragmented anywhere), must come out of the receiver exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uhttp::ws::deflate::{Deflater, Params, negotiate};
use uhttp::ws::{Message, ProtocolError, Receiver};
use uhttp_fuzz::{Rng, masked_frame, pieces, split_seed};

fuzz_target!(|data: &[u8]| {
    let (seed, payload) = split_seed(data);
    match seed % 3 {
        0 => negotiation(payload),
        1 => inflation(seed, payload),
        _ => round_trip(seed, payload),
    }
});

fn negotiation(payload: &[u8]) {
    let values: Vec<&[u8]> = payload.split(|&b| b == b'\n').collect();
    if let Some(params) = negotiate(values.iter().copied()) {
        let response = params.response();
        assert!(response.is_ascii());
        assert_eq!(negotiate([response.as_bytes()]), Some(params));
        assert!((8..=15).contains(&params.server_max_window_bits));
    }
}

/// Parameters from two bits of the seed and a window.
fn params(seed: u16) -> Params {
    let bits = 8 + (seed >> 4) % 8;
    let mut offer = format!("permessage-deflate; server_max_window_bits={bits}");
    if seed & 0x100 != 0 {
        offer.push_str("; server_no_context_takeover");
    }
    if seed & 0x200 != 0 {
        offer.push_str("; client_no_context_takeover");
    }
    // unwrap: the offer is well formed.
    negotiate([offer.as_bytes()]).unwrap()
}

type Event = Result<Message, ProtocolError>;

fn receive(cap: usize, params: &Params, reads: &[&[u8]]) -> Vec<Event> {
    let mut rx = Receiver::with_deflate(cap, params);
    let mut events = Vec::new();
    for read in reads {
        let mut rest = *read;
        loop {
            let (n, event) = rx.feed(rest);
            assert!(n <= rest.len());
            rest = &rest[n..];
            let Some(event) = event else {
                assert!(rest.is_empty() || rx.is_closed());
                break;
            };
            events.push(event);
        }
        if rx.is_closed() {
            break;
        }
    }
    events
}

fn inflation(seed: u16, payload: &[u8]) {
    let cap = usize::from(seed >> 6);
    let p = params(seed);
    let whole = receive(cap, &p, &[payload]);
    let split = receive(cap, &p, &pieces(payload, seed));
    assert_eq!(whole, split);
    for event in &whole {
        match event {
            Ok(Message::Text(t)) => assert!(t.len() <= cap),
            Ok(Message::Binary(b)) => assert!(b.len() <= cap),
            Ok(_) => {}
            Err(e) => assert!(matches!(e.code, 1002 | 1007 | 1009), "{e:?}"),
        }
    }
}

fn round_trip(seed: u16, payload: &[u8]) {
    let p = params(seed);
    // The client's side of the same parameters: its compressor is the
    // server's, mirrored (context takeover as the client promised).
    let mirrored = {
        let mut offer = format!(
            "permessage-deflate; server_max_window_bits={}",
            p.server_max_window_bits.max(9)
        );
        if p.client_no_context_takeover {
            offer.push_str("; server_no_context_takeover");
        }
        // unwrap: the offer is well formed.
        negotiate([offer.as_bytes()]).unwrap()
    };
    let mut deflater = Deflater::new(&mirrored);
    let mut rng = Rng(u32::from(seed) | 0x8_0000);
    let mut wire = Vec::new();
    let mut want = Vec::new();
    let mut rest = payload;
    while !rest.is_empty() {
        let n = (1 + rng.draw() as usize % 300).min(rest.len());
        let (body, tail) = rest.split_at(n);
        rest = tail;
        let text = std::str::from_utf8(body).ok();
        let opcode = if text.is_some() { 0x1 } else { 0x2 };
        let mut z = Vec::new();
        assert!(deflater.compress(body, &mut z));
        // Fragment anywhere; RSV1 on the first frame only.
        let mut left = &z[..];
        let mut b0 = 0x40 | opcode;
        loop {
            let k = (rng.draw() as usize % (left.len() + 1)).min(left.len());
            let (piece, after) = left.split_at(k);
            left = after;
            let fin = left.is_empty();
            masked_frame(
                &mut wire,
                b0 | if fin { 0x80 } else { 0 },
                piece,
                rng.draw().to_le_bytes(),
                false,
            );
            b0 = 0;
            if fin {
                break;
            }
        }
        want.push(Ok(match text {
            Some(t) => Message::Text(t.to_owned()),
            None => Message::Binary(body.to_vec()),
        }));
    }
    assert_eq!(receive(300, &p, &[&wire]), want);
    assert_eq!(receive(300, &p, &pieces(&wire, seed)), want);
}
