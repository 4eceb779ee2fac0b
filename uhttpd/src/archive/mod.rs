//! Directory archives: `GET /dir/?download=tar` or `?download=zip` sends
//! the directory's tree as one tar or zip (stored) file, streamed as it is
//! produced, with a `Content-Length` and `Range` support so a cut
//! download resumes.
//!
//! Everything that touches the disk runs on the archive threads, never on
//! the poll loop: walking the tree ([`members`]), laying it out
//! ([`layout`]: a pure function of the entry list), and producing the
//! bytes ([`produce`]). A download is a [`Producer`] that runs until the
//! client's send buffer is full, then parks in the request's context; the
//! loop's `Event::Writable` puts it back on the queue ([`Archiver::wake`]).
//! So a slow client holds no thread.
//!
//! ```text
//! request ─▶ queue ─▶ thread: walk, layout, head ─▶ run ─┬─ range sent ─▶ end
//!                                                        └─ WouldBlock ─▶ parked
//! Event::Writable ─▶ parked? ─▶ queue ─▶ run ...          (Woken if still running)
//! Event::Closed ──▶ parked producer dropped
//! ```
//!
//! The answer: `ETag` from the entry list (names, sizes, mtimes), so
//! `If-None-Match` gets a 304 and `If-Range` resumes only the same
//! archive; one `Range` gets a 206, several the whole archive (RFC 9110
//! §14.2 lets a server ignore Range); HEAD gets the head with the length.

pub mod layout;
pub mod members;
pub mod produce;

use std::hash::{Hash as _, Hasher as _};
use std::io;
use std::sync::Arc;

use uhttp::{Request, Response, util::split_url};

use crate::errors::{error_response, json_error};
use crate::pool::Pool;
use crate::static_files::conditional::if_none_match_names;
use crate::static_files::freshness::REVALIDATE;
use crate::static_files::range::{
    RangeOutcome, content_range, parse_range, unsatisfiable_content_range,
};
use crate::static_files::resolve::{Opened, open};
use crate::static_files::{self, StaticOptions};
pub use layout::Format;
use layout::Layout;
use members::{WalkError, walk};
use produce::{CrcCache, Outcome, Producer};

/// Archive threads: each runs one download at a time until its client's
/// buffer is full.
const THREADS: usize = 2;
/// Downloads that may wait for a thread; beyond: 503.
const PENDING: usize = 256;

/// The archive threads and what they share.
#[derive(Debug)]
pub struct Archiver {
    pool: Pool<Job>,
}

/// Work for an archive thread.
enum Job {
    /// A new request.
    Start {
        req: Request,
        files: Box<StaticOptions>,
        format: Format,
    },
    /// A parked download whose client has room again.
    Resume(Box<Producer>),
}

/// Kept in the request's context while the download runs.
struct Wait(Slot);

enum Slot {
    /// On a thread.
    Running,
    /// On a thread, and the client has room: go on instead of parking.
    Woken,
    /// Waiting for `Event::Writable`.
    Parked(Box<Producer>),
}

impl Archiver {
    /// Starts the archive threads.
    pub fn new() -> io::Result<Archiver> {
        let crcs = Arc::new(CrcCache::default());
        let pool = Pool::new("archive", THREADS, PENDING, move |job: Job| match job {
            Job::Start { req, files, format } => start(req, &files, format, &crcs),
            Job::Resume(producer) => drive(producer),
        })?;
        Ok(Archiver { pool })
    }

    /// Answers `req` with an archive of its directory, from an archive
    /// thread; 503 at once when too many wait.
    pub fn serve(&self, files: &StaticOptions, req: &Request, format: Format) {
        let job = Job::Start {
            req: req.clone(),
            files: Box::new(files.clone()),
            format,
        };
        if self.pool.try_run(job).is_err() {
            log::warn!(
                "{}: archive answered 503: too many wait",
                req.remote_address()
            );
            send(req, json_error(503, "busy").header("Retry-After", "1"));
        }
    }

    /// `Event::Writable`: a parked download goes back on the queue.
    pub fn wake(&self, req: &Request) {
        let parked = req.with_context(|wait: &mut Wait| {
            match std::mem::replace(&mut wait.0, Slot::Running) {
                Slot::Parked(producer) => Some(producer),
                Slot::Running | Slot::Woken => {
                    wait.0 = Slot::Woken;
                    None
                }
            }
        });
        if let Some(Some(producer)) = parked
            && let Err(Job::Resume(producer)) = self.pool.try_run(Job::Resume(producer))
        {
            log::warn!("{}: archive download cut short: queue full", req.url());
            drop(req.take_context::<Wait>());
            producer.abort();
        }
    }

    /// `Event::Closed`: a parked download is dropped.
    pub fn closed(&self, req: &Request) {
        drop(req.take_context::<Wait>());
    }
}

/// The format a request asks for with `download=`, if any.
pub fn requested(req: &Request) -> Option<Format> {
    if !matches!(req.method(), "GET" | "HEAD") {
        return None;
    }
    req.query().get("download").and_then(Format::from_query)
}

