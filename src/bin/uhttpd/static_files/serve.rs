//! The static-file pipeline, read top to bottom: method → resolve →
//! directory (redirect, index, listing) or missing (SPA page, 404 page)
//! → conditional → range → body.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use uhttp::{Body, Part, Request, Response, util::split_url};

use super::cache::{CachedFile, FileCache, MAX_FILE};
use super::conditional::{
    etag, if_none_match_names, if_range_matches, last_modified, not_modified, precondition_failed,
};
use super::content_type::{MimeOverride, content_type};
use super::fallback::{IndexName, SitePath, accepts_html, has_extension};
use super::freshness::{Freshness, REDIRECT, REVALIDATE};
use super::listing::{Entry, View, listing_etag, read_entries, render_json};
use super::page::{Page, PageOptions, qr_svg, segments};
use super::range::{
    self, RangeOutcome, content_range, multipart_parts, unsatisfiable_content_range,
};
use super::resolve::{Opened, ResolveError, dir_redirect_location, open};
use super::search::{self, Searched};
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
    /// What listing pages offer besides the entries (uploads, QR code).
    pub page: PageOptions,
    /// The threads answering `?q=` searches (listings on).
    pub search: Option<Arc<crate::pool::Pool<search::Job>>>,
    /// Small files kept in memory for a moment.
    pub cache: Arc<FileCache>,
    /// The `Cache-Control` of files.
    pub freshness: Freshness,
    /// File names tried in a directory, in order (`--index`).
    pub index: Vec<IndexName>,
    /// Served (200) for unknown pages a browser navigates to (`--spa`).
    pub spa: Option<SitePath>,
    /// Served (404) for other missing paths (`--404`).
    pub not_found: Option<SitePath>,
    /// Overrides of the guessed `Content-Type` (`--mime`).
    pub mime: Vec<MimeOverride>,
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
        Err(ResolveError::NotFound) => missing(options, req, raw_path),
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
        Ok(Opened::File { file, meta, name }) => {
            serve_file(options, req, &name, file, meta, raw_path)
        }
    }
}

fn serve_dir(options: &StaticOptions, req: &Request, raw_path: &str, dir: &Path) -> Response {
    // Through the resolver, like any request path: an index that is a
    // dotfile or a symlink leaving ROOT is not served.
    for index in &options.index {
        let path = format!("{raw_path}{}", index.encoded());
        if let Ok(Opened::File { file, meta, name }) = open(&options.root, &options.root_dir, &path)
        {
            return serve_file(options, req, &name, file, meta, raw_path);
        }
    }
    if !options.listing {
        return missing(options, req, raw_path);
    }
    let view = View::from_query(req.query());
    let mut entries = match read_entries(dir) {
        Ok(entries) => entries,
        Err(e) => {
            log::warn!("cannot list {}: {e}", dir.display());
            return error_response(403);
        }
    };
    view.sort(&mut entries);
    listing(options, req, raw_path, &view, &entries, None)
}

/// Whether `req` asks for a `?q=` search (answered by [`search`]).
pub fn wants_search(options: &StaticOptions, req: &Request) -> bool {
    options.search.is_some()
        && matches!(req.method(), "GET" | "HEAD")
        && req.query().get("q").is_some_and(|q| !q.trim().is_empty())
}

/// Answers a `?q=` search from a search thread: `None` when queued (the
/// thread answers), else the answer now: the path's usual answer when it
/// is not a listed directory, 503 when too many searches wait.
pub fn search(options: &StaticOptions, req: &Request) -> Option<Response> {
    let raw_path = split_url(req.url()).0;
    let (
        Some(pool),
        Ok(Opened::Dir {
            path,
            has_trailing_slash: true,
        }),
    ) = (
        &options.search,
        open(&options.root, &options.root_dir, raw_path),
    )
    else {
        return Some(serve(options, req));
    };
    if path.join("index.html").is_file() {
        return Some(serve(options, req));
    }
    let view = View::from_query(req.query());
    let Some(query) = view.query.clone() else {
        return Some(serve(options, req));
    };
    let (options_here, req_here) = (options.clone(), req.clone());
    let job: search::Job = Box::new(move || {
        let (mut found, searched) = search::search(&options_here.root, &path, &query);
        view.sort(&mut found);
        let raw_path = split_url(req_here.url()).0;
        let response = listing(
            &options_here,
            &req_here,
            raw_path,
            &view,
            &found,
            Some(&searched),
        );
        if let Err(e) = req_here.send(response) {
            log::debug!("cannot answer a search: {e}");
        }
    });
    match pool.try_run(job) {
        Ok(()) => None,
        Err(_) => {
            log::warn!(
                "{}: search answered 503: too many searches wait",
                req.remote_address()
            );
            Some(error_response(503).header("Retry-After", "1"))
        }
    }
}

