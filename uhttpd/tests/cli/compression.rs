//! Content codings: precompressed siblings (`FILE.br`, `.zst`, `.gz`, on
//! by default) and `--compress` (coded on compression threads, kept in a
//! bounded cache), chosen by `Accept-Encoding`; decoded by curl where it
//! supports the coding, and always by the same crates uhttpd codes with.

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::util::{Server, agent, curl, write_file};

/// The coded bytes of `data`, made with the crates uhttpd uses.
fn encode(coding: &str, data: &[u8]) -> Vec<u8> {
    match coding {
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        "br" => {
            let mut out = Vec::new();
            let mut e = brotli::CompressorWriter::new(&mut out, 4096, 9, 22);
            e.write_all(data).unwrap();
            drop(e);
            out
        }
        "zstd" => zstd::stream::encode_all(data, 5).unwrap(),
        other => panic!("no coding {other}"),
    }
}

/// `data` decoded from `coding`.
fn decode(coding: &str, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "gzip" => flate2::read::GzDecoder::new(data)
            .read_to_end(&mut out)
            .unwrap(),
        "br" => brotli::Decompressor::new(data, 4096)
            .read_to_end(&mut out)
            .unwrap(),
        "zstd" => return zstd::stream::decode_all(data).unwrap(),
        other => panic!("no coding {other}"),
    };
    out
}

/// Text that compresses, `len` bytes, different for each `seed`.
fn text(len: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    while out.len() < len {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        writeln!(out, "var v{} = \"{:x}\";", x >> 60, x >> 40).unwrap();
    }
    out.truncate(len);
    out
}

