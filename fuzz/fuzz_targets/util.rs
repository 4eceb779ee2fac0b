//! `uhttp::util`: percent decoding, form components, query strings,
//! cookies, header lines and header parameters, URL splitting.
//!
//! The input is taken as text (invalid bytes become U+FFFD, so multi-byte
//! characters are everywhere) and, for the byte-level decoder, as is.
//! Invariants: no panic; nothing decodes longer than its input; percent
//! decoding agrees with `percent_encoding::percent_decode` and with a
//! plain decoder written here; query parsing agrees with a plain parser
//! written here; header parameters survive a round trip through their
//! quoted-string form; every split returns pieces of its input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uhttp::util::{
    decode_form_component, decode_percent_encoding, decode_percent_encoding_bytes,
    encode_path_segment, is_token, parse_cookies, parse_header_line, parse_header_parameters,
    parse_query, parse_url, split_url,
};

fuzz_target!(|data: &[u8]| {
    percent_bytes(data);
    let text = String::from_utf8_lossy(data);
    percent_text(&text);
    query(&text);
    cookies(&text);
    header_line(&text);
    header_parameters(&text);
    url(&text);
});

/// `%XX` decoding, written out: a `%` not followed by two hex digits stays.
fn reference_decode(input: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let escaped = match (input[i], input.get(i + 1..i + 3)) {
            (b'%', Some(&[hi, lo])) => hex(hi).zip(hex(lo)),
            _ => None,
        };
        match escaped {
            Some((hi, lo)) => {
                out.push(hi << 4 | lo);
                i += 3;
            }
            None => {
                out.push(input[i]);
                i += 1;
            }
        }
    }
    out
}

fn percent_bytes(data: &[u8]) {
    let decoded = decode_percent_encoding_bytes(data);
    assert!(decoded.len() <= data.len());
    assert_eq!(decoded, reference_decode(data));
    let library: Vec<u8> = percent_encoding::percent_decode(data).collect();
    assert_eq!(decoded, library);
}

fn percent_text(text: &str) {
    let decoded = decode_percent_encoding(text);
    // A byte that is not UTF-8 once decoded came from a `%XX`, three
    // bytes, and becomes at most one U+FFFD, three bytes.
    assert!(decoded.len() <= text.len(), "{text:?} -> {decoded:?}");
    assert_eq!(
        decoded,
        String::from_utf8_lossy(&reference_decode(text.as_bytes()))
    );

    let form = decode_form_component(text);
    assert!(form.len() <= text.len());
    assert_eq!(
        form,
        String::from_utf8_lossy(&reference_decode(text.replace('+', " ").as_bytes()))
    );

    let encoded = encode_path_segment(text);
    assert!(
        encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b))
    );
    assert_eq!(decode_percent_encoding(&encoded), text);
}

/// `parse_query`, written out.
fn reference_query(query: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        String::from_utf8_lossy(&reference_decode(s.replace('+', " ").as_bytes())).into_owned()
    };
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut pairs = Vec::new();
    for pair in query.split('&') {
        if pair.is_empty() {
            continue;
        }
        let (key, value) = match pair.find('=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, ""),
        };
        pairs.push((decode(key), decode(value)));
    }
    pairs
}

fn query(text: &str) {
    let params = parse_query(text);
    let got: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(got, reference_query(text));
    let bytes: usize = got.iter().map(|(k, v)| k.len() + v.len()).sum();
    assert!(bytes <= text.len());
    // Every key is found, and first comes first.
    for (k, v) in &got {
        assert!(params.contains_key(k));
        assert_eq!(
            params.get(k),
            got.iter().find(|(k2, _)| k2 == k).map(|p| p.1.as_str())
        );
        assert!(params.get_all(k).any(|x| x == v));
    }
    let _ = params.to_json();
}

fn cookies(text: &str) {
    let cookies = parse_cookies(text);
    assert!(cookies.len() <= text.split(';').count());
    let mut bytes = 0;
    for (name, value) in cookies.iter() {
        assert!(!name.is_empty());
        assert_eq!(name, name.trim());
        assert!(!name.contains(';') && !name.contains('=') && !value.contains(';'));
        bytes += name.len() + value.len();
    }
    assert!(bytes <= text.len());
}

fn header_line(text: &str) {
    if let Some((name, value)) = parse_header_line(text) {
        assert!(is_token(&name));
        assert_eq!(name, name.to_ascii_lowercase());
        assert!(!value.starts_with([' ', '\t']) && !value.ends_with([' ', '\t']));
        assert!(name.len() + value.len() < text.len());
    }
}

fn header_parameters(text: &str) {
    let (main, params) = parse_header_parameters(text);
    assert!(!main.contains(';'));
    let bytes: usize = params.iter().map(|(k, v)| k.len() + v.len()).sum();
    assert!(main.len() + bytes <= text.len());

    // Written back with every value quoted, it parses to the same.
    let mut again = main.clone();
    for (name, value) in params.iter() {
        assert!(!name.is_empty() && !name.contains(['=', ';']));
        assert_eq!(name, name.to_ascii_lowercase());
        again.push_str("; ");
        again.push_str(name);
        again.push_str("=\"");
        for c in value.chars() {
            if c == '"' || c == '\\' {
                again.push('\\');
            }
            again.push(c);
        }
        again.push('"');
    }
    let (main2, params2) = parse_header_parameters(&again);
    assert_eq!(main2, main, "{again:?}");
    assert_eq!(params2, params, "{again:?}");
}

fn url(text: &str) {
    let (path, query) = split_url(text);
    assert!(text.starts_with(path));
    assert!(!path.contains(['?', '#']));
    if let Some(query) = query {
        let after = &text[path.len()..];
        assert!(after.strip_prefix('?').unwrap().starts_with(query));
        assert!(!query.contains('#'));
    } else {
        assert!(path.len() == text.len() || text[path.len()..].starts_with('#'));
    }
    let (decoded, params) = parse_url(text);
    assert_eq!(decoded, decode_percent_encoding(path));
    assert_eq!(params, query.map(parse_query).unwrap_or_default());
}
