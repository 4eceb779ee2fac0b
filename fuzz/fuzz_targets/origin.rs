//! The same-origin check and the `--cors` origins of `uhttpd` (`origin.rs`).
//!
//! The input is three header values separated by newlines: `Origin`,
//! `Sec-Fetch-Site`, `Host` (the seed picks the scheme and which are
//! absent). Invariants: no panic; no `Origin` and no `Sec-Fetch-Site` is
//! always allowed; `Sec-Fetch-Site: cross-site` always refused; an allowed
//! `Origin` is the same origin as `scheme://Host` by `url`'s reading (both
//! parse to the same `--cors` origin); the serialised origin of a Host is
//! allowed for that Host; a `--cors` origin parses back to itself and
//! allows its own serialisation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uhttp_fuzz::origin::{CorsOrigin, CrossOrigin, same_origin};
use uhttp_fuzz::split_seed;

fuzz_target!(|data: &[u8]| {
    let (seed, rest) = split_seed(data);
    let text = String::from_utf8_lossy(rest);
    let mut fields = text.splitn(3, '\n');
    let origin = fields.next().filter(|_| seed & 1 == 0);
    let fetch_site = fields.next().filter(|_| seed & 2 == 0);
    let host = fields.next().filter(|_| seed & 4 == 0);
    let scheme = if seed & 8 == 0 { "http" } else { "https" };

    let verdict = same_origin(origin, fetch_site, scheme, host);
    if origin.is_none() && fetch_site.is_none() {
        assert_eq!(verdict, Ok(()));
    }
    if fetch_site.is_some_and(|s| {
        s.trim_matches([' ', '\t'])
            .eq_ignore_ascii_case("cross-site")
    }) {
        assert_eq!(verdict, Err(CrossOrigin::CrossSite));
    }
    if let (Ok(()), Some(origin), Some(host)) = (verdict, origin, host) {
        let theirs = origin.parse::<CorsOrigin>();
        let ours = format!("{scheme}://{host}").parse::<CorsOrigin>();
        assert!(theirs.is_ok() && theirs == ours, "{origin:?} {host:?}");
    }
    if let Some(host) = host {
        // `--cors` values are trimmed; a Host header is taken as it is.
        let bare = !host.contains(['/', '\\', '@', '?', '#'])
            && !host.is_empty()
            && host.bytes().all(|b| b.is_ascii_graphic());
        if let (true, Ok(CorsOrigin::Origin(own))) =
            (bare, format!("{scheme}://{host}").parse::<CorsOrigin>())
        {
            assert_eq!(
                same_origin(Some(&own), None, scheme, Some(host)),
                Ok(()),
                "{host:?}"
            );
        }
    }
    for value in [origin, fetch_site, host].into_iter().flatten() {
        if let Ok(parsed) = value.parse::<CorsOrigin>() {
            let shown = parsed.to_string();
            assert_eq!(
                shown.parse::<CorsOrigin>().as_ref(),
                Ok(&parsed),
                "{value:?}"
            );
            assert!(parsed.allows(&shown));
            assert!(shown.bytes().all(|b| b.is_ascii_graphic()));
        }
    }
});
