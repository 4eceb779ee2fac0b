//! What the log lines and the health check say about a certificate: who it is for and
//! when it expires, read with `x509-cert`. Whatever a certificate holds
//! gives a summary or an error, never a panic.
//!
//! `der` reads strictly: a certificate it cannot decode (say, with a
//! `UniversalString` in a name, a type `der` does not know, or a validity
//! before 1970) gives its error, which the log line shows.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use x509_cert::der::asn1::{Any, BmpString};
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::oid::db::{rfc3280, rfc4519};
use x509_cert::der::{Decode, ErrorKind, Tag, Tagged};
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::{Certificate, TbsCertificate};

pub use x509_cert::der::Error;

/// At most this many alternative names are shown.
const MAX_NAMES: usize = 3;

/// A longer subject is cut to this many characters and ends in `…`.
const MAX_SUBJECT_CHARS: usize = 200;

/// What the log line says about a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The common name; else the whole subject; else the alternative
    /// names. Control characters are escaped.
    pub subject: String,
    pub not_after: SystemTime,
}

/// Reads the log line's facts from a DER certificate.
pub fn summarize(der: &[u8]) -> Result<Summary, Error> {
    let cert = Certificate::from_der(der)?;
    let tbs = cert.tbs_certificate();
    let not_after = UNIX_EPOCH
        .checked_add(tbs.validity().not_after.to_unix_duration())
        .ok_or(ErrorKind::DateTime)?;
    Ok(Summary {
        subject: escape(&shorten(subject(tbs))),
        not_after,
    })
}

/// What certificate renewal (`acme`) needs to know of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifetime {
    pub not_before: SystemTime,
    pub not_after: SystemTime,
    /// The `DNS:` names of its subjectAltName extension.
    pub dns_names: Vec<String>,
}

/// Reads the validity period and DNS names of a DER certificate.
pub fn lifetime(der: &[u8]) -> Result<Lifetime, Error> {
    let cert = Certificate::from_der(der)?;
    let tbs = cert.tbs_certificate();
    let time = |t: x509_cert::time::Time| {
        UNIX_EPOCH
            .checked_add(t.to_unix_duration())
            .ok_or(Error::from(ErrorKind::DateTime))
    };
    Ok(Lifetime {
        not_before: time(tbs.validity().not_before)?,
        not_after: time(tbs.validity().not_after)?,
        dns_names: alt_names(tbs)
            .into_iter()
            .filter_map(|name| name.strip_prefix("DNS:").map(str::to_owned))
            .collect(),
    })
}

fn subject(tbs: &TbsCertificate) -> String {
    let attributes: Vec<_> = tbs.subject().iter().collect();
    let common_name = attributes
        .iter()
        .rev()
        .filter(|a| a.oid == rfc4519::CN)
        .find_map(|a| text(&a.value).filter(|cn| !cn.is_empty()));
    if let Some(cn) = common_name {
        return cn;
    }
    if !attributes.is_empty() {
        return attributes
            .iter()
            .map(|a| {
                let value = text(&a.value).unwrap_or_else(|| hex(a.value.value()));
                format!("{}={value}", attribute_name(&a.oid))
            })
            .collect::<Vec<_>>()
            .join(", ");
    }
    let names = alt_names(tbs);
    if names.is_empty() {
        return "(empty)".to_owned();
    }
    let mut shown = names
        .iter()
        .take(MAX_NAMES)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if let Some(more) = names.len().checked_sub(MAX_NAMES).filter(|&n| n > 0) {
        shown.push_str(&format!(" and {more} more"));
    }
    shown
}

/// `DNS:` and `IP:` entries of the subjectAltName extension; none if it
/// is missing or unreadable.
fn alt_names(tbs: &TbsCertificate) -> Vec<String> {
    let Ok(Some((_critical, SubjectAltName(names)))) = tbs.get_extension::<SubjectAltName>() else {
        return Vec::new();
    };
    names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DnsName(dns) => Some(format!("DNS:{}", dns.as_str())),
            GeneralName::IpAddress(ip) => ip_address(ip.as_bytes()).map(|ip| format!("IP:{ip}")),
            _ => None,
        })
        .collect()
}

fn ip_address(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

/// A directory string's text, read leniently as certificates in the wild
/// need (`*` in a `PrintableString`, Latin-1 in a `TeletexString`); `None`
/// for a type that is not text.
fn text(value: &Any) -> Option<String> {
    let bytes = value.value();
    match value.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::VisibleString
        | Tag::NumericString => Some(String::from_utf8_lossy(bytes).into_owned()),
        Tag::TeletexString => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        Tag::BmpString => BmpString::from_ucs2(bytes).ok().map(|s| s.to_string()),
        _ => None,
    }
}

/// A value that is not text, as RFC 4514 writes it: `#` and hex.
fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(1 + 2 * bytes.len());
    out.push('#');
    for byte in bytes {
        let _ = write!(out, "{byte:02x}"); // writing to a String cannot fail
    }
    out
}

