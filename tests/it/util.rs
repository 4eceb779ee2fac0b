//! What the tests of the library use: the shared harness
//! (`tests/common/`) and a few helpers of their own.

use std::io::{Read, Write};
use std::path::Path;

pub use crate::common::client::Client;
pub use crate::common::library::{TestServer, run_loop, serve, serve_events, serve_loop, serve_on};
pub use crate::common::{IO_TIMEOUT, find, wait_until};

/// A plain `ureq` agent: no proxy, errors for 4xx/5xx turned off, ureq's
/// default of up to 10 redirects followed.
pub fn agent() -> ureq::Agent {
    crate::common::agent_following(10)
}

/// Whether the host can listen on and connect to `::1`.
pub fn has_ipv6() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

/// Writes `len` bytes of a deterministic pattern to `path`, in pieces:
/// a pseudo-random 64 KiB block, stamped with its index so no two blocks
/// are alike.
pub fn write_pattern_file(path: &Path, len: usize) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut state: u32 = 0x1234_5678;
    let mut block = vec![0u8; 64 * 1024];
    for b in block.iter_mut() {
        // xorshift: cheap bytes that are not all alike.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        *b = state as u8;
    }
    let mut left = len;
    let mut index = 0u64;
    while left > 0 {
        block[..8].copy_from_slice(&index.to_le_bytes());
        let n = left.min(block.len());
        file.write_all(&block[..n]).unwrap();
        left -= n;
        index += 1;
    }
    file.flush().unwrap();
}

/// A digest of everything `reader` yields, and its length. (SipHash from
/// std: compiled optimised even in test builds, so 64 MiB hash quickly;
/// `Hasher::write` is a stream, so read sizes do not matter.)
pub fn digest(reader: &mut impl Read) -> (u64, u64) {
    use std::hash::Hasher;
    #[allow(deprecated)] // SipHasher is keyed and stable: what a checksum needs.
    let mut hasher = std::hash::SipHasher::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        total += n as u64;
        hasher.write(&buf[..n]);
    }
    (total, hasher.finish())
}
