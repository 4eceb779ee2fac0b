//! Byte ranges (RFC 9110 §14): which part of a file a `Range` header asks
//! for, the `Content-Range` values, and the layout of a
//! `multipart/byteranges` body (§14.6) as literal bytes and file slices so
//! it can be streamed from disk.
//!
//! Against amplification (CVE-2011-3192), overlapping and adjacent ranges
//! are merged, and a header listing more than [`MAX_LISTED_RANGES`] ranges,
//! or leaving more than [`MAX_RANGES`] after merging, is ignored: the whole
//! file is sent once, as RFC 9110 §14.2 allows. All arithmetic is checked:
//! any number up to `u64::MAX` is accepted and clamped to the file.

/// Most ranges a header may list before it is ignored.
pub const MAX_LISTED_RANGES: usize = 32;
/// Most ranges left after merging before the header is ignored.
pub const MAX_RANGES: usize = 16;

/// A satisfiable range of bytes, both ends inside the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// Offset of the first byte.
    pub start: u64,
    /// Offset of the last byte (`>= start`).
    pub end_inclusive: u64,
}

impl ByteRange {
    /// Number of bytes in the range (at least 1).
    #[allow(clippy::len_without_is_empty)] // A ByteRange is never empty.
    pub fn len(&self) -> u64 {
        self.end_inclusive - self.start + 1
    }
}

/// What to answer to a `Range` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeOutcome {
    /// Ignore the header: `200` with the whole file.
    Full,
    /// `206`: one range, or several sorted, disjoint, non-adjacent ones
    /// for a `multipart/byteranges` body.
    Partial(Vec<ByteRange>),
    /// `416` with [`unsatisfiable_content_range`].
    Unsatisfiable,
}

/// Interprets a `Range` header for a file of `file_len` bytes.
///
/// Accepts `bytes=0-99`, `bytes=500-`, `bytes=-500` (the last 500 bytes)
/// and comma-separated lists of them. A unit other than `bytes` or any
/// syntax error gives [`RangeOutcome::Full`] (RFC 9110 §14.2: the header is
/// ignored), and so does an empty file, which has no byte to select. When
/// no range overlaps the file: [`RangeOutcome::Unsatisfiable`].
pub fn parse_range(header: &str, file_len: u64) -> RangeOutcome {
    let Some(specs) = range_specs(header) else {
        return RangeOutcome::Full;
    };
    let mut ranges = Vec::new();
    let mut listed = 0;
    for spec in specs {
        listed += 1;
        if listed > MAX_LISTED_RANGES {
            return RangeOutcome::Full;
        }
        let Some(spec) = spec else {
            return RangeOutcome::Full;
        };
        ranges.extend(spec.satisfiable_part(file_len));
    }
    if file_len == 0 {
        return RangeOutcome::Full;
    }
    if ranges.is_empty() {
        return RangeOutcome::Unsatisfiable;
    }
    let merged = merge(ranges);
    if merged.len() > MAX_RANGES {
        return RangeOutcome::Full;
    }
    RangeOutcome::Partial(merged)
}

/// `Content-Range` of a `206` part: `bytes 0-99/1000`.
pub fn content_range(r: &ByteRange, len: u64) -> String {
    format!("bytes {}-{}/{len}", r.start, r.end_inclusive)
}

/// `Content-Range` of a `416`: `bytes */1000`.
pub fn unsatisfiable_content_range(len: u64) -> String {
    format!("bytes */{len}")
}

/// One piece of a `multipart/byteranges` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Bytes sent as they are: delimiters, part headers, CRLFs.
    Bytes(Vec<u8>),
    /// `len` bytes of the file from `offset`.
    File {
        /// Offset in the file.
        offset: u64,
        /// Number of bytes.
        len: u64,
    },
}

/// A fresh `multipart/byteranges` boundary, one per response:
/// `uhttpd-` and 128 bits from the operating system's random source in
/// hex. A file cannot contain it except by chance, so its bytes cannot
/// forge a part (a boundary derived from the file, as before, could be
/// written into the file itself).
pub fn random_boundary() -> Result<String, getrandom::Error> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    let mut boundary = String::with_capacity(7 + 2 * bytes.len());
    boundary.push_str("uhttpd-");
    for b in bytes {
        boundary.push(char::from(HEX[usize::from(b >> 4)]));
        boundary.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    Ok(boundary)
}

