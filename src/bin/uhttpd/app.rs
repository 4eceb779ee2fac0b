//! Routes requests to the redirect, `/rpc`, upload and static handlers,
//! and keeps per-request state between event-mode events.
//!
//! uhttpd runs the library in event mode: a request without a body (or
//! whose body arrived with its head) comes whole; for one with a body the
//! route decides on the headers — refuse it unread, or stream it (uploads
//! go to disk as they arrive, `/rpc` bodies are collected up to
//! `--max-content-length`).
//!
//! A route that needs a login goes on only once [`Auth::check`] allows it:
//! at once when no password must be verified, else later, from a verifier
//! thread (see `auth.rs`); the routing is the same code either way. A
//! finished upload is made durable (fsync, rename) and answered on the
//! disk threads.

use std::io;
use std::sync::Arc;

use uhttp::{Event, Request, Response};

use crate::auth::Auth;
use crate::errors::{error_response, json_error};
use crate::pool::Pool;
use crate::redirect;
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

/// Starts the threads that finish uploads into `uploads`.
pub fn disk_threads(uploads: Uploads) -> io::Result<Pool<Finish>> {
    Pool::new("disk", DISK_THREADS, DISK_PENDING, move |job: Finish| {
        let response = (job.finish)(&uploads);
        send(&job.req, response);
    })
}

/// Where a request goes.
enum Route<'a> {
    Redirect(u16),
    Rpc,
    Put(&'a str),
    Multipart,
    /// An upload path with the wrong method; the one it takes.
    UploadOther(&'static str),
    /// Nothing here (uploads are off).
    NotFound,
    Static,
}

/// A body being received, kept in the request's context slot.
enum Receiving {
    Rpc(Vec<u8>),
    Put(PutUpload),
    Multipart(MultipartUpload),
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
            _ => {}
        }
    }

    fn route<'r>(&self, req: &'r Request) -> Route<'r> {
        if let Some((index, port)) = self.redirect {
            if req.server().index() == index {
                return Route::Redirect(port);
            }
        }
        let path = uhttp::util::split_url(req.url()).0;
        if self.rpc && req.path() == "/rpc" {
            return Route::Rpc;
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
        Route::Static
    }

    /// Runs `next` on `req` once its route may be served: at once, or —
    /// when a password must be verified — from a verifier thread; a
    /// refused login is answered (401, or 503 when too many wait).
    fn authorized(self: &Arc<Self>, req: &Request, next: fn(&App, &Request)) {
        let auth = match &self.auth {
            Some(auth) if self.needs_login(auth, &self.route(req)) => auth,
            _ => return next(self, req),
        };
        let app = Arc::clone(self);
        auth.check(req, move |req, verdict| match verdict {
            Ok(()) => next(&app, req),
            Err(response) => send(req, response),
        });
    }

    /// Whether `route` needs a login.
    fn needs_login(&self, auth: &Auth, route: &Route<'_>) -> bool {
        match route {
            Route::Redirect(_) => false,
            Route::Put(_) | Route::Multipart | Route::UploadOther(_) => true,
            Route::NotFound => false,
            Route::Rpc | Route::Static => !auth.uploads_only,
        }
    }

    /// A whole request: head, and body if any.
    fn on_request(&self, req: &Request) {
        let response = match self.route(req) {
            Route::Redirect(port) => redirect::to_https(req, port),
            Route::Rpc => self.rpc_body(req, req.data()),
            Route::Put(name) => match self.uploads().start_put(req, name) {
                Ok(file) => {
                    let mut put = PutUpload::new(file);
                    match put.feed(req.data()) {
                        Ok(()) => return self.finish_upload(req, |u| put.finish(u)),
                        Err(response) => response,
                    }
                }
                Err(response) => response,
            },
            Route::Multipart => match self.uploads().start_multipart(req) {
                Ok(mut upload) => match upload.feed(self.uploads(), req.data()) {
                    Ok(()) => return self.finish_upload(req, |u| upload.finish(u)),
                    Err(response) => response,
                },
                Err(response) => response,
            },
            Route::UploadOther(allow) => error_response(405).header("Allow", allow),
            Route::NotFound => error_response(404),
            Route::Static => match static_files::serve(&self.files, req) {
                Some(response) => response,
                // A compression thread answers.
                None => return,
            },
        };
        send(req, response);
    }

    /// The head of a request whose body has not been read yet.
    fn on_headers(&self, req: &Request) {
        let receiving = match self.route(req) {
            Route::Rpc => match req.content_length() {
                Some(n) if n > self.max_content_length => Err(json_error(413, "body too large")),
                _ => Ok(Receiving::Rpc(Vec::new())),
            },
            Route::Put(name) => self
                .uploads()
                .start_put(req, name)
                .map(|f| Receiving::Put(PutUpload::new(f))),
            Route::Multipart => self
                .uploads()
                .start_multipart(req)
                .map(Receiving::Multipart),
            Route::Redirect(port) => Err(redirect::to_https(req, port)),
            Route::UploadOther(allow) => Err(error_response(405).header("Allow", allow)),
            Route::NotFound => Err(error_response(404)),
            // Static paths take no body: answered unread.
            Route::Static => match static_files::serve(&self.files, req) {
                Some(response) => Err(response),
                None => return,
            },
        };
        match receiving {
            Ok(receiving) => {
                req.set_context(State { receiving });
                if let Err(e) = req.accept_body_streaming() {
                    log::debug!("cannot accept the body of {}: {e}", req.url());
                }
            }
            // Refused on its headers: `100 Continue` is never sent.
            Err(response) => send(req, response),
        }
    }

    fn on_data(&self, req: &Request) {
        let data = req.read_buffer();
        let fed = req.with_context(|state: &mut State| self.feed(&mut state.receiving, &data));
        if let Some(Err(response)) = fed {
            if req.take_context::<State>().is_some() {
                send(req, response);
            }
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
            },
        };
        send(req, response);
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
            send(req, json_error(503, "busy").header("Retry-After", "1"));
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
        }
    }

    fn rpc_body(&self, req: &Request, body: &[u8]) -> Response {
        if u64::try_from(body.len()).unwrap_or(u64::MAX) > self.max_content_length {
            return json_error(413, "body too large");
        }
        rpc::echo(req, body)
    }

    fn uploads(&self) -> &Uploads {
        // unwrap: upload routes exist only when uploads are on.
        self.uploads.as_ref().unwrap()
    }
}

/// Sends `response` (its access-log line is written when it ends).
fn send(req: &Request, response: Response) {
    if let Err(e) = req.send(response) {
        log::debug!("{}: cannot answer {}: {e}", req.remote_address(), req.url());
    }
}
