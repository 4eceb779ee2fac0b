//! The header values of resumable uploads, parsed: pure functions over
//! the peer's text, each returning a typed error, never panicking (byte
//! matching only, no slicing at offsets the peer controls). Self-contained
//! (std and `base64`), so the fuzz target compiles this file too.
//!
//! - IETF draft (structured fields, RFC 9651): `Upload-Offset` and
//!   `Upload-Length` are sf-integers, `Upload-Complete` an sf-boolean,
//!   `Upload-Draft-Interop-Version` an sf-integer.
//! - RFC 9530 `Repr-Digest` / `Content-Digest`: a dictionary of byte
//!   sequences (`sha-256=:BASE64:`).
//! - tus 1.0.0: `Upload-Offset` / `Upload-Length` plain decimals,
//!   `Upload-Metadata` (`key base64,key`), `Upload-Checksum`
//!   (`sha1 base64`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Why a header value is refused (400).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderError {
    /// Not a non-negative integer of at most 15 (sf) or 19 (tus) digits.
    Integer,
    /// Not `?0` or `?1`.
    Boolean,
    /// A malformed `Upload-Metadata` pair, key or base64 value.
    Metadata,
    /// A malformed checksum or digest (or its base64).
    Digest,
    /// A digest or checksum algorithm we do not compute.
    Algorithm,
}

impl std::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HeaderError::Integer => "not a non-negative integer",
            HeaderError::Boolean => "not ?0 or ?1",
            HeaderError::Metadata => "malformed Upload-Metadata",
            HeaderError::Digest => "malformed digest",
            HeaderError::Algorithm => "unsupported checksum algorithm",
        })
    }
}

/// The hash functions a digest or checksum may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

impl Algorithm {
    /// Length of its digest, in bytes.
    pub fn len(self) -> usize {
        match self {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha512 => 64,
        }
    }
}

/// A digest the client gave: which function, and the bytes expected.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Digest {
    pub algorithm: Algorithm,
    pub value: Vec<u8>,
}

/// Optional whitespace around a field value (RFC 9110 §5.6.3).
fn trim_ows(value: &str) -> &str {
    value.trim_matches([' ', '\t'])
}

/// Digits only, 1 to `max` of them, as a `u64`.
fn digits(value: &str, max: usize) -> Result<u64, HeaderError> {
    let bytes = value.as_bytes();
    if bytes.is_empty() || bytes.len() > max || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(HeaderError::Integer);
    }
    value.parse().map_err(|_| HeaderError::Integer)
}

/// An sf-integer (RFC 9651 §3.3.1) that must not be negative: at most 15
/// digits. A negative one is refused as any malformed value is.
pub fn sf_integer(value: &str) -> Result<u64, HeaderError> {
    digits(trim_ows(value), 15)
}

/// An sf-boolean (RFC 9651 §3.3.6): `?1` or `?0`.
pub fn sf_boolean(value: &str) -> Result<bool, HeaderError> {
    match trim_ows(value).as_bytes() {
        b"?1" => Ok(true),
        b"?0" => Ok(false),
        _ => Err(HeaderError::Boolean),
    }
}

/// A tus offset or length: a plain non-negative decimal (at most 19
/// digits, so it fits a `u64`).
pub fn tus_integer(value: &str) -> Result<u64, HeaderError> {
    digits(trim_ows(value), 19)
}

/// tus `Upload-Metadata`: comma-separated `key` or `key base64-value`;
/// keys are non-empty, without spaces or commas, and unique.
pub fn tus_metadata(value: &str) -> Result<Vec<(String, Vec<u8>)>, HeaderError> {
    let mut pairs: Vec<(String, Vec<u8>)> = Vec::new();
    if trim_ows(value).is_empty() {
        return Ok(pairs);
    }
    for pair in value.split(',') {
        let mut words = trim_ows(pair).split(' ');
        let key = words.next().unwrap_or_default();
        let encoded = words.next();
        let key_ok = !key.is_empty() && key.bytes().all(|b| b.is_ascii_graphic());
        if !key_ok || words.next().is_some() || pairs.iter().any(|(k, _)| k == key) {
            return Err(HeaderError::Metadata);
        }
        let value = match encoded {
            Some(encoded) => STANDARD
                .decode(encoded)
                .map_err(|_| HeaderError::Metadata)?,
            None => Vec::new(),
        };
        pairs.push((key.to_owned(), value));
    }
    Ok(pairs)
}

