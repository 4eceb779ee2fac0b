//! The request path end to end, sans IO: head and body bytes (pipelined
//! requests too) arriving in pieces, through `parse_head` and
//! `BodyDecoder` the way `conn/reading.rs` drives them.
//!
//! Invariants: no panic; the requests, bodies and refusal are the same
//! however the bytes are split (compared with everything at once); a body
//! is never longer than the input nor than its limit; a refusal is a 4xx
//! (or 501 / 505).
#![no_main]

use libfuzzer_sys::fuzz_target;
use uhttp::h1::body::BodyDecoder;
use uhttp::h1::head::{BodyKind, Parsed, parse_head};
use uhttp_fuzz::{is_refusal_status, pieces, split_seed};

/// `Config::default().max_headers_length`.
const MAX_HEAD: usize = 8 * 1024;
/// Small, so that the 413 path is reached.
const MAX_BODY: u64 = 4096;

fuzz_target!(|data: &[u8]| {
    let (seed, input) = split_seed(data);
    let whole = Connection::run(&[input]);
    let split = Connection::run(&pieces(input, seed));
    assert_eq!(whole, split);
    let body_bytes: usize = whole.requests.iter().map(|r| r.body.len()).sum();
    assert!(body_bytes <= input.len());
    if let Some(status) = whole.refused {
        assert!(is_refusal_status(status), "{status}");
    }
});

/// One request as the application would see it.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    method: &'static str,
    target: String,
    host: Option<String>,
    keep_alive: bool,
    body: Vec<u8>,
}

/// Everything one connection produced.
#[derive(Debug, Default, PartialEq, Eq)]
struct Transcript {
    requests: Vec<Request>,
    /// The status the connection was closed with, if refused.
    refused: Option<u16>,
    /// Bytes left over at the end (an incomplete head or body).
    pending: usize,
}

enum Phase {
    Head,
    Body { req: Request, decoder: BodyDecoder },
}

/// The connection's receive side: a buffer, a phase, a transcript.
struct Connection {
    rx: Vec<u8>,
    phase: Phase,
    out: Transcript,
}

impl Connection {
    fn run(reads: &[&[u8]]) -> Transcript {
        let mut conn = Connection {
            rx: Vec::new(),
            phase: Phase::Head,
            out: Transcript::default(),
        };
        for read in reads {
            conn.rx.extend_from_slice(read);
            while conn.step() {}
            if conn.out.refused.is_some() {
                break;
            }
        }
        // After a refusal the rest is never read: how much of it had
        // arrived depends on the split.
        if conn.out.refused.is_none() {
            conn.out.pending = conn.rx.len();
        }
        conn.out
    }

    /// One transition; whether to try another one on the same bytes.
    fn step(&mut self) -> bool {
        if self.out.refused.is_some() || self.rx.is_empty() {
            return false;
        }
        match &mut self.phase {
            Phase::Head => match parse_head(&self.rx, MAX_HEAD) {
                Ok(Parsed::Partial) => false,
                Err(e) => self.refuse(e.status()),
                Ok(Parsed::Complete(head, len)) => {
                    assert!(len <= self.rx.len() && len > 0);
                    self.rx.drain(..len);
                    let req = Request {
                        method: head.method,
                        target: head.target().to_owned(),
                        host: head.host().map(str::to_owned),
                        keep_alive: head.keep_alive,
                        body: Vec::new(),
                    };
                    let decoder = match head.body {
                        BodyKind::None => {
                            self.out.requests.push(req);
                            return true;
                        }
                        BodyKind::Length(n) if n > MAX_BODY => return self.refuse(413),
                        BodyKind::Length(n) => BodyDecoder::length(n),
                        BodyKind::Chunked => BodyDecoder::chunked(),
                    };
                    self.phase = Phase::Body { req, decoder };
                    true
                }
            },
            Phase::Body { req, decoder } => {
                let mut pos = 0;
                let mut done = false;
                while pos < self.rx.len() {
                    let step = match decoder.decode(&self.rx[pos..]) {
                        Ok(step) => step,
                        Err(e) => return self.refuse(e.status()),
                    };
                    pos += step.consumed;
                    req.body.extend_from_slice(step.data);
                    if req.body.len() as u64 > MAX_BODY {
                        return self.refuse(413);
                    }
                    if step.done {
                        done = true;
                        break;
                    }
                    if step.consumed == 0 {
                        break;
                    }
                }
                self.rx.drain(..pos);
                if done {
                    let Phase::Body { req, .. } = std::mem::replace(&mut self.phase, Phase::Head)
                    else {
                        unreachable!("in Phase::Body");
                    };
                    self.out.requests.push(req);
                    return true;
                }
                false
            }
        }
    }

    fn refuse(&mut self, status: u16) -> bool {
        self.out.refused = Some(status);
        false
    }
}
