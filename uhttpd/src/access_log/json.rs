//! The `json` format: one object per line, written by `serde_json`, so a
//! line is valid JSON (and one line: control characters are `\u00XX`)
//! whatever bytes the client sent.
//!
//! ```json
//! {"time":"2026-12-02T01:11:06.250Z","remote_addr":"192.0.2.1","user":null,
//!  "method":"GET","path":"/a%20b","query":"x=1","protocol":"HTTP/1.1",
//!  "request":"GET /a%20b?x=1 HTTP/1.1","status":200,"bytes_sent":5,
//!  "request_bytes":0,"duration_ms":1.5,"referer":null,"user_agent":"curl/8",
//!  "outcome":"complete","refused":null}
//! ```
//!
//! `time` is when the response ended (RFC 3339, UTC); `path` and `query`
//! are as sent (still percent-encoded); `bytes_sent` counts body bytes
//! written, `request_bytes` body bytes received; `outcome` is `complete`,
//! `client gone`, `send timeout`, `shutdown` or `error`; `refused` is why
//! the library refused the request, if it did. Absent values are `null`.
//! For a refused request whose head never parsed, `method`, `path`,
//! `query` and `protocol` are `null` and `request` is the first line as
//! received, with each invalid UTF-8 sequence replaced by U+FFFD (header
//! values reach uhttpd already so replaced).

use std::borrow::Cow;

use serde::Serialize;

use super::{Entry, Line};
use crate::utc;

#[derive(Serialize)]
struct Record<'a> {
    time: Option<String>,
    remote_addr: String,
    user: Option<&'a str>,
    method: Option<&'a str>,
    path: Option<&'a str>,
    query: Option<&'a str>,
    protocol: Option<&'a str>,
    request: Cow<'a, str>,
    status: u16,
    bytes_sent: u64,
    request_bytes: u64,
    duration_ms: f64,
    referer: Option<&'a str>,
    user_agent: Option<&'a str>,
    outcome: &'static str,
    refused: Option<&'a str>,
}

/// `entry` as one line of JSON (without the line end).
pub fn line(entry: &Entry<'_>) -> String {
    let (method, path, query, protocol, request) = match entry.line {
        Line::Parsed {
            method,
            target,
            protocol,
        } => {
            let (path, query) = match target.split_once('?') {
                Some((path, query)) => (path, Some(query)),
                None => (target, None),
            };
            let request = Cow::Owned(format!("{method} {target} {protocol}"));
            (Some(method), Some(path), query, Some(protocol), request)
        }
        Line::Raw(raw) => (None, None, None, None, String::from_utf8_lossy(raw)),
    };
    let record = Record {
        time: utc::rfc3339_millis(entry.time),
        remote_addr: entry.client.to_string(),
        user: entry.user.as_deref(),
        method,
        path,
        query,
        protocol,
        request,
        status: entry.status,
        bytes_sent: entry.body_bytes,
        request_bytes: entry.request_body_bytes,
        // Microseconds, as milliseconds with three decimals.
        duration_ms: entry.duration.as_micros() as f64 / 1000.0,
        referer: entry.referer,
        user_agent: entry.user_agent,
        outcome: entry.outcome.as_str(),
        refused: entry.refused.as_deref(),
    };
    // Serializing a struct of strings and numbers cannot fail (a non-finite
    // float would be written as null, and the duration is finite).
    serde_json::to_string(&record).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use serde_json::{Value, json};

    use super::super::tests::entry;
    use super::super::{Client, Line};
    use super::*;

    fn parsed(line: &str) -> Value {
        assert!(!line.contains('\n'), "{line}");
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    #[test]
    fn writes_every_field() {
        let mut e = entry(Line::Parsed {
            method: "GET",
            target: "/a%20b?x=1&y",
            protocol: "HTTP/1.1",
        });
        e.user = Some(Cow::Borrowed("ann"));
        e.user_agent = Some("curl/8");
        e.referer = Some("");
        e.request_body_bytes = 12;
        let value = parsed(&line(&e));
        assert_eq!(
            value,
            json!({
                "time": "2026-12-02T01:11:06.250Z",
                "remote_addr": "192.0.2.1",
                "user": "ann",
                "method": "GET",
                "path": "/a%20b",
                "query": "x=1&y",
                "protocol": "HTTP/1.1",
                "request": "GET /a%20b?x=1&y HTTP/1.1",
                "status": 200,
                "bytes_sent": 5,
                "request_bytes": 12,
                "duration_ms": 1.5,
                "referer": "",
                "user_agent": "curl/8",
                "outcome": "complete",
                "refused": null,
            })
        );
        e.client = Client::Unix;
        assert_eq!(parsed(&line(&e))["remote_addr"], "unix:");
    }

    /// Any byte at any offset of a refused line, and any character at any
    /// offset of a header value, gives one line of valid JSON that keeps
    /// what was valid UTF-8 and replaces the rest with U+FFFD.
    #[test]
    fn any_bytes_at_any_offset_give_valid_json() {
        let inserts: [&[u8]; 10] = [
            "é".as_bytes(),
            "€".as_bytes(),
            "😀".as_bytes(),
            b"\xff",
            b"\xc3",
            b"\xf0\x9f",
            b"\"",
            b"\\",
            b"\x01",
            b"\n",
        ];
        let base = "GET /dir/file.txt?q=1 HTTP/1.1";
        for insert in inserts {
            for at in 0..=base.len() {
                let mut raw = base.as_bytes()[..at].to_vec();
                raw.extend_from_slice(insert);
                raw.extend_from_slice(&base.as_bytes()[at..]);
                let value = parsed(&line(&Entry {
                    line: Line::Raw(&raw),
                    ..entry(Line::Raw(b""))
                }));
                assert_eq!(value["request"], *String::from_utf8_lossy(&raw), "{raw:?}");
                assert_eq!(value["method"], Value::Null);

                let text = String::from_utf8_lossy(&raw);
                let mut e: Entry<'_> = entry(Line::Parsed {
                    method: "GET",
                    target: "/",
                    protocol: "HTTP/1.1",
                });
                e.user_agent = Some(&text);
                e.referer = Some(&text);
                let value = parsed(&line(&e));
                assert_eq!(value["user_agent"], *text);
                assert_eq!(value["referer"], *text);
            }
        }
    }
}
