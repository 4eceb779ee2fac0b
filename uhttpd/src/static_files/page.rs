//! The HTML listing: a self-contained page (its CSS and script inline,
//! nothing fetched from elsewhere) that works without JavaScript; the
//! script only improves it (filtering while typing, local times, resumable
//! uploads with progress and pause / resume per file, drag and drop,
//! folders).
//!
//! ```text
//! header: breadcrumbs · <nav class="actions"> (archive links) · filter/search form
//! notice (after an upload or a new folder)
//! table: Name | Size | Modified   (header links sort: ?sort=size&order=desc)
//! uploads: files, folder, new folder, drop zone, progress   (when uploads are on)
//! QR code of the page (with --qr)
//! ```
//!
//! Every file name is HTML-escaped where shown and percent-encoded where
//! linked, so a name such as `<script>` or `javascript:x` is only text.
//! Entry links are relative to the listed directory, whose URL ends in `/`.

use std::fmt::Write as _;

use percent_encoding::{percent_decode_str, utf8_percent_encode};

use super::listing::{Entry, LINK_SEGMENT, SortKey, View, encode_link, html_escape, human_size};
use super::search::Searched;
use crate::utc;

const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// What every listing page shares, fixed at start-up.
#[derive(Debug, Clone, Default)]
pub struct PageOptions {
    /// Where uploads go, when they are on.
    pub uploads: Option<UploadDir>,
    /// `--qr`: the scheme of the URL the page's QR code shows.
    pub qr_scheme: Option<&'static str>,
    /// Link to the directory as `?download=tar|zip` (archives on).
    pub archive_links: bool,
}

/// Where the upload directory is, seen from the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadDir {
    /// ROOT or a directory below it: its path segments below ROOT.
    Served(Vec<String>),
    /// Outside ROOT: uploaded files are not listed.
    Hidden,
}

/// What the upload section of one page offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadHere {
    /// The listed directory is the upload directory or below it: files go
    /// here. The path below the upload directory, encoded, `/`-separated
    /// (empty for the upload directory itself).
    Here(String),
    /// Files go to the upload directory, listed at this URL path.
    Elsewhere(String),
    /// Files go to an upload directory that is not served.
    Hidden,
}

impl UploadDir {
    /// What the page listing the directory at `segments` (decoded, below
    /// ROOT) offers.
    pub fn seen_from(&self, segments: &[String]) -> UploadHere {
        match self {
            UploadDir::Hidden => UploadHere::Hidden,
            UploadDir::Served(base) => match segments.strip_prefix(base.as_slice()) {
                Some(rest) => UploadHere::Here(
                    rest.iter()
                        .map(|s| encode_link(s.as_str()))
                        .collect::<Vec<_>>()
                        .join("/"),
                ),
                None => UploadHere::Elsewhere(dir_url(base)),
            },
        }
    }
}

/// The decoded, non-empty segments of a request path that resolved to a
/// directory (its escapes are valid, so decoding cannot fail; lossy
/// decoding only guards against misuse).
pub fn segments(raw_path: &str) -> Vec<String> {
    raw_path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect()
}

/// The canonical URL path of a directory: `/`, or `/a/b%20c/`.
pub fn dir_url(segments: &[String]) -> String {
    let mut url = String::from("/");
    for s in segments {
        url.extend(utf8_percent_encode(s, LINK_SEGMENT));
        url.push('/');
    }
    url
}

/// `/` or `/a/b c/`: a directory's path as shown.
fn dir_display(segments: &[String]) -> String {
    let mut shown = String::from("/");
    for s in segments {
        shown.push_str(s);
        shown.push('/');
    }
    shown
}

/// One listing page to render.
#[derive(Debug)]
pub struct Page<'a> {
    /// The directory's decoded path segments below ROOT.
    pub segments: &'a [String],
    /// Its entries, in the order to show.
    pub entries: &'a [Entry],
    /// Sort and search, as asked.
    pub view: &'a View,
    /// The search that found `entries`, when `view.query` is set.
    pub searched: Option<&'a Searched>,
    /// The upload section, when uploads are on.
    pub uploads: Option<UploadHere>,
    /// A message about what was just done (already plain text).
    pub notice: Option<String>,
    /// The QR code of the page's URL, as inline SVG.
    pub qr_svg: Option<String>,
    /// Links to the directory as .tar and .zip (see `archive/`).
    pub archive_links: bool,
}

