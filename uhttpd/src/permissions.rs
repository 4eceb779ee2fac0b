//! Who may do what, where: the rules of `--auth-file`, parsed, and the one
//! check every route makes.
//!
//! ```text
//! # comment                          (blank lines and # lines are skipped)
//! NAME:HASH                          a user with every right everywhere
//! NAME:HASH RULE [RULE]...           a user with the rights its rules grant
//! * RULE [RULE]...                   anyone, logged in or not
//!
//! RULE  = RIGHT[,RIGHT]...[@PATH]    PATH: a URL path, / when left out
//! RIGHT = read | upload | overwrite | delete | mkdir | all
//! ```
//!
//! For example:
//!
//! ```text
//! *     read                         # the files are public
//! alice:$2y$05$...                   # alice may do everything
//! bob:$2y$05$...  upload,mkdir@/incoming  delete@/incoming/bob
//! ```
//!
//! Rules only grant: a user may do what any of its rules grants, plus
//! what `*` grants. A rule's PATH covers itself and everything below it,
//! matched on whole path segments after the normalisation of the static
//! resolver: split on `/`, empty segments skipped, each segment
//! percent-decoded (so `/My%20Files` and `/My Files` are the same rule, but
//! a space ends a rule, so write it `%20`), compared byte for byte (case
//! as on a Linux file system). `@/incoming` covers `/incoming` and
//! `/incoming/a.txt`, never `/incomingX`. A path that does not normalise
//! (`..`, a malformed escape) is checked as `/`: only a right over the
//! whole tree allows it (the route then refuses it anyway).
//!
//! The rights: `read` (files, listings, searches, archives, `/rpc`),
//! `upload` (a new file, and the folders on its way), `overwrite`
//! (replace a file: needs `upload` too, and `--overwrite`), `delete`
//! (`DELETE` of a file or an empty folder), `mkdir` (a new, empty folder).
//!
//! The check: [`Permissions::held`] says what who asks holds at the path
//! (and what a login would add), [`Held::decide`] whether that covers any
//! of the rights the request needs: [`Decision::Allow`],
//! [`Decision::Login`] (401: anonymous, and a login could help) or
//! [`Decision::Forbidden`] (403). Routes do not call it themselves:
//! [`crate::auth::Auth::authorize`] does, turns the decision into an
//! answer, and hands an allowed route the [`Held`]; a route that decides
//! more once in (an upload: may it overwrite? a form: may it make this
//! folder?) asks [`Held::decide`] again, so it answers the same way.
//!
//! Pure: text in, rules out; no I/O (fuzzed in `fuzz/`).

use std::collections::HashMap;
use std::fmt;

/// A set of rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rights(u8);

impl Rights {
    pub const NONE: Rights = Rights(0);
    /// Files, listings, searches, archives, `/rpc`.
    pub const READ: Rights = Rights(1);
    /// A new file (and the folders on its way).
    pub const UPLOAD: Rights = Rights(2);
    /// Replacing an existing file.
    pub const OVERWRITE: Rights = Rights(4);
    /// `DELETE` of a file or an empty folder.
    pub const DELETE: Rights = Rights(8);
    /// A new, empty folder.
    pub const MKDIR: Rights = Rights(16);
    pub const ALL: Rights = Rights(31);

    /// The right named `word`, as written in the file.
    fn named(word: &str) -> Option<Rights> {
        Some(match word {
            "read" => Rights::READ,
            "upload" => Rights::UPLOAD,
            "overwrite" => Rights::OVERWRITE,
            "delete" => Rights::DELETE,
            "mkdir" => Rights::MKDIR,
            "all" => Rights::ALL,
            _ => return None,
        })
    }

    /// Whether every right of `other` is in `self`.
    pub fn contains(self, other: Rights) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether `self` and `other` share a right.
    pub fn intersects(self, other: Rights) -> bool {
        self.0 & other.0 != 0
    }
}

impl std::ops::BitOr for Rights {
    type Output = Rights;
    fn bitor(self, other: Rights) -> Rights {
        Rights(self.0 | other.0)
    }
}

impl std::ops::BitOrAssign for Rights {
    fn bitor_assign(&mut self, other: Rights) {
        self.0 |= other.0;
    }
}

/// `RIGHTS@PATH`: these rights at and below the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub rights: Rights,
    /// Decoded segments of the path; empty: everywhere.
    pub path: Vec<String>,
}

