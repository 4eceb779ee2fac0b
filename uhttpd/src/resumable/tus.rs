//! tus 1.0.0 (<https://tus.io/protocols/resumable-upload>): core
//! (`HEAD`, `PATCH` with `application/offset+octet-stream`), and the
//! creation, creation-with-upload, creation-defer-length, termination,
//! expiration and checksum (sha1, sha256) extensions. A deferred length is
//! given by a later `PATCH`'s `Upload-Length`, once; the upload is complete
//! when its offset reaches it.

use std::time::{Duration, UNIX_EPOCH};

use uhttp::{Request, Response};

use super::headers::{self, HeaderError};
use super::store::Meta;
use super::{AppendRequest, Create, Op, resource_op};
use crate::errors::{error_response, json_error};

const EXTENSIONS: &str =
    "creation,creation-with-upload,creation-defer-length,termination,expiration,checksum";
const OCTETS: &str = "application/offset+octet-stream";

/// The discovery headers of `OPTIONS`.
pub fn options(response: Response, max_size: u64) -> Response {
    response
        .header("Tus-Resumable", "1.0.0")
        .header("Tus-Version", "1.0.0")
        .header("Tus-Extension", EXTENSIONS)
        .header("Tus-Max-Size", max_size.to_string())
        .header("Tus-Checksum-Algorithm", "sha1,sha256")
}

/// `Upload-Expires`: when an upload left as it is now goes.
fn expires(meta: &Meta, expiry: Duration) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(meta.expires(expiry)))
}

/// `HEAD` on an upload resource.
pub fn offset(meta: &Meta, expiry: Duration) -> Response {
    let response = Response::new(200)
        .header("Upload-Offset", meta.offset.to_string())
        .header("Cache-Control", "no-store")
        .header("Upload-Expires", expires(meta, expiry));
    let response = match meta.length {
        Some(n) => response.header("Upload-Length", n.to_string()),
        None => response.header("Upload-Defer-Length", "1"),
    };
    match &meta.metadata {
        Some(metadata) => response.header("Upload-Metadata", metadata),
        None => response,
    }
}

/// The answer to a creation (201 with the resource) or a `PATCH` (204).
pub fn appended(created: Option<&str>, meta: &Meta, expiry: Duration) -> Response {
    let response = match created {
        Some(location) => Response::new(201).header("Location", location),
        None => Response::new(204),
    };
    response
        .header("Upload-Offset", meta.offset.to_string())
        .header("Upload-Expires", expires(meta, expiry))
}

/// The file's path below the upload directory, from `Upload-Metadata`'s
/// `filename` (or `name`, as Uppy also sends), checked as a multipart
/// file name is.
pub fn metadata_name(req: &Request) -> Result<Vec<String>, Response> {
    let metadata = req.header("upload-metadata").unwrap_or_default();
    let pairs = headers::tus_metadata(metadata)
        .map_err(|e| json_error(400, &format!("Upload-Metadata: {e}")))?;
    let value = ["filename", "name"]
        .iter()
        .find_map(|key| pairs.iter().find(|(k, _)| k == key))
        .map(|(_, v)| v.clone())
        .ok_or_else(|| json_error(400, "Upload-Metadata names no filename"))?;
    let name = String::from_utf8(value).map_err(|_| json_error(400, "filename is not UTF-8"))?;
    let parts = crate::upload::relative_path(&name).map_err(|why| json_error(400, why))?;
    if parts.is_empty() {
        return Err(json_error(400, "empty file name"));
    }
    Ok(parts)
}

fn integer(req: &Request, name: &str) -> Result<Option<u64>, Response> {
    match req.header(name) {
        None => Ok(None),
        Some(v) => headers::tus_integer(v)
            .map(Some)
            .map_err(|e| json_error(400, &format!("{name}: {e}"))),
    }
}

fn checksum(req: &Request) -> Result<Option<headers::Digest>, Response> {
    match req.header("upload-checksum") {
        None => Ok(None),
        Some(v) => headers::tus_checksum(v).map(Some).map_err(|e| match e {
            HeaderError::Algorithm => json_error(400, "Upload-Checksum: unsupported algorithm"),
            e => json_error(400, &format!("Upload-Checksum: {e}")),
        }),
    }
}

fn is_octets(req: &Request) -> bool {
    let media_type = req.header("content-type").unwrap_or_default();
    let media_type = media_type.split(';').next().unwrap_or_default().trim();
    media_type.eq_ignore_ascii_case(OCTETS)
}

/// The request as a tus operation, or the answer refusing it (with
/// `Tus-Resumable`).
pub fn parse(req: &Request) -> Result<Op, Response> {
    operation(req).map_err(|r| r.header("Tus-Resumable", "1.0.0"))
}

/// A `PATCH`'s headers: the offset, the length when first declared, the
/// piece's checksum.
fn append(req: &Request) -> Result<AppendRequest, Response> {
    if !is_octets(req) {
        return Err(json_error(
            415,
            "PATCH takes Content-Type: application/offset+octet-stream",
        ));
    }
    let offset =
        integer(req, "upload-offset")?.ok_or_else(|| json_error(400, "missing Upload-Offset"))?;
    Ok(AppendRequest {
        offset,
        complete: None,
        length: integer(req, "upload-length")?,
        content_digest: checksum(req)?,
        repr_digest: None,
    })
}

fn operation(req: &Request) -> Result<Op, Response> {
    if req.header("tus-resumable").map(str::trim) != Some("1.0.0") {
        return Err(
            json_error(412, "Tus-Resumable: only 1.0.0 is spoken").header("Tus-Version", "1.0.0")
        );
    }
    if req.method() == "OPTIONS" {
        return Ok(Op::Options);
    }
    if let Some(op) = resource_op(req, "HEAD, PATCH, DELETE, OPTIONS", || append(req)) {
        return op;
    }
    let path = uhttp::util::split_url(req.url()).0;
    if req.method() != "POST" || !(path == "/upload" || path == "/upload/") {
        return Err(error_response(405).header("Allow", "POST, OPTIONS"));
    }
    let deferred = match req.header("upload-defer-length").map(str::trim) {
        None => false,
        Some("1") => true,
        Some(_) => return Err(json_error(400, "Upload-Defer-Length: only 1 is defined")),
    };
    let length = match (integer(req, "upload-length")?, deferred) {
        (Some(_), true) => {
            return Err(json_error(
                400,
                "Upload-Length and Upload-Defer-Length are exclusive",
            ));
        }
        (None, false) => {
            return Err(json_error(
                400,
                "missing Upload-Length (or Upload-Defer-Length: 1)",
            ));
        }
        (length, _) => length,
    };
    let has_body = req.is_chunked() || req.content_length().is_some_and(|n| n > 0);
    if has_body && !is_octets(req) {
        return Err(json_error(
            415,
            "a creation body takes Content-Type: application/offset+octet-stream",
        ));
    }
    Ok(Op::Create(Create {
        name: metadata_name(req)?,
        length,
        complete: false,
        metadata: req.header("upload-metadata").map(str::to_owned),
        content_digest: checksum(req)?,
        repr_digest: None,
    }))
}
