//! `--upload-dir`: `PUT /upload/NAME` and `POST /upload` (multipart).

use std::io::Write;
use std::process::Command;

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::util::{
    Server, agent, curl, path_str, read_head, read_to_close, wait_until, write_file,
};

/// Content that is not all one byte, so misplaced chunks show.
fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3] ^ seed)
        .collect()
}

/// Runs curl, expecting it to succeed; returns (status, body).
fn run_curl(mut command: Command) -> (u16, String) {
    command.args(["--write-out", "\n%{http_code}"]);
    let out = command.output().expect("run curl");
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.parse().unwrap(), body.to_owned())
}

/// A raw `PUT /upload/NAME` with the whole body; the response.
fn raw_put(server: &Server, name: &str, body: &[u8]) -> crate::util::Response {
    let mut request = format!(
        "PUT /upload/{name} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    server.raw(&request)
}

#[test]
fn curl_t_puts_a_file() {
    let mut curl = curl();
    let server = Server::builder().uploads().start();
    let source = TempDir::new().unwrap();
    let data = content(300_000, 1);
    let file = write_file(source.path(), "report.pdf", &data);
    curl.args([
        "-T",
        path_str(&file),
        &server.url("/upload/report%20v1.pdf"),
    ]);
    let (status, body) = run_curl(curl);
    assert_eq!(status, 201, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer, json!({"name": "report v1.pdf", "size": 300_000}));
    assert_eq!(server.uploaded(), ["report v1.pdf"]);
    let saved = std::fs::read(server.upload_dir().join("report v1.pdf")).unwrap();
    assert!(saved == data, "saved content differs");
}

#[test]
fn curl_f_posts_several_files() {
    let mut curl = curl();
    let server = Server::builder().uploads().start();
    let source = TempDir::new().unwrap();
    let a = content(70_000, 2);
    let b = content(5, 3);
    let pa = write_file(source.path(), "a.bin", &a);
    let pb = write_file(source.path(), "b.txt", &b);
    curl.args([
        "-F",
        &format!("file=@{}", path_str(&pa)),
        "-F",
        "comment=not a file",
        "-F",
        &format!("file=@{}", path_str(&pb)),
        &server.url("/upload"),
    ]);
    let (status, body) = run_curl(curl);
    assert_eq!(status, 201, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        answer,
        json!({"files": [{"name": "a.bin", "size": 70_000}, {"name": "b.txt", "size": 5}]})
    );
    assert_eq!(server.uploaded(), ["a.bin", "b.txt"]);
    assert!(std::fs::read(server.upload_dir().join("a.bin")).unwrap() == a);
    assert_eq!(std::fs::read(server.upload_dir().join("b.txt")).unwrap(), b);
}

#[test]
fn chunked_put_is_saved() {
    let server = Server::builder().uploads().start();
    let resp = server.raw(
        b"PUT /upload/c.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
          Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n",
    );
    assert_eq!(resp.status, 201, "{}", resp.text());
    assert_eq!(
        std::fs::read(server.upload_dir().join("c.txt")).unwrap(),
        b"abcdefg"
    );
}

#[test]
fn existing_name_gives_409_unless_overwrite() {
    let server = Server::builder().uploads().start();
    write_file(server.upload_dir(), "taken.txt", b"original");
    let resp = raw_put(&server, "taken.txt", b"replacement");
    assert_eq!(resp.status, 409);
    assert!(serde_json::from_slice::<Value>(&resp.body).unwrap()["error"].is_string());
    let resp = agent()
        .post(server.url("/upload"))
        .content_type("multipart/form-data; boundary=XyZ")
        .send(multipart_body("XyZ", "taken.txt", b"replacement"))
        .unwrap();
    assert_eq!(resp.status(), 409);
    assert_eq!(
        std::fs::read(server.upload_dir().join("taken.txt")).unwrap(),
        b"original"
    );
    assert_eq!(server.uploaded(), ["taken.txt"]);

    let server = Server::builder().uploads().args(["--overwrite"]).start();
    write_file(server.upload_dir(), "taken.txt", b"original");
    let resp = raw_put(&server, "taken.txt", b"replacement");
    assert_eq!(resp.status, 201);
    assert_eq!(
        std::fs::read(server.upload_dir().join("taken.txt")).unwrap(),
        b"replacement"
    );
    assert_eq!(server.uploaded(), ["taken.txt"]);
}

fn multipart_body(boundary: &str, filename: &str, data: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

#[test]
fn bad_names_give_400_and_write_nothing() {
    let server = Server::builder().uploads().start();
    for name in [
        "..",
        "%2e%2e",
        "%2E.",
        "a%2Fb",
        "..%2Fescape",
        "a%5Cb",
        "a\\b",
        "a%00b",
        "a%0Ab",
        "a%0D%0Ab",
        "a%1Bb",
        "a%7Fb",
        ".hidden",
        "%2Ehidden",
        "../escape",
        "a/../../b",
        "a//b",
        "a/",
        "a/.git/x",
        "",
    ] {
        let resp = raw_put(&server, name, b"data");
        assert_eq!(resp.status, 400, "PUT /upload/{name}: {}", resp.text());
    }
    for filename in [
        "../escape",
        ".hidden",
        "a\\\\b",
        "/abs",
        "a/../../b",
        "a//b",
        "a/.git/x",
        "..\\\\x",
    ] {
        let resp = agent()
            .post(server.url("/upload"))
            .content_type("multipart/form-data; boundary=XyZ")
            .send(multipart_body("XyZ", filename, b"data"))
            .unwrap();
        assert_eq!(resp.status(), 400, "multipart filename {filename}");
    }
    assert!(server.uploaded().is_empty(), "{:?}", server.uploaded());
    let parent = server.upload_dir().parent().unwrap();
    assert!(!parent.join("escape").exists());
}

#[test]
fn over_max_upload_size_gives_413_and_writes_nothing() {
    let server = Server::builder()
        .uploads()
        .args(["--max-upload-size", "4K"])
        .start();
    // Declared too large.
    let resp = raw_put(&server, "big.bin", &content(4097, 4));
    assert_eq!(resp.status, 413);
    // Exactly the limit is fine.
    let resp = raw_put(&server, "ok.bin", &content(4096, 4));
    assert_eq!(resp.status, 201);
    std::fs::remove_file(server.upload_dir().join("ok.bin")).unwrap();

    // Chunked: no length declared, too large as it arrives.
    let mut request =
        b"PUT /upload/chunked.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    for _ in 0..5 {
        request.extend_from_slice(b"400\r\n");
        request.extend_from_slice(&content(1024, 5));
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let resp = server.raw(&request);
    assert_eq!(resp.status, 413, "chunked PUT over the limit");

    // Multipart: a file over the limit.
    let resp = agent()
        .post(server.url("/upload"))
        .content_type("multipart/form-data; boundary=XyZ")
        .send(multipart_body("XyZ", "big.bin", &content(8192, 6)))
        .unwrap();
    assert_eq!(resp.status(), 413, "multipart over the limit");
    // Multipart, chunked: the file grows past the limit as it arrives.
    let body = multipart_body("XyZ", "big.bin", &content(8192, 6));
    let mut request = b"POST /upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
        Content-Type: multipart/form-data; boundary=XyZ\r\nTransfer-Encoding: chunked\r\n\r\n"
        .to_vec();
    for piece in body.chunks(1000) {
        request.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        request.extend_from_slice(piece);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let resp = server.raw(&request);
    assert_eq!(resp.status, 413, "chunked multipart over the limit");
    wait_until("the refused uploads' temporary files to go", || {
        server.uploaded().is_empty()
    });
}

/// Sends the head of a PUT with `Expect: 100-continue` and no body; the
/// server must answer `status` at once, never `100 Continue`.
fn refused_before_the_body(server: &Server, name: &str, length: u64, status: u16) {
    let mut stream = server.connect();
    write!(
        stream,
        "PUT /upload/{name} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\nExpect: 100-continue\r\n\r\n"
    )
    .unwrap();
    let head = read_head(&mut stream);
    assert_eq!(head.status, status, "PUT /upload/{name}");
}

#[test]
fn expect_100_continue_refused_uploads_never_get_100() {
    let server = Server::builder()
        .uploads()
        .args(["--max-upload-size", "1M"])
        .start();
    write_file(server.upload_dir(), "exists.txt", b"x");
    refused_before_the_body(&server, "big.bin", 2 << 20, 413);
    refused_before_the_body(&server, "exists.txt", 10, 409);
    refused_before_the_body(&server, "..", 10, 400);
    refused_before_the_body(&server, ".hidden", 10, 400);

    // The same for a form too large as declared.
    let mut stream = server.connect();
    stream
        .write_all(
            b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n\
              Content-Length: 2097152\r\nExpect: 100-continue\r\n\r\n",
        )
        .unwrap();
    assert_eq!(read_head(&mut stream).status, 413);

    // Accepted: 100 Continue, then the body, then 201.
    let mut stream = server.connect();
    stream
        .write_all(
            b"PUT /upload/fine.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
              Content-Length: 5\r\nExpect: 100-continue\r\n\r\n",
        )
        .unwrap();
    let interim = read_head(&mut stream);
    assert_eq!(interim.status, 100);
    stream.write_all(b"hello").unwrap();
    let resp = read_to_close(&mut stream);
    assert_eq!(resp.status, 201);
    assert_eq!(
        std::fs::read(server.upload_dir().join("fine.txt")).unwrap(),
        b"hello"
    );
}

#[test]
fn client_disconnecting_mid_body_leaves_nothing() {
    let server = Server::builder().uploads().start();
    for (name, head) in [
        (
            "half.bin",
            "PUT /upload/half.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n".to_owned(),
        ),
        (
            "half-form.bin",
            "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n\
             Content-Length: 1048576\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"half-form.bin\"\r\n\r\n"
                .to_owned(),
        ),
    ] {
        let mut stream = server.connect();
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&content(512 * 1024, 7)).unwrap();
        // The body is being written: a temporary file exists.
        wait_until("the temporary file", || !server.uploaded().is_empty());
        drop(stream);
        server.stderr.wait_for("the failed upload", |l| {
            l.contains("failed after") && l.contains(if name == "half.bin" { "PUT" } else { "POST" })
        });
        wait_until("the upload directory to be empty", || {
            server.uploaded().is_empty()
        });
        assert!(!server.upload_dir().join(name).exists());
    }
}

#[test]
fn full_disk_gives_507_and_leaves_nothing() {
    // RLIMIT_FSIZE of 1 MiB: writing past it fails with EFBIG, as a full
    // disk would fail with ENOSPC.
    let server = Server::builder()
        .uploads()
        .under_shell("trap '' XFSZ; ulimit -f 1024")
        .start();
    let len = 4 << 20;
    let mut stream = server.connect();
    write!(
        stream,
        "PUT /upload/huge.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {len}\r\n\r\n"
    )
    .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let chunk = content(64 * 1024, 8);
        for _ in 0..(len / chunk.len()) {
            // The server may stop reading once it has answered.
            if writer.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let resp = read_to_close(&mut stream);
    assert_eq!(resp.status, 507, "{}", resp.text());
    sender.join().unwrap();
    wait_until("the upload directory to be empty", || {
        server.uploaded().is_empty()
    });
}

#[test]
fn uploads_off_means_no_upload_endpoint() {
    let server = Server::start();
    let resp = agent().get(server.url("/upload")).call().unwrap();
    assert_eq!(resp.status(), 404);
    let resp = raw_put(&server, "x.txt", b"data");
    assert_eq!(resp.status, 404, "PUT /upload/x.txt");
    let resp = agent()
        .post(server.url("/upload"))
        .content_type("multipart/form-data; boundary=XyZ")
        .send(multipart_body("XyZ", "x.txt", b"data"))
        .unwrap();
    assert_eq!(resp.status(), 404, "POST /upload");
    assert!(!server.root().join("x.txt").exists());
    // And the listing offers no upload form.
    let html = agent()
        .get(server.url("/"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(!html.contains("multipart/form-data"), "{html}");
}

#[test]
fn wrong_method_on_upload_paths_gives_405() {
    let server = Server::builder().uploads().start();
    let resp = agent().get(server.url("/upload")).call().unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "POST");
    let resp = agent().get(server.url("/upload/x")).call().unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "PUT");
}

#[test]
fn post_upload_needs_multipart() {
    let server = Server::builder().uploads().start();
    let resp = agent()
        .post(server.url("/upload"))
        .content_type("text/plain")
        .send("hello")
        .unwrap();
    assert_eq!(resp.status(), 415);
    assert!(server.uploaded().is_empty());
}

#[test]
fn names_are_percent_decoded_and_the_query_ignored() {
    let server = Server::builder().uploads().start();
    let resp = raw_put(&server, "r%C3%A9sum%C3%A9%20(1).pdf?via=test", b"cv");
    assert_eq!(resp.status, 201, "{}", resp.text());
    let answer: Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(answer, json!({"name": "résumé (1).pdf", "size": 2}));
    assert_eq!(server.uploaded(), ["résumé (1).pdf"]);
}
