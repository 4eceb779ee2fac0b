//! `Range` evaluation in `uhttpd` (`static_files/range.rs`).
//!
//! The seed picks the file length (small, near a power of two, or huge);
//! the rest is the header. Invariants: no panic, no overflow; every range
//! lies inside the file, ranges are sorted, disjoint, not adjacent and at
//! most `MAX_RANGES`; `Unsatisfiable` only for a non-empty file; for a
//! small file, the bytes selected are exactly those a plain reading of the
//! header selects; the `multipart/byteranges` layout adds up to its
//! announced length and reads only inside the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uhttp_fuzz::split_seed;
use uhttp_fuzz::static_files::range::{
    MAX_RANGES, Part, RangeOutcome, content_range, multipart_parts, parse_range,
};

fuzz_target!(|data: &[u8]| {
    let (seed, header) = split_seed(data);
    let header = String::from_utf8_lossy(header);
    let file_len = match seed >> 14 {
        0 => u64::from(seed & 0x3F),
        1 => 1u64 << (seed & 0x3F),
        2 => (1u64 << (seed & 0x3F)).wrapping_sub(1),
        _ => u64::MAX - u64::from(seed & 0xFF),
    };
    let outcome = parse_range(&header, file_len);
    match &outcome {
        RangeOutcome::Full => {}
        RangeOutcome::Unsatisfiable => assert!(file_len > 0),
        RangeOutcome::Partial(ranges) => {
            assert!(!ranges.is_empty() && ranges.len() <= MAX_RANGES);
            for r in ranges {
                assert!(r.start <= r.end_inclusive && r.end_inclusive < file_len);
                assert_eq!(r.len(), r.end_inclusive - r.start + 1);
                let _ = content_range(r, file_len);
            }
            for pair in ranges.windows(2) {
                assert!(pair[0].end_inclusive + 1 < pair[1].start, "{pair:?}");
            }
            let (parts, total) = multipart_parts(ranges, file_len, "text/plain", "b0undary");
            let mut sum = 0u64;
            for part in &parts {
                match part {
                    Part::Bytes(b) => sum = sum.saturating_add(b.len() as u64),
                    Part::File { offset, len } => {
                        assert!(*len > 0 && offset.checked_add(*len).is_some());
                        assert!(offset + len <= file_len);
                        sum = sum.saturating_add(*len);
                    }
                }
            }
            assert_eq!(sum, total);
        }
    }
    if file_len <= 64 {
        assert_eq!(selected(&outcome, file_len), reference(&header, file_len));
    }
});

/// The bytes an outcome selects, as a bit set: `None` for the whole file
/// (the header ignored), `Some(0)` for none.
fn selected(outcome: &RangeOutcome, file_len: u64) -> Option<u64> {
    match outcome {
        RangeOutcome::Full => None,
        RangeOutcome::Unsatisfiable => Some(0),
        RangeOutcome::Partial(ranges) => {
            let mut bits = 0u64;
            for r in ranges {
                for b in r.start..=r.end_inclusive.min(file_len - 1) {
                    bits |= 1 << b;
                }
            }
            Some(bits)
        }
    }
}

/// RFC 9110 §14.1.2 read plainly, for files of at most 64 bytes: the same
/// answer as a bit set (`None`: ignore the header), without the limits on
/// the number of ranges, which are checked separately.
fn reference(header: &str, file_len: u64) -> Option<u64> {
    let (unit, set) = header.trim().split_once('=')?;
    if !unit.eq_ignore_ascii_case("bytes") {
        return None;
    }
    let specs: Vec<&str> = set
        .split(',')
        .map(|s| s.trim_matches([' ', '\t']))
        .filter(|s| !s.is_empty())
        .collect();
    if specs.is_empty() || specs.len() > 32 {
        return None;
    }
    // Numbers past u64::MAX count as u64::MAX, as in the parser: past
    // the end of any file either way.
    let number = |s: &str| -> Option<u128> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let max = u128::from(u64::MAX);
        Some(s.parse::<u128>().map_or(max, |n| n.min(max)))
    };
    let len = u128::from(file_len);
    let mut bits = 0u64;
    for spec in specs {
        let (first, last) = spec.split_once('-')?;
        let (from, to) = if first.is_empty() {
            let suffix = number(last)?;
            if suffix == 0 {
                continue;
            }
            (len.saturating_sub(suffix), len.saturating_sub(1))
        } else {
            let from = number(first)?;
            let to = if last.is_empty() {
                u128::MAX
            } else {
                number(last)?
            };
            if to < from {
                return None;
            }
            (from, to.min(len.saturating_sub(1)))
        };
        if file_len > 0 && from < len {
            for b in from..=to {
                bits |= 1 << b;
            }
        }
    }
    if file_len == 0 {
        return None;
    }
    // More than 16 ranges left after merging: the whole file.
    let runs = (0..64).filter(|&b| bits >> b & 1 == 1 && (b == 0 || bits >> (b - 1) & 1 == 0));
    if runs.count() > MAX_RANGES {
        return None;
    }
    Some(bits)
}
