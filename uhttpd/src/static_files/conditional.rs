//! Validators (`ETag`, `Last-Modified`) and the preconditions a static
//! file answers, in the order of RFC 9110 §13.2.2: `If-Match` /
//! `If-Unmodified-Since` → 412, then `If-None-Match` / `If-Modified-Since`
//! → 304, then `If-Range` (§13.1.5).
//!
//! Header values come from the peer: they are matched bytewise or split at
//! ASCII delimiters only, never sliced at a computed offset.
//!
//! Times are compared at second precision, the precision of an HTTP-date.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The last second an HTTP-date can express (9999-12-31 23:59:59 UTC).
const MAX_HTTP_DATE_SECS: u64 = 253_402_300_799;

/// A strong entity tag for a file: `"<length hex>-<mtime seconds hex>"`.
pub fn etag(meta_len: u64, mtime: SystemTime) -> String {
    format!("\"{meta_len:x}-{:x}\"", unix_secs(mtime))
}

/// The entity tag of a coded representation: [`etag`] with the coding's
/// token after the numbers (`"1f4-65a1b2c3-br"`), so it never equals the
/// tag of the file as it is.
pub fn coded_etag(meta_len: u64, mtime: SystemTime, token: &str) -> String {
    format!("\"{meta_len:x}-{:x}-{token}\"", unix_secs(mtime))
}

/// `Last-Modified` value: `mtime` as an IMF-fixdate, clamped to the years
/// an HTTP-date can express (1970 to 9999).
pub fn last_modified(mtime: SystemTime) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(unix_secs(mtime)))
}

/// Whether a request for a file with these validators answers
/// `412 Precondition Failed` (RFC 9110 §13.2.2, steps 1 and 2).
///
/// `If-Match` takes precedence: when present, `If-Unmodified-Since` is not
/// looked at. It holds on `*` (the file exists) or on any listed tag equal
/// to `etag` under strong comparison (§8.8.3.2: a weak tag never matches);
/// a malformed or empty list holds for nothing. `If-Unmodified-Since`
/// fails when the file changed after that date; an unparseable date is
/// ignored (§13.1.4).
pub fn precondition_failed(
    if_match: Option<&str>,
    if_unmodified_since: Option<&str>,
    etag: &str,
    mtime: SystemTime,
) -> bool {
    if let Some(list) = if_match {
        let ours = opaque_tag(etag);
        let holds = list.trim() == "*"
            || EntityTags::new(list).any(|tag| !tag.weak && Some(tag.opaque) == ours);
        return !holds;
    }
    match if_unmodified_since.and_then(parse_date_secs) {
        Some(since) => unix_secs(mtime) > since,
        None => false,
    }
}

/// Whether a `GET`/`HEAD` for a file with these validators answers
/// `304 Not Modified` (RFC 9110 §13.2.2, steps 3 and 4).
///
/// `If-None-Match` takes precedence: when present, `If-Modified-Since` is
/// not looked at. It matches on `*` or on any listed tag equal to `etag`
/// under weak comparison (`W/` ignored on both sides); a malformed list
/// matches nothing. `If-Modified-Since` matches when the file has not
/// changed since that date; an unparseable date is ignored (RFC 9110
/// §13.1.3).
pub fn not_modified(
    if_none_match: Option<&str>,
    if_modified_since: Option<&str>,
    etag: &str,
    mtime: SystemTime,
) -> bool {
    if if_none_match.is_some() {
        return if_none_match_names(if_none_match, etag);
    }
    match if_modified_since.and_then(parse_date_secs) {
        Some(since) => unix_secs(mtime) <= since,
        None => false,
    }
}

/// Whether `If-None-Match` lists `etag` (weak comparison) or is `*`:
/// the answer is a 304 (RFC 9110 §13.1.2). Absent or malformed: false.
pub fn if_none_match_names(if_none_match: Option<&str>, etag: &str) -> bool {
    let Some(list) = if_none_match else {
        return false;
    };
    let ours = opaque_tag(etag);
    list.trim() == "*" || EntityTags::new(list).any(|tag| Some(tag.opaque) == ours)
}

