//! Content codings: which of `br`, `zstd`, `gzip` and `identity` a
//! request accepts (`Accept-Encoding`, RFC 9110 §12.5.3), and which one
//! answers it.
//!
//! ```text
//! Accept-Encoding: br;q=1.0, gzip;q=0.5, *;q=0
//!   └ split at "," → per element: token (case-insensitive) [";" params]
//!       └ q=: "0"["." up to 3 digits] | "1"["." up to 3 zeros]; malformed: element ignored
//!           └ br, zstd, gzip (x-gzip), identity, "*" (every coding not named); others ignored
//! ```
//!
//! The value comes from the peer: it is split at ASCII delimiters and
//! compared bytewise, never sliced at a computed offset, so any bytes —
//! multi-byte UTF-8, invalid sequences — parse without a panic.

/// A content coding uhttpd can send, in the order it prefers them when the
/// client weighs them alike (the smallest output first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Coding {
    Br,
    Zstd,
    Gzip,
}

impl Coding {
    /// Every coding, best first.
    pub const ALL: [Coding; 3] = [Coding::Br, Coding::Zstd, Coding::Gzip];

    /// The token in `Content-Encoding`.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Br => "br",
            Coding::Zstd => "zstd",
            Coding::Gzip => "gzip",
        }
    }

    /// The file name suffix of a precompressed sibling (`app.js.br`).
    pub fn suffix(self) -> &'static str {
        match self {
            Coding::Br => ".br",
            Coding::Zstd => ".zst",
            Coding::Gzip => ".gz",
        }
    }

    fn index(self) -> usize {
        match self {
            Coding::Br => 0,
            Coding::Zstd => 1,
            Coding::Gzip => 2,
        }
    }
}

/// A set of codings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CodingSet(u8);

impl CodingSet {
    /// The set with `coding` added.
    pub fn with(self, coding: Coding) -> CodingSet {
        CodingSet(self.0 | 1 << coding.index())
    }

    /// Whether `coding` is in the set.
    pub fn contains(self, coding: Coding) -> bool {
        self.0 & 1 << coding.index() != 0
    }
}

/// A quality value in thousandths: 0 (not acceptable) to 1000.
type Quality = u16;

/// What a request's `Accept-Encoding` allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    /// The quality of each coding, by [`Coding::index`]; 0: refused.
    codings: [Quality; 3],
    /// The quality of `identity` when the header weighs it (by name or by
    /// `*`); `None`: acceptable, but after any accepted coding.
    identity: Option<Quality>,
}

/// The representation that answers a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The coded bytes.
    Coded(Coding),
    /// The file as it is.
    Identity,
    /// Nothing acceptable: the header refuses identity and every coding on
    /// offer (`406 Not Acceptable`, RFC 9110 §12.5.3 and §15.5.7).
    None,
}

impl Accepted {
    /// Only identity: no header (uhttpd then sends the file as it is, as
    /// RFC 9110 §12.5.3 suggests), or an empty one.
    pub const IDENTITY: Accepted = Accepted {
        codings: [0; 3],
        identity: None,
    };

    /// Reads the `Accept-Encoding` value (`None`: no such header).
    pub fn parse(value: Option<&str>) -> Accepted {
        let Some(value) = value else {
            return Accepted::IDENTITY;
        };
        let mut named: [Option<Quality>; 3] = [None; 3];
        let mut identity = None;
        let mut star = None;
        for element in value.split(',') {
            let mut params = element.split(';');
            // unwrap_or: `split` yields at least one piece.
            let token = params.next().unwrap_or_default().trim_matches([' ', '\t']);
            if token.is_empty() {
                continue;
            }
            let Some(q) = quality(params) else {
                continue;
            };
            let slot = if token == "*" {
                &mut star
            } else if token.eq_ignore_ascii_case("identity") {
                &mut identity
            } else if token.eq_ignore_ascii_case("gzip") || token.eq_ignore_ascii_case("x-gzip") {
                &mut named[Coding::Gzip.index()]
            } else if token.eq_ignore_ascii_case("br") {
                &mut named[Coding::Br.index()]
            } else if token.eq_ignore_ascii_case("zstd") {
                &mut named[Coding::Zstd.index()]
            } else {
                continue;
            };
            // Named twice: the best weight stands.
            *slot = Some(slot.map_or(q, |old: Quality| old.max(q)));
        }
        Accepted {
            codings: named.map(|q| q.or(star).unwrap_or(0)),
            identity: identity.or(star),
        }
    }

