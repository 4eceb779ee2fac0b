//! `uhttpd` resumable-upload header values (`resumable/headers.rs`):
//! structured-field integers and booleans, tus offsets, `Upload-Metadata`,
//! `Upload-Checksum`, RFC 9530 digest dictionaries, the interop version.
//!
//! The input is taken as text (invalid bytes become U+FFFD, as in the
//! library's view of a header value). Invariants: no panic; an integer
//! accepted is its digits (at most 15 for sf, 19 for tus) and nothing
//! else; a boolean is `?0` or `?1`; accepted metadata survives a round
//! trip through its encoding; a checksum or digest accepted has its
//! algorithm's length; an interop version is 5 to 8.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use uhttp_fuzz::resumable_headers::{
    digest_dictionary, interop_version, sf_boolean, sf_integer, tus_checksum, tus_integer,
    tus_metadata,
};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let trimmed = text.trim_matches([' ', '\t']);
    if let Ok(n) = sf_integer(&text) {
        assert!(trimmed.len() <= 15 && trimmed.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(trimmed.parse::<u64>().ok(), Some(n));
    }
    if let Ok(n) = tus_integer(&text) {
        assert!(trimmed.len() <= 19 && trimmed.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(trimmed.parse::<u64>().ok(), Some(n));
    }
    if let Ok(b) = sf_boolean(&text) {
        assert_eq!(trimmed, if b { "?1" } else { "?0" });
    }
    if let Ok(pairs) = tus_metadata(&text) {
        let encoded: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k} {}", STANDARD.encode(v)))
            .collect();
        assert_eq!(tus_metadata(&encoded.join(",")), Ok(pairs));
    }
    if let Ok(digest) = tus_checksum(&text) {
        assert_eq!(digest.value.len(), digest.algorithm.len());
    }
    if let Ok(Some(digest)) = digest_dictionary(&text) {
        assert_eq!(digest.value.len(), digest.algorithm.len());
    }
    if let Some(v) = interop_version(&text) {
        assert!((5..=8).contains(&v));
    }
});