/// On an archive thread: resolves the directory, walks it, answers the
/// head, and starts producing.
fn start(req: Request, files: &StaticOptions, format: Format, crcs: &Arc<CrcCache>) {
    let raw_path = split_url(req.url()).0;
    let dir = match open(&files.root, &files.root_dir, raw_path) {
        Ok(Opened::Dir {
            path,
            has_trailing_slash: true,
        }) if files.listing => path,
        // A file, a redirect to the slash, an error, listings off: as
        // without the query (`None`: a compression thread answers).
        _ => match static_files::serve(files, &req) {
            Some(response) => return send(&req, response),
            None => return,
        },
    };
    let top = dir
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| members::is_servable_name(n))
        .unwrap_or("archive")
        .to_owned();
    let members = match walk(&files.root, &dir, &top) {
        Ok(members) => members,
        Err(WalkError::TooMany) => {
            return send(&req, json_error(403, "too many entries to archive"));
        }
        Err(WalkError::Io(e)) => {
            log::warn!("cannot archive {}: {e}", dir.display());
            return send(&req, error_response(403));
        }
    };
    let mut hasher = std::hash::DefaultHasher::new();
    format.hash(&mut hasher);
    for member in &members {
        member.entry.hash(&mut hasher);
        member.modified.hash(&mut hasher);
    }
    let entries = members.iter().map(|m| m.entry.clone()).collect();
    let Ok(layout) = Layout::new(format, entries) else {
        return send(&req, json_error(403, "archive too large"));
    };
    let len = layout.len;
    let tag = format!(
        "\"a{}-{len:x}-{:016x}\"",
        format.extension(),
        hasher.finish()
    );
    let head = |status: u16| {
        Response::new(status)
            .header("ETag", &tag)
            .header("Cache-Control", REVALIDATE)
            .header("Accept-Ranges", "bytes")
    };
    if if_none_match_names(req.header("if-none-match"), &tag) {
        return send(&req, head(304));
    }
    let file_name = format!("{top}.{}", format.extension());
    let with_type = |response: Response| {
        response
            .header("Content-Type", format.content_type())
            .header("Content-Disposition", content_disposition(&file_name))
    };
    // If-Range with our tag resumes; with anything else (a date: we send
    // no Last-Modified) the whole archive is sent.
    let range = req
        .header("range")
        .filter(|_| req.header("if-range").is_none_or(|v| v.trim() == tag));
    let (response, range) = match range.map(|r| parse_range(r, len)) {
        None | Some(RangeOutcome::Full) => (with_type(head(200)), 0..len),
        Some(RangeOutcome::Unsatisfiable) => {
            let refused =
                error_response(416).header("Content-Range", unsatisfiable_content_range(len));
            return send(&req, refused);
        }
        Some(RangeOutcome::Partial(ranges)) => match ranges.as_slice() {
            [r] => (
                with_type(head(206)).header("Content-Range", content_range(r, len)),
                r.start..r.start + r.len(),
            ),
            _ => (with_type(head(200)), 0..len),
        },
    };
    // The context first: `Writable` may come as soon as the stream runs.
    req.set_context(Wait(Slot::Running));
    let stream = match req.response_stream_sized(response, range.end - range.start) {
        Ok(stream) => stream,
        Err(e) => {
            drop(req.take_context::<Wait>());
            return log::debug!("{}: cannot answer {}: {e}", req.remote_address(), req.url());
        }
    };
    if req.method() == "HEAD" {
        drop(req.take_context::<Wait>());
        return;
    }
    let producer = Producer::new(Arc::new(layout), members, stream, range, Arc::clone(crcs));
    drive(Box::new(producer));
}

/// Runs a download until it is done, or parks it until the client has
/// room.
fn drive(mut producer: Box<Producer>) {
    loop {
        if producer.run() == Outcome::Done {
            drop(producer.request().take_context::<Wait>());
            return;
        }
        let req = producer.request().clone();
        let mut held = Some(producer);
        let go_on = req.with_context(|wait: &mut Wait| {
            if let Slot::Woken = wait.0 {
                wait.0 = Slot::Running;
                return true;
            }
            if let Some(producer) = held.take() {
                wait.0 = Slot::Parked(producer);
            }
            false
        });
        // No context: the client left; the download is dropped.
        match (go_on, held) {
            (Some(true), Some(again)) => producer = again,
            _ => return,
        }
    }
}

/// `attachment` with an ASCII `filename` and the exact UTF-8 one in
/// `filename*` (RFC 6266 §4.3).
fn content_disposition(name: &str) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' && c != '%' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let exact = utf8_percent_encode(name, NON_ALPHANUMERIC);
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{exact}")
}

fn send(req: &Request, response: Response) {
    if let Err(e) = req.send(response) {
        log::debug!("{}: cannot answer {}: {e}", req.remote_address(), req.url());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_keeps_the_exact_name_in_filename_star() {
        assert_eq!(
            content_disposition("é日 \"x\".zip"),
            "attachment; filename=\"____x_.zip\"; filename*=UTF-8''%C3%A9%E6%97%A5%20%22x%22%2Ezip"
        );
    }
}
