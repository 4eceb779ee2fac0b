//! Routes requests to the redirect, `/rpc`, upload and static handlers,
//! and keeps per-request state between event-mode events.
//!
//! uhttpd runs the library in event mode: a request without a body (or
//! whose body arrived with its head) comes whole; for one with a body the
//! route decides on the headers — refuse it unread, or stream it (uploads
//! go to disk as they arrive, `/rpc` bodies are collected up to
//! `--max-content-length`).
//!
//! A route that changes files (an upload) from a browser must come from
//! the server's own origin ([`App::same_origin`], `origin.rs`): checked
//! first, before any login, so a hostile page gets a 403 without costing
//! a password check. A CORS preflight (`--cors`) is answered before any
//! login too: it never carries one.
//!
//! With `--auth-file`, every route is checked in one place,
//! [`App::authorized`]: [`Route::access`] says which rights (any of them)
//! it needs and at which path, and [`Auth::authorize`] decides, at once
//! when no password must be verified, else later, from a verifier thread
//! (see `auth.rs`); the routing is the same code either way. The route
//! then gets what the requester holds there ([`Held`]: an upload asks it
//! whether it may overwrite, or make a folder). A new route (archives,
//! resumable uploads) adds its arm to [`Route::access`], nothing else.
//!
//! A finished upload is made durable (fsync, rename) and answered on the
//! disk threads. Every answer leaves through [`send`], which adds the
//! `--cors` and `--header` headers (`headers.rs`).

use std::io;
use std::net::IpAddr;
use std::sync::Arc;

use uhttp::{Event, Request, Response};

use crate::acme::Challenges;
use crate::archive::{self, Archiver};
use crate::auth::Auth;
use crate::cors::Cors;
use crate::delete;
use crate::errors::{error_response, json_error};
use crate::headers::ResponseHeaders;
use crate::health::Health;
use crate::lifecycle::Lifecycle;
use crate::origin::{self, CrossOrigin};
use crate::permissions::{self, Held, Rights};
use crate::pool::Pool;
use crate::redirect;
use crate::resumable::{self, Resumable, Started};
use crate::rpc;
use crate::static_files::{self, StaticOptions};
use crate::upload::{MultipartUpload, PutUpload, Uploads};

/// What uhttpd serves, shared by every worker.
#[derive(Debug, Clone)]
pub struct App {
    pub files: StaticOptions,
    pub rpc: bool,
    pub max_content_length: u64,
    pub uploads: Option<Uploads>,
    /// The index of the plain-HTTP redirect server in each loop, and the
    /// HTTPS port to send clients to.
    pub redirect: Option<(usize, u16)>,
    /// HTTP Basic authentication, when `--auth-file` is given.
    pub auth: Option<std::sync::Arc<Auth>>,
    /// The threads that finish uploads, when uploads are on.
    pub disk: Option<Arc<Pool<Finish>>>,
    /// Headers every answer gets (`--cors`, `--header`).
    pub headers: Arc<ResponseHeaders>,
    /// Proxies whose `X-Forwarded-Proto` is believed (`--trusted-proxy`).
    pub trusted_proxies: Vec<IpAddr>,
    /// The threads that send directory archives, unless `--no-archive`.
    pub archiver: Option<Arc<Archiver>>,
    /// Resumable uploads (IETF draft, tus), when uploads are on.
    pub resumable: Option<Resumable>,
    /// The health check, with `--health`: on every listener, first.
    pub health: Option<Arc<Health>>,
    /// While draining, answers carry `Connection: close`.
    pub lifecycle: Arc<Lifecycle>,
    /// With `--acme`: the answers to the CA's HTTP-01 challenges.
    pub acme: Option<Arc<Challenges>>,
}

/// Threads that make finished uploads durable and answer them.
const DISK_THREADS: usize = 2;
/// Finished uploads that may wait for a disk thread; beyond: 503.
const DISK_PENDING: usize = 64;

/// An upload's last, blocking step (fsync, rename), and the request it
/// answers.
pub struct Finish {
    req: Request,
    finish: Box<dyn FnOnce(&Uploads) -> Response + Send>,
}

/// Starts the threads that finish uploads into `uploads`; their answers
/// get `headers`.
pub fn disk_threads(uploads: Uploads, headers: Arc<ResponseHeaders>) -> io::Result<Pool<Finish>> {
    Pool::new("disk", DISK_THREADS, DISK_PENDING, move |job: Finish| {
        let response = (job.finish)(&uploads);
        send(&headers, &job.req, response);
    })
}

