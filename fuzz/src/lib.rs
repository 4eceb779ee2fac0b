//! Shared by the fuzz targets: how an input is cut into pieces, the
//! statuses a refusal may carry, and the `uhttpd` modules under test.
//!
//! The program's parsers live in the binary crate, which a fuzz target
//! cannot depend on. They are self-contained (std and crates only; the
//! one `crate::` import, `percent`, is compiled here too), so they are compiled here a second time, from the
//! same files, with `#[path]`. See `README.md`.

pub mod archive;

#[path = "../../uhttpd/src/multipart.rs"]
pub mod multipart;

#[path = "../../uhttpd/src/origin.rs"]
pub mod origin;

#[path = "../../uhttpd/src/permissions.rs"]
pub mod permissions;

#[path = "../../uhttpd/src/resumable/headers.rs"]
pub mod resumable_headers;

/// Used by `resolve` and `permissions` (as `crate::percent`, as in the program).
#[path = "../../uhttpd/src/percent.rs"]
pub mod percent;

pub mod static_files;

/// Whether `status` may answer a refused request: a 4xx, or the two 5xx
/// that name what the server does not do (501 method or coding, 505
/// version).
pub fn is_refusal_status(status: u16) -> bool {
    (400..500).contains(&status) || status == 501 || status == 505
}

/// Splits an input into a seed (its first two bytes) and the payload.
pub fn split_seed(data: &[u8]) -> (u16, &[u8]) {
    match data {
        [a, b, rest @ ..] => (u16::from_le_bytes([*a, *b]), rest),
        _ => (0, data),
    }
}

/// Cuts `data` into consecutive pieces whose sizes come from `seed`: one
/// byte at a time, small pieces, or large ones, as a socket might deliver
/// them. The pieces join back into `data`.
pub fn pieces(data: &[u8], seed: u16) -> Vec<&[u8]> {
    let max = match seed & 3 {
        0 => 1,
        1 => 7,
        2 => 64,
        _ => 1024,
    };
    let mut rng = Rng(u32::from(seed) | 0x1_0000);
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let n = (1 + rng.draw() as usize % max).min(rest.len());
        let (piece, tail) = rest.split_at(n);
        out.push(piece);
        rest = tail;
    }
    out
}

/// A tiny xorshift generator: deterministic, so a crash reproduces.
pub struct Rng(pub u32);

impl Rng {
    /// The next value.
    pub fn draw(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }

    /// True one time in `n`, about.
    pub fn one_in(&mut self, n: u32) -> bool {
        self.draw().is_multiple_of(n)
    }
}

/// Appends a masked client WebSocket frame with first byte `b0` (FIN, RSV,
/// opcode), its length in the shortest form or, with `long`, always in
/// the 64-bit form (non-minimal lengths are allowed on receipt).
pub fn masked_frame(out: &mut Vec<u8>, b0: u8, payload: &[u8], key: [u8; 4], long: bool) {
    out.push(b0);
    let len = payload.len();
    if long || len > 0xFFFF {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    } else if len <= 125 {
        out.push(0x80 | len as u8);
    } else {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    }
    out.extend_from_slice(&key);
    let start = out.len();
    out.extend_from_slice(payload);
    uhttp::ws::frame::apply_mask(&mut out[start..], key, 0);
}