impl Page<'_> {
    /// The whole page.
    pub fn render(&self) -> String {
        let shown = dir_display(self.segments);
        let title = html_escape(&format!("Index of {shown}"));
        let mut page = String::with_capacity(8192 + self.entries.len() * 300);
        let _ = write!(
            page,
            concat!(
                "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
                "<meta name=\"color-scheme\" content=\"light dark\">\n",
                "<title>{title}</title>\n<style>\n{style}</style>\n</head>\n<body>\n<header>\n",
            ),
            title = title,
            style = STYLE
        );
        self.breadcrumbs(&mut page);
        page.push_str("<nav class=\"actions\">");
        if self.archive_links {
            page.push_str(concat!(
                "Download as <a href=\"?download=tar\" download>.tar</a>",
                " / <a href=\"?download=zip\" download>.zip</a>",
            ));
        }
        page.push_str("</nav>\n");
        self.search_form(&mut page);
        page.push_str("</header>\n<main>\n");
        let _ = writeln!(
            page,
            "<p id=\"status\" class=\"notice\" role=\"status\"{}>{}</p>",
            if self.notice.is_some() { "" } else { " hidden" },
            html_escape(self.notice.as_deref().unwrap_or_default())
        );
        self.search_summary(&mut page);
        self.table(&mut page);
        self.upload_section(&mut page);
        if let Some(svg) = &self.qr_svg {
            let _ = writeln!(
                page,
                "<details class=\"qr\"><summary>QR code of this page</summary>{svg}</details>"
            );
        }
        let _ = write!(
            page,
            "</main>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n"
        );
        page
    }

    /// `Home / a / b c`: each step a link to that directory, the last
    /// one the current page.
    fn breadcrumbs(&self, page: &mut String) {
        page.push_str("<nav class=\"crumbs\" aria-label=\"Path\"><h1>");
        let last = self.segments.len();
        if last == 0 {
            page.push_str("<a href=\"/\" aria-current=\"page\">Home</a>");
        } else {
            page.push_str("<a href=\"/\">Home</a>");
        }
        for (i, segment) in self.segments.iter().enumerate() {
            let url = dir_url(&self.segments[..=i]);
            let current = if i + 1 == last {
                " aria-current=\"page\""
            } else {
                ""
            };
            let _ = write!(
                page,
                "<span class=\"sep\">/</span><a href=\"{}\"{current}>{}</a>",
                html_escape(&url),
                html_escape(segment)
            );
        }
        page.push_str("</h1></nav>\n");
    }

    /// A GET form: typing filters the rows (script), submitting searches
    /// below this directory (`?q=`), keeping the sort.
    fn search_form(&self, page: &mut String) {
        let q = html_escape(self.view.query.as_deref().unwrap_or_default());
        let _ = writeln!(
            page,
            concat!(
                "<form class=\"filter\" method=\"get\" role=\"search\">",
                "<input type=\"search\" name=\"q\" id=\"filter\" value=\"{q}\" ",
                "placeholder=\"Filter; Enter searches subfolders\" aria-label=\"Filter or search\">",
                "<input type=\"hidden\" name=\"sort\" value=\"{sort}\">",
                "<input type=\"hidden\" name=\"order\" value=\"{order}\">",
                "<button type=\"submit\">Search</button></form>"
            ),
            q = q,
            sort = self.view.sort.as_str(),
            order = if self.view.descending { "desc" } else { "asc" }
        );
    }

    fn search_summary(&self, page: &mut String) {
        let (Some(query), Some(searched)) = (&self.view.query, self.searched) else {
            return;
        };
        let count = self.entries.len();
        let _ = write!(
            page,
            "<p class=\"summary\">{count} result{} for \u{201c}{}\u{201d} in this folder and below.",
            if count == 1 { "" } else { "s" },
            html_escape(query)
        );
        if let Some(why) = searched.stopped {
            let _ = write!(page, " <strong>Search stopped: {why}.</strong>");
        }
        page.push_str(" <a href=\"./\">Clear the search</a></p>\n");
    }

    fn table(&self, page: &mut String) {
        page.push_str("<table id=\"listing\">\n<thead><tr>");
        for (key, label, class) in [
            (SortKey::Name, "Name", "n"),
            (SortKey::Size, "Size", "s"),
            (SortKey::Modified, "Modified", "m"),
        ] {
            let sorted = self.view.sort == key;
            let (aria, arrow) = match (sorted, self.view.descending) {
                (false, _) => ("", ""),
                (true, false) => (" aria-sort=\"ascending\"", " \u{25b2}"),
                (true, true) => (" aria-sort=\"descending\"", " \u{25bc}"),
            };
            let _ = write!(
                page,
                "<th class=\"{class}\"{aria}><a href=\"?{}\">{label}{arrow}</a></th>",
                html_escape(&self.view.link_for(key))
            );
        }
        page.push_str("</tr></thead>\n<tbody>\n");
        if !self.segments.is_empty() && self.view.query.is_none() {
            page.push_str(concat!(
                "<tr class=\"up\"><td class=\"n\"><a class=\"k up\" href=\"../\">../</a></td>",
                "<td class=\"s\"></td><td class=\"m\"></td></tr>\n"
            ));
        }
        for entry in self.entries {
            row(page, entry);
        }
        page.push_str("</tbody>\n</table>\n");
        if self.entries.is_empty() {
            page.push_str("<p class=\"empty\">Nothing here.</p>\n");
        }
    }

    fn upload_section(&self, page: &mut String) {
        let Some(uploads) = &self.uploads else {
            return;
        };
        let (dir, note) = match uploads {
            UploadHere::Here(dir) => (Some(dir.as_str()), String::new()),
            UploadHere::Elsewhere(url) => (
                None,
                format!(
                    "<p class=\"where\">Files uploaded here go to <a href=\"{0}\">{0}</a>.</p>\n",
                    html_escape(url)
                ),
            ),
            UploadHere::Hidden => (
                None,
                "<p class=\"where\">Files uploaded here go to the upload directory, which this server does not list.</p>\n".to_owned(),
            ),
        };
        // The form's target: the upload directory, or below it.
        let action = match dir {
            Some(dir) if !dir.is_empty() => format!("/upload?dir={dir}"),
            _ => "/upload".to_owned(),
        };
        let action = html_escape(&action);
        let _ = write!(
            page,
            concat!(
                "<section class=\"upload\" id=\"upload\" data-dir=\"{dir}\">\n<h2>Upload</h2>\n{note}",
                "<form class=\"files\" method=\"post\" enctype=\"multipart/form-data\" action=\"{action}\">\n",
                "<label>Files <input type=\"file\" name=\"file\" multiple></label>\n",
                "<label>A folder <input type=\"file\" name=\"file\" webkitdirectory multiple></label>\n",
                "<button type=\"submit\">Upload</button>\n",
                "</form>\n",
            ),
            dir = html_escape(dir.unwrap_or_default()),
            note = note,
            action = action,
        );
        if dir.is_some() {
            let _ = write!(
                page,
                concat!(
                    "<form class=\"mkdir\" method=\"post\" enctype=\"multipart/form-data\" action=\"{action}\">\n",
                    "<input name=\"mkdir\" required maxlength=\"255\" placeholder=\"New folder name\" aria-label=\"New folder name\">\n",
                    "<button type=\"submit\">New folder</button>\n",
                    "</form>\n",
                    "<p class=\"drop\">Or drop files and folders anywhere on this page.</p>\n",
                ),
                action = action
            );
        }
        page.push_str("<ul id=\"progress\"></ul>\n</section>\n");
    }
}

