//! `/rpc`: the request echoed back as JSON.

use serde_json::{Value, json};

use crate::util::{Server, agent};

/// Sends `METHOD /rpc...` with `headers` and `body` over a raw socket and
/// parses the JSON answer.
fn rpc_raw(
    server: &Server,
    method: &str,
    target: &str,
    headers: &str,
    body: &[u8],
) -> (u16, Value) {
    let mut request =
        format!("{method} {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{headers}")
            .into_bytes();
    if !body.is_empty() || method == "POST" || method == "PUT" {
        request.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    request.extend_from_slice(b"\r\n");
    request.extend_from_slice(body);
    let resp = server.raw(&request);
    if method == "HEAD" {
        return (resp.status, Value::Null);
    }
    assert!(
        resp.header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{method}: {:?}",
        resp.headers
    );
    let value = serde_json::from_slice(&resp.body)
        .unwrap_or_else(|e| panic!("{method}: {e}: {:?}", resp.text()));
    (resp.status, value)
}

#[test]
fn answers_every_method() {
    let server = Server::start();
    // Every method the library knows; others are 501 before routing
    // (SPEC §1).
    for method in ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"] {
        let (status, echo) = rpc_raw(&server, method, "/rpc", "", b"");
        assert_eq!(status, 200, "{method}");
        assert_eq!(echo["method"], method);
        assert_eq!(echo["path"], "/rpc");
    }
    let (status, _) = rpc_raw(&server, "HEAD", "/rpc", "", b"");
    assert_eq!(status, 200);
}

#[test]
fn echoes_query_headers_cookies_and_remote_address() {
    let server = Server::start();
    let (status, echo) = rpc_raw(
        &server,
        "GET",
        "/rpc?a=1&b=two%20words&a=2&empty=",
        "X-Custom-Thing: Value\r\nCookie: session=abc; theme=dark\r\n",
        b"",
    );
    assert_eq!(status, 200);
    assert_eq!(echo["path"], "/rpc");
    assert_eq!(
        echo["query"]["a"],
        json!(["1", "2"]),
        "repeated keys: {echo}"
    );
    assert_eq!(echo["query"]["b"], "two words");
    assert_eq!(echo["query"]["empty"], "");
    assert_eq!(echo["headers"]["x-custom-thing"], "Value");
    assert_eq!(echo["headers"]["host"], "test");
    let headers = echo["headers"].as_object().unwrap();
    assert!(
        headers.keys().all(|k| k == &k.to_ascii_lowercase()),
        "{headers:?}"
    );
    assert_eq!(echo["cookies"], json!({"session": "abc", "theme": "dark"}));
    let remote = echo["remote_addr"].as_str().unwrap();
    assert!(remote.starts_with("127.0.0.1"), "{remote}");
    assert!(echo.get("length").is_none(), "no body, no length: {echo}");
}

#[test]
fn echoes_a_json_body() {
    let server = Server::start();
    let body = br#"{"n": 1, "list": [true, null], "s": "x"}"#;
    let (status, echo) = rpc_raw(
        &server,
        "POST",
        "/rpc",
        "Content-Type: application/json; charset=utf-8\r\n",
        body,
    );
    assert_eq!(status, 200);
    assert_eq!(
        echo["json"],
        json!({"n": 1, "list": [true, null], "s": "x"})
    );
    assert_eq!(echo["data"], std::str::from_utf8(body).unwrap());
    assert_eq!(echo["length"], body.len());
}

#[test]
fn echoes_a_form_body() {
    let server = Server::start();
    let mut resp = agent()
        .post(Server::url(&server, "/rpc"))
        .content_type("application/x-www-form-urlencoded")
        .send("name=J%C3%BCrgen+X&tag=a&tag=b")
        .unwrap();
    assert_eq!(resp.status(), 200);
    let echo: Value = resp.body_mut().read_json().unwrap();
    assert_eq!(echo["form"]["name"], "Jürgen X");
    assert_eq!(echo["form"]["tag"], json!(["a", "b"]));
    assert_eq!(echo["length"], 30);
}

#[test]
fn echoes_text_and_binary_bodies() {
    let server = Server::start();
    let (_, echo) = rpc_raw(
        &server,
        "PUT",
        "/rpc",
        "Content-Type: text/plain\r\n",
        b"hi there",
    );
    assert_eq!(echo["data"], "hi there");
    assert_eq!(echo["length"], 8);
    assert!(echo.get("json").is_none() && echo.get("form").is_none());

    let (_, echo) = rpc_raw(
        &server,
        "POST",
        "/rpc",
        "Content-Type: application/octet-stream\r\n",
        &[0xff, 0xfe, 0x00],
    );
    assert_eq!(echo["length"], 3);
    assert!(echo.get("data").is_none(), "not UTF-8, no data: {echo}");
}

#[test]
fn chunked_body_is_echoed() {
    let server = Server::start();
    let resp = server.raw(
        b"POST /rpc HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\
          Content-Type: text/plain\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    );
    assert_eq!(resp.status, 200);
    let echo: Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(echo["data"], "hello world");
    assert_eq!(echo["length"], 11);
}

#[test]
fn invalid_json_gives_400_with_a_json_error() {
    let server = Server::start();
    for content_type in ["application/json", "application/problem+json"] {
        let (status, echo) = rpc_raw(
            &server,
            "POST",
            "/rpc",
            &format!("Content-Type: {content_type}\r\n"),
            b"{not json",
        );
        assert_eq!(status, 400, "{content_type}");
        assert!(echo["error"].is_string(), "{echo}");
    }
}

#[test]
fn no_rpc_turns_the_endpoint_off() {
    let server = Server::builder().args(["--no-rpc"]).start();
    let resp = agent().get(server.url("/rpc")).call().unwrap();
    assert_eq!(resp.status(), 404);
    let resp = server
        .raw(b"POST /rpc HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}");
    assert!(
        resp.status == 404 || resp.status == 405,
        "POST /rpc with --no-rpc: {}",
        resp.status
    );
}

#[test]
fn body_over_max_content_length_gives_413() {
    let server = Server::builder()
        .args(["--max-content-length", "1K"])
        .start();
    // Declared too large: refused on the headers.
    let resp = server
        .raw(b"POST /rpc HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1025\r\n\r\n");
    assert_eq!(resp.status, 413);
    // Exactly the limit is fine.
    let (status, echo) = rpc_raw(&server, "POST", "/rpc", "", &[b'a'; 1024]);
    assert_eq!(status, 200);
    assert_eq!(echo["length"], 1024);
    // Chunked, growing past the limit as it arrives.
    let mut request =
        b"POST /rpc HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    for _ in 0..3 {
        request.extend_from_slice(b"200\r\n");
        request.extend_from_slice(&[b'b'; 512]);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let resp = server.raw(&request);
    assert_eq!(resp.status, 413);
}