/// tus `Upload-Checksum`: `ALGORITHM BASE64` with `sha1` or `sha256`.
pub fn tus_checksum(value: &str) -> Result<Digest, HeaderError> {
    let (name, encoded) = trim_ows(value).split_once(' ').ok_or(HeaderError::Digest)?;
    let algorithm = match name {
        "sha1" => Algorithm::Sha1,
        "sha256" => Algorithm::Sha256,
        _ => return Err(HeaderError::Algorithm),
    };
    digest(algorithm, encoded)
}

/// Decodes `encoded` as the digest of `algorithm` (of the right length).
fn digest(algorithm: Algorithm, encoded: &str) -> Result<Digest, HeaderError> {
    let value = STANDARD
        .decode(trim_ows(encoded))
        .map_err(|_| HeaderError::Digest)?;
    if value.len() != algorithm.len() {
        return Err(HeaderError::Digest);
    }
    Ok(Digest { algorithm, value })
}

/// RFC 9530 `Repr-Digest` / `Content-Digest`: a dictionary such as
/// `sha-256=:BASE64:, sha-512=:BASE64:`. Returns the strongest one we
/// compute (sha-512, then sha-256), `None` when the client named only
/// others (RFC 9530 §3: a recipient may ignore those); a member that is
/// not a byte sequence, or of the wrong length, is refused.
pub fn digest_dictionary(value: &str) -> Result<Option<Digest>, HeaderError> {
    let mut best: Option<Digest> = None;
    for member in value.split(',') {
        let member = trim_ows(member);
        let (key, rest) = member.split_once('=').ok_or(HeaderError::Digest)?;
        // A byte sequence, `:base64:`, perhaps followed by parameters.
        let inner = rest.strip_prefix(':').ok_or(HeaderError::Digest)?;
        let (encoded, params) = inner.split_once(':').ok_or(HeaderError::Digest)?;
        if !(params.is_empty() || params.starts_with(';')) {
            return Err(HeaderError::Digest);
        }
        let algorithm = match key {
            "sha-256" => Algorithm::Sha256,
            "sha-512" => Algorithm::Sha512,
            _ => continue,
        };
        let found = digest(algorithm, encoded)?;
        if best
            .as_ref()
            .is_none_or(|b| b.algorithm == Algorithm::Sha256)
        {
            best = Some(found);
        }
    }
    Ok(best)
}