/// One entry's row: a CSS-drawn type marker, the linked name, the size
/// (exact bytes on hover) and the time (UTC, machine-readable too).
fn row(page: &mut String, entry: &Entry) {
    let slash = if entry.is_dir { "/" } else { "" };
    let href = encode_link(&entry.name);
    let name = html_escape(&entry.name);
    let kind = if entry.is_dir {
        "dir"
    } else {
        kind_of(&entry.name)
    };
    let _ = write!(
        page,
        "<tr><td class=\"n\"><a class=\"k {kind}\" href=\"{href}{slash}\">{name}{slash}</a></td>"
    );
    if entry.is_dir {
        page.push_str("<td class=\"s\">-</td>");
    } else {
        let _ = write!(
            page,
            "<td class=\"s\" title=\"{} bytes\">{}</td>",
            entry.size,
            human_size(entry.size)
        );
    }
    match entry
        .modified
        .and_then(|t| Some((utc::to_rfc3339(t)?, utc::to_the_minute(t)?)))
    {
        Some((machine, shown)) => {
            let _ = writeln!(
                page,
                "<td class=\"m\"><time datetime=\"{machine}\">{shown} UTC</time></td></tr>"
            );
        }
        None => page.push_str("<td class=\"m\">-</td></tr>\n"),
    }
}

