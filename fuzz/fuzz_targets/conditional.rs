//! Conditional requests in `uhttpd` (`static_files/conditional.rs`):
//! `If-None-Match`, `If-Modified-Since`, `If-Range`.
//!
//! The seed gives the file's length and mtime; the input, cut at `\n`,
//! gives the header values. Invariants: no panic; our own validators
//! always match (`If-None-Match: <etag>` and `*` → 304, `If-Range:
//! <etag>` and `If-Range: <Last-Modified>` → range honoured, the
//! Last-Modified date → 304); a weak tag never satisfies `If-Range`;
//! `If-None-Match` decides alone when present.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use uhttp_fuzz::split_seed;
use uhttp_fuzz::static_files::conditional::{etag, if_range_matches, last_modified, not_modified};

fuzz_target!(|data: &[u8]| {
    let (seed, rest) = split_seed(data);
    let text = String::from_utf8_lossy(rest);
    let mut fields = text.split('\n');
    let if_none_match = fields.next().filter(|s| !s.is_empty());
    let if_modified_since = fields.next().filter(|s| !s.is_empty());
    let if_range = fields.next();

    let secs = match seed >> 14 {
        0 => u64::from(seed),
        1 => 1_700_000_000 + u64::from(seed),
        2 => 253_402_300_799 - u64::from(seed & 0xFF),
        // Far beyond what an HTTP-date can say (clamped to year 9999).
        _ => (1 << 40) + u64::from(seed),
    };
    let mtime = UNIX_EPOCH + Duration::from_secs(secs);
    let len = u64::from(seed).wrapping_mul(0x9E37_79B9);
    let tag = etag(len, mtime);
    let date = last_modified(mtime);

    // Arbitrary values: no panic, and If-None-Match decides alone.
    let answer = not_modified(if_none_match, if_modified_since, &tag, mtime);
    if if_none_match.is_some() {
        assert_eq!(
            answer,
            not_modified(if_none_match, Some(&date), &tag, mtime)
        );
        assert_eq!(answer, not_modified(if_none_match, None, &tag, mtime));
    }
    let ranged = if_range_matches(if_range, &tag, mtime);
    if let Some(value) = if_range {
        if value.trim().starts_with("W/") {
            assert!(!ranged, "weak If-Range {value:?}");
        }
        if ranged && value.trim().starts_with('"') {
            assert_eq!(value.trim(), tag);
        }
    }

    // Our own validators, and lists that contain them.
    assert!(not_modified(Some(&tag), None, &tag, mtime));
    assert!(not_modified(Some(" * "), None, &tag, mtime));
    assert!(not_modified(None, Some(&date), &tag, mtime));
    let weak = format!("W/{tag}");
    assert!(not_modified(Some(&weak), None, &tag, mtime));
    if let Some(list) = if_none_match {
        // Appended to a well-formed list, our tag matches.
        if answer_is_list(list) {
            assert!(not_modified(
                Some(&format!("{list}, {tag}")),
                None,
                &tag,
                mtime
            ));
        }
    }
    assert!(if_range_matches(None, &tag, mtime));
    assert!(if_range_matches(Some(&tag), &tag, mtime));
    assert!(if_range_matches(Some(&date), &tag, mtime));
    assert!(!if_range_matches(Some(&weak), &tag, mtime));
});

/// Whether `list` is a plain list of quoted tags (so that appending one
/// more keeps it well-formed).
fn answer_is_list(list: &str) -> bool {
    list.split(',').all(|item| {
        let item = item.trim_matches([' ', '\t']);
        let item = item.strip_prefix("W/").unwrap_or(item);
        item.len() >= 2
            && item.starts_with('"')
            && item.ends_with('"')
            && item[1..item.len() - 1]
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
    })
}
