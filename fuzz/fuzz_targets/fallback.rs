//! What a missing path or a directory falls back to in `uhttpd`
//! (`static_files/fallback.rs`): the `Accept` check of `--spa`, the
//! extension test, and the `--index` / `--spa` / `--404` names.
//!
//! Invariants: no panic; `Accept` asks for HTML only if it holds
//! `text/html` (any case); a path with an extension has a dot in its last
//! segment; an accepted index name encodes to one segment that decodes
//! back to it; an accepted site path is `/`-separated segments, none
//! empty or hidden, each decoding back to what was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode_str;
use uhttp_fuzz::static_files::fallback::{IndexName, SitePath, accepts_html, has_extension};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if accepts_html(Some(&text)) {
        assert!(text.to_ascii_lowercase().contains("text/html"), "{text:?}");
    }
    if has_extension(&text) {
        assert!(
            text.rsplit('/')
                .next()
                .is_some_and(|last| last.contains('.'))
        );
    }
    if let Ok(index) = text.parse::<IndexName>() {
        let encoded = index.encoded();
        assert!(!encoded.contains('/') && !encoded.starts_with('.'));
        assert_eq!(percent_decode_str(encoded).decode_utf8().unwrap(), text);
    }
    if let Ok(page) = text.parse::<SitePath>() {
        let raw = page.raw();
        let segments: Vec<&str> = raw.split('/').skip(1).collect();
        assert!(raw.starts_with('/') && !segments.is_empty(), "{raw:?}");
        let given: Vec<&str> = text.split('/').filter(|s| !s.is_empty()).collect();
        assert_eq!(segments.len(), given.len());
        for (segment, want) in segments.iter().zip(given) {
            assert!(!segment.is_empty() && !segment.starts_with('.'), "{raw:?}");
            assert_eq!(percent_decode_str(segment).decode_utf8().unwrap(), want);
        }
    }
});