/// Bytes that do not compress, `len` of them.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// An answer: status, headers (names in lower case) and body.
struct Got {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Got {
    /// The single value of header `name`, if any.
    fn header(&self, name: &str) -> Option<&str> {
        let mut values = self.headers.iter().filter(|(n, _)| n == name);
        let first = values.next().map(|(_, v)| v.as_str());
        assert!(values.next().is_none(), "{name} sent twice");
        first
    }
}

fn request(server: &Server, method: &str, path: &str, headers: &[(&str, &str)]) -> Got {
    let mut req = ureq::http::Request::builder()
        .method(method)
        .uri(server.url(path));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = agent().run(req.body(()).unwrap()).unwrap();
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    let body = resp.into_body().read_to_vec().unwrap();
    Got {
        status,
        headers,
        body,
    }
}

fn get(server: &Server, path: &str, accept_encoding: &str) -> Got {
    request(server, "GET", path, &[("Accept-Encoding", accept_encoding)])
}

/// Whether this curl decodes `coding` (`curl -V` lists brotli, zstd,
/// libz).
fn curl_decodes(coding: &str) -> bool {
    let out = curl().arg("-V").output().unwrap();
    let features = String::from_utf8_lossy(&out.stdout).to_lowercase();
    let feature = match coding {
        "gzip" => "libz",
        "br" => "brotli",
        "zstd" => "zstd",
        _ => return false,
    };
    features
        .lines()
        .any(|l| l.starts_with("features:") && l.split(' ').any(|f| f == feature))
}

/// `curl --compressed` asking for `coding` only: the decoded body and the
/// `Content-Encoding` it got.
fn curl_compressed(server: &Server, path: &str, coding: &str) -> (Vec<u8>, String) {
    let dir = tempfile::tempdir().unwrap();
    let head = dir.path().join("head");
    let out = curl()
        .args(["--compressed", "-H"])
        .arg(format!("Accept-Encoding: {coding}"))
        .arg("-D")
        .arg(&head)
        .arg(server.url(path))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let head = std::fs::read_to_string(head).unwrap();
    let encoding = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-encoding")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default();
    (out.stdout, encoding)
}

fn set_mtime(path: &Path, time: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(time)
        .unwrap();
}

/// ROOT with `app.js` (small, served from memory) and `big.js` (200 KB,
/// streamed from disk), each with a sibling in every coding, as new as
/// the original to the second (as the `brotli` tool leaves it: the
/// original's time, truncated); `plain.js` without siblings; `old.js` whose sibling is
/// older than it; `out.js` whose sibling is a symlink out of ROOT.
fn precompressed_site(args: &[&str]) -> (Server, tempfile::TempDir) {
    let builder = Server::builder().args(args);
    let root = builder.root().to_owned();
    let outside = tempfile::tempdir().unwrap();
    let now = SystemTime::now();
    for (name, content) in [("app.js", text(20_000, 1)), ("big.js", noise(200_000))] {
        let original = write_file(&root, name, &content);
        set_mtime(&original, now);
        for (coding, suffix) in [("br", "br"), ("zstd", "zst"), ("gzip", "gz")] {
            let sibling = write_file(
                &root,
                &format!("{name}.{suffix}"),
                &encode(coding, &content),
            );
            set_mtime(&sibling, now);
        }
    }
    write_file(&root, "plain.js", &text(5000, 2));
    let old = write_file(&root, "old.js", &text(5000, 3));
    let old_gz = write_file(&root, "old.js.gz", &encode("gzip", b"an earlier version"));
    set_mtime(&old_gz, now - Duration::from_secs(60));
    set_mtime(&old, now);
    write_file(&root, "out.js", &text(5000, 4));
    let secret = write_file(
        outside.path(),
        "secret.gz",
        &encode("gzip", b"outside ROOT"),
    );
    std::os::unix::fs::symlink(&secret, root.join("out.js.gz")).unwrap();
    (builder.start(), outside)
}

#[test]
fn precompressed_siblings_answer_in_the_best_accepted_coding() {
    let (server, _outside) = precompressed_site(&[]);
    let root = server.root().to_owned();
    for name in ["app.js", "big.js"] {
        let original = std::fs::read(root.join(name)).unwrap();
        let identity = get(&server, &format!("/{name}"), "");
        assert_eq!(identity.status, 200);
        assert_eq!(identity.body, original);
        assert_eq!(identity.header("content-encoding"), None);
        assert_eq!(identity.header("vary"), Some("Accept-Encoding"), "{name}");
        let mut tags = vec![identity.header("etag").unwrap().to_owned()];
        for (accept, coding, suffix) in [
            ("gzip, deflate, br, zstd", "br", "br"),
            ("br;q=0.5, zstd", "zstd", "zst"),
            ("GZIP", "gzip", "gz"),
            ("x-gzip, identity;q=0", "gzip", "gz"),
            ("*", "br", "br"),
            ("*;q=0.1, gzip;q=0.2", "gzip", "gz"),
        ] {
            // Twice: the second small answer comes from memory.
            for _ in 0..2 {
                let got = get(&server, &format!("/{name}"), accept);
                assert_eq!(got.status, 200, "{name} {accept}");
                assert_eq!(got.header("content-encoding"), Some(coding), "{accept}");
                assert_eq!(got.header("vary"), Some("Accept-Encoding"));
                assert_eq!(
                    got.header("content-type"),
                    Some("text/javascript; charset=utf-8")
                );
                let sibling = std::fs::read(root.join(format!("{name}.{suffix}"))).unwrap();
                assert_eq!(got.body, sibling, "{name} {accept}");
                assert_eq!(decode(coding, &got.body), original);
                let tag = got.header("etag").unwrap().to_owned();
                assert!(tag.ends_with(&format!("-{coding}\"")), "{tag}");
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
        }
        assert_eq!(tags.len(), 4, "one ETag per coding: {tags:?}");
        for (accept, why) in [
            ("gzip;q=0.5, identity", "identity weighs more"),
            ("compress", "an unknown coding"),
            ("br;q=0, gzip;q=0, zstd;q=0", "every coding refused"),
        ] {
            let got = get(&server, &format!("/{name}"), accept);
            assert_eq!(got.header("content-encoding"), None, "{why}");
            assert_eq!(got.body, original, "{why}");
        }
    }
}

/// curl where it decodes the coding; the crates in any case (a curl
/// without brotli or zstd does not fail the test).
#[test]
fn curl_compressed_decodes_every_sibling() {
    let (server, _outside) = precompressed_site(&[]);
    let original = std::fs::read(server.root().join("app.js")).unwrap();
    for coding in ["br", "zstd", "gzip"] {
        let raw = get(&server, "/app.js", coding);
        assert_eq!(raw.header("content-encoding"), Some(coding));
        assert_eq!(decode(coding, &raw.body), original, "{coding}");
        if curl_decodes(coding) {
            let (body, encoding) = curl_compressed(&server, "/app.js", coding);
            assert_eq!(encoding, coding);
            assert_eq!(body, original, "{coding}");
        }
    }
}

#[test]
fn ranges_and_conditional_requests_apply_to_the_coded_bytes() {
    let (server, _outside) = precompressed_site(&[]);
    for name in ["app.js", "big.js"] {
        let path = format!("/{name}");
        let gz = std::fs::read(server.root().join(format!("{name}.gz"))).unwrap();
        let whole = get(&server, &path, "gzip");
        let tag = whole.header("etag").unwrap().to_owned();
        let ranged = request(
            &server,
            "GET",
            &path,
            &[("Accept-Encoding", "gzip"), ("Range", "bytes=10-29")],
        );
        assert_eq!(ranged.status, 206, "{name}");
        assert_eq!(ranged.header("content-encoding"), Some("gzip"));
        let want_range = format!("bytes 10-29/{}", gz.len());
        assert_eq!(ranged.header("content-range"), Some(want_range.as_str()));
        assert_eq!(ranged.body, gz[10..30]);
        assert_eq!(ranged.header("vary"), Some("Accept-Encoding"));
        // If-Range with the coded tag: the range holds.
        let resumed = request(
            &server,
            "GET",
            &path,
            &[
                ("Accept-Encoding", "gzip"),
                ("Range", "bytes=-5"),
                ("If-Range", &tag),
            ],
        );
        assert_eq!(resumed.status, 206);
        assert_eq!(resumed.body, gz[gz.len() - 5..]);
        // Several ranges of a coded body: the whole, not multipart.
        let several = request(
            &server,
            "GET",
            &path,
            &[("Accept-Encoding", "gzip"), ("Range", "bytes=0-1,5-6")],
        );
        assert_eq!(several.status, 200);
        assert_eq!(several.body, gz);

        let revalidated = request(
            &server,
            "GET",
            &path,
            &[("Accept-Encoding", "gzip"), ("If-None-Match", &tag)],
        );
        assert_eq!(revalidated.status, 304, "{name}");
        assert_eq!(revalidated.header("etag"), Some(tag.as_str()));
        assert_eq!(revalidated.header("vary"), Some("Accept-Encoding"));
        // The coded tag does not name the file as it is.
        let other = request(
            &server,
            "GET",
            &path,
            &[("Accept-Encoding", "br"), ("If-None-Match", &tag)],
        );
        assert_eq!(other.status, 200);
        assert_eq!(other.header("content-encoding"), Some("br"));
        let failed = request(
            &server,
            "GET",
            &path,
            &[("Accept-Encoding", "identity"), ("If-Match", &tag)],
        );
        assert_eq!(failed.status, 412);
    }
}

#[test]
fn head_carries_the_headers_of_the_coded_get() {
    let (server, _outside) = precompressed_site(&["--compress"]);
    for (path, accept) in [
        ("/app.js", "br"),
        ("/big.js", "zstd"),
        ("/plain.js", "gzip"),
    ] {
        let got = get(&server, path, accept);
        let head = request(&server, "HEAD", path, &[("Accept-Encoding", accept)]);
        assert_eq!(head.status, 200);
        assert!(head.body.is_empty());
        for name in [
            "content-encoding",
            "content-length",
            "etag",
            "vary",
            "content-type",
        ] {
            assert_eq!(head.header(name), got.header(name), "{path}: {name}");
        }
        assert_eq!(head.header("content-encoding"), Some(accept));
    }
}

#[test]
fn identity_refused_gets_a_coding_or_406() {
    let (server, _outside) = precompressed_site(&[]);
    write_file(server.root(), "image.png", &noise(3000));
    let got = get(&server, "/app.js", "identity;q=0, gzip");
    assert_eq!(got.header("content-encoding"), Some("gzip"));
    for (path, accept) in [
        ("/plain.js", "identity;q=0"),
        ("/plain.js", "*;q=0"),
        ("/app.js", "identity;q=0, compress"),
        ("/image.png", "identity;q=0, br"),
    ] {
        let got = get(&server, path, accept);
        assert_eq!(got.status, 406, "{path} {accept}");
        assert_eq!(got.header("vary"), Some("Accept-Encoding"));
    }
    assert_eq!(get(&server, "/plain.js", "*;q=0, identity").status, 200);
}

#[test]
fn older_siblings_and_siblings_outside_root_are_not_sent() {
    let (server, _outside) = precompressed_site(&[]);
    for name in ["old.js", "out.js"] {
        let original = std::fs::read(server.root().join(name)).unwrap();
        let got = get(&server, &format!("/{name}"), "gzip");
        assert_eq!(got.status, 200);
        assert_eq!(got.header("content-encoding"), None, "{name}");
        assert_eq!(got.body, original, "{name}");
    }
    let off = precompressed_site(&["--no-precompressed"]).0;
    let got = get(&off, "/app.js", "br, gzip");
    assert_eq!(got.header("content-encoding"), None);
    assert_eq!(got.header("vary"), None, "nothing varies");
}

#[test]
fn compress_codes_text_once_on_a_thread_and_leaves_the_rest() {
    let server = Server::builder().args(["--compress", "-v"]);
    let root = server.root().to_owned();
    let script = text(30_000, 7);
    write_file(&root, "app.js", &script);
    write_file(&root, "big.js", &text(200_000, 8));
    write_file(&root, "tiny.js", b"let a = 1;\n");
    write_file(&root, "photo.jpg", &noise(20_000));
    write_file(&root, "huge.txt", &text(5 << 20, 9));
    let server = server.start();
    for coding in ["br", "zstd", "gzip"] {
        let mut tags = Vec::new();
        for _ in 0..3 {
            let got = get(&server, "/app.js", coding);
            assert_eq!(got.status, 200);
            assert_eq!(got.header("content-encoding"), Some(coding));
            assert_eq!(got.header("vary"), Some("Accept-Encoding"));
            assert_eq!(
                got.header("content-type"),
                Some("text/javascript; charset=utf-8")
            );
            assert!(got.body.len() < script.len() / 2, "{coding}");
            assert_eq!(decode(coding, &got.body), script, "{coding}");
            tags.push(got.header("etag").unwrap().to_owned());
        }
        assert!(tags[0].starts_with("W/\"") && tags[0].ends_with(&format!("-{coding}\"")));
        assert!(tags.iter().all(|t| *t == tags[0]), "{tags:?}");
        if curl_decodes(coding) {
            let (body, encoding) = curl_compressed(&server, "/app.js", coding);
            assert_eq!((body, encoding.as_str()), (script.clone(), coding));
        }
        // The revalidation of a coded answer needs no compression.
        let revalidated = request(
            &server,
            "GET",
            "/app.js",
            &[("Accept-Encoding", coding), ("If-None-Match", &tags[0])],
        );
        assert_eq!(revalidated.status, 304);
    }
    let big = get(&server, "/big.js", "gzip");
    assert_eq!(big.header("content-encoding"), Some("gzip"));
    assert_eq!(decode("gzip", &big.body), text(200_000, 8));

    let identity = get(&server, "/app.js", "");
    assert_eq!(identity.header("content-encoding"), None);
    assert_eq!(identity.header("vary"), Some("Accept-Encoding"));
    assert_ne!(
        identity.header("etag"),
        Some(tags_of(&server, "/app.js", "br").as_str())
    );
    for (path, why) in [
        ("/tiny.js", "below the minimum size"),
        ("/photo.jpg", "coded already"),
        ("/huge.txt", "above the largest size"),
    ] {
        let got = get(&server, path, "br, gzip");
        assert_eq!(got.status, 200);
        assert_eq!(got.header("content-encoding"), None, "{why}");
    }
    // A range is of the bytes as they are.
    let ranged = request(
        &server,
        "GET",
        "/app.js",
        &[("Accept-Encoding", "br"), ("Range", "bytes=0-99")],
    );
    assert_eq!(ranged.status, 206);
    assert_eq!(ranged.header("content-encoding"), None);
    assert_eq!(ranged.body, script[..100]);
    assert_eq!(ranged.header("vary"), Some("Accept-Encoding"));

    let lines = server.finish();
    let compressed = |what: &str| lines.iter().filter(|l| l.contains(what)).count();
    for coding in ["br", "zstd", "gzip"] {
        let line = format!("compressed /app.js ({coding})");
        assert_eq!(compressed(&line), 1, "a hot file is coded once: {lines:#?}");
    }
    assert_eq!(compressed("compressed /huge.txt"), 0);
}

fn tags_of(server: &Server, path: &str, coding: &str) -> String {
    get(server, path, coding).header("etag").unwrap().to_owned()
}

/// The cache bound, through the counter uhttpd logs after each
/// compression (`compress cache: BYTES of MAX bytes in N bodies`).
#[test]
fn the_compression_cache_never_holds_more_than_its_bound() {
    const BOUND: usize = 64 << 10;
    const FILES: u64 = 40;
    let server = Server::builder().args(["--compress", "--compress-cache", "64K", "-v"]);
    let root = server.root().to_owned();
    for i in 0..FILES {
        write_file(&root, &format!("f{i}.js"), &text(12_000, 100 + i));
    }
    let server = server.start();
    for round in 0..2 {
        for i in 0..FILES {
            let got = get(&server, &format!("/f{i}.js"), "gzip");
            assert_eq!(
                got.header("content-encoding"),
                Some("gzip"),
                "round {round}"
            );
            assert_eq!(decode("gzip", &got.body), text(12_000, 100 + i));
        }
    }
    let lines = server.finish();
    let held: Vec<(usize, usize)> = lines
        .iter()
        .filter_map(|l| {
            let rest = l.split_once("compress cache: ")?.1;
            let mut words = rest.split(' ');
            let bytes = words.next()?.parse().ok()?;
            let max = words.nth(1)?.parse().ok()?;
            Some((bytes, max))
        })
        .collect();
    // Every file was coded in each round: the first ones were dropped to
    // make room for the last.
    assert_eq!(held.len() as u64, 2 * FILES, "{lines:#?}");
    assert!(
        held.iter()
            .all(|&(bytes, max)| max == BOUND && bytes <= BOUND),
        "{held:?}"
    );
    let most = held.iter().map(|&(bytes, _)| bytes).max().unwrap();
    assert!(most > BOUND / 2, "the cache filled up: {held:?}");
}

/// Requests arriving while a file is being compressed wait for that
/// compression instead of starting their own.
#[test]
fn concurrent_requests_for_one_file_share_one_compression() {
    let server = Server::builder().args(["--compress", "-v"]);
    let content = text(2 << 20, 11);
    write_file(server.root(), "bundle.js", &content);
    let server = std::sync::Arc::new(server.start());
    let start = std::sync::Arc::new(std::sync::Barrier::new(8));
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (server, start) = (server.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                let got = get(&server, "/bundle.js", "br");
                assert_eq!(got.header("content-encoding"), Some("br"));
                decode("br", &got.body)
            })
        })
        .collect();
    for client in clients {
        assert_eq!(client.join().unwrap(), content);
    }
    let Ok(server) = std::sync::Arc::try_unwrap(server) else {
        panic!("a client still holds the server");
    };
    let lines = server.finish();
    let coded = lines
        .iter()
        .filter(|l| l.contains("compressed /bundle.js (br)"))
        .count();
    assert_eq!(coded, 1, "{lines:#?}");
}

