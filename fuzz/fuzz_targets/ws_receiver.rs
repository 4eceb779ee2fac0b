//! `uhttp::ws::Receiver`: client bytes to messages (frames, masking,
//! fragments, control frames, UTF-8, Close payloads, the size cap).
//!
//! Two modes, chosen by the seed:
//! - raw: arbitrary bytes, fed whole and in pieces: the same messages and
//!   the same error either way; no message over the cap, no more payload
//!   out than bytes in, errors carry 1002, 1007 or 1009;
//! - round trip: the payload becomes a sequence of masked, fragmented
//!   messages with pings in between, which must come out exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uhttp::ws::{Message, ProtocolError, Receiver};
use uhttp_fuzz::{Rng, masked_frame, pieces, split_seed};

fuzz_target!(|data: &[u8]| {
    let (seed, payload) = split_seed(data);
    if seed & 0x8000 == 0 {
        let cap = usize::from(seed & 0x7FF);
        let whole = receive(cap, &[payload]);
        let split = receive(cap, &pieces(payload, seed));
        assert_eq!(whole, split);
        let out: usize = whole.iter().map(payload_len).sum();
        assert!(out <= payload.len());
        for event in &whole {
            match event {
                Ok(message) => assert!(payload_len(event) <= cap || is_control(message)),
                Err(e) => assert!(matches!(e.code, 1002 | 1007 | 1009), "{e:?}"),
            }
        }
    } else {
        round_trip(seed, payload);
    }
});

type Event = Result<Message, ProtocolError>;

/// Feeds each read as the connection does and collects what comes out.
fn receive(cap: usize, reads: &[&[u8]]) -> Vec<Event> {
    let mut rx = Receiver::new(cap);
    let mut events = Vec::new();
    for read in reads {
        let mut rest = *read;
        loop {
            let (n, event) = rx.feed(rest);
            assert!(n <= rest.len());
            rest = &rest[n..];
            let Some(event) = event else {
                // None: everything consumed, or closed.
                assert!(rest.is_empty() || rx.is_closed());
                break;
            };
            let ends = matches!(event, Err(_) | Ok(Message::Close(_)));
            events.push(event);
            assert_eq!(ends, rx.is_closed());
        }
        if rx.is_closed() {
            assert_eq!(rx.feed(b"\x81\x80\0\0\0\0"), (0, None));
            break;
        }
    }
    events
}

fn payload_len(event: &Event) -> usize {
    match event {
        Ok(Message::Text(s)) => s.len(),
        Ok(Message::Binary(b) | Message::Ping(b) | Message::Pong(b)) => b.len(),
        Ok(Message::Close(c)) => c.as_ref().map_or(0, |(_, reason)| 2 + reason.len()),
        Err(_) => 0,
    }
}

fn is_control(message: &Message) -> bool {
    matches!(
        message,
        Message::Ping(_) | Message::Pong(_) | Message::Close(_)
    )
}

/// Messages cut from `payload` (text when it is UTF-8, else binary),
/// each sent in fragments with a ping between some of them; then a Close.
fn round_trip(seed: u16, payload: &[u8]) {
    let mut rng = Rng(u32::from(seed) | 0x4_0000);
    let mut wire = Vec::new();
    let mut want = Vec::new();
    let mut rest = payload;
    while !rest.is_empty() {
        let n = (1 + rng.draw() as usize % 200).min(rest.len());
        let (body, tail) = rest.split_at(n);
        rest = tail;
        let text = std::str::from_utf8(body).ok();
        let mut opcode = if text.is_some() { 1 } else { 2 };
        // Fragment anywhere, even inside a character.
        let mut left = body;
        loop {
            let k = (rng.draw() as usize % (left.len() + 1)).min(left.len());
            let (piece, after) = left.split_at(k);
            left = after;
            let fin = left.is_empty();
            let key = rng.draw().to_le_bytes();
            masked_frame(
                &mut wire,
                if fin { 0x80 } else { 0 } | opcode,
                piece,
                key,
                rng.one_in(8),
            );
            opcode = 0;
            if fin {
                break;
            }
            if rng.one_in(3) {
                let ping = &body[..body.len().min(125)];
                masked_frame(&mut wire, 0x89, ping, key, false);
                want.push(Ok(Message::Ping(ping.to_vec())));
            }
        }
        want.push(Ok(match text {
            Some(t) => Message::Text(t.to_owned()),
            None => Message::Binary(body.to_vec()),
        }));
    }
    masked_frame(
        &mut wire,
        0x88,
        b"\x03\xe8bye \xc3\xa9",
        [1, 2, 3, 4],
        false,
    );
    want.push(Ok(Message::Close(Some((1000, "bye é".to_owned())))));

    assert_eq!(receive(256, &[&wire]), want);
    assert_eq!(receive(256, &pieces(&wire, seed)), want);
}
