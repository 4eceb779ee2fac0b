//! `--auth-file`: HTTP Basic authentication (RFC 7617) against bcrypt
//! password hashes, in the `user:hash` format of `htpasswd -B`.
//!
//! bcrypt is slow on purpose, and the poll loop must not stall on every
//! request, so a verified `Authorization` value is remembered (a bounded
//! set); a wrong one is checked in full every time. Unknown users are
//! checked against a dummy hash so that timing does not tell which user
//! names exist.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use base64::Engine;
use uhttp::{Request, Response};

use crate::errors::error_response;

/// Verified credentials remembered at most.
const CACHE_LIMIT: usize = 256;
/// bcrypt of a random password, verified when the user is unknown.
const DUMMY_HASH: &str = "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";

/// Users and their password hashes.
pub struct Auth {
    users: HashMap<String, String>,
    /// Only uploads need a login.
    pub uploads_only: bool,
    verified: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("users", &self.users.len())
            .field("uploads_only", &self.uploads_only)
            .finish()
    }
}

impl Auth {
    /// Reads `path`: one `user:hash` per line (bcrypt `$2a$`/`$2b$`/`$2y$`
    /// hashes, as `htpasswd -B` writes), `#` comments and blank lines
    /// skipped. Errors name the file and line.
    pub fn load(path: &Path, uploads_only: bool) -> Result<Auth, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read auth file {}: {e}", path.display()))?;
        let mut users = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = || format!("auth file {} line {}", path.display(), n + 1);
            let (user, hash) = line
                .split_once(':')
                .ok_or_else(|| format!("{}: expected user:hash", at()))?;
            if user.is_empty() {
                return Err(format!("{}: empty user name", at()));
            }
            if !(hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$")) {
                return Err(format!(
                    "{}: not a bcrypt hash (create entries with: htpasswd -B FILE USER)",
                    at()
                ));
            }
            users.insert(user.to_owned(), hash.to_owned());
        }
        if users.is_empty() {
            return Err(format!("auth file {} lists no users", path.display()));
        }
        Ok(Auth {
            users,
            uploads_only,
            verified: Mutex::new(HashSet::new()),
        })
    }

    /// `Ok` when the request carries valid credentials, else the 401 to
    /// send.
    pub fn check(&self, req: &Request) -> Result<(), Response> {
        let Some(header) = req.header("authorization") else {
            return Err(challenge());
        };
        if self.lock().contains(header) {
            return Ok(());
        }
        if !self.verify(header) {
            log::info!("{}: login refused", req.remote_address());
            return Err(challenge());
        }
        let mut verified = self.lock();
        if verified.len() >= CACHE_LIMIT {
            verified.clear();
        }
        verified.insert(header.to_owned());
        Ok(())
    }

    fn verify(&self, header: &str) -> bool {
        let Some((user, password)) = basic_credentials(header) else {
            return false;
        };
        let (user, password) = (user.as_str(), password.as_str());
        match self.users.get(user) {
            Some(hash) => bcrypt::verify(password, hash).unwrap_or(false),
            None => {
                let _ = bcrypt::verify(password, DUMMY_HASH);
                false
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.verified.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The user and password of a `Basic` `Authorization` value (RFC 7617):
/// the scheme in any case, base64 of `user:password` in UTF-8. `None`
/// for anything else.
fn basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let credentials = String::from_utf8(decoded).ok()?;
    let (user, password) = credentials.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn challenge() -> Response {
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

    #[test]
    fn loads_htpasswd_bcrypt_entries_and_verifies_them() {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let f = file(&format!("# users\n\nalice:{hash}\n"));
        let auth = Auth::load(f.path(), false).unwrap();
        let basic = |s: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(s)
            )
        };
        assert!(auth.verify(&basic("alice:s3cret")));
        assert!(!auth.verify(&basic("alice:wrong")));
        assert!(!auth.verify(&basic("bob:s3cret")));
        assert!(!auth.verify("Bearer x"));
        assert!(!auth.verify("Basic !!!"));
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