/// The IETF interop versions accepted: 8 (draft-11 and -12), and 5 to 7
/// (drafts -03 to -10: the same requests for what we implement, but that
/// before 6 an append has no `application/partial-upload` type; 6 and 5
/// are what tus-js-client 4's `ietf-draft-05` and `ietf-draft-03`
/// protocols send).
pub fn interop_version(value: &str) -> Option<u64> {
    sf_integer(value).ok().filter(|v| (5..=8).contains(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{bytes_at_every_offset, str_at_every_offset};

    #[test]
    fn integers_are_digits_only_never_negative_nor_too_long() {
        assert_eq!(sf_integer("0"), Ok(0));
        assert_eq!(sf_integer(" 42\t"), Ok(42));
        assert_eq!(sf_integer("999999999999999"), Ok(999_999_999_999_999));
        assert_eq!(
            tus_integer("18446744073709551615"),
            Err(HeaderError::Integer)
        );
        assert_eq!(
            tus_integer("9999999999999999999"),
            Ok(9_999_999_999_999_999_999)
        );
        for bad in [
            "",
            "-1",
            "+1",
            "1.0",
            "1e3",
            "0x10",
            "1 2",
            "١",
            "9999999999999999",
            "--0",
        ] {
            assert_eq!(sf_integer(bad), Err(HeaderError::Integer), "{bad:?}");
        }
        assert_eq!(
            tus_integer("99999999999999999999"),
            Err(HeaderError::Integer)
        );
    }

    #[test]
    fn booleans_are_question_mark_zero_or_one() {
        assert_eq!(sf_boolean("?1"), Ok(true));
        assert_eq!(sf_boolean(" ?0 "), Ok(false));
        for bad in ["", "?", "1", "true", "?2", "?10", "? 1"] {
            assert_eq!(sf_boolean(bad), Err(HeaderError::Boolean), "{bad:?}");
        }
    }

    #[test]
    fn metadata_pairs_decode_and_refuse_duplicates_and_bad_base64() {
        let parsed = tus_metadata("filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential");
        assert_eq!(
            parsed,
            Ok(vec![
                ("filename".into(), b"world_domination_plan.pdf".to_vec()),
                ("is_confidential".into(), vec![]),
            ])
        );
        assert_eq!(tus_metadata(""), Ok(vec![]));
        for bad in ["a !!!", "a YQ==,a YQ==", ",", "a YQ== b", "é YQ=="] {
            assert_eq!(tus_metadata(bad), Err(HeaderError::Metadata), "{bad:?}");
        }
    }

    #[test]
    fn checksums_and_digests_name_an_algorithm_and_the_right_length() {
        let sha1 = "sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=";
        assert_eq!(tus_checksum(sha1).map(|d| d.algorithm), Ok(Algorithm::Sha1));
        assert_eq!(tus_checksum("md5 AAAA"), Err(HeaderError::Algorithm));
        assert_eq!(tus_checksum("sha1 AAAA"), Err(HeaderError::Digest));
        assert_eq!(tus_checksum("sha1"), Err(HeaderError::Digest));
        let zero32 = STANDARD.encode([0u8; 32]);
        let zero64 = STANDARD.encode([0u8; 64]);
        let d = digest_dictionary(&format!("sha-256=:{zero32}:"))
            .unwrap()
            .unwrap();
        assert_eq!((d.algorithm, d.value.len()), (Algorithm::Sha256, 32));
        let d = digest_dictionary(&format!("sha-256=:{zero32}:, sha-512=:{zero64}:;x=1"))
            .unwrap()
            .unwrap();
        assert_eq!(d.algorithm, Algorithm::Sha512);
        assert_eq!(digest_dictionary("md5=:AAAA:"), Ok(None));
        for bad in [
            "sha-256",
            "sha-256=AAAA",
            "sha-256=:AAAA:",
            "sha-256=:!!:",
            "=:",
        ] {
            assert_eq!(digest_dictionary(bad), Err(HeaderError::Digest), "{bad:?}");
        }
    }

    #[test]
    fn interop_versions_five_to_eight_are_accepted() {
        assert_eq!(interop_version("8"), Some(8));
        assert_eq!(interop_version("5"), Some(5));
        for bad in ["4", "9", "", "-8", "8.0"] {
            assert_eq!(interop_version(bad), None, "{bad:?}");
        }
    }

    /// Multi-byte characters and replacement characters (what invalid
    /// bytes become in a header's text) at every offset: refused, never a
    /// panic, never a value other than the clean one.
    #[test]
    fn every_parser_refuses_a_foreign_character_at_any_offset() {
        let zero32 = STANDARD.encode([0u8; 32]);
        let dict = format!("sha-256=:{zero32}:");
        for (at, value) in str_at_every_offset("1234") {
            assert_eq!(sf_integer(&value), Err(HeaderError::Integer), "{at}");
            assert_eq!(tus_integer(&value), Err(HeaderError::Integer), "{at}");
        }
        for (at, value) in str_at_every_offset("?1") {
            assert_eq!(sf_boolean(&value), Err(HeaderError::Boolean), "{at}");
        }
        for (at, value) in str_at_every_offset("filename YS50eHQ=") {
            assert_eq!(tus_metadata(&value), Err(HeaderError::Metadata), "{at}");
        }
        for (at, value) in str_at_every_offset("sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=") {
            assert!(tus_checksum(&value).is_err(), "{at}: {value}");
        }
        for (at, value) in str_at_every_offset(&dict) {
            // Inside the key the member is another algorithm's: ignored.
            let parsed = digest_dictionary(&value);
            assert!(matches!(parsed, Err(_) | Ok(None)), "{at}: {value}");
        }
        for (_, bytes) in bytes_at_every_offset(b"8") {
            let text = String::from_utf8_lossy(&bytes);
            assert_eq!(interop_version(&text), None);
        }
    }
}
