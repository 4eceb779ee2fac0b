//! Cross-origin reads (`--cors`): which other sites' scripts may read
//! uhttpd's answers, and the preflight `OPTIONS` that asks beforehand
//! (Fetch standard, "CORS protocol").
//!
//! | request | answer |
//! | --- | --- |
//! | `Origin` allowed (or `--cors '*'`) | `Access-Control-Allow-Origin` (the origin, or `*`), `Access-Control-Expose-Headers` |
//! | any request, with an origin list | `Vary: Origin` (the answer depends on it, so caches keep one per origin) |
//! | `OPTIONS` with `Origin` and `Access-Control-Request-Method` | `204`, allowed methods, headers and max-age; no login asked (a preflight never carries one) |
//! | an answer 401 | no CORS header: a login prompt is never readable by another site |
//!
//! No `Access-Control-Allow-Credentials`, ever: a browser then never sends
//! a visitor's login (Basic credentials, cookies) with a cross-origin
//! read, and never lets a script read an answer made with one. `--cors`
//! shares what is public; with `--auth-file` (unless
//! `--auth-uploads-only`) every cross-origin read is a 401 the script
//! cannot read. Writing stays same-origin whatever `--cors` says
//! (`origin.rs`).

use uhttp::{Request, Response};

use crate::origin::CorsOrigin;

/// How long a browser may keep a preflight's answer: an hour (Chromium
/// keeps at most two, Firefox a day).
const MAX_AGE: &str = "3600";

/// Request headers a cross-origin script may send beyond the safelisted
/// ones: conditional and range requests, and the upload's type.
/// `Authorization` is not among them: no login crosses origins.
const ALLOW_HEADERS: &str = "Content-Type, Range, If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since, If-Range";

/// Response headers a cross-origin script may read beyond the safelisted
/// ones (`Content-Type`, `Content-Length`, `Last-Modified`, ...).
const EXPOSE_HEADERS: &str = "Accept-Ranges, Content-Range, Content-Encoding, ETag, Location";

/// The `--cors` policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cors {
    /// `*`: any origin reads; the answer does not depend on `Origin`.
    Any,
    /// These origins read; others get no CORS header.
    List(Vec<CorsOrigin>),
}

impl Cors {
    /// The policy for `--cors` values; `None` when there are none.
    pub fn new(origins: &[CorsOrigin]) -> Option<Cors> {
        if origins.is_empty() {
            None
        } else if origins.contains(&CorsOrigin::Any) {
            Some(Cors::Any)
        } else {
            Some(Cors::List(origins.to_vec()))
        }
    }

    /// Whether `req` is a preflight: `OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`.
    pub fn is_preflight(req: &Request) -> bool {
        req.method() == "OPTIONS"
            && req.header("origin").is_some()
            && req.header("access-control-request-method").is_some()
    }

    /// The `204` answering a preflight: the methods (`methods`: those
    /// uhttpd answers cross-origin scripts with), headers and max-age, for
    /// an origin that may read; `Access-Control-Allow-Origin` and `Vary`
    /// are added by [`Cors::apply`] as on every answer. An origin that may
    /// not read gets a bare 204, which the browser takes as a refusal.
    pub fn preflight(&self, req: &Request, methods: &str) -> Response {
        let response = Response::new(204);
        if self.allow_origin(req.header("origin")).is_none() {
            return response;
        }
        response
            .header("Access-Control-Allow-Methods", methods)
            .header("Access-Control-Allow-Headers", ALLOW_HEADERS)
            .header("Access-Control-Max-Age", MAX_AGE)
    }

    /// `response` with the CORS headers `req`'s origin gets; a 401 gets
    /// none, so that another site's script cannot read it.
    pub fn apply(&self, req: &Request, response: Response) -> Response {
        if response.status() == 401 {
            return response;
        }
        let response = self.vary(response);
        match self.allow_origin(req.header("origin")) {
            Some(origin) => response
                .header("Access-Control-Allow-Origin", origin)
                .header("Access-Control-Expose-Headers", EXPOSE_HEADERS),
            None => response,
        }
    }

    /// The `Access-Control-Allow-Origin` value for `origin`, if it may read.
    /// The listed spelling is sent, never the request's bytes.
    fn allow_origin(&self, origin: Option<&str>) -> Option<&str> {
        match self {
            Cors::Any => Some("*"),
            Cors::List(list) => {
                let origin = origin?;
                list.iter().find(|o| o.allows(origin)).map(|o| match o {
                    CorsOrigin::Origin(listed) => listed.as_str(),
                    CorsOrigin::Any => "*",
                })
            }
        }
    }

    fn vary(&self, response: Response) -> Response {
        match self {
            Cors::Any => response,
            Cors::List(_) => response.header("Vary", "Origin"),
        }
    }
}
