//! `uhttp::ws::FrameHeader::parse` (RFC 6455 §5.2) on arbitrary bytes.
//!
//! Invariants: no panic; a header's length is what its second byte says
//! and never more than the input; a prefix of a header is `Ok(None)` or
//! the same answer; a parsed header encodes and parses back to
//! itself; refusals match the rules checked independently here.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uhttp::ws::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};

fuzz_target!(|data: &[u8]| {
    let parsed = FrameHeader::parse(data);
    for cut in 0..data.len().min(MAX_HEADER_LEN) {
        let prefix = FrameHeader::parse(&data[..cut]);
        assert!(
            prefix == Ok(None) || prefix == parsed,
            "prefix {cut}: {prefix:?}, all: {parsed:?}"
        );
    }
    match parsed {
        Err(e) => {
            assert_eq!(e.code, 1002);
            assert!(!e.reason.is_empty() && e.close_payload().len() <= MAX_CONTROL_PAYLOAD);
            assert!(reference_refuses(data), "refused {data:02x?}: {e}");
        }
        Ok(None) => {
            assert!(data.len() < 2 || data.len() < FrameHeader::len_from_second_byte(data[1]));
            assert!(!reference_refuses(data));
        }
        Ok(Some((header, len))) => {
            assert!(len <= data.len() && len <= MAX_HEADER_LEN);
            assert_eq!(len, FrameHeader::len_from_second_byte(data[1]));
            assert!(!reference_refuses(data));
            assert_eq!(header.opcode.as_u8(), data[0] & 0x0F);
            assert_eq!(header.fin, data[0] & 0x80 != 0);
            assert_eq!(header.mask.is_some(), data[1] & 0x80 != 0);
            if let Some(key) = header.mask {
                assert_eq!(key[..], data[len - 4..len]);
            }
            let mut encoded = Vec::new();
            header.encode(&mut encoded);
            assert_eq!(
                FrameHeader::parse(&encoded),
                Ok(Some((header, encoded.len())))
            );
            // The shortest length encoding is never longer than the one sent.
            assert!(encoded.len() <= len);
        }
    }
});

/// The §5.2 / §5.5 rules as a plain reading of the bytes: whether they
/// break one, as far as they go.
fn reference_refuses(data: &[u8]) -> bool {
    let Some(&b0) = data.first() else {
        return false;
    };
    let opcode = b0 & 0x0F;
    if b0 & 0x70 != 0 || !matches!(opcode, 0 | 1 | 2 | 8 | 9 | 10) {
        return true;
    }
    let control = opcode >= 8;
    if control && b0 & 0x80 == 0 {
        return true;
    }
    let Some(&b1) = data.get(1) else {
        return false;
    };
    if control && b1 & 0x7F > 125 {
        return true;
    }
    // The top bit of a 64-bit length, once the whole header is in.
    b1 & 0x7F == 127 && data.len() >= FrameHeader::len_from_second_byte(b1) && data[2] & 0x80 != 0
}