/// Lays out the `multipart/byteranges` body (RFC 9110 §14.6) for `ranges`
/// of a file of `file_len` bytes, each part carrying `content_type`
/// (which, like `boundary`, must not contain CR or LF). Returns the pieces
/// in order and the exact body length, for `Content-Length`. The response's
/// own `Content-Type` is `multipart/byteranges; boundary=<boundary>`.
pub fn multipart_parts(
    ranges: &[ByteRange],
    file_len: u64,
    content_type: &str,
    boundary: &str,
) -> (Vec<Part>, u64) {
    let mut parts = Vec::with_capacity(ranges.len() * 2 + 1);
    let mut total: u64 = 0;
    let mut literal = Vec::new();
    for (i, r) in ranges.iter().enumerate() {
        if i > 0 {
            literal.extend_from_slice(b"\r\n");
        }
        let head = format!(
            "--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: {}\r\n\r\n",
            content_range(r, file_len)
        );
        literal.extend_from_slice(head.as_bytes());
        total = total.saturating_add(literal.len() as u64);
        parts.push(Part::Bytes(std::mem::take(&mut literal)));
        total = total.saturating_add(r.len());
        parts.push(Part::File {
            offset: r.start,
            len: r.len(),
        });
    }
    literal.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    total = total.saturating_add(literal.len() as u64);
    parts.push(Part::Bytes(literal));
    (parts, total)
}

/// One `range-spec` of a `bytes` range set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec {
    /// `first-` or `first-last` (`last` clamped to `u64::MAX`).
    FromTo { first: u64, last: Option<u64> },
    /// `-suffix`: the last `suffix` bytes.
    Suffix(u64),
}

impl Spec {
    fn satisfiable_part(self, file_len: u64) -> Option<ByteRange> {
        let last_byte = file_len.checked_sub(1)?;
        match self {
            Spec::FromTo { first, last } if first <= last_byte => Some(ByteRange {
                start: first,
                end_inclusive: last.map_or(last_byte, |l| l.min(last_byte)),
            }),
            Spec::Suffix(suffix) if suffix > 0 => Some(ByteRange {
                start: file_len.saturating_sub(suffix),
                end_inclusive: last_byte,
            }),
            _ => None,
        }
    }
}

/// The specs of `bytes=...`, each `None` when malformed; `None` for another
/// unit, or no `=`. Empty list elements are skipped (RFC 9110 §5.6.1), but
/// a list with no element at all is malformed.
fn range_specs(header: &str) -> Option<impl Iterator<Item = Option<Spec>> + '_> {
    let (unit, set) = header.trim().split_once('=')?;
    if !unit.eq_ignore_ascii_case("bytes") {
        return None;
    }
    if set.split(',').all(|s| s.trim().is_empty()) {
        return None;
    }
    Some(
        set.split(',')
            .map(|s| s.trim_matches([' ', '\t']))
            .filter(|s| !s.is_empty())
            .map(parse_spec),
    )
}

fn parse_spec(spec: &str) -> Option<Spec> {
    let (first, last) = spec.split_once('-')?;
    if first.is_empty() {
        return Some(Spec::Suffix(parse_digits(last)?));
    }
    let first = parse_digits(first)?;
    let last = match last {
        "" => None,
        _ => Some(parse_digits(last)?),
    };
    if last.is_some_and(|l| l < first) {
        return None;
    }
    Some(Spec::FromTo { first, last })
}

/// A non-empty run of ASCII digits; values past `u64::MAX` saturate, which
/// is past the end of any file.
fn parse_digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

