//! The Common and Combined Log Formats, byte for byte as nginx writes
//! them with its predefined `combined` format:
//!
//! ```text
//! $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
//! ```
//!
//! (`common` stops after `$body_bytes_sent`). A value that is absent is
//! `-`; one that is present but empty stays empty (`""`). In every value,
//! `"`, `\`, control bytes and bytes from 0x7F up are written `\xHH`
//! (upper-case hex), as nginx's `ngx_http_log_escape` does: a multi-byte
//! UTF-8 character shows as its bytes, a line stays one line. The time is
//! UTC (`+0000`). A header value that was not UTF-8 reached uhttpd with
//! U+FFFD in place of its invalid bytes, so it shows `\xEF\xBF\xBD` there
//! where nginx would show the byte itself; a refused request line shows
//! its bytes as received.

use std::fmt::{self, Display, Formatter, Write};

use super::{Entry, Line};
use crate::utc;

/// An entry in the Common Log Format.
pub struct Common<'e, 'a>(pub &'e Entry<'a>);

/// An entry in the Combined Log Format.
pub struct Combined<'e, 'a>(pub &'e Entry<'a>);

impl Display for Common<'_, '_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let e = self.0;
        let time = utc::common_log(e.time);
        write!(
            f,
            "{} - {} [{}] \"{}\" {} {}",
            Escaped(e.client.to_string().as_bytes()),
            Value(e.user.as_deref().map(str::as_bytes)),
            time.as_deref().unwrap_or("-"),
            Request(&e.line),
            e.status,
            e.body_bytes
        )
    }
}

impl Display for Combined<'_, '_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let e = self.0;
        write!(
            f,
            "{} \"{}\" \"{}\"",
            Common(e),
            Value(e.referer.map(str::as_bytes)),
            Value(e.user_agent.map(str::as_bytes))
        )
    }
}

/// `$request`: the request line.
struct Request<'l, 'a>(&'l Line<'a>);

impl Display for Request<'_, '_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            Line::Parsed {
                method,
                target,
                protocol,
            } => write!(
                f,
                "{} {} {}",
                Escaped(method.as_bytes()),
                Escaped(target.as_bytes()),
                Escaped(protocol.as_bytes())
            ),
            // An empty line (a connection closed before sending one) is
            // empty, not `-`, as in nginx's `"" 400`.
            Line::Raw(raw) => Escaped(raw).fmt(f),
        }
    }
}

/// A variable: `-` when absent, else its escaped bytes.
struct Value<'a>(Option<&'a [u8]>);

impl Display for Value<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_char('-'),
            Some(bytes) => Escaped(bytes).fmt(f),
        }
    }
}

/// Bytes as nginx escapes them in a log line.
pub struct Escaped<'a>(pub &'a [u8]);

impl Display for Escaped<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut rest = self.0;
        while !rest.is_empty() {
            // The longest run written as it is, then one escaped byte.
            let plain = rest
                .iter()
                .position(|&b| needs_escape(b))
                .unwrap_or(rest.len());
            let (run, tail) = rest.split_at(plain);
            // A run holds only printable ASCII, so it is UTF-8.
            f.write_str(std::str::from_utf8(run).map_err(|_| fmt::Error)?)?;
            let Some((&byte, tail)) = tail.split_first() else {
                break;
            };
            let hi = char::from(HEX[usize::from(byte >> 4)]);
            let lo = char::from(HEX[usize::from(byte & 0xF)]);
            f.write_str("\\x")?;
            f.write_char(hi)?;
            f.write_char(lo)?;
            rest = tail;
        }
        Ok(())
    }
}