/// Where a request goes.
enum Route<'a> {
    /// `--health`: before everything else, on every listener.
    Health,
    /// `--acme`: an HTTP-01 challenge (`/.well-known/acme-challenge/`),
    /// on every listener, before the redirect to HTTPS.
    AcmeChallenge,
    Redirect(u16),
    /// A CORS preflight (`--cors` on).
    Preflight,
    Rpc,
    Put(&'a str),
    Multipart,
    /// A resumable-upload request (see `resumable`).
    Resumable,
    /// An upload path with the wrong method; the one it takes.
    UploadOther(&'static str),
    /// Nothing here (uploads are off).
    NotFound,
    /// A `?q=` search of a listed directory (answered from a search thread).
    Search,
    /// A directory as a `?download=` archive.
    Archive(archive::Format),
    /// `DELETE` of a file or empty folder under ROOT (`--auth-file` on).
    Delete,
    Static,
}

impl Route<'_> {
    /// Whether the route changes files, and so must be same-origin.
    fn changes_files(&self) -> bool {
        matches!(
            self,
            Route::Put(_) | Route::Multipart | Route::Resumable | Route::Delete
        )
    }

    /// The rights the route needs (any of them) and the path (decoded
    /// segments) they are checked at; `None`: open to all. An upload's
    /// path is where its file will be served (the upload directory's URL
    /// path and the name), or `/upload/NAME` when the upload directory is
    /// not under ROOT; a form's is its target folder (`?dir=`).
    fn access(&self, app: &App, req: &Request) -> Option<(Rights, Vec<String>)> {
        let path = uhttp::util::split_url(req.url()).0;
        let upload_base = || {
            app.uploads
                .as_ref()
                .and_then(|u| u.url.as_deref())
                .unwrap_or("/upload/")
        };
        let upload_at = |name: &str| permissions::checked_at(&format!("{}{name}", upload_base()));
        Some(match self {
            Route::Health
            | Route::AcmeChallenge
            | Route::Redirect(_)
            | Route::Preflight
            | Route::NotFound => return None,
            // An archive reads everything under its directory.
            Route::Rpc | Route::Search | Route::Static | Route::Archive(_) => {
                (Rights::READ, permissions::checked_at(path))
            }
            Route::Put(name) => (Rights::UPLOAD, upload_at(name)),
            Route::Multipart => {
                let dir = req.query().get("dir").unwrap_or_default().to_owned();
                let mut at = permissions::checked_at(upload_base());
                for part in dir.split('/').filter(|p| !p.is_empty()) {
                    if part == "." || part == ".." {
                        // Refused by the upload (400); checked as `/` until then.
                        at.clear();
                        break;
                    }
                    at.push(part.to_owned());
                }
                (Rights::UPLOAD | Rights::MKDIR, at)
            }
            Route::UploadOther(_) => (
                Rights::UPLOAD,
                upload_at(path.strip_prefix("/upload/").unwrap_or_default()),
            ),
            Route::Delete => (Rights::DELETE, permissions::checked_at(path)),
            // Checked at the upload directory: the resource URL does not
            // name the file (its name is in the store).
            Route::Resumable => (Rights::UPLOAD, upload_at("")),
        })
    }
}

/// A body being received, kept in the request's context slot.
enum Receiving {
    Rpc(Vec<u8>),
    Put(PutUpload),
    Multipart(MultipartUpload),
    Resumable(resumable::Append),
}

/// Kept with every request that spans several events.
struct State {
    receiving: Receiving,
}

impl App {
    /// Handles one event from the loop.
    pub fn handle(self: &Arc<Self>, event: Event) {
        match event {
            Event::Request(req) => self.authorized(&req, App::on_request),
            Event::Headers(req) => self.authorized(&req, App::on_headers),
            Event::Data(req) => self.on_data(&req),
            Event::Complete(req) => self.on_complete(&req),
            Event::Error(req) => {
                // Dropping the state removes any temporary file.
                let state = req.take_context::<State>();
                log::info!(
                    "{} \"{} {} {}\" failed after {} bytes: {}",
                    req.remote_address(),
                    req.method(),
                    req.url(),
                    req.protocol(),
                    req.bytes_received(),
                    req.error().unwrap_or_default()
                );
                drop(state);
            }
            Event::Writable(req) => {
                if let Some(archiver) = &self.archiver {
                    archiver.wake(&req);
                }
            }
            Event::Closed(req) => {
                if let Some(archiver) = &self.archiver {
                    archiver.closed(&req);
                }
            }
            _ => {}
        }
    }