    /// Whether `coding` is acceptable.
    pub fn accepts(&self, coding: Coding) -> bool {
        self.codings[coding.index()] > 0
    }

    /// The acceptable codings, the client's best first (ties: [`Coding::ALL`]
    /// order).
    pub fn preferred(&self) -> impl Iterator<Item = Coding> + '_ {
        let mut order = Coding::ALL;
        // A stable sort keeps the server's order among equals.
        order.sort_by_key(|c| std::cmp::Reverse(self.codings[c.index()]));
        order.into_iter().filter(|&c| self.accepts(c))
    }

    /// The representation to send when `available` says which codings are
    /// on offer: the acceptable one weighed highest, identity when it
    /// weighs more than any coding on offer (or nothing else is
    /// acceptable), [`Choice::None`] when identity is refused too.
    pub fn choose(&self, available: impl Fn(Coding) -> bool) -> Choice {
        let best = self.preferred().find(|&c| available(c));
        match (best, self.identity) {
            (Some(c), Some(identity)) if identity > self.codings[c.index()] => Choice::Identity,
            (Some(c), _) => Choice::Coded(c),
            (None, Some(0)) => Choice::None,
            (None, _) => Choice::Identity,
        }
    }
}

/// The `q` of an element's parameters (1000 without one); `None` when it is
/// malformed, so that the element is ignored.
fn quality<'a>(params: impl Iterator<Item = &'a str>) -> Option<Quality> {
    let mut q = 1000;
    for param in params {
        let (name, value) = param.split_once('=')?;
        if name.trim_matches([' ', '\t']).eq_ignore_ascii_case("q") {
            q = parse_qvalue(value.trim_matches([' ', '\t']).as_bytes())?;
        }
    }
    Some(q)
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`
/// (RFC 9110 §12.4.2), in thousandths.
fn parse_qvalue(value: &[u8]) -> Option<Quality> {
    let (int, frac) = match value {
        [int] => (*int, &[][..]),
        [int, b'.', frac @ ..] if frac.len() <= 3 => (*int, frac),
        _ => return None,
    };
    let mut thousandths: Quality = 0;
    for (i, &d) in frac.iter().enumerate() {
        if !d.is_ascii_digit() {
            return None;
        }
        thousandths += Quality::from(d - b'0') * [100, 10, 1][i];
    }
    match int {
        b'0' => Some(thousandths),
        b'1' if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Choice::{Coded, Identity};
    use Coding::{Br, Gzip, Zstd};

    fn all(_: Coding) -> bool {
        true
    }

    fn choose(value: &str) -> Choice {
        Accepted::parse(Some(value)).choose(all)
    }

    #[test]
    fn no_header_or_an_empty_one_means_identity() {
        assert_eq!(Accepted::parse(None).choose(all), Identity);
        assert_eq!(choose(""), Identity);
        assert_eq!(choose(" , ,"), Identity);
        assert_eq!(Accepted::parse(Some("")).preferred().count(), 0);
    }

    #[test]
    fn picks_the_highest_weight_then_the_smallest_output() {
        let cases = [
            ("gzip", Coded(Gzip)),
            ("br, gzip", Coded(Br)),
            ("gzip, br", Coded(Br)),
            ("gzip, deflate, br, zstd", Coded(Br)),
            ("gzip;q=1, br;q=0.5", Coded(Gzip)),
            ("zstd, gzip;q=0.9", Coded(Zstd)),
            ("BR;Q=0.8, GZip;q=0.7", Coded(Br)),
            ("x-gzip", Coded(Gzip)),
            ("*", Coded(Br)),
            ("*;q=0.5, gzip", Coded(Gzip)),
            ("gzip;q=0.2", Coded(Gzip)),
            ("gzip;q=0.5, identity", Identity),
            ("gzip;q=0.5, identity;q=0.5", Coded(Gzip)),
            ("br;q=0, gzip;q=0", Identity),
            ("compress, deflate", Identity),
            ("gzip;q=0.5, *;q=0.8", Coded(Br)),
            ("gzip;q=0.5, identity;q=0.9, *;q=0.8", Identity),
        ];
        for (value, want) in cases {
            assert_eq!(choose(value), want, "{value:?}");
        }
    }

    #[test]
    fn identity_refused_leaves_codings_or_nothing() {
        let cases = [
            ("identity;q=0", Choice::None),
            ("*;q=0", Choice::None),
            ("*;q=0, identity", Identity),
            ("identity;q=0, gzip", Coded(Gzip)),
            ("*;q=0, br", Coded(Br)),
            ("deflate, identity;q=0", Choice::None),
        ];
        for (value, want) in cases {
            assert_eq!(choose(value), want, "{value:?}");
        }
        let gzip_only = |c: Coding| c == Gzip;
        let refuses = Accepted::parse(Some("br, identity;q=0"));
        assert_eq!(refuses.choose(gzip_only), Choice::None);
        assert_eq!(refuses.choose(|_| false), Choice::None);
        assert_eq!(
            Accepted::parse(Some("br, gzip")).choose(|_| false),
            Identity
        );
    }

    #[test]
    fn offers_only_what_is_available() {
        let accepted = Accepted::parse(Some("br, gzip;q=0.9"));
        assert_eq!(accepted.choose(|c| c == Gzip), Coded(Gzip));
        assert_eq!(accepted.choose(|c| c == Zstd), Identity);
        assert_eq!(accepted.preferred().collect::<Vec<_>>(), [Br, Gzip]);
    }

    #[test]
    fn malformed_weights_drop_their_element() {
        for bad in [
            "q=2", "q=1.5", "q=1.001", "q=0.1234", "q=", "q=.5", "q=-0", "q=0x1", "q", "q=0.5a",
            "q=1e0", "q=\u{e9}",
        ] {
            let value = format!("br;{bad}, gzip;q=0.1");
            assert_eq!(choose(&value), Coded(Gzip), "{value:?}");
        }
        assert_eq!(parse_qvalue(b"0.001"), Some(1));
        assert_eq!(parse_qvalue(b"0.5"), Some(500));
        assert_eq!(parse_qvalue(b"1.000"), Some(1000));
        assert_eq!(parse_qvalue(b"0."), Some(0));
        assert_eq!(choose("br ; q = 0.5 , gzip ;q=0.4"), Coded(Br));
        assert_eq!(choose("br;level=5"), Coded(Br));
    }

    /// Any value parses without a panic, whatever byte sits where; a
    /// character that is not ASCII never makes a token match.
    #[test]
    fn survives_multibyte_and_invalid_bytes_at_every_offset() {
        let base = "br;q=0.5, gzip;q=0.8, identity;q=0, *;q=0.1";
        let inserts: [&[u8]; 6] = [
            "\u{e9}".as_bytes(),
            "\u{20ac}".as_bytes(),
            "\u{1f600}".as_bytes(),
            b"\xff",
            b"\xc3",
            b"\x00",
        ];
        for insert in inserts {
            for at in 0..=base.len() {
                let mut bytes = base.as_bytes()[..at].to_vec();
                bytes.extend_from_slice(insert);
                bytes.extend_from_slice(&base.as_bytes()[at..]);
                let text = String::from_utf8_lossy(&bytes);
                let accepted = Accepted::parse(Some(&text));
                let _ = accepted.choose(all);
                assert!(accepted.preferred().count() <= 3);
            }
        }
        assert_eq!(choose("g\u{e9}zip"), Identity);
        assert_eq!(choose("\u{1f600}, gzip"), Coded(Gzip));
        assert_eq!(choose("gzip;q=0.\u{20ac}"), Identity);
    }
}