/// The marker class of a file, from its extension.
fn kind_of(name: &str) -> &'static str {
    let ext = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
        _ => return "file",
    };
    match ext.as_str() {
        "png" | "jpg" | "jpeg" | "gif" | "svg" | "webp" | "avif" | "bmp" | "ico" | "tif"
        | "tiff" | "heic" => "image",
        "mp3" | "flac" | "ogg" | "oga" | "wav" | "m4a" | "opus" | "aac" => "audio",
        "mp4" | "mkv" | "webm" | "mov" | "avi" | "m4v" | "ogv" => "video",
        "zip" | "tar" | "gz" | "tgz" | "bz2" | "xz" | "zst" | "7z" | "rar" | "deb" | "rpm"
        | "iso" => "archive",
        "pdf" | "epub" => "doc",
        "rs" | "py" | "js" | "mjs" | "ts" | "c" | "h" | "cc" | "cpp" | "hpp" | "go" | "java"
        | "sh" | "json" | "toml" | "yaml" | "yml" | "html" | "htm" | "css" | "xml" | "wasm" => {
            "code"
        }
        "txt" | "md" | "log" | "csv" | "rst" | "ini" | "conf" => "text",
        _ => "file",
    }
}

/// The QR code of `url` as an inline SVG element, `None` when `url` is too
/// long for a QR code.
pub fn qr_svg(url: &str) -> Option<String> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::new(url.as_bytes()).ok()?;
    let svg = code
        .render::<svg::Color<'_>>()
        .min_dimensions(180, 180)
        .dark_color(svg::Color("#000"))
        .light_color(svg::Color("#fff"))
        .build();
    // Inline in HTML: no XML declaration, no namespace needed.
    let start = svg.find("<svg")?;
    Some(
        svg[start..]
            .replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1)
            .replacen("<svg", "<svg role=\"img\" aria-label=\"QR code\"", 1),
    )
}

#[cfg(test)]
mod tests {
    use super::super::listing::tests::{dir, file};
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn render(raw_path: &str, entries: &[Entry], uploads: Option<UploadHere>) -> String {
        let segments = segments(raw_path);
        Page {
            segments: &segments,
            entries,
            view: &View::default(),
            searched: None,
            uploads,
            notice: None,
            qr_svg: None,
            archive_links: false,
        }
        .render()
    }

    #[test]
    fn shows_escaped_names_and_encoded_links() {
        let entries = [
            dir("sub dir"),
            file("<script>alert(1)<\\script>", 1),
            file("\"&'.txt", 2),
            file("a b#?%.txt", 3),
            file("javascript:alert(1)", 4),
            file("é.txt", 5),
        ];
        let page = render("/docs/", &entries, None);
        let rows = [
            "href=\"sub%20dir/\">sub dir/</a>",
            "href=\"%3Cscript%3Ealert%281%29%3C%5Cscript%3E\">&lt;script&gt;alert(1)&lt;\\script&gt;</a>",
            "href=\"%22%26%27.txt\">&quot;&amp;&#39;.txt</a>",
            "href=\"a%20b%23%3F%25.txt\">a b#?%.txt</a>",
            "href=\"javascript%3Aalert%281%29\">javascript:alert(1)</a>",
            "href=\"%C3%A9.txt\">é.txt</a>",
        ];
        for row in rows {
            assert!(page.contains(row), "missing {row} in\n{page}");
        }
        assert!(!page.contains("<script>alert"));
    }

