//! `--auth-file`: HTTP Basic authentication (RFC 7617) against bcrypt
//! password hashes, in the `user:hash` format of `htpasswd -B`, and the
//! per-user rights of `permissions.rs`.
//!
//! Every route asks [`Auth::authorize`] with the rights it needs (any
//! of them) and the path it acts on; the answer is what the requester
//! holds there ([`Held`]), or the refusal to send: 401 with a challenge
//! when a login could help, 403 when it cannot. A route added later
//! calls it the same way, from `App::authorized` in `app.rs`:
//!
//! ```text
//! auth.authorize(req, Rights::UPLOAD, permissions::checked_at(path), |req, verdict| ...)
//! ```
//!
//! bcrypt is slow on purpose (cost 10: about 77 ms), so it never runs on a
//! poll loop: one wrong login would stall every client of that worker.
//! [`Auth::authorize`] decides on the loop when it can — no credentials
//! (anonymous), malformed ones (401), or an `Authorization` value
//! verified before (a bounded set) — and otherwise queues the hash check
//! on a small pool of verifier threads (as many as the CPUs, at most [`MAX_VERIFIERS`]).
//! Its continuation then runs on the verifier thread:
//!
//! ```text
//! loop:      Headers/Request ─ check ─┬─ decided ──────────────▶ next(req) / 401
//!                                     ├─ queue full ───────────▶ 503 Retry-After: 1
//!                                     └─ queued ─┐
//! verifier:                bcrypt, cache the success ─┴──────────▶ next(req) / 401
//! ```
//!
//! Running the continuation there is safe because nothing in uhttpd's
//! routing belongs to a loop thread: `App` is shared by all workers, and a
//! [`Request`] may be answered, and its body accepted
//! (`accept_body_streaming`, a command the loop is woken for), from any
//! thread; later `Data` events come to the loop as usual, and find the
//! state the continuation stored in the request's context slot before it
//! accepted the body. So a correct login is routed exactly as it would be
//! on the loop, only later, and no result has to travel back.
//!
//! At most [`PENDING_LIMIT`] checks wait for a verifier; beyond that the
//! request is answered 503 with `Retry-After: 1` at once. Unknown users
//! are checked against a dummy hash so that timing does not tell which
//! user names exist; a wrong password is checked in full every time.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use base64::Engine;
use uhttp::{Request, Response};

use crate::errors::error_response;
use crate::permissions::{Decision, Held, Permissions, Rights, Rule, Who};
use crate::pool::Pool;

/// Verified credentials remembered at most.
const CACHE_LIMIT: usize = 256;
/// Verifier threads at most (fewer on machines with fewer CPUs): enough
/// to keep logins flowing, few enough to leave CPUs to the poll loops.
const MAX_VERIFIERS: usize = 4;
/// Checks that may wait for a verifier thread; beyond: 503. With 77 ms a
/// hash and two verifiers, the last one waits about 2.5 s.
const PENDING_LIMIT: usize = 64;
/// bcrypt of a random password, verified when the user is unknown.
const DUMMY_HASH: &str = "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";

/// What a request may do: go on holding these rights at its path (`Ok`),
/// or be answered with this.
pub type Verdict = Result<Held, Response>;

/// What runs once a verdict is known.
type Then = Box<dyn FnOnce(&Request, Verdict) + Send>;

/// Users, the verifier threads, and what they verified.
pub struct Auth {
    accounts: Arc<Accounts>,
    verifiers: Pool<Check>,
}

/// What the verifier threads share with the loops.
struct Accounts {
    /// Users, their hashes and rights; what anyone may do.
    permissions: Permissions,
    /// `Authorization` values verified before, and their user: looked up
    /// on the loops, added by the verifiers.
    verified: Mutex<HashMap<String, String>>,
}

/// A password check waiting for a verifier thread.
struct Check {
    req: Request,
    /// The `Authorization` value, remembered if it verifies.
    header: String,
    credentials: Credentials,
    /// What the route needs (any of), and where.
    wanted: Rights,
    path: Vec<String>,
    then: Then,
}

/// `user:password`, decoded from `Basic` credentials.
struct Credentials {
    decoded: String,
    /// Where the user name ends (the first `:`).
    colon: usize,
}

impl Credentials {
    fn user(&self) -> &str {
        self.decoded.get(..self.colon).unwrap_or_default()
    }

    fn password(&self) -> &str {
        self.decoded.get(self.colon + 1..).unwrap_or_default()
    }
}
impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("users", &self.accounts.permissions.users.len())
            .field("verifiers", &self.verifiers)
            .finish()
    }
}

impl Auth {
    /// How many users the file lists.
    pub fn users(&self) -> usize {
        self.accounts.permissions.users.len()
    }

