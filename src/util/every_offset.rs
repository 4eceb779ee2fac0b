//! Multi-byte UTF-8 and bytes that are not UTF-8, inserted at every offset
//! of an input (issue 9): the helpers here never panic, and keep the
//! character wherever their grammar keeps text. Also the insertion helpers
//! the `h1` and `ws` tests share.

use super::*;

/// What is inserted: valid 2-, 3- and 4-byte characters, a byte that is
/// never UTF-8, and a lone lead byte.
pub(crate) const INSERTS: [&[u8]; 5] = [
    "\u{e9}".as_bytes(),
    "\u{20ac}".as_bytes(),
    "\u{1f600}".as_bytes(),
    b"\xff",
    b"\xc3",
];

/// Every `(insert, input)` with one of [`INSERTS`] at one offset of
/// `text` (`0..=len`, so before the first and after the last byte too).
pub(crate) fn variants(text: &[u8]) -> impl Iterator<Item = (&'static [u8], Vec<u8>)> + '_ {
    INSERTS.into_iter().flat_map(move |insert| {
        (0..=text.len()).map(move |at| {
            let mut bytes = Vec::with_capacity(text.len() + insert.len());
            bytes.extend_from_slice(&text[..at]);
            bytes.extend_from_slice(insert);
            bytes.extend_from_slice(&text[at..]);
            (insert, bytes)
        })
    })
}

/// The character an insert shows up as once text is decoded lossily:
/// itself, or U+FFFD for bytes that are not UTF-8.
pub(crate) fn shows_as(insert: &[u8]) -> String {
    String::from_utf8_lossy(insert).into_owned()
}

/// `variants` as text, the way a header value reaches the application
/// (invalid bytes replaced by U+FFFD), with the character to look for.
fn text_variants(text: &str) -> impl Iterator<Item = (String, String)> + '_ {
    variants(text.as_bytes()).map(|(insert, bytes)| {
        (
            shows_as(insert),
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    })
}

fn contains_in(params: &Params, c: &str) -> bool {
    params.iter().any(|(k, v)| k.contains(c) || v.contains(c))
}

#[test]
fn percent_decoding_keeps_every_inserted_character() {
    for base in [
        "/a%20b/%C3%A9t%C3%A9?x",
        "%",
        "%4",
        "100%",
        "%e2%82%ac+%F0%9F%98%80",
    ] {
        for (c, input) in text_variants(base) {
            let decoded = decode_percent_encoding(&input);
            assert!(decoded.contains(&c), "{input:?} -> {decoded:?}");
            let form = decode_form_component(&input);
            assert!(form.contains(&c), "{input:?} -> {form:?}");
            let encoded = encode_path_segment(&input);
            assert!(encoded.is_ascii());
            assert_eq!(decode_percent_encoding(&encoded), input);
        }
        // Raw bytes, and escapes of bytes that are not UTF-8, at every
        // offset: kept as bytes, or replaced, never a panic.
        for (insert, bytes) in variants(base.as_bytes()) {
            let raw = decode_percent_encoding_bytes(&bytes);
            assert!(raw.windows(insert.len()).any(|w| w == insert));
        }
        for escape in ["%FF", "%C3", "%C3%", "%F0%9F"] {
            for at in 0..=base.len() {
                let Some((before, after)) = base.split_at_checked(at) else {
                    continue;
                };
                let input = format!("{before}{escape}{after}");
                assert!(decode_percent_encoding(&input).contains('\u{fffd}'));
            }
        }
    }
}

#[test]
fn query_parsing_keeps_every_inserted_character() {
    for base in ["?a=1&b=%C3%A9&c&=v", "q=a+b&&x=y=z"] {
        for (c, input) in text_variants(base) {
            let params = parse_query(&input);
            assert!(contains_in(&params, &c), "{input:?} -> {params:?}");
            let (_, from_url) = parse_url(&format!("/p{input}"));
            let _ = from_url.to_json();
        }
    }
}

#[test]
fn cookie_parsing_keeps_every_inserted_character() {
    for base in ["a=1; b=\"x y\"; c=%C3%A9", "id=\"\";t=a=b"] {
        for (c, input) in text_variants(base) {
            let cookies = parse_cookies(&input);
            assert!(contains_in(&cookies, &c), "{input:?} -> {cookies:?}");
        }
    }
}

#[test]
fn header_parameters_keep_inserted_characters_in_the_value_and_quoted_strings() {
    let bases = [
        "multipart/form-data; boundary=\"a b\"; charset=UTF-8",
        "form-data; name=\"f\\\"x\"; filename=\"r\u{e9}sum\u{e9}.pdf\"",
        "a; q=\"unterminated",
        "a;;b=;c",
    ];
    for base in bases {
        let main_end = base.find(';').unwrap_or(base.len());
        // The inside of the first quoted-string, if any.
        let quoted = base.find('"').map(|open| {
            (
                open + 1,
                base[open + 1..]
                    .find('"')
                    .map_or(base.len(), |n| open + 1 + n),
            )
        });
        for (at, (insert, bytes)) in variants(base.as_bytes()).enumerate() {
            let at = at % (base.len() + 1);
            let input = String::from_utf8_lossy(&bytes).into_owned();
            let c = shows_as(insert);
            let (main, params) = parse_header_parameters(&input);
            if at <= main_end {
                assert!(main.contains(&c), "{input:?} -> {main:?}");
            }
            if quoted.is_some_and(|(open, close)| open < at && at < close) {
                assert!(contains_in(&params, &c), "{input:?} -> {params:?}");
            }
        }
    }
}

#[test]
fn url_splitting_keeps_every_inserted_character() {
    for base in ["/a/%C3%A9?x=1&y=%20#frag", "http://h/p?q", "*"] {
        for (c, input) in text_variants(base) {
            let (path, query) = split_url(&input);
            let kept = path.contains(&c) || query.is_some_and(|q| q.contains(&c));
            // Only a fragment is dropped.
            let in_fragment = matches!(
                (input.find('#'), input.find(&c)),
                (Some(hash), Some(at)) if hash < at
            );
            assert!(kept || in_fragment, "{input:?}");
            let (decoded, _) = parse_url(&input);
            let _ = decoded;
        }
    }
}

#[test]
fn header_lines_refuse_a_name_that_is_not_a_token_and_keep_values() {
    let base = "X-Name: v\u{e9}lue";
    let colon = base.find(':').unwrap_or_default();
    for (at, (insert, bytes)) in variants(base.as_bytes()).enumerate() {
        let at = at % (base.len() + 1);
        let line = String::from_utf8_lossy(&bytes).into_owned();
        let c = shows_as(insert);
        match parse_header_line(&line) {
            Some((name, value)) => {
                assert!(at > colon, "{line:?} parsed with a bad name");
                assert!(is_token(&name));
                assert!(value.contains(&c), "{line:?} -> {value:?}");
            }
            None => assert!(at <= colon, "{line:?} refused"),
        }
        assert!(!is_token(&c));
    }
}