/// Whether an `If-Range` precondition holds, so the `Range` header is
/// honoured (RFC 9110 §13.1.5). Absent → true. An entity tag must equal
/// `etag` under strong comparison (a weak tag never matches); a date must
/// equal `mtime` exactly, to the second. Anything else → false, and the
/// whole file is sent.
pub fn if_range_matches(if_range: Option<&str>, etag: &str, mtime: SystemTime) -> bool {
    let Some(value) = if_range.map(str::trim) else {
        return true;
    };
    if value.starts_with('"') || value.starts_with("W/") {
        let mut tags = EntityTags::new(value);
        return match (tags.next(), tags.next()) {
            (Some(tag), None) => !tag.weak && value == etag,
            _ => false,
        };
    }
    parse_date_secs(value) == Some(unix_secs(mtime))
}

/// Seconds since the Unix epoch, clamped to what an HTTP-date can express.
fn unix_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .min(MAX_HTTP_DATE_SECS)
}

fn parse_date_secs(value: &str) -> Option<u64> {
    let time = httpdate::parse_http_date(value.trim()).ok()?;
    Some(unix_secs(time))
}

/// The opaque part (quotes included) of a well-formed entity tag.
fn opaque_tag(etag: &str) -> Option<&str> {
    let mut tags = EntityTags::new(etag);
    match (tags.next(), tags.next()) {
        (Some(tag), None) => Some(tag.opaque),
        _ => None,
    }
}

/// One `entity-tag` of a list (RFC 9110 §8.8.3).
#[derive(Debug, PartialEq)]
struct EntityTag<'a> {
    weak: bool,
    /// The quoted opaque tag, quotes included.
    opaque: &'a str,
}

/// Iterates over a comma-separated list of entity tags; stops at the first
/// malformed element. Commas may appear inside the quotes.
struct EntityTags<'a> {
    rest: &'a str,
}

impl<'a> EntityTags<'a> {
    fn new(list: &'a str) -> Self {
        EntityTags { rest: list }
    }
}

impl<'a> Iterator for EntityTags<'a> {
    type Item = EntityTag<'a>;

    fn next(&mut self) -> Option<EntityTag<'a>> {
        let is_separator = |c: char| c == ',' || c == ' ' || c == '\t';
        let rest = self.rest.trim_start_matches(is_separator);
        let Some((tag, after)) = split_entity_tag(rest) else {
            self.rest = "";
            return None;
        };
        // Another element, or the end, must follow.
        let after_ws = after.trim_start_matches([' ', '\t']);
        if !(after_ws.is_empty() || after_ws.starts_with(',')) {
            self.rest = "";
            return None;
        }
        self.rest = after_ws;
        Some(tag)
    }
}

/// The entity tag `s` starts with, and what follows it.
fn split_entity_tag(s: &str) -> Option<(EntityTag<'_>, &str)> {
    let (weak, tagged) = match s.strip_prefix("W/") {
        Some(after) => (true, after),
        None => (false, s),
    };
    let (inner, after) = tagged.strip_prefix('"')?.split_once('"')?;
    if !inner.bytes().all(is_etagc) {
        return None;
    }
    // `"inner"`: the quotes are one byte each.
    let opaque = tagged.get(..inner.len() + 2)?;
    Some((EntityTag { weak, opaque }, after))
}

