//! Directory listings, the data side: reading a directory's visible
//! entries, sorting them as the query asks (`?sort=size&order=desc`), and
//! the JSON form. The HTML page is [`super::page`]; the recursive `?q=`
//! search is [`super::search`].

use std::cmp::Ordering;
use std::fs;
use std::hash::Hasher as _;
use std::io;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use uhttp::util::Params;

/// Everything but RFC 3986 unreserved characters is encoded in a link, so
/// no name can turn into a scheme (`a:b`), a query (`?`) or a fragment (`#`).
pub const LINK_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `name` (one path segment, or a relative path whose segments are joined
/// by `/`) as a link: each segment percent-encoded.
pub fn encode_link(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    for (i, segment) in name.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.extend(utf8_percent_encode(segment, LINK_SEGMENT));
    }
    out
}

/// The column a listing is sorted by (`?sort=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Case-insensitively, ties broken bytewise (the default).
    #[default]
    Name,
    /// Bytes.
    Size,
    /// Modification time.
    Modified,
}

impl SortKey {
    /// The query value naming this key.
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Size => "size",
            SortKey::Modified => "modified",
        }
    }
}

/// How the listing was asked for: sort column and order, and the search
/// (`?sort=size&order=desc&q=report`). Unknown or repeated values are
/// ignored (the first known one wins), so any query gives a listing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct View {
    /// The column.
    pub sort: SortKey,
    /// Largest, newest or last name first.
    pub descending: bool,
    /// The recursive search, trimmed; `None` when absent or blank.
    pub query: Option<String>,
}

impl View {
    /// Reads the view from a request's query parameters.
    pub fn from_query(params: &Params) -> View {
        let sort = params
            .get_all("sort")
            .find_map(|v| match v {
                "name" => Some(SortKey::Name),
                "size" => Some(SortKey::Size),
                "modified" => Some(SortKey::Modified),
                _ => None,
            })
            .unwrap_or_default();
        let descending = params
            .get_all("order")
            .find_map(|v| match v {
                "asc" => Some(false),
                "desc" => Some(true),
                _ => None,
            })
            .unwrap_or(false);
        let query = params
            .get("q")
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_owned);
        View {
            sort,
            descending,
            query,
        }
    }

    /// Sorts `entries`: directories first, then by the column in the
    /// order asked, ties by name (ascending).
    pub fn sort(&self, entries: &mut [Entry]) {
        entries.sort_by_cached_key(|e| (e.name.to_lowercase(), e.name.clone()));
        if self.sort == SortKey::Name && self.descending {
            entries.reverse();
        }
        // Stable: entries equal in the column keep the name order above.
        entries.sort_by(|a, b| {
            let column = match self.sort {
                SortKey::Name => Ordering::Equal,
                SortKey::Size => a.size.cmp(&b.size),
                SortKey::Modified => a.modified.cmp(&b.modified),
            };
            let column = if self.descending {
                column.reverse()
            } else {
                column
            };
            b.is_dir.cmp(&a.is_dir).then(column)
        });
    }

    /// The query string (without `?`) of the link a column header makes:
    /// sorting by `key`, ascending unless `key` is the current column in
    /// ascending order; the search is kept.
    pub fn link_for(&self, key: SortKey) -> String {
        let descending = self.sort == key && !self.descending;
        let mut query = format!(
            "sort={}&order={}",
            key.as_str(),
            if descending { "desc" } else { "asc" }
        );
        if let Some(q) = &self.query {
            query.push_str("&q=");
            query.extend(utf8_percent_encode(q, LINK_SEGMENT));
        }
        query
    }
}

/// One visible entry of a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// File name (UTF-8, not starting with `.`); in search results, the
    /// path below the searched directory, segments joined by `/`.
    pub name: String,
    /// Whether it is (or links to) a directory.
    pub is_dir: bool,
    /// Size in bytes (as reported by the file system for directories).
    pub size: u64,
    /// Last modification time, when the platform reports one.
    pub modified: Option<SystemTime>,
}

