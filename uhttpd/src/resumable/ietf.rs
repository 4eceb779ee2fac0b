//! The IETF draft's requests and answers
//! (draft-ietf-httpbis-resumable-upload-12, interop version 8): upload
//! creation with `Upload-Complete` (§4.2), offset retrieval by `HEAD`
//! (§4.3), append by `PATCH` with `application/partial-upload` (§4.4),
//! cancellation by `DELETE` (§4.5), `Upload-Limit` (§4.1.4), and the
//! problem types `mismatching-upload-offset`, `completed-upload` and
//! `inconsistent-upload-length`.

use std::time::Duration;

use uhttp::{Request, Response};

use super::headers::{self, Digest, HeaderError};
use super::store::Meta;
use super::{AppendRequest, Create, Op, Protocol, resource_op};
use crate::errors::{error_response, json_error};

/// `Upload-Limit` (an sf-dictionary): the largest upload, and how long an
/// upload may sit unchanged.
pub fn limit(max_size: u64, expiry: Duration) -> String {
    format!("max-size={max_size}, max-age={}", expiry.as_secs())
}

/// A problem-details answer (RFC 9457) with a problem type the draft
/// registers.
pub fn problem(status: u16, kind: &str, title: &str) -> Response {
    problem_body(status, kind, title, serde_json::Map::new())
}

fn problem_body(
    status: u16,
    kind: &str,
    title: &str,
    mut members: serde_json::Map<String, serde_json::Value>,
) -> Response {
    members.insert(
        "type".into(),
        format!("https://iana.org/assignments/http-problem-types#{kind}").into(),
    );
    members.insert("title".into(), title.into());
    Response::new(status)
        .header("Content-Type", "application/problem+json")
        .body(serde_json::Value::Object(members))
}

/// 409 with the upload's offset (§4.4.1), in the body and as
/// `Upload-Offset`.
pub fn mismatch(expected: u64, provided: u64) -> Response {
    let mut members = serde_json::Map::new();
    members.insert("expected-offset".into(), expected.into());
    members.insert("provided-offset".into(), provided.into());
    problem_body(
        409,
        "mismatching-upload-offset",
        "Upload-Offset is not the upload's offset",
        members,
    )
    .header("Upload-Offset", expected.to_string())
}

/// `HEAD` on an upload resource (§4.3).
pub fn offset(meta: &Meta, (max, expiry): (u64, Duration)) -> Response {
    let response = Response::new(204)
        .header("Upload-Offset", meta.offset.to_string())
        .header("Upload-Complete", if meta.complete { "?1" } else { "?0" })
        .header("Cache-Control", "no-store")
        .header("Upload-Limit", limit(max, expiry));
    match meta.length {
        Some(n) => response.header("Upload-Length", n.to_string()),
        None => response,
    }
}

/// The answer to a creation (201 with the resource) or an append (204)
/// that left the upload incomplete.
pub fn appended(created: Option<&str>, meta: &Meta, limits: (u64, Duration)) -> Response {
    let response = match created {
        Some(location) => Response::new(201)
            .header("Location", location)
            .header("Upload-Limit", limit(limits.0, limits.1)),
        None => Response::new(204),
    };
    response
        .header("Upload-Offset", meta.offset.to_string())
        .header("Upload-Complete", "?0")
}

/// A header's value parsed by `parse`, or 400 naming it.
fn field<T>(
    req: &Request,
    name: &str,
    parse: impl Fn(&str) -> Result<T, HeaderError>,
) -> Result<Option<T>, Response> {
    match req.header(name) {
        None => Ok(None),
        Some(value) => parse(value)
            .map(Some)
            .map_err(|e| json_error(400, &format!("{name}: {e}"))),
    }
}

fn required<T>(
    req: &Request,
    name: &str,
    parse: impl Fn(&str) -> Result<T, HeaderError>,
) -> Result<T, Response> {
    field(req, name, parse)?.ok_or_else(|| json_error(400, &format!("missing {name}")))
}

fn digests(req: &Request) -> Result<(Option<Digest>, Option<Digest>), Response> {
    let content = field(req, "content-digest", headers::digest_dictionary)?.flatten();
    let repr = field(req, "repr-digest", headers::digest_dictionary)?.flatten();
    Ok((content, repr))
}

/// The request as an IETF-draft operation, or the answer refusing it.
pub fn parse(req: &Request) -> Result<(Protocol, Op), Response> {
    let version = match req.header("upload-draft-interop-version") {
        Some(v) => headers::interop_version(v).ok_or_else(|| {
            json_error(
                400,
                "unsupported Upload-Draft-Interop-Version (5 to 8 are spoken)",
            )
        })?,
        None => {
            return Err(json_error(
                400,
                "missing Upload-Draft-Interop-Version or Tus-Resumable",
            ));
        }
    };
    let protocol = Protocol::Ietf(version);
    operation(req, version)
        .map(|op| (protocol, op))
        .map_err(|r| protocol.decorate(r))
}

fn operation(req: &Request, version: u64) -> Result<Op, Response> {
    if let Some(op) = resource_op(req, "HEAD, PATCH, DELETE", || append(req, version)) {
        return op;
    }
    let path = uhttp::util::split_url(req.url()).0;
    if !matches!(req.method(), "POST" | "PUT") {
        return Err(error_response(405).header("Allow", "POST, PUT"));
    }
    let raw_name = path.strip_prefix("/upload/").unwrap_or_default();
    let name = if raw_name.is_empty() {
        super::tus::metadata_name(req)?
    } else {
        crate::upload::put_path(raw_name).map_err(|why| json_error(400, why))?
    };
    let complete = required(req, "upload-complete", headers::sf_boolean)?;
    let length = field(req, "upload-length", headers::sf_integer)?;
    if let (true, Some(length), Some(body)) = (complete, length, req.content_length())
        && length != body
    {
        return Err(problem(
            400,
            "inconsistent-upload-length",
            "Upload-Length is not the length of a complete body",
        ));
    }
    let (content_digest, repr_digest) = digests(req)?;
    Ok(Op::Create(Create {
        name,
        length,
        complete,
        metadata: req.header("upload-metadata").map(str::to_owned),
        content_digest,
        repr_digest,
    }))
}

/// An append; from interop version 6 on (draft-05), its body must be
/// typed `application/partial-upload`.
fn append(req: &Request, version: u64) -> Result<AppendRequest, Response> {
    let media_type = req.header("content-type").unwrap_or_default();
    let media_type = media_type.split(';').next().unwrap_or_default().trim();
    if version >= 6 && !media_type.eq_ignore_ascii_case("application/partial-upload") {
        return Err(json_error(
            415,
            "PATCH takes Content-Type: application/partial-upload",
        ));
    }
    let offset = required(req, "upload-offset", headers::sf_integer)?;
    let complete = required(req, "upload-complete", headers::sf_boolean)?;
    let length = field(req, "upload-length", headers::sf_integer)?;
    let (content_digest, repr_digest) = digests(req)?;
    Ok(AppendRequest {
        offset,
        complete: Some(complete),
        length,
        content_digest,
        repr_digest,
    })
}