impl Rule {
    fn covers(&self, path: &[String]) -> bool {
        path.starts_with(&self.path)
    }
}

/// What a listed user may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// A `NAME:HASH` line without rules: everything, everywhere.
    Everything,
    /// What these rules grant.
    Rules(Vec<Rule>),
}

/// One user of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    /// The bcrypt hash, as `htpasswd -B` writes it.
    pub hash: String,
    pub grant: Grant,
}

/// Who asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who<'a> {
    /// No login.
    Anonymous,
    /// A user whose password was verified.
    User(&'a str),
}

/// The answer of [`Held::decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// 401: anonymous may not, some user may.
    Login,
    /// 403: logged in and not allowed, or nobody may.
    Forbidden,
}

/// What a requester holds at a path: its rights, and (anonymous) the
/// rights a login would add there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub rights: Rights,
    /// Rights some user holds here that the requester lacks; only for
    /// anonymous requests.
    pub by_login: Rights,
}

impl Held {
    /// Every right: no `--auth-file`.
    pub const ALL: Held = Held {
        rights: Rights::ALL,
        by_login: Rights::NONE,
    };

    /// Whether any of `wanted` is held; if not, whether a login helps.
    pub fn decide(self, wanted: Rights) -> Decision {
        if self.rights.intersects(wanted) {
            Decision::Allow
        } else if self.by_login.intersects(wanted) {
            Decision::Login
        } else {
            Decision::Forbidden
        }
    }
}

/// The parsed auth file: users and the rules of `*`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions {
    pub users: HashMap<String, User>,
    /// What anyone may do (`*` lines; `--auth-uploads-only` adds `read`).
    pub anyone: Vec<Rule>,
}

/// A line of the auth file that is not understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based.
    pub line: usize,
    pub kind: ParseErrorKind,
}

/// Why a line is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseErrorKind {
    NotUtf8,
    /// Neither `NAME:HASH` nor `* RULE`.
    NoColon,
    EmptyName,
    NotBcrypt,
    /// `*` with a hash: anyone has no password.
    AnyoneWithHash,
    /// `*` without a rule.
    AnyoneWithoutRules,
    UnknownRight(String),
    /// A rule with no right before `@`, or an empty one between commas.
    EmptyRight,
    /// A path that is not `/...`, or does not normalise.
    BadPath(String),
    /// The user is listed on an earlier line.
    Duplicate {
        user: String,
        first: usize,
    },
    /// Neither a user nor `*`.
    Empty,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind == ParseErrorKind::Empty {
            return f.write_str("lists no users");
        }
        write!(f, "line {}: ", self.line)?;
        match &self.kind {
            ParseErrorKind::NotUtf8 => f.write_str("not UTF-8"),
            ParseErrorKind::NoColon => f.write_str("expected user:hash [rules], or * rules"),
            ParseErrorKind::EmptyName => f.write_str("empty user name"),
            ParseErrorKind::NotBcrypt => {
                f.write_str("not a bcrypt hash (create entries with: htpasswd -B FILE USER)")
            }
            ParseErrorKind::AnyoneWithHash => {
                f.write_str("* (anyone) takes rules, not a password hash")
            }
            ParseErrorKind::AnyoneWithoutRules => f.write_str("* (anyone) without a rule"),
            ParseErrorKind::UnknownRight(word) => write!(
                f,
                "unknown right {word:?} (expected read, upload, overwrite, delete, mkdir or all)"
            ),
            ParseErrorKind::EmptyRight => f.write_str("a rule without a right"),
            ParseErrorKind::BadPath(path) => write!(
                f,
                "bad path {path:?} (expected /DIR/..., without . or .. segments or malformed %-escapes)"
            ),
            ParseErrorKind::Duplicate { user, first } => {
                write!(f, "user {user:?} is already listed on line {first}")
            }
            ParseErrorKind::Empty => Ok(()),
        }
    }
}

impl std::error::Error for ParseError {}

/// Blanks between a line's fields.
fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