/// Reads the entries of `dir` worth listing, in the default order
/// (directories first, then by name; see [`View::sort`]).
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
    View::default().sort(&mut entries);
    Ok(entries)
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
pub fn human_size(bytes: u64) -> String {
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
pub(super) mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::time::Duration;
    use tempfile::TempDir;

    /// A file entry modified on 1994-11-06 08:49:37 UTC.
    pub(in crate::static_files) fn file(name: &str, size: u64) -> Entry {
        Entry {
            name: name.to_owned(),
            is_dir: false,
            size,
            modified: Some(UNIX_EPOCH + Duration::from_secs(784_111_777)),
        }
    }

    pub(in crate::static_files) fn dir(name: &str) -> Entry {
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
    fn sorts_by_the_column_asked_directories_first() {
        let at = |secs| Some(UNIX_EPOCH + Duration::from_secs(secs));
        let mut entries = vec![
            Entry {
                modified: at(3),
                ..file("b.txt", 10)
            },
            Entry {
                modified: at(1),
                ..file("A.txt", 30)
            },
            Entry {
                modified: at(2),
                ..file("c.txt", 20)
            },
            Entry {
                modified: at(9),
                ..dir("zdir")
            },
            Entry {
                modified: at(0),
                ..dir("adir")
            },
        ];
        let order = |query: &str, entries: &mut Vec<Entry>| {
            let view = View::from_query(&uhttp::util::parse_query(query));
            view.sort(entries);
            entries.iter().map(|e| e.name.clone()).collect::<Vec<_>>()
        };
        let cases = [
            ("", ["adir", "zdir", "A.txt", "b.txt", "c.txt"]),
            (
                "sort=name&order=desc",
                ["zdir", "adir", "c.txt", "b.txt", "A.txt"],
            ),
            ("sort=size", ["adir", "zdir", "b.txt", "c.txt", "A.txt"]),
            (
                "sort=size&order=desc",
                ["adir", "zdir", "A.txt", "c.txt", "b.txt"],
            ),
            (
                "sort=modified&order=desc",
                ["zdir", "adir", "b.txt", "c.txt", "A.txt"],
            ),
            (
                "sort=modified&order=asc",
                ["adir", "zdir", "A.txt", "c.txt", "b.txt"],
            ),
            // Unknown values are ignored; the first known one counts.
            (
                "sort=%C3%A9&order=up&sort=size",
                ["adir", "zdir", "b.txt", "c.txt", "A.txt"],
            ),
            (
                "sort=\u{0}&order=",
                ["adir", "zdir", "A.txt", "b.txt", "c.txt"],
            ),
        ];
        for (query, want) in cases {
            assert_eq!(order(query, &mut entries), want, "{query}");
        }
    }

    #[test]
    fn view_reads_sort_order_and_a_trimmed_search() {
        let view = View::from_query(&uhttp::util::parse_query("q=+%C3%A9t%C3%A9+&order=desc"));
        assert_eq!(view.query.as_deref(), Some("été"));
        assert!(view.descending);
        assert_eq!(view.sort, SortKey::Name);
        assert_eq!(
            view.link_for(SortKey::Name),
            "sort=name&order=asc&q=%C3%A9t%C3%A9"
        );
        assert_eq!(
            view.link_for(SortKey::Size),
            "sort=size&order=asc&q=%C3%A9t%C3%A9"
        );
        assert_eq!(
            View::from_query(&uhttp::util::parse_query("q=+")).query,
            None
        );
        assert_eq!(
            View::default().link_for(SortKey::Name),
            "sort=name&order=desc"
        );
    }

    #[test]
    fn links_encode_each_segment() {
        assert_eq!(encode_link("a b/é#?.txt"), "a%20b/%C3%A9%23%3F.txt");
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
