//! [`RequestLine`]: which request a connection is serving, for the error
//! logged when the loop catches a panic while driving it.
//!
//! A copy (the target cut to a few dozen bytes) rather than a handle on
//! the request: it costs no allocation per request, holds no request data
//! past its response, and is still there when the panic came from
//! dropping the request itself (an application value's `Drop`).

use std::fmt;

use crate::h1::head::{Head, Version};

/// Bytes of the target kept: enough to recognise a request in a log.
const TARGET_KEPT: usize = 64;

#[derive(Clone, Copy)]
pub(crate) struct RequestLine {
    method: &'static str,
    version: Version,
    target: [u8; TARGET_KEPT],
    /// Bytes of `target` used (a char boundary of the real target).
    len: usize,
    /// The real target is longer.
    cut: bool,
}

impl RequestLine {
    pub fn of(head: &Head) -> Self {
        let full = head.target();
        let mut len = full.len().min(TARGET_KEPT);
        while !full.is_char_boundary(len) {
            len -= 1;
        }
        let mut target = [0; TARGET_KEPT];
        target[..len].copy_from_slice(&full.as_bytes()[..len]);
        RequestLine {
            method: head.method,
            version: head.version,
            target,
            len,
            cut: len < full.len(),
        }
    }
}

/// `GET /path HTTP/1.1`, the target escaped as in a Rust string (and
/// ending in `...` when it was cut).
impl fmt::Display for RequestLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Always UTF-8 (cut on a char boundary); no panic if not.
        let target = std::str::from_utf8(&self.target[..self.len]).unwrap_or("?");
        let cut = if self.cut { "..." } else { "" };
        write!(
            f,
            "{} {}{cut} {}",
            self.method,
            target.escape_debug(),
            self.version.as_str()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::h1::head::{Parsed, parse_head};

    fn line(target: &str) -> String {
        let raw = format!("GET {target} HTTP/1.1\r\nHost: h\r\n\r\n");
        match parse_head(raw.as_bytes(), 8192) {
            Ok(Parsed::Complete(head, _)) => RequestLine::of(&head).to_string(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cuts_a_long_target_on_a_char_boundary() {
        assert_eq!(line("/a?b=%20"), "GET /a?b=%20 HTTP/1.1");
        let long = format!("/{}", "\u{e9}".repeat(40));
        let shown = line(&long);
        assert!(shown.starts_with("GET /\u{e9}"), "{shown}");
        assert!(shown.ends_with("\u{e9}... HTTP/1.1"), "{shown}");
        assert_eq!(shown.matches('\u{e9}').count(), 31);
    }
}