impl Permissions {
    /// Parses an auth file's bytes.
    pub fn parse(text: &[u8]) -> Result<Permissions, ParseError> {
        let mut permissions = Permissions::default();
        let mut anyone_line = None;
        let mut lines = HashMap::new();
        for (n, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = n + 1;
            let error = |kind| ParseError { line, kind };
            let text = std::str::from_utf8(raw).map_err(|_| error(ParseErrorKind::NotUtf8))?;
            let text = text.trim_matches(|c: char| is_blank(c) || c == '\r');
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            let mut fields = text.split(is_blank).filter(|f| !f.is_empty());
            // unwrap: a trimmed, non-empty line has a first field.
            let first = fields.next().unwrap_or_default();
            let rules = fields
                .map(parse_rule)
                .collect::<Result<Vec<_>, _>>()
                .map_err(error)?;
            if first == "*" {
                if let Some(first) = anyone_line {
                    return Err(error(ParseErrorKind::Duplicate {
                        user: "*".into(),
                        first,
                    }));
                }
                if rules.is_empty() {
                    return Err(error(ParseErrorKind::AnyoneWithoutRules));
                }
                anyone_line = Some(line);
                permissions.anyone = rules;
                continue;
            }
            let (name, hash) = first
                .split_once(':')
                .ok_or(error(ParseErrorKind::NoColon))?;
            if name == "*" {
                return Err(error(ParseErrorKind::AnyoneWithHash));
            }
            if name.is_empty() {
                return Err(error(ParseErrorKind::EmptyName));
            }
            if !["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) {
                return Err(error(ParseErrorKind::NotBcrypt));
            }
            if let Some(&first) = lines.get(name) {
                return Err(error(ParseErrorKind::Duplicate {
                    user: name.to_owned(),
                    first,
                }));
            }
            lines.insert(name.to_owned(), line);
            let grant = if rules.is_empty() {
                Grant::Everything
            } else {
                Grant::Rules(rules)
            };
            permissions.users.insert(
                name.to_owned(),
                User {
                    name: name.to_owned(),
                    hash: hash.to_owned(),
                    grant,
                },
            );
        }
        if permissions.users.is_empty() && anyone_line.is_none() {
            return Err(ParseError {
                line: 0,
                kind: ParseErrorKind::Empty,
            });
        }
        Ok(permissions)
    }

    /// The rights `who` holds at `path` (decoded segments).
    pub fn rights(&self, who: Who<'_>, path: &[String]) -> Rights {
        let mut rights = granted(&self.anyone, path);
        if let Who::User(name) = who {
            match self.users.get(name).map(|u| &u.grant) {
                Some(Grant::Everything) => return Rights::ALL,
                Some(Grant::Rules(rules)) => rights |= granted(rules, path),
                None => {}
            }
        }
        rights
    }

    /// What `who` holds at `path`, and what a login would add.
    pub fn held(&self, who: Who<'_>, path: &[String]) -> Held {
        let rights = self.rights(who, path);
        let by_login = match who {
            Who::User(_) => Rights::NONE,
            Who::Anonymous => self.users.keys().fold(Rights::NONE, |all, name| {
                all | self.rights(Who::User(name), path)
            }),
        };
        Held { rights, by_login }
    }
}

/// The rights `rules` grant at `path`.
fn granted(rules: &[Rule], path: &[String]) -> Rights {
    rules
        .iter()
        .filter(|r| r.covers(path))
        .fold(Rights::NONE, |all, r| all | r.rights)
}

/// `RIGHT[,RIGHT]...[@PATH]`.
fn parse_rule(field: &str) -> Result<Rule, ParseErrorKind> {
    let (words, path) = match field.split_once('@') {
        Some((words, path)) => {
            let segments =
                segments(path).ok_or_else(|| ParseErrorKind::BadPath(path.to_owned()))?;
            (words, segments)
        }
        None => (field, Vec::new()),
    };
    let mut rights = Rights::NONE;
    for word in words.split(',') {
        if word.is_empty() {
            return Err(ParseErrorKind::EmptyRight);
        }
        rights |= Rights::named(word).ok_or_else(|| ParseErrorKind::UnknownRight(word.into()))?;
    }
    Ok(Rule { rights, path })
}

