//! Just enough X.509 (RFC 5280 §4.1) DER reading for the reload log line:
//! the subject's common name and `notAfter`. Anything unexpected gives
//! `None`, never a panic.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const INTEGER: u8 = 0x02;
const OID: u8 = 0x06;
const OCTET_STRING: u8 = 0x04;
const BOOLEAN: u8 = 0x01;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
/// `[0] EXPLICIT Version`.
const VERSION: u8 = 0xa0;
/// `[3] EXPLICIT Extensions`.
const EXTENSIONS: u8 = 0xa3;
/// GeneralName `[2] IMPLICIT IA5String` and `[7] IMPLICIT OCTET STRING`.
const DNS_NAME: u8 = 0x82;
const IP_ADDRESS: u8 = 0x87;

/// id-at-commonName, 2.5.4.3.
const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
/// id-ce-subjectAltName, 2.5.29.17.
const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];

/// At most this many alternative names are shown.
const MAX_NAMES: usize = 3;

/// What the log line says about a certificate.
pub(super) struct Summary {
    /// The common name; else the whole subject; else the alternative
    /// names. Control characters are escaped.
    pub(super) subject: String,
    pub(super) not_after: Option<Time>,
}

/// A UTC time from a certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Time {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

impl Time {
    /// `UTCTime` (`YYMMDDHHMMSSZ`, years 1950–2049) or
    /// `GeneralizedTime` (`YYYYMMDDHHMMSSZ`), as RFC 5280 §4.1.2.5
    /// allows them (UTC, `Z`); seconds may be missing, a fraction is
    /// ignored.
    fn parse(tag: u8, text: &[u8]) -> Option<Time> {
        let text = text.strip_suffix(b"Z")?;
        let (year, rest) = match tag {
            UTC_TIME => {
                let yy = u16::from(two_digits(text.get(..2)?)?);
                (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
            }
            GENERALIZED_TIME => {
                let high = u16::from(two_digits(text.get(..2)?)?);
                let low = u16::from(two_digits(text.get(2..4)?)?);
                (high * 100 + low, &text[4..])
            }
            _ => return None,
        };
        let rest = match rest.iter().position(|&b| b == b'.') {
            Some(dot) if tag == GENERALIZED_TIME => &rest[..dot],
            Some(_) => return None,
            None => rest,
        };
        let field = |i: usize| rest.get(i..i + 2).and_then(two_digits);
        let second = match rest.len() {
            8 => 0,
            10 => field(8)?,
            _ => return None,
        };
        let time = Time {
            year,
            month: field(0)?,
            day: field(2)?,
            hour: field(4)?,
            minute: field(6)?,
            second,
        };
        let valid = (1..=12).contains(&time.month)
            && (1..=days_in_month(time.year, time.month)).contains(&time.day)
            && time.hour < 24
            && time.minute < 60
            && time.second <= 60;
        valid.then_some(time)
    }

    /// Seconds since 1970-01-01 00:00:00 UTC.
    pub(super) fn unix_seconds(&self) -> i64 {
        let days = days_from_civil(
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        days * 86_400
            + i64::from(self.hour) * 3_600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }
}

fn two_digits(digits: &[u8]) -> Option<u8> {
    match digits {
        [a @ b'0'..=b'9', b @ b'0'..=b'9'] => Some((a - b'0') * 10 + (b - b'0')),
        _ => None,
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
pub(super) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// A DER reader over one level of nesting.
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    fn peek_tag(&self) -> Option<u8> {
        self.0.first().copied()
    }

    /// The next element's tag and contents. Only low tag numbers and
    /// definite lengths (all DER in a certificate uses).
    fn next(&mut self) -> Option<(u8, &'a [u8])> {
        let (&tag, rest) = self.0.split_first()?;
        if tag & 0x1f == 0x1f {
            return None;
        }
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 || rest.len() < count {
                return None;
            }
            let (bytes, rest) = rest.split_at(count);
            let len = bytes.iter().try_fold(0usize, |acc, &b| {
                acc.checked_mul(256)?.checked_add(b.into())
            })?;
            (len, rest)
        };
        if rest.len() < len {
            return None;
        }
        let (contents, rest) = rest.split_at(len);
        self.0 = rest;
        Some((tag, contents))
    }

    fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        let (found, contents) = self.next()?;
        (found == tag).then_some(contents)
    }
}

/// Reads the log line's facts from a DER certificate.
pub(super) fn summarize(der: &[u8]) -> Option<Summary> {
    let mut cert = Der(Der(der).expect(SEQUENCE)?);
    let mut tbs = Der(cert.expect(SEQUENCE)?);
    if tbs.peek_tag() == Some(VERSION) {
        tbs.next()?;
    }
    tbs.expect(INTEGER)?; // serialNumber
    tbs.expect(SEQUENCE)?; // signature
    tbs.expect(SEQUENCE)?; // issuer
    let mut validity = Der(tbs.expect(SEQUENCE)?);
    validity.next()?; // notBefore
    let not_after = validity
        .next()
        .and_then(|(tag, text)| Time::parse(tag, text));
    let subject = tbs.expect(SEQUENCE)?;
    tbs.expect(SEQUENCE)?; // subjectPublicKeyInfo
    let mut alt_names = Vec::new();
    while let Some((tag, contents)) = tbs.next() {
        if tag == EXTENSIONS {
            alt_names = subject_alt_names(contents).unwrap_or_default();
        }
    }

    let attributes = name_attributes(subject).unwrap_or_default();
    let common_name = attributes
        .iter()
        .rev()
        .find(|(oid, value)| *oid == OID_CN && !value.is_empty());
    let subject = if let Some((_, cn)) = common_name {
        cn.clone()
    } else if !attributes.is_empty() {
        attributes
            .iter()
            .map(|(oid, value)| format!("{}={value}", attribute_name(oid)))
            .collect::<Vec<_>>()
            .join(", ")
    } else if !alt_names.is_empty() {
        let mut shown = alt_names[..alt_names.len().min(MAX_NAMES)].join(", ");
        if alt_names.len() > MAX_NAMES {
            shown.push_str(&format!(" and {} more", alt_names.len() - MAX_NAMES));
        }
        shown
    } else {
        "(empty)".to_owned()
    };
    Some(Summary { subject, not_after })
}

/// A Name's attributes in order: (OID contents, escaped text value).
fn name_attributes(name: &[u8]) -> Option<Vec<(&[u8], String)>> {
    let mut rdns = Der(name);
    let mut attributes = Vec::new();
    while rdns.peek_tag().is_some() {
        let mut rdn = Der(rdns.expect(SET)?);
        while rdn.peek_tag().is_some() {
            let mut pair = Der(rdn.expect(SEQUENCE)?);
            let oid = pair.expect(OID)?;
            let (tag, value) = pair.next()?;
            attributes.push((oid, escape(&decode_string(tag, value)?)));
        }
    }
    Some(attributes)
}

/// `DNS:` and `IP:` entries of the subjectAltName extension.
fn subject_alt_names(explicit: &[u8]) -> Option<Vec<String>> {
    let mut extensions = Der(Der(explicit).expect(SEQUENCE)?);
    while extensions.peek_tag().is_some() {
        let mut extension = Der(extensions.expect(SEQUENCE)?);
        let oid = extension.expect(OID)?;
        if extension.peek_tag() == Some(BOOLEAN) {
            extension.next()?; // critical
        }
        let value = extension.expect(OCTET_STRING)?;
        if oid != OID_SAN {
            continue;
        }
        let mut general_names = Der(Der(value).expect(SEQUENCE)?);
        let mut names = Vec::new();
        while let Some((tag, contents)) = general_names.next() {
            match tag {
                DNS_NAME => names.push(format!(
                    "DNS:{}",
                    escape(&String::from_utf8_lossy(contents))
                )),
                IP_ADDRESS => {
                    let ip = match contents.len() {
                        4 => IpAddr::from(Ipv4Addr::from(<[u8; 4]>::try_from(contents).ok()?)),
                        16 => IpAddr::from(Ipv6Addr::from(<[u8; 16]>::try_from(contents).ok()?)),
                        _ => continue,
                    };
                    names.push(format!("IP:{ip}"));
                }
                _ => {}
            }
        }
        return Some(names);
    }
    Some(Vec::new())
}

/// The directory string types of RFC 5280 §4.1.2.4 and the ASCII ones.
fn decode_string(tag: u8, bytes: &[u8]) -> Option<String> {
    match tag {
        // UTF8String
        0x0c => Some(String::from_utf8_lossy(bytes).into_owned()),
        // NumericString, PrintableString, IA5String, VisibleString
        0x12 | 0x13 | 0x16 | 0x1a => Some(String::from_utf8_lossy(bytes).into_owned()),
        // TeletexString: in practice Latin-1.
        0x14 => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        // BMPString: UTF-16BE.
        0x1e => {
            if bytes.len() % 2 != 0 {
                return None;
            }
            let units = bytes
                .chunks_exact(2)
                .map(|u| u16::from_be_bytes([u[0], u[1]]));
            Some(
                char::decode_utf16(units)
                    .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                    .collect(),
            )
        }
        // UniversalString: UTF-32BE.
        0x1c => {
            if bytes.len() % 4 != 0 {
                return None;
            }
            Some(
                bytes
                    .chunks_exact(4)
                    .map(|c| {
                        char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                            .unwrap_or(char::REPLACEMENT_CHARACTER)
                    })
                    .collect(),
            )
        }
        _ => None,
    }
}

/// Control characters escaped, so a name cannot forge log lines.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The usual short name of a subject attribute, else its dotted OID.
fn attribute_name(oid: &[u8]) -> String {
    let short = match oid {
        [0x55, 0x04, 0x03] => "CN",
        [0x55, 0x04, 0x05] => "serialNumber",
        [0x55, 0x04, 0x06] => "C",
        [0x55, 0x04, 0x07] => "L",
        [0x55, 0x04, 0x08] => "ST",
        [0x55, 0x04, 0x0a] => "O",
        [0x55, 0x04, 0x0b] => "OU",
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01] => "emailAddress",
        _ => return dotted(oid).unwrap_or_else(|| "?".to_owned()),
    };
    short.to_owned()
}

