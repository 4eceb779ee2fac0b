//! GET and HEAD of files and directories under ROOT.

use serde_json::Value;

use crate::util::{Server, agent, write_file};

/// 0..=255 repeated: every range has recognisable content.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn serve_file(name: &str, content: &[u8]) -> Server {
    let builder = Server::builder();
    write_file(builder.root(), name, content);
    builder.start()
}

#[test]
fn get_streams_a_file_with_type_length_and_validators() {
    let content = pattern(100_000);
    let server = serve_file("data.json", &content);
    let mut resp = agent().get(server.url("/data.json")).call().unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert!(
        h["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(h["content-length"], "100000");
    assert!(h["etag"].to_str().unwrap().starts_with('"'));
    let modified = h["last-modified"].to_str().unwrap();
    assert!(httpdate_like(modified), "{modified}");
    let body = resp
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_vec()
        .unwrap();
    assert_eq!(body, content);
}

/// `Wed, 25 Nov 2026 00:23:19 GMT`
fn httpdate_like(s: &str) -> bool {
    s.len() == 29 && s.ends_with(" GMT") && s.as_bytes()[3] == b','
}

#[test]
fn content_type_comes_from_the_extension() {
    let builder = Server::builder();
    for name in ["a.html", "b.css", "c.png", "d.txt", "e.js"] {
        write_file(builder.root(), name, b"x");
    }
    let server = builder.start();
    for (name, want) in [
        ("a.html", "text/html"),
        ("b.css", "text/css"),
        ("c.png", "image/png"),
        ("d.txt", "text/plain"),
        ("e.js", "javascript"),
    ] {
        let resp = agent().get(server.url(&format!("/{name}"))).call().unwrap();
        let got = resp.headers()["content-type"].to_str().unwrap();
        assert!(got.contains(want), "{name}: {got}");
    }
}

#[test]
fn head_gives_the_get_headers_and_no_body() {
    let server = serve_file("a.txt", b"hello world");
    let raw = server.raw(b"HEAD /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(raw.status, 200);
    assert_eq!(raw.header("content-length"), Some("11"));
    assert!(raw.header("etag").is_some());
    assert!(raw.header("last-modified").is_some());
    assert!(raw.body.is_empty(), "HEAD sent a body: {:?}", raw.text());
}

#[test]
fn if_none_match_and_if_modified_since_give_304() {
    let server = serve_file("a.txt", b"hello world");
    let resp = agent().get(server.url("/a.txt")).call().unwrap();
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    let modified = resp.headers()["last-modified"].to_str().unwrap().to_owned();

    let mut resp = agent()
        .get(server.url("/a.txt"))
        .header("If-None-Match", &etag)
        .call()
        .unwrap();
    assert_eq!(resp.status(), 304);
    assert_eq!(resp.headers()["etag"], etag.as_str());
    assert!(resp.body_mut().read_to_vec().unwrap().is_empty());

    let resp = agent()
        .get(server.url("/a.txt"))
        .header("If-None-Match", "\"other\", W/".to_owned() + &etag)
        .call()
        .unwrap();
    assert_eq!(resp.status(), 304, "weak comparison for If-None-Match");

    let resp = agent()
        .get(server.url("/a.txt"))
        .header("If-Modified-Since", &modified)
        .call()
        .unwrap();
    assert_eq!(resp.status(), 304);

    let resp = agent()
        .get(server.url("/a.txt"))
        .header("If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT")
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200);

    // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
    let resp = agent()
        .get(server.url("/a.txt"))
        .header("If-None-Match", "\"stale\"")
        .header("If-Modified-Since", &modified)
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[test]
fn single_range_gives_206_with_content_range() {
    let content = pattern(1000);
    let server = serve_file("a.bin", &content);
    for (range, start, end) in [
        ("bytes=0-99", 0, 99),
        ("bytes=990-", 990, 999),
        ("bytes=-10", 990, 999),
        ("bytes=500-5000", 500, 999),
    ] {
        let mut resp = agent()
            .get(server.url("/a.bin"))
            .header("Range", range)
            .call()
            .unwrap();
        assert_eq!(resp.status(), 206, "{range}");
        assert_eq!(
            resp.headers()["content-range"],
            format!("bytes {start}-{end}/1000").as_str(),
            "{range}"
        );
        let len = end - start + 1;
        assert_eq!(resp.headers()["content-length"], len.to_string().as_str());
        let body = resp.body_mut().read_to_vec().unwrap();
        assert_eq!(body, &content[start..=end], "{range}");
    }
}

#[test]
fn unsatisfiable_range_gives_416_with_the_length() {
    let server = serve_file("a.bin", &pattern(1000));
    for range in ["bytes=1000-", "bytes=5000-6000", "bytes=1000-1000,2000-"] {
        let resp = agent()
            .get(server.url("/a.bin"))
            .header("Range", range)
            .call()
            .unwrap();
        assert_eq!(resp.status(), 416, "{range}");
        assert_eq!(resp.headers()["content-range"], "bytes */1000");
    }
    // A syntax error or another unit: the header is ignored.
    for range in ["bytes=abc", "items=0-1"] {
        let resp = agent()
            .get(server.url("/a.bin"))
            .header("Range", range)
            .call()
            .unwrap();
        assert_eq!(resp.status(), 200, "{range}");
    }
}

#[test]
fn if_range_serves_the_range_only_while_the_validator_matches() {
    let content = pattern(1000);
    let server = serve_file("a.bin", &content);
    let resp = agent().get(server.url("/a.bin")).call().unwrap();
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    let modified = resp.headers()["last-modified"].to_str().unwrap().to_owned();

    for validator in [etag.as_str(), modified.as_str()] {
        let resp = agent()
            .get(server.url("/a.bin"))
            .header("Range", "bytes=0-9")
            .header("If-Range", validator)
            .call()
            .unwrap();
        assert_eq!(resp.status(), 206, "If-Range: {validator}");
    }
    for stale in ["\"stale\"", "Thu, 01 Jan 1970 00:00:00 GMT"] {
        let mut resp = agent()
            .get(server.url("/a.bin"))
            .header("Range", "bytes=0-9")
            .header("If-Range", stale)
            .call()
            .unwrap();
        assert_eq!(resp.status(), 200, "If-Range: {stale}");
        assert_eq!(resp.body_mut().read_to_vec().unwrap(), content);
    }
}

/// Splits a `multipart/byteranges` body into (Content-Range, bytes) parts.
fn parse_byteranges(body: &[u8], boundary: &str) -> Vec<(String, Vec<u8>)> {
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut rest = body;
    // Preamble up to the first delimiter.
    let first = crate::util::find(rest, delimiter.as_bytes()).expect("first delimiter");
    rest = &rest[first + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            assert!(
                rest[2..].iter().all(|b| b.is_ascii_whitespace()),
                "bytes after the close delimiter: {:?}",
                String::from_utf8_lossy(&rest[2..])
            );
            break;
        }
        assert!(rest.starts_with(b"\r\n"), "delimiter not followed by CRLF");
        rest = &rest[2..];
        let head_end = crate::util::find(rest, b"\r\n\r\n").expect("part head");
        let head = String::from_utf8_lossy(&rest[..head_end]).into_owned();
        let content_range = head
            .lines()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(n, _)| n.eq_ignore_ascii_case("content-range"))
            })
            .map(|(_, v)| v.trim().to_owned())
            .expect("Content-Range in part");
        rest = &rest[head_end + 4..];
        let next = format!("\r\n{delimiter}");
        let end = crate::util::find(rest, next.as_bytes()).expect("next delimiter");
        parts.push((content_range, rest[..end].to_vec()));
        rest = &rest[end + next.len()..];
    }
    parts
}