/// What Python's `requests` (urllib3) makes of coded answers: it decodes
/// gzip itself; the raw bytes of a range are the sibling's.
const REQUESTS_SCRIPT: &str = r#"
import json, sys, requests
base, root = sys.argv[1], sys.argv[2]
original = {n: open(f"{root}/{n}", "rb").read() for n in ("app.js", "plain.js")}
gz = open(f"{root}/app.js.gz", "rb").read()
out = {}
for name in ("app.js", "plain.js"):
    r = requests.get(f"{base}/{name}", headers={"Accept-Encoding": "gzip"}, timeout=10)
    out[name] = [r.status_code, r.headers.get("Content-Encoding"), r.headers.get("Vary"),
                 r.content == original[name]]
r = requests.get(f"{base}/app.js", headers={"Accept-Encoding": "gzip", "Range": "bytes=5-104"},
                 stream=True, timeout=10)
raw = r.raw.read(decode_content=False)
out["range"] = [r.status_code, r.headers.get("Content-Range") == f"bytes 5-104/{len(gz)}",
                raw == gz[5:105]]
print(json.dumps(out))
"#;

#[test]
fn python_requests_decodes_coded_answers_and_ranges_of_them() {
    crate::common::require("python3");
    let (server, _outside) = precompressed_site(&["--compress"]);
    let out = std::process::Command::new("python3")
        .args(["-c", REQUESTS_SCRIPT])
        .arg(server.url(""))
        .arg(server.root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python3 with requests (scripts/install-test-deps.sh installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let coded = serde_json::json!([200, "gzip", "Accept-Encoding", true]);
    assert_eq!(got["app.js"], coded, "the .gz sibling");
    assert_eq!(got["plain.js"], coded, "coded on the fly");
    assert_eq!(got["range"], serde_json::json!([206, true, true]));
}
