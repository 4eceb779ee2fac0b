//! `Accept-Encoding` negotiation in `uhttpd` (`static_files/encoding.rs`).
//!
//! The seed's low three bits say which codings are on offer; the input is
//! the header value. Invariants: no panic; a chosen coding is on offer and
//! accepted; nothing is chosen only when no offered coding is accepted;
//! the accepted codings come best first, each once; token and `q` case do
//! not matter.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uhttp_fuzz::split_seed;
use uhttp_fuzz::static_files::encoding::{Accepted, Choice, Coding};

fuzz_target!(|data: &[u8]| {
    let (seed, rest) = split_seed(data);
    let value = String::from_utf8_lossy(rest);
    let offered = |c: Coding| seed & (1 << Coding::ALL.iter().position(|&o| o == c).unwrap()) != 0;
    let accepted = Accepted::parse(Some(&value));
    match accepted.choose(offered) {
        Choice::Coded(c) => assert!(offered(c) && accepted.accepts(c), "{c:?}"),
        Choice::None => assert!(
            !Coding::ALL
                .iter()
                .any(|&c| offered(c) && accepted.accepts(c))
        ),
        Choice::Identity => {}
    }
    let preferred: Vec<Coding> = accepted.preferred().collect();
    for (i, c) in preferred.iter().enumerate() {
        assert!(accepted.accepts(*c));
        assert!(!preferred[..i].contains(c), "{preferred:?}");
    }
    for c in Coding::ALL {
        assert_eq!(accepted.accepts(c), preferred.contains(&c));
    }
    assert_eq!(Accepted::parse(Some(&value.to_ascii_uppercase())), accepted);
});