/// The usual short name of a subject attribute, else its dotted OID.
fn attribute_name(oid: &ObjectIdentifier) -> String {
    let short = match *oid {
        rfc4519::CN => "CN",
        rfc4519::SERIAL_NUMBER => "serialNumber",
        rfc4519::C => "C",
        rfc4519::L => "L",
        rfc4519::ST => "ST",
        rfc4519::O => "O",
        rfc4519::OU => "OU",
        rfc3280::EMAIL_ADDRESS => "emailAddress",
        _ => return oid.to_string(),
    };
    short.to_owned()
}

/// At most [`MAX_SUBJECT_CHARS`] characters (not bytes: a cut never
/// splits one).
fn shorten(mut text: String) -> String {
    if let Some((cut, _)) = text.char_indices().nth(MAX_SUBJECT_CHARS) {
        text.truncate(cut);
        text.push('…');
    }
    text
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

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DistinguishedName, DnType, DnValue, KeyPair};

    /// A self-signed certificate with `subject` and the alternative `names`.
    fn certificate(subject: &[(DnType, DnValue)], names: &[&str]) -> Vec<u8> {
        certificate_with(subject, names, |_| {})
    }

    fn certificate_with(
        subject: &[(DnType, DnValue)],
        names: &[&str],
        adjust: impl FnOnce(&mut CertificateParams),
    ) -> Vec<u8> {
        let names = names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name = DistinguishedName::new();
        for (kind, value) in subject {
            params.distinguished_name.push(kind.clone(), value.clone());
        }
        adjust(&mut params);
        let key = KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    fn utf8(text: &str) -> DnValue {
        DnValue::Utf8String(text.to_owned())
    }

    fn subject_of(der: &[u8]) -> String {
        summarize(der).unwrap().subject
    }

    fn expiry_of(der: &[u8]) -> String {
        crate::utc::to_the_second(summarize(der).unwrap().not_after).unwrap()
    }

    #[test]
    fn shows_the_common_name_and_expiry() {
        let der = certificate_with(
            &[
                (DnType::OrganizationName, utf8("Org")),
                (DnType::CommonName, utf8("www.example.test")),
            ],
            &["a.test"],
            |p| p.not_after = rcgen::date_time_ymd(2049, 12, 31),
        );
        assert_eq!(subject_of(&der), "www.example.test");
        assert_eq!(expiry_of(&der), "2049-12-31 00:00:00 UTC");

        // From 2050 on, notAfter is a GeneralizedTime.
        let der = certificate_with(&[], &["a.test"], |p| {
            p.not_after = rcgen::date_time_ymd(2051, 6, 15);
        });
        assert_eq!(expiry_of(&der), "2051-06-15 00:00:00 UTC");
    }

    #[test]
    fn falls_back_to_the_subject_then_the_alt_names() {
        let der = certificate(
            &[
                (DnType::CountryName, utf8("CH")),
                (DnType::OrganizationName, utf8("Org")),
                (DnType::CustomDnType(vec![2, 5, 4, 97]), utf8("VAT")),
            ],
            &["a.test"],
        );
        assert_eq!(subject_of(&der), "C=CH, O=Org, 2.5.4.97=VAT");

        let names = ["a.test", "b.test", "c.test", "d.test", "127.0.0.1"];
        assert_eq!(
            subject_of(&certificate(&[], &names)),
            "DNS:a.test, DNS:b.test, DNS:c.test and 2 more"
        );
        assert_eq!(
            subject_of(&certificate(&[], &["a.test", "127.0.0.1", "::1"])),
            "DNS:a.test, IP:127.0.0.1, IP:::1"
        );
        assert_eq!(subject_of(&certificate(&[], &["::1"])), "IP:::1");
        assert_eq!(subject_of(&certificate(&[], &[])), "(empty)");
    }

    #[test]
    fn an_empty_common_name_does_not_count() {
        let der = certificate(&[(DnType::CommonName, utf8(""))], &["a.test"]);
        assert_eq!(subject_of(&der), "CN=");
    }

    #[test]
    fn decodes_string_types_and_escapes_controls() {
        let cases: [(DnValue, &str); 5] = [
            (DnValue::BmpString("Zürich".try_into().unwrap()), "Zürich"),
            (
                DnValue::PrintableString("Printable".try_into().unwrap()),
                "Printable",
            ),
            (DnValue::Ia5String("ia5@x".try_into().unwrap()), "ia5@x"),
            (
                DnValue::TeletexString("Teletex".try_into().unwrap()),
                "Teletex",
            ),
            (utf8("evil\nINFO forged\u{7f}"), "evil\\nINFO forged\\u{7f}"),
        ];
        for (value, shown) in cases {
            let der = certificate(&[(DnType::CommonName, value)], &["a.test"]);
            assert_eq!(subject_of(&der), shown);
        }
    }

    #[test]
    fn shows_multi_byte_utf8_in_common_and_organisation_names() {
        // 2-, 3- and 4-byte characters.
        for name in ["Zürich AG", "東京 株式会社", "🦀 crab 𝄞", "é☃𝄞"] {
            let der = certificate(&[(DnType::CommonName, utf8(name))], &["a.test"]);
            assert_eq!(subject_of(&der), name);
            let der = certificate(&[(DnType::OrganizationName, utf8(name))], &["a.test"]);
            assert_eq!(subject_of(&der), format!("O={name}"));
        }
    }

    #[test]
    fn invalid_utf8_in_a_name_is_replaced() {
        // rcgen only writes valid strings: damage the DER itself, with a
        // `\xff` and a lone `\xc3` at every offset of a 4-byte name.
        let der = certificate(&[(DnType::CommonName, utf8("ABCD"))], &["a.test"]);
        // The subject comes after the issuer, which is the same name.
        let at = der.windows(4).rposition(|w| w == b"ABCD").unwrap();
        for bad in [0xff, 0xc3] {
            for offset in 0..4 {
                let mut damaged = der.clone();
                damaged[at + offset] = bad;
                let subject = subject_of(&damaged);
                assert_eq!(subject.chars().filter(|&c| c == '\u{fffd}').count(), 1);
                assert_eq!(subject.chars().count(), 4, "{subject}");
            }
        }
    }

    #[test]
    fn cuts_a_very_long_name_at_a_character() {
        for unit in ["a", "é", "東", "𝄞"] {
            let name = unit.repeat(5_000);
            let der = certificate(&[(DnType::CommonName, utf8(&name))], &["a.test"]);
            let subject = subject_of(&der);
            assert_eq!(subject.chars().count(), MAX_SUBJECT_CHARS + 1, "{unit}");
            assert!(subject.ends_with('…'));
            assert!(subject.starts_with(&unit.repeat(MAX_SUBJECT_CHARS)));
        }
        let short = "b".repeat(MAX_SUBJECT_CHARS);
        let der = certificate(&[(DnType::CommonName, utf8(&short))], &["a.test"]);
        assert_eq!(subject_of(&der), short);
    }

    #[test]
    fn many_attributes_and_names_stay_short() {
        let subject: Vec<_> = (0..300)
            .map(|i| {
                let oid = vec![1, 3, 6, 1, 4, 1, 99_999, i];
                (DnType::CustomDnType(oid), utf8(&format!("value {i}")))
            })
            .collect();
        let der = certificate(&subject, &["a.test"]);
        assert_eq!(subject_of(&der).chars().count(), MAX_SUBJECT_CHARS + 1);

        let names: Vec<String> = (0..500).map(|i| format!("host{i}.test")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_eq!(
            subject_of(&certificate(&[], &names)),
            "DNS:host0.test, DNS:host1.test, DNS:host2.test and 497 more"
        );
    }

    #[test]
    fn reports_what_der_cannot_read() {
        // UniversalString is a tag `der` does not know.
        let der = certificate(
            &[(
                DnType::CommonName,
                DnValue::UniversalString("snow ☃".try_into().unwrap()),
            )],
            &["a.test"],
        );
        let error = summarize(&der).err().unwrap().to_string();
        assert!(error.contains("0x1c"), "{error}");

        // A validity before 1970.
        let der = certificate_with(&[], &["a.test"], |p| {
            p.not_before = rcgen::date_time_ymd(1960, 1, 1);
        });
        assert!(summarize(&der).is_err());
    }

    #[test]
    fn never_panics_on_damaged_der() {
        let der = certificate(
            &[
                (DnType::CommonName, utf8("東京 example")),
                (DnType::OrganizationName, utf8("Org")),
            ],
            &["example.test", "127.0.0.1"],
        );
        assert!(summarize(&der).is_ok());
        for len in 0..der.len() {
            assert!(summarize(&der[..len]).is_err(), "{len}");
        }
        for i in 0..der.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut damaged = der.clone();
                damaged[i] ^= flip;
                let _ = summarize(&damaged);
            }
        }
        assert!(summarize(b"").is_err());
        assert!(summarize(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(summarize(&[0x30, 0x80, 0, 0]).is_err());
    }

    #[test]
    fn lifetime_has_the_validity_and_only_the_dns_names() {
        let der = certificate_with(&[], &["a.test", "127.0.0.1", "b.test"], |p| {
            p.not_before = rcgen::date_time_ymd(2020, 1, 1);
            p.not_after = rcgen::date_time_ymd(2051, 6, 15);
        });
        let lifetime = lifetime(&der).unwrap();
        assert_eq!(lifetime.dns_names, ["a.test", "b.test"]);
        let day = |t: SystemTime| crate::utc::to_the_second(t).unwrap();
        assert_eq!(day(lifetime.not_before), "2020-01-01 00:00:00 UTC");
        assert_eq!(day(lifetime.not_after), "2051-06-15 00:00:00 UTC");
        for len in 0..der.len() {
            assert!(super::lifetime(&der[..len]).is_err(), "{len}");
        }
        for i in 0..der.len() {
            let mut damaged = der.clone();
            damaged[i] ^= 0xff;
            let _ = super::lifetime(&damaged);
        }
    }

    #[test]
    fn writes_non_text_values_in_hex() {
        assert_eq!(hex(&[0x04, 0xab, 0x00]), "#04ab00");
        assert_eq!(hex(&[]), "#");
    }
}