/// A listing (or search results) as HTML or, when asked, JSON, with an
/// ETag from its bytes.
fn listing(
    options: &StaticOptions,
    req: &Request,
    raw_path: &str,
    view: &View,
    entries: &[Entry],
    searched: Option<&Searched>,
) -> Response {
    let wants_json = req
        .header("accept")
        .is_some_and(|a| a.to_ascii_lowercase().contains("application/json"));
    let (content_type, body) = if wants_json {
        ("application/json", render_json(entries).to_string())
    } else {
        let segments = segments(raw_path);
        let qr = options.page.qr_scheme.and_then(|scheme| {
            let host = req.header("host")?;
            qr_svg(&format!(
                "{scheme}://{host}{}",
                super::page::dir_url(&segments)
            ))
        });
        let page = Page {
            segments: &segments,
            entries,
            view,
            searched,
            uploads: options
                .page
                .uploads
                .as_ref()
                .map(|u| u.seen_from(&segments)),
            notice: notice(req),
            qr_svg: qr,
            archive_links: options.page.archive_links,
        };
        ("text/html; charset=utf-8", page.render())
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

/// The message after an upload or a new folder, from the query of the
/// redirect that followed it (`?uploaded=3`, `?created=NAME`).
fn notice(req: &Request) -> Option<String> {
    let query = req.query();
    if let Some(n) = query.get("uploaded").and_then(|n| n.parse::<u32>().ok()) {
        return Some(format!(
            "{n} file{} uploaded.",
            if n == 1 { "" } else { "s" }
        ));
    }
    let created = query
        .get("created")
        .filter(|c| !c.is_empty() && c.len() <= 255)?;
    Some(format!("Folder \u{201c}{created}\u{201d} created."))
}

/// A path that names nothing servable: the `--spa` page for a browser's
/// navigation to a page (no extension, `Accept` with `text/html`), else
/// the `--404` page, else a plain 404. With `--spa` the answer depends on
/// `Accept`, and says so.
fn missing(options: &StaticOptions, req: &Request, raw_path: &str) -> Response {
    let Some(spa) = &options.spa else {
        return not_found(options);
    };
    let response = if !has_extension(raw_path) && accepts_html(req.header("accept")) {
        serve_site_file(options, req, spa)
    } else {
        not_found(options)
    };
    response.header("Vary", "Accept")
}

/// The `--spa` page, as a file (validators, ranges), kept in the cache
/// under its own path rather than the one asked for.
fn serve_site_file(options: &StaticOptions, req: &Request, page: &SitePath) -> Response {
    if let Some(cached) = options.cache.get(page.raw(), Instant::now()) {
        return serve_cached(options, req, cached);
    }
    match open(&options.root, &options.root_dir, page.raw()) {
        Ok(Opened::File { file, meta, name }) => {
            serve_file(options, req, &name, file, meta, page.raw())
        }
        _ => {
            log::warn!("--spa {page}: not a file under ROOT any more");
            not_found(options)
        }
    }
}

/// `404` with the `--404` page (its type from its name, no validators:
/// it is an error), or the plain text one.
fn not_found(options: &StaticOptions) -> Response {
    let Some(page) = &options.not_found else {
        return error_response(404);
    };
    match open(&options.root, &options.root_dir, page.raw()) {
        Ok(Opened::File { file, meta, name }) => {
            let body = match meta.len() {
                0 => Body::Empty,
                len => Body::Parts(vec![Part::File {
                    file: Arc::new(file),
                    offset: 0,
                    len,
                }]),
            };
            Response::new(404)
                .header("Content-Type", content_type(&options.mime, &name))
                .body(body)
        }
        _ => {
            log::warn!("--404 {page}: not a file under ROOT any more");
            error_response(404)
        }
    }
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
/// type), keeping it in memory under `cache_key` (the request path that
/// names it) for the next requests when it is small.
fn serve_file(
    options: &StaticOptions,
    req: &Request,
    path: &Path,
    mut file: File,
    meta: std::fs::Metadata,
    cache_key: &str,
) -> Response {
    let len = meta.len();
    let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let tag = etag(len, mtime);
    let modified = last_modified(mtime);
    let content_type = content_type(&options.mime, path);
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
            options.cache.insert(cache_key, Arc::clone(&cached));
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