    /// Reads `path` (the format of `permissions.rs`; errors name the
    /// file and line) and starts the verifier threads. `uploads_only`
    /// (`--auth-uploads-only`) lets anyone read.
    pub fn load(path: &Path, uploads_only: bool) -> Result<Auth, String> {
        let text = std::fs::read(path)
            .map_err(|e| format!("cannot read auth file {}: {e}", path.display()))?;
        let mut permissions =
            Permissions::parse(&text).map_err(|e| format!("auth file {} {e}", path.display()))?;
        if uploads_only {
            permissions.anyone.push(Rule {
                rights: Rights::READ,
                path: Vec::new(),
            });
        }
        let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let accounts = Arc::new(Accounts {
            permissions,
            verified: Mutex::new(HashMap::new()),
        });
        let verifier = Arc::clone(&accounts);
        let verifiers = Pool::new(
            "verifier",
            cpus.min(MAX_VERIFIERS),
            PENDING_LIMIT,
            move |check| verifier.run(check),
        )
        .map_err(|e| format!("cannot start the password verifier threads: {e}"))?;
        Ok(Auth {
            accounts,
            verifiers,
        })
    }

    /// Decides whether `req` may do any of `wanted` at `path` (decoded
    /// segments, [`crate::permissions::checked_at`]) and calls `then` with
    /// the verdict: the rights held there, or a 401 (a login could help),
    /// 403 (it cannot), or 503 (too many checks wait). Called right here
    /// when no hash needs checking, else from a verifier thread once
    /// bcrypt has answered.
    pub fn authorize(
        &self,
        req: &Request,
        wanted: Rights,
        path: Vec<String>,
        then: impl FnOnce(&Request, Verdict) + Send + 'static,
    ) {
        let Some(header) = req.header("authorization") else {
            let verdict = self.accounts.verdict(req, Who::Anonymous, wanted, &path);
            return then(req, verdict);
        };
        if let Some(user) = self.accounts.verified_user(header) {
            let verdict = self.accounts.verdict(req, Who::User(&user), wanted, &path);
            return then(req, verdict);
        }
        let Some(credentials) = decode_basic(header) else {
            log::info!("{}: login refused (malformed)", req.remote_address());
            return then(req, Err(challenge()));
        };
        let check = Check {
            req: req.clone(),
            header: header.to_owned(),
            credentials,
            wanted,
            path,
            then: Box::new(then),
        };
        if let Err(check) = self.verifiers.try_run(check) {
            log::warn!(
                "{}: login answered 503: {} password checks already wait for {} verifier threads",
                req.remote_address(),
                self.verifiers.capacity(),
                self.verifiers.threads()
            );
            let busy = error_response(503).header("Retry-After", "1");
            (check.then)(req, Err(busy));
        }
    }
}

impl Accounts {
    fn verified_user(&self, header: &str) -> Option<String> {
        self.lock().get(header).cloned()
    }

    /// What `who` may do of `wanted` at `path`, as an answer.
    fn verdict(&self, req: &Request, who: Who<'_>, wanted: Rights, path: &[String]) -> Verdict {
        let held = self.permissions.held(who, path);
        match held.decide(wanted) {
            Decision::Allow => Ok(held),
            Decision::Login => Err(challenge()),
            Decision::Forbidden => {
                let who = match who {
                    Who::Anonymous => "anonymous",
                    Who::User(name) => name,
                };
                log::info!(
                    "{}: {} {} refused with 403: {} may not",
                    req.remote_address(),
                    req.method(),
                    req.url().escape_debug(),
                    who.escape_debug()
                );
                Err(error_response(403))
            }
        }
    }

    /// On a verifier thread: checks the password, remembers a success,
    /// and goes on with the verdict.
    fn run(&self, check: Check) {
        let Check {
            req,
            header,
            credentials,
            wanted,
            path,
            then,
        } = check;
        let verdict = if self.verify(&credentials) {
            self.remember(header, credentials.user());
            self.verdict(&req, Who::User(credentials.user()), wanted, &path)
        } else {
            log::info!("{}: login refused", req.remote_address());
            Err(challenge())
        };
        then(&req, verdict);
    }

    /// bcrypt: the slow part.
    fn verify(&self, credentials: &Credentials) -> bool {
        let password = credentials.password();
        match self.permissions.users.get(credentials.user()) {
            Some(user) => bcrypt::verify(password, &user.hash).unwrap_or(false),
            None => {
                let _ = bcrypt::verify(password, DUMMY_HASH);
                false
            }
        }
    }