/// An OID's contents in dotted form (X.690 §8.19).
fn dotted(oid: &[u8]) -> Option<String> {
    let mut arcs = Vec::new();
    let mut value: u64 = 0;
    for &byte in oid {
        value = value.checked_mul(128)? | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            arcs.push(value);
            value = 0;
        }
    }
    if oid.last().is_none_or(|b| b & 0x80 != 0) {
        return None;
    }
    let (&first, rest) = arcs.split_first()?;
    let (a, b) = match first {
        0..=39 => (0, first),
        40..=79 => (1, first - 40),
        _ => (2, first - 80),
    };
    let mut text = format!("{a}.{b}");
    for arc in rest {
        text.push_str(&format!(".{arc}"));
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utc_and_generalized_times() {
        let t = Time::parse(UTC_TIME, b"491231235959Z").unwrap();
        assert_eq!(t.to_string(), "2049-12-31 23:59:59 UTC");
        let t = Time::parse(UTC_TIME, b"500101000000Z").unwrap();
        assert_eq!(t.to_string(), "1950-01-01 00:00:00 UTC");
        let t = Time::parse(GENERALIZED_TIME, b"20500101120000Z").unwrap();
        assert_eq!(t.to_string(), "2050-01-01 12:00:00 UTC");
        let t = Time::parse(GENERALIZED_TIME, b"20240229010203.5Z").unwrap();
        assert_eq!(t.to_string(), "2024-02-29 01:02:03 UTC");
        let t = Time::parse(UTC_TIME, b"2601021304Z").unwrap();
        assert_eq!(t.to_string(), "2026-01-02 13:04:00 UTC");
    }

    #[test]
    fn refuses_malformed_times() {
        for (tag, text) in [
            (UTC_TIME, &b"491231235959"[..]),
            (UTC_TIME, b"491331235959Z"),
            (UTC_TIME, b"490230000000Z"),
            (UTC_TIME, b"4912312359Z9Z"),
            (UTC_TIME, b"491231245959Z"),
            (UTC_TIME, b"491231235959+0100"),
            (UTC_TIME, b"49123123595Z"),
            (UTC_TIME, b"491231235959.1Z"),
            (GENERALIZED_TIME, b"20230229000000Z"),
            (GENERALIZED_TIME, b"2050Z"),
            (GENERALIZED_TIME, b""),
            (OCTET_STRING, b"20500101000000Z"),
        ] {
            assert_eq!(
                Time::parse(tag, text),
                None,
                "{}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn counts_days_and_seconds_from_the_unix_epoch() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        let t = Time::parse(UTC_TIME, b"380119031407Z").unwrap();
        assert_eq!(t.unix_seconds(), i64::from(i32::MAX));
        let t = Time::parse(GENERALIZED_TIME, b"21000301000000Z").unwrap();
        assert_eq!(t.unix_seconds(), 4_107_542_400);
    }

    #[test]
    fn reads_dotted_oids() {
        assert_eq!(dotted(&[0x55, 0x04, 0x03]).as_deref(), Some("2.5.4.3"));
        assert_eq!(
            dotted(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01]).as_deref(),
            Some("1.2.840.113549.1.9.1")
        );
        assert_eq!(dotted(&[]), None);
        assert_eq!(dotted(&[0x86]), None);
        assert_eq!(dotted(&[0xff; 20]), None);
    }

    #[test]
    fn escapes_control_characters() {
        assert_eq!(escape("a\nb\u{7f}c"), "a\\nb\\u{7f}c");
        assert_eq!(escape("Zürich"), "Zürich");
    }

    #[test]
    fn decodes_directory_strings() {
        assert_eq!(decode_string(0x1e, &[0, b'h', 0x00, 0xe9]).unwrap(), "hé");
        assert_eq!(decode_string(0x1e, &[0, b'h', 0]), None);
        assert_eq!(decode_string(0x1c, &[0, 0, 0, b'x']).unwrap(), "x");
        assert_eq!(decode_string(0x14, &[b'a', 0xe9]).unwrap(), "aé");
        assert_eq!(decode_string(0x04, b"x"), None);
    }
}
