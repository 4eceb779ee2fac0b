//! `uhttp::proxy_protocol::parse` on arbitrary bytes.
//!
//! Invariants: no panic; a whole header is no longer than the bytes nor
//! than `MAX_HEADER_LENGTH`, and its answer does not depend on the bytes
//! after it; every prefix shorter than a header is `Partial`; a prefix of
//! `Partial` bytes is `Partial`; a refusal stays a refusal with more
//! bytes, and a prefix of refused bytes is `Partial` or refused, never
//! whole; waiting never goes past `MAX_HEADER_LENGTH` bytes; bytes that
//! begin with neither signature are refused as missing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uhttp::proxy_protocol::{HeaderError, MAX_HEADER_LENGTH, Parsed, parse};
use uhttp_fuzz::split_seed;

/// What an answer says, comparable (the error's text names its kind).
fn summary(buf: &[u8]) -> Result<Parsed, String> {
    parse(buf).map_err(|e| e.to_string())
}

fuzz_target!(|data: &[u8]| {
    let (seed, buf) = split_seed(data);
    let full = summary(buf);
    let cut = usize::from(seed) % (buf.len() + 1);
    let prefix = summary(&buf[..cut]);
    match &full {
        Ok(Parsed::Complete(header)) => {
            assert!(header.len <= buf.len() && header.len <= MAX_HEADER_LENGTH);
            assert!(header.version == 1 || header.version == 2);
            // The bytes after the header are the client's.
            assert_eq!(summary(&buf[..header.len]), full);
            if cut < header.len {
                assert_eq!(prefix, Ok(Parsed::Partial), "cut at {cut}");
            } else {
                assert_eq!(prefix, full, "cut at {cut}");
            }
        }
        Ok(Parsed::Partial) => {
            assert!(buf.len() < MAX_HEADER_LENGTH);
            assert_eq!(prefix, Ok(Parsed::Partial), "cut at {cut}");
        }
        Err(_) => {
            assert!(!matches!(prefix, Ok(Parsed::Complete(_))), "cut at {cut}");
            let mut more = buf.to_vec();
            more.extend_from_slice(b"\r\n\r\n");
            assert!(summary(&more).is_err());
        }
    }
    let v1 = b"PROXY ";
    let v2 = b"\r\n\r\n\0\r\nQUIT\n";
    let n = buf.len();
    let signed =
        buf.get(..n.min(6)) == v1.get(..n.min(6)) || buf.get(..n.min(12)) == v2.get(..n.min(12));
    if !signed {
        assert!(matches!(parse(buf), Err(HeaderError::Missing)));
    }
});