/// The bytes `ngx_http_log_escape` escapes: controls, `"`, `\`, and 0x7F
/// and above.
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\' || b >= 0x7F
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::super::tests::entry;
    use super::super::{Client, Line};
    use super::*;

    fn escaped(bytes: &[u8]) -> String {
        Escaped(bytes).to_string()
    }

    #[test]
    fn escapes_as_nginx_does() {
        assert_eq!(escaped(b""), "");
        assert_eq!(escaped(b"/a b?c=d&e"), "/a b?c=d&e");
        assert_eq!(escaped(b"say \"hi\" \\o/"), r#"say \x22hi\x22 \x5Co/"#);
        assert_eq!(escaped(b"\x00\t\r\n\x1f\x7f"), r"\x00\x09\x0D\x0A\x1F\x7F");
        assert_eq!(
            escaped("é€😀".as_bytes()),
            r"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"
        );
        assert_eq!(escaped(b"\xff\xc3"), r"\xFF\xC3");
        assert_eq!(escaped(b"~ ' ` { }"), "~ ' ` { }");
    }

    /// Every byte escaped or not, at every offset of a line mixing
    /// multi-byte characters and invalid bytes: the output is the
    /// reference escaping, and never anything outside printable ASCII.
    #[test]
    fn escapes_any_byte_at_any_offset() {
        let reference = |bytes: &[u8]| -> String {
            bytes
                .iter()
                .map(|&b| match b {
                    0x20..=0x7E if b != b'"' && b != b'\\' => char::from(b).to_string(),
                    _ => format!("\\x{b:02X}"),
                })
                .collect()
        };
        let inserts: [&[u8]; 9] = [
            "é".as_bytes(),
            "€".as_bytes(),
            "😀".as_bytes(),
            b"\xff",
            b"\xc3",
            b"\"",
            b"\\",
            b"\x01",
            b"\n",
        ];
        let base = b"GET /dir/file.txt?q=1 HTTP/1.1";
        for insert in inserts {
            for at in 0..=base.len() {
                let mut bytes = base[..at].to_vec();
                bytes.extend_from_slice(insert);
                bytes.extend_from_slice(&base[at..]);
                let out = escaped(&bytes);
                assert_eq!(out, reference(&bytes), "{insert:?} at {at}");
                assert!(out.bytes().all(|b| (0x20..0x7F).contains(&b)), "{out}");
            }
        }
        for byte in 0..=255u8 {
            assert_eq!(escaped(&[byte]), reference(&[byte]), "{byte}");
        }
    }

    #[test]
    fn writes_common_and_combined_lines_as_nginx() {
        let mut e = entry(Line::Parsed {
            method: "GET",
            target: "/a%20b?x=\"1\"",
            protocol: "HTTP/1.1",
        });
        assert_eq!(
            Common(&e).to_string(),
            r#"192.0.2.1 - - [02/Dec/2026:01:11:06 +0000] "GET /a%20b?x=\x221\x22 HTTP/1.1" 200 5"#
        );
        assert_eq!(
            Combined(&e).to_string(),
            r#"192.0.2.1 - - [02/Dec/2026:01:11:06 +0000] "GET /a%20b?x=\x221\x22 HTTP/1.1" 200 5 "-" "-""#
        );
        e.user = Some(Cow::Borrowed("ann é"));
        e.referer = Some("");
        e.user_agent = Some("curl/8 \"x\"\u{1}");
        e.client = Client::Unix;
        assert_eq!(
            Combined(&e).to_string(),
            r#"unix: - ann \xC3\xA9 [02/Dec/2026:01:11:06 +0000] "GET /a%20b?x=\x221\x22 HTTP/1.1" 200 5 "" "curl/8 \x22x\x22\x01""#
        );
        let refused = entry(Line::Raw(b"GET /\xff\"\r HTTP/2.0"));
        assert_eq!(
            Common(&refused).to_string(),
            r#"192.0.2.1 - - [02/Dec/2026:01:11:06 +0000] "GET /\xFF\x22\x0D HTTP/2.0" 200 5"#
        );
        assert_eq!(
            Common(&entry(Line::Raw(b""))).to_string(),
            r#"192.0.2.1 - - [02/Dec/2026:01:11:06 +0000] "" 200 5"#
        );
    }
}