    #[test]
    fn has_title_breadcrumbs_parent_link_sizes_and_dates() {
        let page = render("/my%20docs/%C3%A9t%C3%A9%25/", &[file("a.txt", 1234)], None);
        assert!(page.starts_with("<!DOCTYPE html>\n"));
        assert!(page.contains("<title>Index of /my docs/été%/</title>"));
        assert!(page.contains(concat!(
            "<a href=\"/\">Home</a><span class=\"sep\">/</span>",
            "<a href=\"/my%20docs/\">my docs</a><span class=\"sep\">/</span>",
            "<a href=\"/my%20docs/%C3%A9t%C3%A9%25/\" aria-current=\"page\">été%</a>"
        )));
        assert!(page.contains("href=\"../\">../</a>"));
        assert!(page.contains(concat!(
            "<td class=\"s\" title=\"1234 bytes\">1.2 KiB</td>",
            "<td class=\"m\"><time datetime=\"1994-11-06T08:49:37Z\">1994-11-06 08:49 UTC</time></td>"
        )));
        assert!(page.contains("<nav class=\"actions\"></nav>"));
        assert!(!page.contains("<form class=\"files\""));
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "no external resources"
        );
        assert!(page.contains("prefers-color-scheme: dark"));
    }

    #[test]
    fn shows_a_dash_for_unknown_and_pre_1970_times() {
        let mut undated = file("undated", 1);
        undated.modified = None;
        let mut old = file("old", 1);
        old.modified = Some(UNIX_EPOCH - Duration::from_secs(1));
        let page = render("/", &[undated, old], None);
        assert_eq!(page.matches("<td class=\"m\">-</td>").count(), 2, "{page}");
    }

    #[test]
    fn title_and_crumbs_escape_the_path() {
        let page = render("/%3Cb%3E/", &[], None);
        assert!(page.contains("<title>Index of /&lt;b&gt;/</title>"));
        assert!(page.contains("<a href=\"/%3Cb%3E/\" aria-current=\"page\">&lt;b&gt;</a>"));
    }

    #[test]
    fn has_no_parent_link_at_root() {
        for url_path in ["/", "//"] {
            let page = render(url_path, &[], None);
            assert!(!page.contains("href=\"../\""), "{url_path}");
        }
    }

    #[test]
    fn column_headers_link_to_the_other_orders() {
        let segments = segments("/");
        let view = View {
            sort: SortKey::Size,
            descending: true,
            query: Some("a b&".to_owned()),
        };
        let searched = Searched::default();
        let page = Page {
            segments: &segments,
            entries: &[],
            view: &view,
            searched: Some(&searched),
            uploads: None,
            notice: None,
            qr_svg: None,
            archive_links: false,
        }
        .render();
        assert!(page.contains("<a href=\"?sort=name&amp;order=asc&amp;q=a%20b%26\">Name</a>"));
        assert!(page.contains(
            "aria-sort=\"descending\"><a href=\"?sort=size&amp;order=asc&amp;q=a%20b%26\">Size \u{25bc}</a>"
        ));
        assert!(page.contains("value=\"a b&amp;\""));
        assert!(page.contains("0 results for"));
    }

    #[test]
    fn upload_section_posts_into_the_listed_directory_or_says_where_files_go() {
        let upload = UploadDir::Served(vec!["in".to_owned()]);
        let here = upload.seen_from(&segments("/in/a%20b/%C3%A9/"));
        assert_eq!(here, UploadHere::Here("a%20b/%C3%A9".to_owned()));
        let page = render("/in/a%20b/%C3%A9/", &[], Some(here));
        assert!(
            page.contains("action=\"/upload?dir=a%20b/%C3%A9\""),
            "{page}"
        );
        assert!(page.contains("data-dir=\"a%20b/%C3%A9\""));
        assert!(page.contains("<input type=\"file\" name=\"file\" multiple>"));
        assert!(page.contains("webkitdirectory"));
        assert!(page.contains("name=\"mkdir\""));

        let top = upload.seen_from(&segments("/in/"));
        assert_eq!(top, UploadHere::Here(String::new()));
        assert!(render("/in/", &[], Some(top)).contains("action=\"/upload\""));

        let elsewhere = upload.seen_from(&segments("/other/"));
        assert_eq!(elsewhere, UploadHere::Elsewhere("/in/".to_owned()));
        let page = render("/other/", &[], Some(elsewhere));
        assert!(page.contains("go to <a href=\"/in/\">/in/</a>"));
        assert!(!page.contains("name=\"mkdir\""));

        let hidden = UploadDir::Hidden.seen_from(&segments("/"));
        assert!(render("/", &[], Some(hidden)).contains("does not list"));
    }

    #[test]
    fn marks_file_types() {
        for (name, kind) in [
            ("a.PNG", "image"),
            ("x.tar.gz", "archive"),
            ("main.rs", "code"),
            ("notes.txt", "text"),
            (".bashrc", "file"),
            ("README", "file"),
            ("é.mp3", "audio"),
        ] {
            assert_eq!(kind_of(name), kind, "{name}");
        }
    }

    #[test]
    fn qr_code_is_inline_svg_without_external_references() {
        let svg = qr_svg("http://192.168.1.2:8080/é/").unwrap();
        assert!(svg.starts_with("<svg role=\"img\""), "{svg}");
        assert!(!svg.contains("http"));
        assert!(qr_svg(&"x".repeat(8000)).is_none());
    }
}