#[test]
fn several_ranges_give_multipart_byteranges() {
    let content = pattern(1000);
    let server = serve_file("a.bin", &content);
    let mut resp = agent()
        .get(server.url("/a.bin"))
        .header("Range", "bytes=0-9, 100-109, 105-119, -5")
        .call()
        .unwrap();
    assert_eq!(resp.status(), 206);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    let boundary = content_type
        .strip_prefix("multipart/byteranges; boundary=")
        .unwrap_or_else(|| panic!("{content_type}"))
        .trim_matches('"')
        .to_owned();
    let declared: usize = resp.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body = resp.body_mut().read_to_vec().unwrap();
    assert_eq!(body.len(), declared);
    let parts = parse_byteranges(&body, &boundary);
    // Overlapping 100-109 and 105-119 are merged.
    assert_eq!(
        parts,
        vec![
            ("bytes 0-9/1000".to_owned(), content[0..10].to_vec()),
            ("bytes 100-119/1000".to_owned(), content[100..120].to_vec()),
            ("bytes 995-999/1000".to_owned(), content[995..].to_vec()),
        ]
    );
}

#[test]
fn many_small_ranges_are_not_amplified() {
    let content = pattern(1000);
    let server = serve_file("a.bin", &content);
    let ranges: Vec<String> = (0..200).map(|i| format!("{}-{}", i * 2, i * 2)).collect();
    let mut resp = agent()
        .get(server.url("/a.bin"))
        .header("Range", format!("bytes={}", ranges.join(",")))
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.body_mut().read_to_vec().unwrap(), content);
}