    fn remember(&self, header: String, user: &str) {
        let mut verified = self.lock();
        if verified.len() >= CACHE_LIMIT {
            verified.clear();
        }
        verified.insert(header, user.to_owned());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.verified.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The `user:password` of a `Basic` `Authorization` value (RFC 7617 §2),
/// or `None` when it is not one.
fn decode_basic(header: &str) -> Option<Credentials> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let colon = decoded.find(':')?;
    Some(Credentials { decoded, colon })
}

/// The user name of a `Basic` `Authorization` value, whether or not it
/// verifies (nginx's `$remote_user`, for the access log).
pub fn basic_user(header: &str) -> Option<String> {
    let mut credentials = decode_basic(header)?;
    credentials.decoded.truncate(credentials.colon);
    Some(credentials.decoded)
}

/// The 401 asking for a login.
pub fn challenge() -> Response {
    error_response(401).header(
        "WWW-Authenticate",
        "Basic realm=\"uhttpd\", charset=\"UTF-8\"",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
        f
    }

    fn basic(credentials: &[u8]) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(credentials)
        )
    }

    fn verifies(auth: &Auth, header: &str) -> bool {
        decode_basic(header).is_some_and(|c| auth.accounts.verify(&c))
    }

    #[test]
    fn loads_htpasswd_bcrypt_entries_and_verifies_them() {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let f = file(&format!("# users\n\nalice:{hash}\n"));
        let auth = Auth::load(f.path(), false).unwrap();
        assert!(verifies(&auth, &basic(b"alice:s3cret")));
        assert!(!verifies(&auth, &basic(b"alice:wrong")));
        assert!(!verifies(&auth, &basic(b"bob:s3cret")));
        assert!(!verifies(&auth, "Bearer x"));
        assert!(!verifies(&auth, "Basic !!!"));
    }

    #[test]
    fn decodes_basic_credentials_of_any_bytes_without_panicking() {
        let c = decode_basic(&basic("é😀:pa:ss€".as_bytes())).unwrap();
        assert_eq!((c.user(), c.password()), ("é😀", "pa:ss€"));
        let c = decode_basic(&basic(b":")).unwrap();
        assert_eq!((c.user(), c.password()), ("", ""));
        for bad in [&b"\xff:x"[..], b"\xc3:x", b"a:\xc3", b"no colon", b""] {
            assert!(decode_basic(&basic(bad)).is_none(), "{bad:?}");
        }
        for header in [
            "Basic",
            "Basic ",
            " ",
            "",
            "é é",
            "Basic é",
            "Basic\u{a0}YTpi",
        ] {
            assert!(decode_basic(header).is_none(), "{header:?}");
        }
    }

    #[test]
    fn refuses_files_without_bcrypt_hashes_naming_the_line() {
        let f = file("alice:{SHA}abc\n");
        let err = Auth::load(f.path(), false).unwrap_err();
        assert!(err.contains("line 1"), "{err}");
        let f = file("# nobody\n");
        assert!(
            Auth::load(f.path(), false)
                .unwrap_err()
                .contains("no users")
        );
        let f = file("alice\n");
        assert!(
            Auth::load(f.path(), false)
                .unwrap_err()
                .contains("user:hash")
        );
    }

    fn basic_credentials(header: &str) -> Option<(String, String)> {
        decode_basic(header).map(|c| (c.user().to_owned(), c.password().to_owned()))
    }

    #[test]
    fn parses_basic_credentials() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let pair = |u: &str, p: &str| Some((u.to_owned(), p.to_owned()));
        assert_eq!(
            basic_credentials(&format!("Basic {}", b64("a:b"))),
            pair("a", "b")
        );
        assert_eq!(
            basic_credentials(&format!("basic  {} ", b64("a:b:c"))),
            pair("a", "b:c")
        );
        assert_eq!(
            basic_credentials(&format!("Basic {}", b64("é:€😀"))),
            pair("é", "€😀")
        );
        assert_eq!(
            basic_credentials(&format!("Basic {}", b64("nocolon"))),
            None
        );
        assert_eq!(basic_credentials("Basic"), None);
        assert_eq!(basic_credentials("Bearer abc"), None);
        let not_utf8 = base64::engine::general_purpose::STANDARD.encode(b"a:\xff");
        assert_eq!(basic_credentials(&format!("Basic {not_utf8}")), None);
    }

    /// Regression for issue 9: multi-byte characters and U+FFFD at every
    /// offset of an `Authorization` value, and in the credentials.
    #[test]
    fn authorization_with_any_character_at_any_offset_is_parsed_or_refused() {
        use crate::test_support::{MULTIBYTE, REPLACEMENT, str_at_every_offset};
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let header = format!("Basic {}", b64("alice:s3cret"));
        // Anywhere in the scheme, the base64 or around them, a non-ASCII
        // character makes the value something other than Basic credentials.
        for (_, value) in str_at_every_offset(&header) {
            assert_eq!(basic_credentials(&value), None, "{value}");
        }
        for c in MULTIBYTE.into_iter().chain([REPLACEMENT]) {
            let credentials = format!("u{c}:p{c}");
            let (user, password) =
                basic_credentials(&format!("Basic {}", b64(&credentials))).unwrap();
            assert_eq!((user, password), (format!("u{c}"), format!("p{c}")));
        }
    }
}
