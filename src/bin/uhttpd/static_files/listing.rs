//! Directory listings: reading a directory's visible entries, and rendering
//! them as a self-contained HTML page or as JSON.
//!
//! Every file name is HTML-escaped where shown and percent-encoded where
//! linked, so a name such as `<script>` or `javascript:x` is only text.
//! Links are relative to the listed directory, whose URL ends in `/`.

use std::fmt::Write as _;
use std::fs;
use std::hash::Hasher as _;
use std::io;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::{Value, json};

use crate::utc;

/// Everything but RFC 3986 unreserved characters is encoded in a link, so
/// no name can turn into a scheme (`a:b`), a query (`?`) or a fragment (`#`).
const LINK_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One visible entry of a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// File name (UTF-8, not starting with `.`).
    pub name: String,
    /// Whether it is (or links to) a directory.
    pub is_dir: bool,
    /// Size in bytes (as reported by the file system for directories).
    pub size: u64,
    /// Last modification time, when the platform reports one.
    pub modified: Option<SystemTime>,
}

/// Reads the entries of `dir` worth listing, directories first, then by
/// name (case-insensitively, ties broken bytewise).
///
/// Skipped: dotfiles (hidden, as [`super::resolve`] refuses them), names
/// that are not UTF-8, broken symlinks, entries whose metadata cannot be
/// read, and anything neither a file nor a directory. A symlink is
/// reported as what it points to. (A symlink leaving ROOT is still listed;
/// following it gives 404.)
pub fn read_entries(dir: &Path) -> io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for dir_entry in fs::read_dir(dir)? {
        let dir_entry = dir_entry?;
        let Ok(name) = dir_entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        // Follows symlinks: a broken one fails here and is skipped.
        let Ok(meta) = fs::metadata(dir_entry.path()) else {
            continue;
        };
        if !meta.is_file() && !meta.is_dir() {
            continue;
        }
        entries.push(Entry {
            name,
            is_dir: meta.is_dir(),
            size: meta.len(),
            modified: meta.modified().ok(),
        });
    }
    entries.sort_by_cached_key(|e| (!e.is_dir, e.name.to_lowercase(), e.name.clone()));
    Ok(entries)
}

/// Renders the HTML listing of the directory at `url_path` (the request
/// path as received, percent-encoded; it is decoded for display only).
///
/// With `upload_form` set to a form action (e.g. `/upload`), the page ends
/// with a multipart upload form posting there; with `archive_links`, the
/// title is followed by links to the directory as .tar and .zip.
pub fn render_html(
    url_path: &str,
    entries: &[Entry],
    upload_form: Option<&str>,
    archive_links: bool,
) -> String {
    let shown = percent_decode_str(url_path).decode_utf8_lossy();
    let title = html_escape(&format!("Index of {shown}"));
    let mut page = String::with_capacity(1024 + entries.len() * 160);
    page.push_str(concat!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
    ));
    let _ = writeln!(page, "<title>{title}</title>");
    page.push_str(concat!(
        "<style>\n",
        "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:60em;padding:0 1em}\n",
        "table{border-collapse:collapse;width:100%}\n",
        "th,td{padding:.25em .75em;text-align:left;white-space:nowrap}\n",
        "td:first-child{white-space:normal;word-break:break-all}\n",
        "th:nth-child(2),td:nth-child(2){text-align:right}\n",
        "tr:nth-child(even){background:#f4f4f4}\n",
        "form{margin-top:1.5em}\n",
        "</style>\n</head>\n<body>\n",
    ));
    let _ = writeln!(page, "<h1>{title}</h1>");
    // Archive download links (`?download=`, see `archive/`).
    if archive_links {
        page.push_str(concat!(
            "<p class=\"download\">Download as <a href=\"?download=tar\" download>.tar</a>",
            " / <a href=\"?download=zip\" download>.zip</a></p>\n",
        ));
    }
    page.push_str(concat!(
        "<table>\n<thead><tr><th>Name</th><th>Size</th><th>Modified</th></tr></thead>\n",
        "<tbody>\n",
    ));
    if !url_path.trim_start_matches('/').is_empty() {
        page.push_str("<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n");
    }
    for entry in entries {
        let slash = if entry.is_dir { "/" } else { "" };
        let href = utf8_percent_encode(&entry.name, LINK_SEGMENT);
        let name = html_escape(&entry.name);
        let size = if entry.is_dir {
            "-".to_owned()
        } else {
            human_size(entry.size)
        };
        let modified = entry
            .modified
            .and_then(utc::to_the_minute)
            .unwrap_or_else(|| "-".to_owned());
        let _ = writeln!(
            page,
            "<tr><td><a href=\"{href}{slash}\">{name}{slash}</a></td><td>{size}</td><td>{modified}</td></tr>"
        );
    }
    page.push_str("</tbody>\n</table>\n");
    if let Some(action) = upload_form {
        let _ = write!(
            page,
            concat!(
                "<form method=\"post\" enctype=\"multipart/form-data\" action=\"{}\">\n",
                "<input type=\"file\" name=\"file\" multiple>\n",
                "<button type=\"submit\">Upload</button>\n",
                "</form>\n",
            ),
            html_escape(action)
        );
    }
    page.push_str("</body>\n</html>\n");
    page
}