#[test]
fn directory_serves_its_index_html() {
    let builder = Server::builder();
    std::fs::create_dir(builder.root().join("site")).unwrap();
    write_file(&builder.root().join("site"), "index.html", b"<p>home</p>");
    write_file(builder.root(), "index.html", b"<p>top</p>");
    let server = builder.start();
    for (path, want) in [("/", "<p>top</p>"), ("/site/", "<p>home</p>")] {
        let mut resp = agent().get(server.url(path)).call().unwrap();
        assert_eq!(resp.status(), 200);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert_eq!(resp.body_mut().read_to_string().unwrap(), want);
    }
}

/// Markup in a file name (a `/` cannot be part of one).
const EVIL: &str = "<script>alert(\"x\")&'.txt";

/// ROOT with an escaped-name file, sizes to show, a directory, dotfiles.
fn listing_server(args: &[&str]) -> Server {
    let builder = Server::builder().args(args);
    let root = builder.root().to_owned();
    write_file(&root, EVIL, b"boo");
    write_file(&root, "b.txt", &vec![b'b'; 2048]);
    write_file(&root, "A.txt", b"a");
    write_file(&root, "c d&e.txt", b"");
    write_file(&root, ".hidden", b"secret");
    std::fs::create_dir(root.join("zdir")).unwrap();
    std::fs::create_dir(root.join(".git")).unwrap();
    builder.start()
}

#[test]
fn listing_html_escapes_names_and_shows_sizes_sorted_without_dotfiles() {
    let server = listing_server(&[]);
    let mut resp = agent().get(server.url("/")).call().unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = resp.body_mut().read_to_string().unwrap();
    assert!(!html.contains("<script>alert"), "unescaped name:\n{html}");
    assert!(
        html.contains("&lt;script&gt;alert(&quot;x&quot;)&amp;&#39;.txt")
            || html.contains("&lt;script&gt;alert(&quot;x&quot;)&amp;&#x27;.txt"),
        "{html}"
    );
    assert!(
        html.contains("href=\"%3Cscript%3Ealert%28%22x%22%29%26%27.txt\""),
        "link not percent-encoded:\n{html}"
    );
    assert!(html.contains("c d&amp;e.txt"), "{html}");
    assert!(html.contains("2.0 KiB"), "size of b.txt:\n{html}");
    assert!(html.contains("3 B"), "size of the script file:\n{html}");
    assert!(
        !html.contains("href=\".hidden") && !html.contains("href=\".git"),
        "{html}"
    );
    // Directories first, then names case-insensitively (`<` before letters).
    let order: Vec<usize> = ["zdir/", "&lt;script", "A.txt", "b.txt", "c d&amp;e.txt"]
        .iter()
        .map(|name| {
            html.find(&format!(">{name}"))
                .unwrap_or_else(|| panic!("{name} not listed"))
        })
        .collect();
    assert!(order.is_sorted(), "listing out of order:\n{html}");

    // The links work: follow each file's href.
    for (href, want) in [
        ("%3Cscript%3Ealert%28%22x%22%29%26%27.txt", "boo"),
        ("c%20d%26e.txt", ""),
    ] {
        let mut resp = agent().get(server.url(&format!("/{href}"))).call().unwrap();
        assert_eq!(resp.status(), 200, "{href}");
        assert_eq!(resp.body_mut().read_to_string().unwrap(), want);
    }
}