/// Sorts ranges and merges those that overlap or touch.
fn merge(mut ranges: Vec<ByteRange>) -> Vec<ByteRange> {
    ranges.sort_by_key(|r| r.start);
    let mut merged: Vec<ByteRange> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            // end_inclusive < file_len <= u64::MAX, so `+ 1` cannot overflow.
            Some(prev) if r.start <= prev.end_inclusive + 1 => {
                prev.end_inclusive = prev.end_inclusive.max(r.end_inclusive);
            }
            _ => merged.push(r),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: u64, end_inclusive: u64) -> ByteRange {
        ByteRange {
            start,
            end_inclusive,
        }
    }

    use RangeOutcome::{Full, Partial, Unsatisfiable};

    #[test]
    fn selects_single_ranges() {
        let cases = [
            ("bytes=0-99", 1000, Partial(vec![r(0, 99)])),
            ("bytes=0-0", 1000, Partial(vec![r(0, 0)])),
            ("bytes=999-999", 1000, Partial(vec![r(999, 999)])),
            ("bytes=500-", 1000, Partial(vec![r(500, 999)])),
            ("bytes=-500", 1000, Partial(vec![r(500, 999)])),
            ("bytes=-1", 1000, Partial(vec![r(999, 999)])),
            ("bytes=-5000", 1000, Partial(vec![r(0, 999)])),
            ("bytes=900-5000", 1000, Partial(vec![r(900, 999)])),
            ("bytes=0-", 1000, Partial(vec![r(0, 999)])),
            ("Bytes=0-9", 1000, Partial(vec![r(0, 9)])),
            (" bytes=0-9 ", 1000, Partial(vec![r(0, 9)])),
            ("bytes= 0-9 ,", 1000, Partial(vec![r(0, 9)])),
        ];
        for (header, len, want) in cases {
            assert_eq!(parse_range(header, len), want, "{header}");
        }
    }

    #[test]
    fn ignores_malformed_headers_and_other_units() {
        let cases = [
            "",
            "bytes",
            "bytes=",
            "bytes=,",
            "bytes= , ",
            "bytes=-",
            "bytes=a-b",
            "bytes=1-a",
            "bytes=+1-2",
            "bytes=1 - 2",
            "bytes=0x10-20",
            "bytes=5-4",
            "bytes=0-1,5-4",
            "bytes=0-1,x",
            "bytes=1-2-3",
            "bytes=--1",
            "bytes 0-1",
            "bits=0-1",
            "items=0-1",
            "bytes=0-9;q=1",
            "bytes=\u{661}-2",
        ];
        for header in cases {
            assert_eq!(parse_range(header, 1000), Full, "{header}");
        }
    }

    #[test]
    fn answers_416_when_no_range_overlaps_the_file() {
        let cases = [
            "bytes=1000-",
            "bytes=1000-2000",
            "bytes=-0",
            "bytes=1000-1000,2000-",
            "bytes=18446744073709551615-",
            "bytes=99999999999999999999999999-",
        ];
        for header in cases {
            assert_eq!(parse_range(header, 1000), Unsatisfiable, "{header}");
        }
    }

    #[test]
    fn ignores_ranges_of_an_empty_file() {
        for header in ["bytes=0-", "bytes=-1", "bytes=0-0", "bytes=5-"] {
            assert_eq!(parse_range(header, 0), Full, "{header}");
        }
    }

    #[test]
    fn is_overflow_safe() {
        let max = u64::MAX;
        let cases = [
            (
                "bytes=0-18446744073709551615",
                1000,
                Partial(vec![r(0, 999)]),
            ),
            (
                "bytes=0-99999999999999999999999",
                1000,
                Partial(vec![r(0, 999)]),
            ),
            (
                "bytes=-18446744073709551615",
                1000,
                Partial(vec![r(0, 999)]),
            ),
            (
                "bytes=-99999999999999999999999",
                1000,
                Partial(vec![r(0, 999)]),
            ),
            ("bytes=-1", max, Partial(vec![r(max - 1, max - 1)])),
            ("bytes=0-", max, Partial(vec![r(0, max - 1)])),
            (
                "bytes=18446744073709551614-18446744073709551615",
                max,
                Partial(vec![r(max - 1, max - 1)]),
            ),
        ];
        for (header, len, want) in cases {
            assert_eq!(parse_range(header, len), want, "{header}");
        }
        assert_eq!(r(0, max - 1).len(), max);
    }

    #[test]
    fn merges_and_sorts_overlapping_and_adjacent_ranges() {
        let cases = [
            ("bytes=0-9,20-29", Partial(vec![r(0, 9), r(20, 29)])),
            ("bytes=20-29,0-9", Partial(vec![r(0, 9), r(20, 29)])),
            ("bytes=0-9,10-19", Partial(vec![r(0, 19)])),
            ("bytes=0-9,5-19", Partial(vec![r(0, 19)])),
            ("bytes=0-99,10-19", Partial(vec![r(0, 99)])),
            ("bytes=0-0,0-0,0-0", Partial(vec![r(0, 0)])),
            ("bytes=-100,0-", Partial(vec![r(0, 999)])),
            ("bytes=0-9,-10", Partial(vec![r(0, 9), r(990, 999)])),
            ("bytes=0-9,2000-,20-29", Partial(vec![r(0, 9), r(20, 29)])),
            ("bytes=0-9,11-19", Partial(vec![r(0, 9), r(11, 19)])),
        ];
        for (header, want) in cases {
            assert_eq!(parse_range(header, 1000), want, "{header}");
        }
    }

    #[test]
    fn ignores_headers_with_too_many_ranges() {
        let list = |n: u64, step: u64| {
            let specs: Vec<_> = (0..n)
                .map(|i| format!("{}-{}", i * step, i * step))
                .collect();
            format!("bytes={}", specs.join(","))
        };
        // Many listed ranges that merge into one: fine up to the cap.
        assert_eq!(parse_range(&list(32, 1), 1000), Partial(vec![r(0, 31)]));
        assert_eq!(parse_range(&list(33, 1), 1000), Full);
        // Disjoint ranges: at most 16 after merging.
        assert_eq!(
            parse_range(&list(16, 2), 1000),
            Partial((0..16).map(|i| r(i * 2, i * 2)).collect())
        );
        assert_eq!(parse_range(&list(17, 2), 1000), Full);
        // The CVE-2011-3192 pattern.
        let specs: Vec<_> = (0..1300).map(|i| format!("5-{}", 5 + i)).collect();
        let attack = format!("bytes=0-,{}", specs.join(","));
        assert_eq!(parse_range(&attack, 1000), Full);
        let overlapping = format!("bytes={}", vec!["0-"; 30].join(","));
        assert_eq!(parse_range(&overlapping, 1000), Partial(vec![r(0, 999)]));
    }

    /// Regression for issue 9: multi-byte characters and U+FFFD (an
    /// invalid byte, as the library hands it over) at every offset make
    /// the header malformed, so it is ignored.
    #[test]
    fn ignores_headers_altered_at_any_offset() {
        use crate::test_support::str_at_every_offset;
        for base in ["bytes=0-99", "bytes=-5", "bytes=5-", "bytes=0-9,20-29"] {
            for (_, header) in str_at_every_offset(base) {
                assert_eq!(parse_range(&header, 1000), Full, "{header}");
            }
        }
    }

    #[test]
    fn boundaries_are_fresh_bchars_within_the_limit() {
        let a = random_boundary().unwrap();
        let b = random_boundary().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 39);
        assert!(a.starts_with("uhttpd-"), "{a}");
        // RFC 2046 §5.1.1: at most 70 bchars.
        assert!(a.len() <= 70 && a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'));
    }

    #[test]
    fn formats_content_range() {
        assert_eq!(content_range(&r(0, 99), 1000), "bytes 0-99/1000");
        assert_eq!(content_range(&r(999, 999), 1000), "bytes 999-999/1000");
        assert_eq!(unsatisfiable_content_range(1000), "bytes */1000");
        assert_eq!(unsatisfiable_content_range(0), "bytes */0");
    }

    /// The body the parts describe, with file slices read from `file`.
    fn assemble(parts: &[Part], file: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        for part in parts {
            match part {
                Part::Bytes(b) => body.extend_from_slice(b),
                Part::File { offset, len } => {
                    let start = *offset as usize;
                    body.extend_from_slice(&file[start..start + *len as usize]);
                }
            }
        }
        body
    }

    #[test]
    fn lays_out_multipart_byteranges_with_exact_length() {
        let file: Vec<u8> = (0..100u8).map(|i| b'a' + i % 26).collect();
        let ranges = [r(0, 3), r(26, 27), r(99, 99)];
        let (parts, total) = multipart_parts(&ranges, 100, "text/plain", "B0UND");
        let body = assemble(&parts, &file);
        let want = "--B0UND\r\n\
                    Content-Type: text/plain\r\n\
                    Content-Range: bytes 0-3/100\r\n\
                    \r\n\
                    abcd\r\n\
                    --B0UND\r\n\
                    Content-Type: text/plain\r\n\
                    Content-Range: bytes 26-27/100\r\n\
                    \r\n\
                    ab\r\n\
                    --B0UND\r\n\
                    Content-Type: text/plain\r\n\
                    Content-Range: bytes 99-99/100\r\n\
                    \r\n\
                    v\r\n\
                    --B0UND--\r\n";
        assert_eq!(String::from_utf8(body).unwrap(), want);
        assert_eq!(total, want.len() as u64);
        assert_eq!(parts.len(), 7);
        assert_eq!(parts[1], Part::File { offset: 0, len: 4 });
        assert_eq!(parts[5], Part::File { offset: 99, len: 1 });
    }

    #[test]
    fn multipart_length_counts_file_slices_without_reading_them() {
        let big = 1 << 40;
        let ranges = [r(0, 0), r(big - 10, big - 1)];
        let (parts, total) = multipart_parts(&ranges, big, "application/octet-stream", "x");
        let literal: u64 = parts
            .iter()
            .map(|p| match p {
                Part::Bytes(b) => b.len() as u64,
                Part::File { .. } => 0,
            })
            .sum();
        assert_eq!(total, literal + 11);
    }
}