/// The listing as JSON: an array of
/// `{"name", "type": "file"|"dir", "size", "modified": unix seconds|null}`.
pub fn render_json(entries: &[Entry]) -> Value {
    entries
        .iter()
        .map(|e| {
            json!({
                "name": e.name,
                "type": if e.is_dir { "dir" } else { "file" },
                "size": e.size,
                "modified": e.modified.and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_secs()),
            })
        })
        .collect()
}

/// A strong entity tag for a rendered listing: a hash of its bytes, so
/// it changes whenever anything the listing shows does.
pub fn listing_etag(body: &[u8]) -> String {
    let mut hasher = std::hash::DefaultHasher::new();
    hasher.write(body);
    format!("\"l{:016x}\"", hasher.finish())
}

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML text and quoted attributes.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `512 B`, `1.2 KiB`, `3.0 MiB`, ... (powers of 1024, one decimal).
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    // Move up while the rounded value would print as 1024.0 or more.
    while value >= 1023.95 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::time::Duration;
    use tempfile::TempDir;

    fn file(name: &str, size: u64) -> Entry {
        Entry {
            name: name.to_owned(),
            is_dir: false,
            size,
            modified: Some(UNIX_EPOCH + Duration::from_secs(784_111_777)),
        }
    }

    fn dir(name: &str) -> Entry {
        Entry {
            is_dir: true,
            ..file(name, 4096)
        }
    }

    #[test]
    fn reads_visible_entries_directories_first_then_by_name() {
        let tmp = TempDir::new().unwrap();
        let root = tmp.path();
        fs::write(root.join("b.txt"), "bb").unwrap();
        fs::write(root.join("A.txt"), "a").unwrap();
        fs::write(root.join("a.txt"), "").unwrap();
        fs::write(root.join(".hidden"), "h").unwrap();
        fs::create_dir(root.join(".git")).unwrap();
        fs::create_dir(root.join("zdir")).unwrap();
        fs::create_dir(root.join("Cdir")).unwrap();
        symlink(root.join("b.txt"), root.join("link-file")).unwrap();
        symlink(root.join("zdir"), root.join("link-dir")).unwrap();
        symlink(root.join("missing"), root.join("broken")).unwrap();

        let entries = read_entries(root).unwrap();
        let got: Vec<_> = entries
            .iter()
            .map(|e| (e.name.as_str(), e.is_dir))
            .collect();
        assert_eq!(
            got,
            [
                ("Cdir", true),
                ("link-dir", true),
                ("zdir", true),
                ("A.txt", false),
                ("a.txt", false),
                ("b.txt", false),
                ("link-file", false),
            ]
        );
        let link = entries.iter().find(|e| e.name == "link-file").unwrap();
        assert_eq!(link.size, 2);
        assert!(link.modified.is_some());
    }

    #[test]
    fn skips_names_that_are_not_utf8() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let tmp = TempDir::new().unwrap();
        fs::write(tmp.path().join(OsStr::from_bytes(b"bad\xff.txt")), "x").unwrap();
        fs::write(tmp.path().join("good.txt"), "x").unwrap();
        let names: Vec<_> = read_entries(tmp.path())
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["good.txt"]);
    }

    #[test]
    fn fails_on_a_missing_directory() {
        let tmp = TempDir::new().unwrap();
        assert!(read_entries(&tmp.path().join("nope")).is_err());
    }

    #[test]
    fn html_escape_escapes_markup_and_quotes() {
        let cases = [
            ("plain.txt", "plain.txt"),
            (
                "<script>alert(1)</script>",
                "&lt;script&gt;alert(1)&lt;/script&gt;",
            ),
            ("\"&'", "&quot;&amp;&#39;"),
            ("&amp;", "&amp;amp;"),
            ("é ü", "é ü"),
        ];
        for (input, want) in cases {
            assert_eq!(html_escape(input), want);
        }
    }

    #[test]
    fn html_shows_escaped_names_and_encoded_links() {
        let entries = [
            dir("sub dir"),
            file("<script>alert(1)</script>", 1),
            file("\"&'.txt", 2),
            file("a b#?%.txt", 3),
            file("javascript:alert(1)", 4),
            file("é.txt", 5),
        ];
        let page = render_html("/docs/", &entries, None, false);
        let rows = [
            "<a href=\"sub%20dir/\">sub dir/</a>",
            "<a href=\"%3Cscript%3Ealert%281%29%3C%2Fscript%3E\">&lt;script&gt;alert(1)&lt;/script&gt;</a>",
            "<a href=\"%22%26%27.txt\">&quot;&amp;&#39;.txt</a>",
            "<a href=\"a%20b%23%3F%25.txt\">a b#?%.txt</a>",
            "<a href=\"javascript%3Aalert%281%29\">javascript:alert(1)</a>",
            "<a href=\"%C3%A9.txt\">é.txt</a>",
        ];
        for row in rows {
            assert!(page.contains(row), "missing {row} in\n{page}");
        }
        assert!(!page.contains("<script>"));
    }

    #[test]
    fn html_has_title_parent_link_sizes_and_dates() {
        let page = render_html("/my%20docs/", &[file("a.txt", 1234)], None, false);
        assert!(page.starts_with("<!DOCTYPE html>\n"));
        assert!(page.contains("<title>Index of /my docs/</title>"));
        assert!(page.contains("<h1>Index of /my docs/</h1>"));
        assert!(page.contains("<a href=\"../\">../</a>"));
        assert!(page.contains("<td>1.2 KiB</td><td>1994-11-06 08:49</td>"));
        assert!(!page.contains("<form"));
        assert!(!page.contains("http"), "no external resources");
    }

    #[test]
    fn html_shows_a_dash_for_unknown_and_pre_1970_times() {
        let mut undated = file("undated", 1);
        undated.modified = None;
        let mut old = file("old", 1);
        old.modified = Some(UNIX_EPOCH - Duration::from_secs(1));
        let page = render_html("/", &[undated, old], None, false);
        assert_eq!(page.matches("<td>1 B</td><td>-</td>").count(), 2, "{page}");
    }

    #[test]
    fn html_title_escapes_the_url_path() {
        let page = render_html("/%3Cb%3E/", &[], None, false);
        assert!(page.contains("<title>Index of /&lt;b&gt;/</title>"));
    }

    #[test]
    fn html_has_no_parent_link_at_root() {
        for url_path in ["/", "//"] {
            let page = render_html(url_path, &[], None, false);
            assert!(!page.contains("href=\"../\""), "{url_path}");
        }
    }

    #[test]
    fn html_offers_an_upload_form_when_asked() {
        let page = render_html("/", &[], Some("/upload"), false);
        assert!(
            page.contains(
                "<form method=\"post\" enctype=\"multipart/form-data\" action=\"/upload\">"
            )
        );
        assert!(page.contains("<input type=\"file\" name=\"file\" multiple>"));
        assert!(page.contains("<button type=\"submit\">Upload</button>"));
        let odd = render_html("/", &[], Some("/up\"load"), false);
        assert!(odd.contains("action=\"/up&quot;load\""));
    }

    #[test]
    fn json_lists_name_type_size_and_unix_mtime() {
        let mut undated = file("x", 0);
        undated.modified = None;
        let value = render_json(&[dir("d"), file("<a>.txt", 10), undated]);
        assert_eq!(
            value,
            json!([
                {"name": "d", "type": "dir", "size": 4096, "modified": 784_111_777},
                {"name": "<a>.txt", "type": "file", "size": 10, "modified": 784_111_777},
                {"name": "x", "type": "file", "size": 0, "modified": null},
            ])
        );
    }

    #[test]
    fn sizes_are_human_readable_in_powers_of_1024() {
        let cases = [
            (0, "0 B"),
            (1023, "1023 B"),
            (1024, "1.0 KiB"),
            (1234, "1.2 KiB"),
            (1024 * 1024 - 1, "1.0 MiB"),
            (5 * 1024 * 1024 + 1024 * 512, "5.5 MiB"),
            (3 << 30, "3.0 GiB"),
            (u64::MAX, "16.0 EiB"),
        ];
        for (bytes, want) in cases {
            assert_eq!(human_size(bytes), want, "{bytes}");
        }
    }
}
