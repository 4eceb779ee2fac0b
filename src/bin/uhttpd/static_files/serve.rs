//! The static-file pipeline, read top to bottom: method → resolve →
//! directory (redirect, index, listing) → conditional → range → body.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use uhttp::{Body, Part, Request, Response, content_type_for, util::split_url};

use super::conditional::{etag, if_range_matches, last_modified, not_modified};
use super::listing::{read_entries, render_html, render_json};
use super::range::{
    self, RangeOutcome, content_range, multipart_parts, unsatisfiable_content_range,
};
use super::resolve::{Opened, dir_redirect_location, open};
use crate::errors::error_response;

/// How static files are served.
#[derive(Debug, Clone)]
pub struct StaticOptions {
    /// The served directory, canonicalized.
    pub root: std::path::PathBuf,
    /// The served directory, open: paths are resolved beneath it.
    pub root_dir: Arc<File>,
    /// Directory listings on.
    pub listing: bool,
    /// Where the listing's upload form posts to (uploads on).
    pub upload_form: Option<String>,
}

/// Answers a request for a path under ROOT.
pub fn serve(options: &StaticOptions, req: &Request) -> Response {
    if req.method() != "GET" && req.method() != "HEAD" {
        return error_response(405).header("Allow", "GET, HEAD");
    }
    let (raw_path, query) = split_url(req.url());
    match open(&options.root, &options.root_dir, raw_path) {
        Err(e) => error_response(e.status()),
        Ok(Opened::Dir {
            has_trailing_slash: false,
            ..
        }) => {
            let mut location = dir_redirect_location(raw_path);
            if let Some(q) = query {
                location.push('?');
                location.push_str(q);
            }
            Response::redirect(&location, 301)
        }
        Ok(Opened::Dir { path, .. }) => serve_dir(options, req, raw_path, &path),
        Ok(Opened::File { file, meta, name }) => serve_file(req, &name, file, meta),
    }
}

fn serve_dir(options: &StaticOptions, req: &Request, raw_path: &str, dir: &Path) -> Response {
    let index = dir.join("index.html");
    if let Ok(file) = File::open(&index) {
        if let Ok(meta) = file.metadata() {
            if meta.is_file() {
                return serve_file(req, &index, file, meta);
            }
        }
    }
    if !options.listing {
        return error_response(404);
    }
    let entries = match read_entries(dir) {
        Ok(entries) => entries,
        Err(e) => {
            log::warn!("cannot list {}: {e}", dir.display());
            return error_response(403);
        }
    };
    let wants_json = req
        .header("accept")
        .is_some_and(|a| a.to_ascii_lowercase().contains("application/json"));
    if wants_json {
        Response::new(200)
            .header("Vary", "Accept")
            .body(render_json(&entries))
    } else {
        let html = render_html(raw_path, &entries, options.upload_form.as_deref());
        Response::new(200)
            .header("Content-Type", "text/html; charset=utf-8")
            .header("Vary", "Accept")
            .body(html)
    }
}

/// Answers with `file` (opened from `path`, whose extension gives the
/// type): 304, 200, 206 or 416.
fn serve_file(req: &Request, path: &Path, file: File, meta: std::fs::Metadata) -> Response {
    let len = meta.len();
    let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let tag = etag(len, mtime);
    let modified = last_modified(mtime);
    let validators = |r: Response| {
        r.header("ETag", tag.as_str())
            .header("Last-Modified", modified.as_str())
            .header("Accept-Ranges", "bytes")
    };
    if not_modified(
        req.header("if-none-match"),
        req.header("if-modified-since"),
        &tag,
        mtime,
    ) {
        return validators(Response::new(304));
    }
    let content_type = content_type_for(path);
    let file = Arc::new(file);
    let whole = |file: Arc<File>| {
        // An empty file gets an empty body: the library's writer takes a
        // zero-length file part for a file that shrank and drops the
        // connection.
        let body = if len == 0 {
            Body::Empty
        } else {
            Body::Parts(vec![Part::File {
                file,
                offset: 0,
                len,
            }])
        };
        validators(Response::new(200))
            .header("Content-Type", content_type.as_str())
            .body(body)
    };
    let Some(range_header) = req.header("range") else {
        return whole(file);
    };
    if !if_range_matches(req.header("if-range"), &tag, mtime) {
        return whole(file);
    }
    match range::parse_range(range_header, len) {
        RangeOutcome::Full => whole(file),
        RangeOutcome::Unsatisfiable => {
            error_response(416).header("Content-Range", unsatisfiable_content_range(len))
        }
        RangeOutcome::Partial(ranges) if ranges.len() == 1 => {
            let r = &ranges[0];
            validators(Response::new(206))
                .header("Content-Type", content_type.as_str())
                .header("Content-Range", content_range(r, len))
                .body(Body::Parts(vec![Part::File {
                    file,
                    offset: r.start,
                    len: r.len(),
                }]))
        }
        RangeOutcome::Partial(ranges) => {
            let boundary = format!("uhttpd-{}", tag.trim_matches('"'));
            let (parts, _total) = multipart_parts(&ranges, len, &content_type, &boundary);
            let parts = parts
                .into_iter()
                .map(|p| match p {
                    range::Part::Bytes(b) => Part::Bytes(b),
                    range::Part::File { offset, len } => Part::File {
                        file: Arc::clone(&file),
                        offset,
                        len,
                    },
                })
                .collect();
            validators(Response::new(206))
                .header(
                    "Content-Type",
                    format!("multipart/byteranges; boundary={boundary}"),
                )
                .body(Body::Parts(parts))
        }
    }
}
