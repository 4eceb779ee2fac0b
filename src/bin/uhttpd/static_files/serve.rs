//! The static-file pipeline, read top to bottom: method → resolve →
//! directory (redirect, index, listing) → conditional → range → body.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use uhttp::{Body, Part, Request, Response, content_type_for, util::split_url};

use super::cache::{CachedFile, FileCache, MAX_FILE};
use super::conditional::{
    etag, if_none_match_names, if_range_matches, last_modified, not_modified, precondition_failed,
};
use super::freshness::{Freshness, REDIRECT, REVALIDATE};
use super::listing::{listing_etag, read_entries, render_html, render_json};
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
    /// Listings link to `?download=tar|zip` (archives on).
    pub archive_links: bool,
    /// Small files kept in memory for a moment.
    pub cache: Arc<FileCache>,
    /// The `Cache-Control` of files.
    pub freshness: Freshness,
}

/// Answers a request for a path under ROOT.
pub fn serve(options: &StaticOptions, req: &Request) -> Response {
    if req.method() != "GET" && req.method() != "HEAD" {
        return error_response(405).header("Allow", "GET, HEAD");
    }
    let (raw_path, query) = split_url(req.url());
    if let Some(cached) = options.cache.get(raw_path, Instant::now()) {
        return serve_cached(options, req, cached);
    }
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
            Response::redirect(&location, 301).header("Cache-Control", REDIRECT)
        }
        Ok(Opened::Dir { path, .. }) => serve_dir(options, req, raw_path, &path),
        Ok(Opened::File { file, meta, name }) => serve_file(options, req, &name, file, meta),
    }
}