    /// The key authorization of an open HTTP-01 challenge (RFC 8555
    /// §8.3), else 404.
    fn acme_challenge(&self, req: &Request) -> Response {
        match self.acme.as_ref().and_then(|c| c.http01(req.path())) {
            Some(key_authorization) if matches!(req.method(), "GET" | "HEAD") => Response::new(200)
                .header("Content-Type", "application/octet-stream")
                .header("Cache-Control", "no-store")
                .body(key_authorization),
            Some(_) => error_response(405).header("Allow", "GET, HEAD"),
            None => error_response(404),
        }
    }

    fn route<'r>(&self, req: &'r Request) -> Route<'r> {
        if self.health.as_ref().is_some_and(|h| h.is_check(req)) {
            return Route::Health;
        }
        if self.acme.is_some() && Challenges::is_http01_path(req.path()) {
            return Route::AcmeChallenge;
        }
        if let Some((index, port)) = self.redirect
            && req.server().index() == index
        {
            return Route::Redirect(port);
        }
        if self.headers.cors.is_some() && Cors::is_preflight(req) {
            return Route::Preflight;
        }
        let path = uhttp::util::split_url(req.url()).0;
        if self.rpc && req.path() == "/rpc" {
            return Route::Rpc;
        }
        if self.resumable.is_some() && resumable::claims(req) {
            return Route::Resumable;
        }
        if self.uploads.is_some() {
            if let Some(name) = path.strip_prefix("/upload/") {
                if req.method() == "PUT" {
                    return Route::Put(name);
                }
                return Route::UploadOther("PUT");
            }
            if req.path() == "/upload" {
                return match req.method() {
                    "POST" => Route::Multipart,
                    _ => Route::UploadOther("POST"),
                };
            }
        } else if matches!(req.method(), "PUT" | "POST")
            && (path == "/upload" || path.starts_with("/upload/"))
        {
            // Uploads are off: the endpoint does not exist.
            return Route::NotFound;
        }
        if req.method() == "DELETE" && self.auth.is_some() {
            return Route::Delete;
        }
        if static_files::wants_search(&self.files, req) {
            return Route::Search;
        }
        if let Some(format) = self.archiver.as_ref().and_then(|_| archive::requested(req)) {
            return Route::Archive(format);
        }
        Route::Static
    }

    /// Runs `next` on `req`, with what it holds at its path, once
    /// its route may be served: at once, or — when a password must be
    /// verified — from a verifier thread; a refusal is answered (401 when
    /// a login could help, 403, or 503 when too many logins wait). Without
    /// `--auth-file`, or on a route open to all, it holds every right.
    ///
    /// A route that changes files is first checked to come from this
    /// server's own origin: else 403, before any login.
    fn authorized(self: &Arc<Self>, req: &Request, next: fn(&App, &Request, Held)) {
        let route = self.route(req);
        if route.changes_files()
            && let Err(why) = self.same_origin(req)
        {
            log::warn!(
                "{}: {} {} refused with 403: {why} (Origin: {:?}, Sec-Fetch-Site: {:?})",
                req.remote_address(),
                req.method(),
                req.url().escape_debug(),
                req.header("origin").unwrap_or_default(),
                req.header("sec-fetch-site").unwrap_or_default(),
            );
            return self.send(req, json_error(403, "cross-origin request refused"));
        }
        let (Some(auth), Some((wanted, path))) = (&self.auth, route.access(self, req)) else {
            return next(self, req, Held::ALL);
        };
        let app = Arc::clone(self);
        auth.authorize(req, wanted, path, move |req, verdict| match verdict {
            Ok(held) => next(&app, req, held),
            Err(response) => app.send(req, response),
        });
    }

    /// Whether `req` may change files here: it does not come from a page
    /// of another origin (`origin::same_origin`). Its own origin is the
    /// scheme it reached uhttpd with (https on a TLS listener; from a
    /// `--trusted-proxy`, its `X-Forwarded-Proto`) and its `Host`.
    ///
    /// Every route that changes files calls it before anything else; with
    /// `--cors`, listed origins may read but still not write.
    pub fn same_origin(&self, req: &Request) -> Result<(), CrossOrigin> {
        let forwarded = if self.trusted_proxies.contains(&req.addr().ip()) {
            req.header("x-forwarded-proto")
                .and_then(|p| p.split(',').next())
                .map(|p| p.trim_matches([' ', '\t']))
                .filter(|p| p.eq_ignore_ascii_case("https") || p.eq_ignore_ascii_case("http"))
        } else {
            None
        };
        let scheme = match forwarded {
            Some(p) if p.eq_ignore_ascii_case("https") => "https",
            Some(_) => "http",
            None if req.is_secure() => "https",
            None => "http",
        };
        origin::same_origin(
            req.header("origin"),
            req.header("sec-fetch-site"),
            scheme,
            req.host(),
        )
    }

    /// A whole request: head, and body if any.
    fn on_request(&self, req: &Request, held: Held) {
        let response = match self.route(req) {
            Route::Health => self.health_check(req),
            Route::AcmeChallenge => self.acme_challenge(req),
            Route::Redirect(port) => redirect::to_https(req, port),
            Route::Preflight => self.preflight(req),
            Route::Rpc => self.rpc_body(req, req.data()),
            Route::Put(name) => match self.uploads().start_put(req, name, held) {
                Ok(file) => {
                    let mut put = PutUpload::new(file);
                    match put.feed(req.data()) {
                        Ok(()) => return self.finish_upload(req, |u| put.finish(u)),
                        Err(response) => response,
                    }
                }
                Err(response) => response,
            },
            Route::Multipart => match self.uploads().start_multipart(req, held) {
                Ok(mut upload) => match upload.feed(self.uploads(), req.data()) {
                    Ok(()) => return self.finish_upload(req, |u| upload.finish(u)),
                    Err(response) => response,
                },
                Err(response) => response,
            },
            Route::Resumable => match self.resumable().start(req, &held) {
                Started::Answered(response) => response,
                Started::Body(mut append) => match append.feed(req.data()) {
                    Ok(()) => return append.complete(req),
                    Err(response) => response,
                },
            },
            Route::UploadOther(allow) => error_response(405).header("Allow", allow),
            Route::NotFound => error_response(404),
            Route::Search => match static_files::search(&self.files, req) {
                Some(response) => response,
                None => return,
            },
            Route::Archive(format) => {
                // unwrap: the route exists only with the archive threads.
                let archiver = self.archiver.as_ref().unwrap();
                return archiver.serve(&self.files, req, format);
            }
            Route::Delete => delete::delete(&self.files, req),
            Route::Static => match static_files::serve(&self.files, req) {
                Some(response) => response,
                // A compression thread answers.
                None => return,
            },
        };
        self.send(req, response);
    }

    /// The head of a request whose body has not been read yet.
    fn on_headers(&self, req: &Request, held: Held) {
        let receiving = match self.route(req) {
            Route::Rpc => match req.content_length() {
                Some(n) if n > self.max_content_length => Err(json_error(413, "body too large")),
                _ => Ok(Receiving::Rpc(Vec::new())),
            },
            Route::Put(name) => self
                .uploads()
                .start_put(req, name, held)
                .map(|f| Receiving::Put(PutUpload::new(f))),
            Route::Multipart => self
                .uploads()
                .start_multipart(req, held)
                .map(Receiving::Multipart),
            Route::Resumable => match self.resumable().start(req, &held) {
                Started::Answered(response) => Err(response),
                Started::Body(append) => Ok(Receiving::Resumable(append)),
            },
            Route::Health => Err(self.health_check(req)),
            Route::AcmeChallenge => Err(self.acme_challenge(req)),
            Route::Redirect(port) => Err(redirect::to_https(req, port)),
            Route::Preflight => Err(self.preflight(req)),
            Route::UploadOther(allow) => Err(error_response(405).header("Allow", allow)),
            Route::NotFound => Err(error_response(404)),
            // Static paths take no body: answered unread.
            Route::Search | Route::Static | Route::Archive(_) => {
                match static_files::serve(&self.files, req) {
                    Some(response) => Err(response),
                    // A compression thread answers.
                    None => return,
                }
            }
            Route::Delete => Err(delete::delete(&self.files, req)),
        };
        match receiving {
            Ok(receiving) => {
                req.set_context(State { receiving });
                if let Err(e) = req.accept_body_streaming() {
                    log::debug!("cannot accept the body of {}: {e}", req.url());
                }
            }
            // Refused on its headers: `100 Continue` is never sent.
            Err(response) => self.send(req, response),
        }
    }

    fn on_data(&self, req: &Request) {
        let data = req.read_buffer();
        let fed = req.with_context(|state: &mut State| self.feed(&mut state.receiving, &data));
        if let Some(Err(response)) = fed
            && req.take_context::<State>().is_some()
        {
            self.send(req, response);
        }
    }

    fn on_complete(&self, req: &Request) {
        let data = req.read_buffer();
        let Some(mut state) = req.take_context::<State>() else {
            return;
        };
        let response = match self.feed(&mut state.receiving, &data) {
            Err(response) => response,
            Ok(()) => match state.receiving {
                Receiving::Rpc(body) => self.rpc_body(req, &body),
                Receiving::Put(put) => {
                    return self.finish_upload(req, |u| put.finish(u));
                }
                Receiving::Multipart(upload) => {
                    return self.finish_upload(req, |u| upload.finish(u));
                }
                Receiving::Resumable(append) => return append.complete(req),
            },
        };
        self.send(req, response);
    }

    /// Answers an upload from a disk thread once `finish` made it durable;
    /// 503 at once when too many wait (the temporary file is dropped).
    fn finish_upload(
        &self,
        req: &Request,
        finish: impl FnOnce(&Uploads) -> Response + Send + 'static,
    ) {
        // unwrap: upload routes exist only when uploads, and so the disk
        // threads, are on.
        let disk = self.disk.as_ref().unwrap();
        let job = Finish {
            req: req.clone(),
            finish: Box::new(finish),
        };
        if let Err(job) = disk.try_run(job) {
            log::warn!(
                "{}: upload answered 503: {} finished uploads already wait for {} disk threads",
                req.remote_address(),
                disk.capacity(),
                disk.threads()
            );
            drop(job);
            self.send(req, json_error(503, "busy").header("Retry-After", "1"));
        }
    }

    fn feed(&self, receiving: &mut Receiving, data: &[u8]) -> Result<(), Response> {
        match receiving {
            Receiving::Rpc(body) => {
                let len = body.len().saturating_add(data.len());
                if u64::try_from(len).unwrap_or(u64::MAX) > self.max_content_length {
                    return Err(json_error(413, "body too large"));
                }
                body.extend_from_slice(data);
                Ok(())
            }
            Receiving::Put(put) => put.feed(data),
            Receiving::Multipart(upload) => upload.feed(self.uploads(), data),
            Receiving::Resumable(append) => append.feed(data),
        }
    }

    fn rpc_body(&self, req: &Request, body: &[u8]) -> Response {
        if u64::try_from(body.len()).unwrap_or(u64::MAX) > self.max_content_length {
            return json_error(413, "body too large");
        }
        rpc::echo(req, body)
    }

    /// The `204` to a CORS preflight. The methods a cross-origin script
    /// may use: reads, and `POST` to `/rpc` when it is on; uploads are
    /// same-origin only.
    fn preflight(&self, req: &Request) -> Response {
        let methods = if self.rpc {
            "GET, HEAD, POST"
        } else {
            "GET, HEAD"
        };
        match &self.headers.cors {
            Some(cors) => cors.preflight(req, methods),
            // Routed here only with --cors.
            None => error_response(404),
        }
    }

    fn health_check(&self, req: &Request) -> Response {
        match &self.health {
            Some(health) => health.answer(req),
            // Routed here only with --health.
            None => error_response(404),
        }
    }

    /// Sends `response` with the headers every answer gets; while
    /// draining, with `Connection: close` too, so that keep-alive clients
    /// (a load balancer's pool) reconnect, and go elsewhere, before the
    /// listeners close.
    fn send(&self, req: &Request, response: Response) {
        let response = match self.lifecycle.is_draining() {
            true => response.header("Connection", "close"),
            false => response,
        };
        send(&self.headers, req, response);
    }

    fn resumable(&self) -> &Resumable {
        // unwrap: the resumable route exists only when it is on.
        self.resumable.as_ref().unwrap()
    }

    fn uploads(&self) -> &Uploads {
        // unwrap: upload routes exist only when uploads are on.
        self.uploads.as_ref().unwrap()
    }
}

/// Sends `response` with `headers` (its access-log line is written when
/// it ends).
fn send(headers: &ResponseHeaders, req: &Request, response: Response) {
    if let Err(e) = req.send(headers.apply(req, response)) {
        log::debug!("{}: cannot answer {}: {e}", req.remote_address(), req.url());
    }
}
