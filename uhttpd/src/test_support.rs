//! Inputs for the "nothing from the network panics" unit tests: a valid
//! value with multi-byte UTF-8 or invalid bytes put at every offset.

/// Valid UTF-8 of 2, 3 and 4 bytes.
pub const MULTIBYTE: [&str; 3] = ["é", "€", "😀"];
/// Bytes that are not UTF-8: one that never is, and a lone lead byte.
pub const INVALID: [&[u8]; 2] = [b"\xff", b"\xc3"];
/// What a non-UTF-8 byte of a header value becomes in the library's
/// `&str` view of it.
pub const REPLACEMENT: &str = "\u{fffd}";

/// `base` with each of [`MULTIBYTE`] and [`INVALID`] inserted at each
/// offset from 0 to `base.len()`: `(offset, input)`.
pub fn bytes_at_every_offset(base: &[u8]) -> Vec<(usize, Vec<u8>)> {
    let inserts = MULTIBYTE.iter().map(|s| s.as_bytes()).chain(INVALID);
    let mut out = Vec::new();
    for insert in inserts {
        for at in 0..=base.len() {
            let mut input = base[..at].to_vec();
            input.extend_from_slice(insert);
            input.extend_from_slice(&base[at..]);
            out.push((at, input));
        }
    }
    out
}

/// `base` (ASCII) with each of [`MULTIBYTE`] and [`REPLACEMENT`] inserted
/// at each offset from 0 to `base.len()`: `(offset, input)`.
pub fn str_at_every_offset(base: &str) -> Vec<(usize, String)> {
    assert!(
        base.is_ascii(),
        "every offset of {base:?} must be a char boundary"
    );
    let mut out = Vec::new();
    for insert in MULTIBYTE.into_iter().chain([REPLACEMENT]) {
        for at in 0..=base.len() {
            out.push((at, format!("{}{insert}{}", &base[..at], &base[at..])));
        }
    }
    out
}