fn serve_dir(options: &StaticOptions, req: &Request, raw_path: &str, dir: &Path) -> Response {
    let index = dir.join("index.html");
    if let Ok(file) = File::open(&index) {
        if let Ok(meta) = file.metadata() {
            if meta.is_file() {
                return serve_file(options, req, &index, file, meta);
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
    let (content_type, body) = if wants_json {
        ("application/json", render_json(&entries).to_string())
    } else {
        let upload_form = options.upload_form.as_deref();
        let html = render_html(raw_path, &entries, upload_form, options.archive_links);
        ("text/html; charset=utf-8", html)
    };
    // Revalidated at every use: a listing changes with its directory. Its
    // tag is a hash of the bytes, so an unchanged listing is a 304.
    let tag = listing_etag(body.as_bytes());
    let unchanged = if_none_match_names(req.header("if-none-match"), &tag);
    let response = Response::new(if unchanged { 304 } else { 200 })
        .header("ETag", &tag)
        .header("Cache-Control", REVALIDATE)
        .header("Vary", "Accept");
    if unchanged {
        return response;
    }
    response
        .header("Content-Type", content_type)
        .body(body.into_bytes())
}

/// Where the bytes of a file response come from.
enum Source {
    /// The open file, read (or sent with `sendfile`) as the socket drains.
    Disk(Arc<File>),
    /// A small file kept in memory.
    Memory(Arc<CachedFile>),
}

impl Source {
    fn part(&self, offset: u64, len: u64) -> Part {
        match self {
            Source::Disk(file) => Part::File {
                file: Arc::clone(file),
                offset,
                len,
            },
            // Ranges were checked against the length: in bounds.
            Source::Memory(cached) => Part::Shared {
                data: Arc::clone(&cached.content),
                offset: offset as usize,
                len: len as usize,
            },
        }
    }
}

/// What the headers say about a file.
struct FileInfo<'a> {
    len: u64,
    mtime: SystemTime,
    etag: &'a str,
    last_modified: &'a str,
    content_type: &'a str,
    cache_control: Option<&'a str>,
}

impl FileInfo<'_> {
    /// `response` with the validators, `Cache-Control` and
    /// `Accept-Ranges`: what a 200, a 206 and a 304 all carry.
    fn validators(&self, response: Response) -> Response {
        let response = response
            .header("ETag", self.etag)
            .header("Last-Modified", self.last_modified)
            .header("Accept-Ranges", "bytes");
        match self.cache_control {
            Some(value) => response.header("Cache-Control", value),
            None => response,
        }
    }
}

/// Answers with `file` (opened from `path`, whose extension gives the
/// type), keeping it in memory for the next requests when it is small.
fn serve_file(
    options: &StaticOptions,
    req: &Request,
    path: &Path,
    mut file: File,
    meta: std::fs::Metadata,
) -> Response {
    let len = meta.len();
    let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let tag = etag(len, mtime);
    let modified = last_modified(mtime);
    let content_type = content_type_for(path);
    if len <= MAX_FILE {
        let mut content = Vec::with_capacity(len as usize);
        if std::io::Read::read_to_end(&mut file, &mut content).is_ok()
            && content.len() as u64 == len
        {
            let cached = Arc::new(CachedFile::new(
                content,
                mtime,
                tag,
                modified,
                content_type,
                Instant::now(),
            ));
            options
                .cache
                .insert(split_url(req.url()).0, Arc::clone(&cached));
            return serve_cached(options, req, cached);
        }
        return error_response(500);
    }
    let info = FileInfo {
        len,
        mtime,
        etag: &tag,
        last_modified: &modified,
        content_type: &content_type,
        cache_control: options.freshness.file(&content_type),
    };
    answer(req, &info, &Source::Disk(Arc::new(file)))
}

/// Answers from a file kept in memory.
fn serve_cached(options: &StaticOptions, req: &Request, cached: Arc<CachedFile>) -> Response {
    let info = FileInfo {
        len: cached.content.len() as u64,
        mtime: cached.mtime,
        etag: &cached.etag,
        last_modified: &cached.last_modified,
        content_type: &cached.content_type,
        cache_control: options.freshness.file(&cached.content_type),
    };
    let source = Source::Memory(Arc::clone(&cached));
    answer(req, &info, &source)
}

/// The answer for a file: 412, 304, 200, 206 (one range, or several as
/// `multipart/byteranges`) or 416, preconditions taken in the order of
/// RFC 9110 §13.2.2.
fn answer(req: &Request, info: &FileInfo<'_>, source: &Source) -> Response {
    let len = info.len;
    if precondition_failed(
        req.header("if-match"),
        req.header("if-unmodified-since"),
        info.etag,
        info.mtime,
    ) {
        return error_response(412);
    }
    if not_modified(
        req.header("if-none-match"),
        req.header("if-modified-since"),
        info.etag,
        info.mtime,
    ) {
        return info.validators(Response::new(304));
    }
    let Some(range_header) = req.header("range") else {
        return whole(info, source);
    };
    if !if_range_matches(req.header("if-range"), info.etag, info.mtime) {
        return whole(info, source);
    }
    match range::parse_range(range_header, len) {
        RangeOutcome::Full => whole(info, source),
        RangeOutcome::Unsatisfiable => {
            error_response(416).header("Content-Range", unsatisfiable_content_range(len))
        }
        RangeOutcome::Partial(ranges) => match ranges.as_slice() {
            [r] => info
                .validators(Response::new(206))
                .header("Content-Type", info.content_type)
                .header("Content-Range", content_range(r, len))
                .body(Body::Parts(vec![source.part(r.start, r.len())])),
            _ => byteranges(&ranges, info, source),
        },
    }
}

/// `200` with the whole file (an empty file gets an empty body).
fn whole(info: &FileInfo<'_>, source: &Source) -> Response {
    let body = if info.len == 0 {
        Body::Empty
    } else {
        Body::Parts(vec![source.part(0, info.len)])
    };
    info.validators(Response::new(200))
        .header("Content-Type", info.content_type)
        .body(body)
}

/// `206` with several ranges as `multipart/byteranges`, under a boundary
/// of its own.
fn byteranges(ranges: &[range::ByteRange], info: &FileInfo<'_>, source: &Source) -> Response {
    let boundary = match range::random_boundary() {
        Ok(boundary) => boundary,
        Err(e) => {
            // RFC 9110 §14.2: a server may ignore Range.
            log::error!("no random source for a multipart boundary: {e}");
            return whole(info, source);
        }
    };
    let (parts, _total) = multipart_parts(ranges, info.len, info.content_type, &boundary);
    let parts = parts
        .into_iter()
        .map(|p| match p {
            range::Part::Bytes(b) => Part::Bytes(b),
            range::Part::File { offset, len } => source.part(offset, len),
        })
        .collect();
    info.validators(Response::new(206))
        .header(
            "Content-Type",
            format!("multipart/byteranges; boundary={boundary}"),
        )
        .body(Body::Parts(parts))
}