/// The decoded segments of a URL path (`/a/b%20c/` → `a`, `b c`), as the
/// static resolver reads it: split on `/` before decoding, empty segments
/// skipped. `None` when it does not start with `/`, an escape is
/// malformed, a segment is not UTF-8, is `.` or `..`, or decodes to
/// something holding `/`, `\`, NUL or a control character.
pub fn segments(raw: &str) -> Option<Vec<String>> {
    let rest = raw.strip_prefix('/')?;
    rest.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let decoded = String::from_utf8(crate::percent::decode(s)?).ok()?;
            let bad = decoded == "."
                || decoded == ".."
                || decoded
                    .chars()
                    .any(|c| c == '/' || c == '\\' || c.is_control());
            (!bad).then_some(decoded)
        })
        .collect()
}

/// The segments a request path is checked at: [`segments`], or `/` when
/// it does not normalise (only a right over everything allows it).
pub fn checked_at(raw: &str) -> Vec<String> {
    segments(raw).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{INVALID, MULTIBYTE, bytes_at_every_offset};

    const HASH: &str = "$2y$05$abcdefghijklmnopqrstuu5Zr8B8pjBx0QpVRySH5tj3ySfUnsWy";

    fn parse(text: &str) -> Permissions {
        Permissions::parse(text.as_bytes()).unwrap()
    }

    fn error(text: &[u8]) -> ParseError {
        Permissions::parse(text).unwrap_err()
    }

    fn at(path: &str) -> Vec<String> {
        checked_at(path)
    }

    #[test]
    fn a_user_without_rules_may_do_everything_everywhere() {
        let p = parse(&format!("# users\n\nalice:{HASH}\n"));
        for path in ["/", "/a/b.txt", "/%ff"] {
            assert_eq!(p.rights(Who::User("alice"), &at(path)), Rights::ALL);
            assert_eq!(p.rights(Who::Anonymous, &at(path)), Rights::NONE);
        }
        assert_eq!(
            p.held(Who::Anonymous, &at("/")).decide(Rights::READ),
            Decision::Login
        );
        assert_eq!(p.rights(Who::User("bob"), &at("/")), Rights::NONE);
    }

    #[test]
    fn rules_grant_rights_under_their_paths_plus_what_anyone_may() {
        let p = parse(&format!(
            "*\tread\nbob:{HASH}  upload,mkdir@/incoming delete@/incoming/bob\r\n"
        ));
        let bob = Who::User("bob");
        assert_eq!(p.rights(bob, &at("/")), Rights::READ);
        assert_eq!(
            p.rights(bob, &at("/incoming")),
            Rights::READ | Rights::UPLOAD | Rights::MKDIR
        );
        assert_eq!(
            p.rights(bob, &at("/incoming/bob/x")),
            Rights::READ | Rights::UPLOAD | Rights::MKDIR | Rights::DELETE
        );
        assert_eq!(p.rights(Who::Anonymous, &at("/incoming")), Rights::READ);
        assert_eq!(
            p.held(Who::Anonymous, &at("/incoming/a"))
                .decide(Rights::UPLOAD),
            Decision::Login
        );
        assert_eq!(
            p.held(bob, &at("/incoming/a")).decide(Rights::DELETE),
            Decision::Forbidden
        );
        // Nobody may delete here: a login would not help.
        assert_eq!(
            p.held(Who::Anonymous, &at("/other")).decide(Rights::DELETE),
            Decision::Forbidden
        );
        assert_eq!(
            p.held(Who::Anonymous, &at("/"))
                .decide(Rights::READ | Rights::DELETE),
            Decision::Allow
        );
    }

    #[test]
    fn paths_match_on_whole_decoded_segments() {
        let p = parse(&format!("u:{HASH} read@/in%20box/é\n"));
        let reads = |path| p.rights(Who::User("u"), &at(path)).contains(Rights::READ);
        for yes in [
            "/in%20box/é",
            "/in box/é/",
            "//in%20box//%C3%A9/x.txt",
            "/in%20box/%c3%a9",
        ] {
            assert!(reads(yes), "{yes}");
        }
        for no in [
            "/",
            "/in%20box",
            "/in%20box/éX",
            "/in%20box/E\u{301}",
            "/IN%20BOX/é",
            "/in%20box/../in%20box/é",
            "/in%20box/é%zz",
        ] {
            assert!(!reads(no), "{no}");
        }
        let everywhere = Grant::Rules(vec![Rule {
            rights: Rights::READ,
            path: vec![],
        }]);
        assert_eq!(
            parse(&format!("u:{HASH} read@/")).users["u"].grant,
            everywhere
        );
        let rule = &parse("* read@//a//b/").anyone[0];
        assert_eq!(rule.path, ["a", "b"]);
    }

    #[test]
    fn refuses_bad_lines_naming_them() {
        let cases: [(&str, usize, ParseErrorKind); 14] = [
            ("alice", 1, ParseErrorKind::NoColon),
            ("# c\n:x", 2, ParseErrorKind::EmptyName),
            ("alice:{SHA}abc", 1, ParseErrorKind::NotBcrypt),
            ("*:$2y$05$x read", 1, ParseErrorKind::AnyoneWithHash),
            ("\n*", 2, ParseErrorKind::AnyoneWithoutRules),
            (
                &format!("a:{HASH} write"),
                1,
                ParseErrorKind::UnknownRight("write".into()),
            ),
            (
                &format!("a:{HASH} Read"),
                1,
                ParseErrorKind::UnknownRight("Read".into()),
            ),
            (&format!("a:{HASH} read,"), 1, ParseErrorKind::EmptyRight),
            (&format!("a:{HASH} @/x"), 1, ParseErrorKind::EmptyRight),
            (
                &format!("a:{HASH} read@x"),
                1,
                ParseErrorKind::BadPath("x".into()),
            ),
            (
                &format!("a:{HASH} read@/a/../b"),
                1,
                ParseErrorKind::BadPath("/a/../b".into()),
            ),
            (
                &format!("a:{HASH} read@/%zz"),
                1,
                ParseErrorKind::BadPath("/%zz".into()),
            ),
            (
                &format!("a:{HASH}\n\na:{HASH}"),
                3,
                ParseErrorKind::Duplicate {
                    user: "a".into(),
                    first: 1,
                },
            ),
            ("", 0, ParseErrorKind::Empty),
        ];
        for (text, line, kind) in cases {
            assert_eq!(error(text.as_bytes()), ParseError { line, kind }, "{text}");
        }
        assert_eq!(
            error(b"a\n\xff").to_string(),
            "line 1: expected user:hash [rules], or * rules"
        );
        assert_eq!(error(b"# \xff").to_string(), "line 1: not UTF-8");
        assert!(error(b"x:y").to_string().contains("htpasswd -B FILE USER"));
        assert_eq!(error(b"# nobody\n").to_string(), "lists no users");
    }

    /// A user line and a rule with multi-byte and invalid bytes at every
    /// offset: parsed or refused with the line's number, never a panic.
    #[test]
    fn any_byte_at_any_offset_is_parsed_or_refused_with_its_line() {
        let base = format!("# c\nbob:{HASH} read,upload@/in/sub\n");
        for (at, input) in bytes_at_every_offset(base.as_bytes()) {
            match Permissions::parse(&input) {
                Ok(p) => {
                    assert!(!p.users.is_empty() || !p.anyone.is_empty());
                    // Only a name, a hash, a comment or a path can take it.
                    assert!(std::str::from_utf8(&input).is_ok(), "{input:?}");
                }
                Err(e) => {
                    let line = 1 + input[..at].iter().filter(|&&b| b == b'\n').count();
                    assert_eq!(e.line, line, "{input:?} {e}");
                    if std::str::from_utf8(&input).is_err() {
                        assert_eq!(e.kind, ParseErrorKind::NotUtf8);
                    }
                }
            }
        }
        for c in MULTIBYTE {
            let p = parse(&format!("{c}:{HASH} read@/{c}/x%20{c}"));
            assert_eq!(
                p.users[c].grant,
                Grant::Rules(vec![Rule {
                    rights: Rights::READ,
                    path: vec![c.to_owned(), format!("x {c}")],
                }])
            );
        }
        for bad in INVALID {
            let mut text = format!("u:{HASH} read@/%").into_bytes();
            text.extend_from_slice(bad);
            assert_eq!(error(&text).line, 1);
        }
    }

    #[test]
    fn request_paths_that_do_not_normalise_are_checked_at_the_root() {
        for raw in ["", "a", "/..", "/a/./b", "/%2e%2e", "/a%2Fb", "/%ff", "/%"] {
            assert_eq!(segments(raw), None, "{raw}");
            assert!(checked_at(raw).is_empty());
        }
        assert_eq!(segments("/"), Some(vec![]));
        assert_eq!(segments("/a//b%2Fc"), None);
        assert_eq!(segments("/a//é/"), Some(vec!["a".into(), "é".into()]));
    }
}