#[test]
fn listing_as_json_with_accept_application_json() {
    let server = listing_server(&[]);
    let resp = agent()
        .get(server.url("/"))
        .header("Accept", "application/json")
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let entries: Value = resp.into_body().read_json().unwrap();
    let entries = entries.as_array().unwrap();
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["zdir", EVIL, "A.txt", "b.txt", "c d&e.txt"]);
    let b = &entries[3];
    assert_eq!(b["type"], "file");
    assert_eq!(b["size"], 2048);
    assert!(b["modified"].as_u64().unwrap() > 1_600_000_000);
    assert_eq!(entries[0]["type"], "dir");
}

#[test]
fn no_listing_gives_404_for_a_directory_without_index() {
    let server = listing_server(&["--no-listing"]);
    for path in ["/", "/zdir/"] {
        let resp = agent().get(server.url(path)).call().unwrap();
        assert_eq!(resp.status(), 404, "{path}");
    }
    let resp = agent().get(server.url("/A.txt")).call().unwrap();
    assert_eq!(resp.status(), 200);
}

#[test]
fn directory_without_slash_redirects_to_it() {
    let server = listing_server(&[]);
    let resp = agent().get(server.url("/zdir?x=1")).call().unwrap();
    assert_eq!(resp.status(), 301);
    assert_eq!(resp.headers()["location"], "/zdir/?x=1");
}

#[test]
fn redirect_never_points_off_site() {
    let builder = Server::builder();
    std::fs::create_dir(builder.root().join("evil.example")).unwrap();
    let server = builder.start();
    for path in [
        "//evil.example",
        "//evil.example/",
        "///evil.example",
        "//evil.example/?next=//evil.example",
        "/\\evil.example",
        "/%2Fevil.example",
        "/%5Cevil.example",
        "//evil.example/..",
        "/./evil.example",
    ] {
        let resp = server.raw_get(path);
        if let Some(location) = resp.header("location") {
            assert!(
                location.starts_with('/')
                    && !location.starts_with("//")
                    && !location.starts_with("/\\"),
                "{path} redirected to {location}"
            );
        }
        assert!(
            [200, 301, 400, 404].contains(&resp.status),
            "{path}: {}",
            resp.status
        );
    }
    let resp = server.raw_get("//evil.example");
    assert_eq!(resp.status, 301);
    assert_eq!(resp.header("location"), Some("/evil.example/"));
}

#[test]
fn other_methods_give_405_with_allow() {
    let server = serve_file("a.txt", b"x");
    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let raw = server.raw(
            format!("{method} /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        );
        assert_eq!(raw.status, 405, "{method}");
        let allow = raw.header("allow").unwrap_or_default();
        assert!(allow.contains("GET") && allow.contains("HEAD"), "{allow}");
    }
    // With a body: refused unread, still 405.
    let raw = server.raw(
        b"POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    );
    assert_eq!(raw.status, 405);
}

#[test]
fn missing_file_gives_404() {
    let server = Server::start();
    let resp = agent().get(server.url("/nope.txt")).call().unwrap();
    assert_eq!(resp.status(), 404);
}

#[test]
fn empty_file_is_served_with_length_0() {
    let server = serve_file("empty.txt", b"");
    // Two requests on one connection: the first must not break it.
    let mut stream = server.connect();
    std::io::Write::write_all(
        &mut stream,
        b"GET /empty.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /empty.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let resp = crate::util::read_to_close(&mut stream);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-length"), Some("0"));
    let second = crate::util::Response::parse(resp.body.clone());
    assert_eq!(second.status, 200);
    assert_eq!(second.header("content-length"), Some("0"));
    assert!(second.body.is_empty());
}