/// `etagc = %x21 / %x23-7E / obs-text`
fn is_etagc(b: u8) -> bool {
    b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// 1994-11-06 08:49:37 UTC, the RFC's example date.
    const T: u64 = 784_111_777;
    const DATE: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
    const TAG: &str = "\"3e8-2ebc98a1\"";

    #[test]
    fn etag_is_strong_quoted_length_and_mtime_in_hex() {
        assert_eq!(etag(1000, at(T)), TAG);
        assert_eq!(etag(0, UNIX_EPOCH), "\"0-0\"");
        assert_eq!(etag(1000, at(T) + Duration::from_millis(999)), TAG);
        assert_eq!(
            etag(u64::MAX, at(u64::MAX / 4)),
            "\"ffffffffffffffff-3afff4417f\""
        );
    }

    #[test]
    fn last_modified_is_imf_fixdate_clamped_to_expressible_years() {
        let cases = [
            (at(T), DATE),
            (UNIX_EPOCH, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (
                UNIX_EPOCH - Duration::from_secs(10),
                "Thu, 01 Jan 1970 00:00:00 GMT",
            ),
            (at(u64::MAX / 4), "Fri, 31 Dec 9999 23:59:59 GMT"),
        ];
        for (mtime, want) in cases {
            assert_eq!(last_modified(mtime), want);
        }
    }

    #[test]
    fn not_modified_follows_rfc_9110_13_2_2() {
        let later = "Sun, 06 Nov 1994 08:49:38 GMT";
        let earlier = "Sun, 06 Nov 1994 08:49:36 GMT";
        let cases: [(Option<&str>, Option<&str>, bool); 22] = [
            (None, None, false),
            (Some(TAG), None, true),
            (Some("W/\"3e8-2ebc98a1\""), None, true),
            (Some("\"other\""), None, false),
            (Some("\"a\", \"3e8-2ebc98a1\""), None, true),
            (Some("\"a\",W/\"3e8-2ebc98a1\" , \"b\""), None, true),
            (Some(" , \"a\",, \"3e8-2ebc98a1\""), None, true),
            (Some("*"), None, true),
            (Some(" * "), None, true),
            (Some("\"3e8-2ebc98a1"), None, false),
            (Some("3e8-2ebc98a1"), None, false),
            (Some("\"x\" junk, \"3e8-2ebc98a1\""), None, false),
            (Some(""), None, false),
            // If-None-Match present: If-Modified-Since is not looked at.
            (Some("\"other\""), Some(DATE), false),
            (Some(TAG), Some(earlier), true),
            (None, Some(DATE), true),
            (None, Some(later), true),
            (None, Some(earlier), false),
            (None, Some("Sunday, 06-Nov-94 08:49:37 GMT"), true),
            (None, Some("Sun Nov  6 08:49:37 1994"), true),
            (None, Some("yesterday"), false),
            (None, Some(""), false),
        ];
        for (inm, ims, want) in cases {
            assert_eq!(not_modified(inm, ims, TAG, at(T)), want, "{inm:?} {ims:?}");
        }
    }

    #[test]
    fn if_none_match_names_a_tag_weakly_or_star() {
        for (list, names) in [
            (None, false),
            (Some(TAG), true),
            (Some("*"), true),
            (Some(" * "), true),
            (Some("\"other\", W/\"3e8-2ebc98a1\""), true),
            (Some("\"other\""), false),
            (Some(""), false),
            (Some("\"unterminated"), false),
            (Some("\u{e9}\"\u{1F600}"), false),
        ] {
            assert_eq!(if_none_match_names(list, TAG), names, "{list:?}");
        }
        let weak = format!("W/{TAG}");
        assert!(if_none_match_names(Some(&weak), TAG));
    }

    #[test]
    fn not_modified_compares_dates_at_second_precision() {
        let mtime = at(T) + Duration::from_millis(700);
        assert!(not_modified(None, Some(DATE), TAG, mtime));
    }

    #[test]
    fn if_range_needs_a_strong_tag_or_the_exact_date() {
        let cases = [
            (None, true),
            (Some(TAG), true),
            (Some(" \"3e8-2ebc98a1\" "), true),
            (Some("W/\"3e8-2ebc98a1\""), false),
            (Some("\"other\""), false),
            (Some("\"3e8-2ebc98a1\", \"other\""), false),
            (Some(DATE), true),
            (Some("Sun, 06 Nov 1994 08:49:38 GMT"), false),
            (Some("Sun, 06 Nov 1994 08:49:36 GMT"), false),
            (Some("garbage"), false),
            (Some(""), false),
        ];
        for (if_range, want) in cases {
            assert_eq!(if_range_matches(if_range, TAG, at(T)), want, "{if_range:?}");
        }
    }

    #[test]
    fn precondition_fails_per_rfc_9110_13_1_1_and_13_1_4() {
        let later = "Sun, 06 Nov 1994 08:49:38 GMT";
        let earlier = "Sun, 06 Nov 1994 08:49:36 GMT";
        let cases: [(Option<&str>, Option<&str>, bool); 19] = [
            (None, None, false),
            (Some(TAG), None, false),
            (Some("*"), None, false),
            (Some(" * "), None, false),
            (Some("\"a\", \"3e8-2ebc98a1\""), None, false),
            (Some("\"other\""), None, true),
            // Strong comparison: a weak tag never matches.
            (Some("W/\"3e8-2ebc98a1\""), None, true),
            (Some("\"3e8-2ebc98a1"), None, true),
            (Some("3e8-2ebc98a1"), None, true),
            (Some(""), None, true),
            (None, Some(DATE), false),
            (None, Some(later), false),
            (None, Some(earlier), true),
            (None, Some("Sun Nov  6 08:49:36 1994"), true),
            (None, Some("yesterday"), false),
            (None, Some(""), false),
            // If-Match present: If-Unmodified-Since is not looked at.
            (Some(TAG), Some(earlier), false),
            (Some("\"other\""), Some(later), true),
            (Some("*"), Some(earlier), false),
        ];
        for (im, ius, want) in cases {
            assert_eq!(
                precondition_failed(im, ius, TAG, at(T)),
                want,
                "{im:?} {ius:?}"
            );
        }
    }

    /// Regression for issue 9: multi-byte characters and U+FFFD (an
    /// invalid byte, as the library hands it over) at every offset of each
    /// conditional header. An altered tag matches nothing and an altered
    /// date is ignored.
    #[test]
    fn altered_validators_match_nothing_at_any_offset() {
        use crate::test_support::str_at_every_offset;
        for base in [TAG, "W/\"3e8-2ebc98a1\""] {
            for (_, value) in str_at_every_offset(base) {
                let v = Some(value.as_str());
                assert!(!not_modified(v, None, TAG, at(T)), "If-None-Match {value}");
                assert!(precondition_failed(v, None, TAG, at(T)), "If-Match {value}");
                assert!(!if_range_matches(v, TAG, at(T)), "If-Range {value}");
            }
        }
        for (_, value) in str_at_every_offset(DATE) {
            let v = Some(value.as_str());
            assert!(
                !not_modified(None, v, TAG, at(T)),
                "If-Modified-Since {value}"
            );
            let changed = at(T + 1);
            assert!(
                !precondition_failed(None, v, TAG, changed),
                "If-Unmodified-Since {value}"
            );
            assert!(!if_range_matches(v, TAG, at(T)), "If-Range {value}");
        }
    }

    #[test]
    fn entity_tags_may_hold_obs_text() {
        let tags: Vec<_> = EntityTags::new("\"é€😀\", W/\"\u{fffd}\"").collect();
        assert_eq!(tags.len(), 2);
        assert_eq!(tags[0].opaque, "\"é€😀\"");
        assert_eq!(tags[1].opaque, "\"\u{fffd}\"");
    }

    #[test]
    fn entity_tag_lists_allow_commas_inside_quotes() {
        let tags: Vec<_> = EntityTags::new("\"a,b\", W/\"c\"").collect();
        assert_eq!(
            tags,
            [
                EntityTag {
                    weak: false,
                    opaque: "\"a,b\""
                },
                EntityTag {
                    weak: true,
                    opaque: "\"c\""
                },
            ]
        );
        assert_eq!(EntityTags::new("\"\"").count(), 1);
        assert_eq!(EntityTags::new("\"a b\"").count(), 0);
    }
}
