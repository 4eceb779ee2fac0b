//! The `--auth-file` rules of `uhttpd` (`permissions.rs`).
//!
//! The input's first line is a request path, the rest an auth file.
//! Invariants: no panic; a parsed file was UTF-8, its users have names
//! and bcrypt hashes; a refusal names a line of the file (or none: no
//! users), and the lines before it parse alone, while those lines and
//! the refused one are refused the same way; rights are monotonic (a
//! user holds what anyone holds, a path below holds what its parent
//! holds), a user without rules holds all; `decide` allows exactly when
//! the rights meet what is asked, says 401 only to anonymous, and only
//! when some user holds a right asked for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uhttp_fuzz::permissions::{
    Decision, Grant, ParseErrorKind, Permissions, Rights, Who, checked_at,
};

fuzz_target!(|data: &[u8]| {
    let (path, file) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let lines: Vec<&[u8]> = file.split(|&b| b == b'\n').collect();
    let permissions = match Permissions::parse(file) {
        Ok(p) => p,
        Err(e) => {
            if e.kind == ParseErrorKind::Empty {
                return;
            }
            assert!(e.line >= 1 && e.line <= lines.len(), "{e}");
            let before = lines[..e.line - 1].join(&b'\n');
            let duplicate = matches!(e.kind, ParseErrorKind::Duplicate { .. });
            if let Err(earlier) = Permissions::parse(&before) {
                assert_eq!(earlier.kind, ParseErrorKind::Empty, "{e} / {earlier}");
            }
            if !duplicate {
                let alone = Permissions::parse(lines[e.line - 1]).unwrap_err();
                assert_eq!((alone.line, &alone.kind), (1, &e.kind));
            }
            return;
        }
    };
    assert!(std::str::from_utf8(file).is_ok());
    let path = String::from_utf8_lossy(path);
    let at = checked_at(&path);
    let parent = &at[..at.len().saturating_sub(1)];
    let anyone = permissions.rights(Who::Anonymous, &at);
    let anyone_above = permissions.rights(Who::Anonymous, parent);
    assert_eq!(anyone | anyone_above, anyone);
    for (name, user) in &permissions.users {
        assert!(!name.is_empty() && user.hash.starts_with("$2"));
        let who = Who::User(name);
        let rights = permissions.rights(who, &at);
        assert_eq!(rights | anyone, rights, "{name}");
        let above = permissions.rights(who, parent);
        assert_eq!(rights | above, rights, "{name}");
        if user.grant == Grant::Everything {
            assert_eq!(rights, Rights::ALL);
        }
    }
    for wanted in [Rights::READ, Rights::UPLOAD | Rights::MKDIR, Rights::DELETE] {
        let decision = permissions.held(Who::Anonymous, &at).decide(wanted);
        assert_eq!(decision == Decision::Allow, anyone.intersects(wanted));
        let some_user_may = permissions
            .users
            .keys()
            .any(|name| permissions.rights(Who::User(name), &at).intersects(wanted));
        assert_eq!(
            decision == Decision::Login,
            !anyone.intersects(wanted) && some_user_may
        );
        for name in permissions.users.keys() {
            let decision = permissions.held(Who::User(name), &at).decide(wanted);
            assert_ne!(decision, Decision::Login);
        }
    }
});
