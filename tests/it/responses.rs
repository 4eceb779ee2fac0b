//! Response bodies, their content types and lengths, redirects and
//! cookies, as a client receives them.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::json;
use uhttp::{Config, Cookie, Response, SameSite};

use crate::util::{agent, serve};

fn routes(req: uhttp::Request) {
    let result = match req.path() {
        "/text" => req.respond(200, "héllo"),
        "/bytes" => req.respond(200, vec![0u8, 1, 2, 255]),
        "/json" => req.respond(201, json!({"a": [1, 2], "b": null})),
        "/json-typed" => req.respond_json(200, &vec!["x", "y"]),
        "/typed" => req.send(
            Response::new(200)
                .header("Content-Type", "text/html; charset=utf-8")
                .header("X-Extra", "yes")
                .body("<p>hi</p>"),
        ),
        "/empty" => req.send(Response::new(204)),
        "/redirect" => req.respond_redirect("/target?x=1", 302),
        "/moved" => req.respond_redirect("https://elsewhere.example/", 301),
        "/see-other" => req.respond_redirect("/done", 303),
        "/temporary" => req.respond_redirect("/t", 307),
        "/permanent" => req.respond_redirect("/p", 308),
        "/cookies" => req.send(
            Response::new(200)
                .cookie(
                    Cookie::new("sid", "abc123")
                        .path("/app")
                        .domain("example.com")
                        .max_age(3600)
                        .expires(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
                        .secure(true)
                        .http_only(true)
                        .same_site(SameSite::Strict),
                )
                .cookie(Cookie::new("theme", "dark").same_site(SameSite::Lax))
                .cookie(Cookie::new("x", "1").same_site(SameSite::None).secure(true))
                .cookie(Cookie::removal("old"))
                .body("cookies"),
        ),
        "/status" => req.respond(418, ""),
        _ => req.respond(404, "Not Found\n"),
    };
    result.unwrap();
}

#[test]
fn sends_text_with_a_utf8_content_type_and_exact_length() {
    let server = serve(Config::default(), routes);
    let resp = server.connect().get("/text");
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(resp.header("content-length"), Some("6"));
    assert_eq!(resp.text(), "héllo");
    assert!(resp.header("date").is_some());
}

#[test]
fn sends_bytes_as_octet_stream() {
    let server = serve(Config::default(), routes);
    let resp = server.connect().get("/bytes");
    assert_eq!(
        resp.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(resp.header("content-length"), Some("4"));
    assert_eq!(resp.body, [0, 1, 2, 255]);
}

#[test]
fn sends_json_with_application_json() {
    let server = serve(Config::default(), routes);
    let mut client = server.connect();
    let resp = client.get("/json");
    assert_eq!(resp.status, 201);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(resp.json(), json!({"a": [1, 2], "b": null}));
    assert_eq!(
        resp.header("content-length"),
        Some(resp.body.len().to_string().as_str())
    );
    let resp = client.get("/json-typed");
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(resp.json(), json!(["x", "y"]));
}

#[test]
fn lets_a_header_override_the_content_type() {
    let server = serve(Config::default(), routes);
    let resp = server.connect().get("/typed");
    assert_eq!(
        resp.headers_named("content-type"),
        ["text/html; charset=utf-8"]
    );
    assert_eq!(resp.header("x-extra"), Some("yes"));
}

#[test]
fn sends_no_body_and_no_length_for_204() {
    let server = serve(Config::default(), routes);
    let mut client = server.connect();
    let resp = client.get("/empty");
    assert_eq!(resp.status, 204);
    assert_eq!(resp.header("content-length"), None);
    // The connection is still in step.
    assert_eq!(client.get("/text").text(), "héllo");
}

#[test]
fn answers_head_requests_without_a_body() {
    let server = serve(Config::default(), routes);
    let mut client = server.connect();
    client.send("HEAD /text HTTP/1.1\r\nHost: t\r\n\r\n");
    let head = client.read_head_response();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("6"));
    // No body bytes came before the next response.
    assert_eq!(client.get("/bytes").body, [0, 1, 2, 255]);
}

#[test]
fn redirects_with_location_and_the_given_status() {
    let server = serve(Config::default(), routes);
    let mut client = server.connect();
    for (path, status, location) in [
        ("/redirect", 302, "/target?x=1"),
        ("/moved", 301, "https://elsewhere.example/"),
        ("/see-other", 303, "/done"),
        ("/temporary", 307, "/t"),
        ("/permanent", 308, "/p"),
    ] {
        let resp = client.get(path);
        assert_eq!(resp.status, status, "{path}");
        assert_eq!(resp.header("location"), Some(location), "{path}");
    }
}

#[test]
fn follows_a_redirect_with_ureq() {
    let server = serve(Config::default(), routes);
    let resp = agent().get(server.url("/redirect")).call().unwrap();
    // /target is not a route: the redirect was followed to it.
    assert_eq!(resp.status(), 404);
}

#[test]
fn sets_cookies_with_every_attribute() {
    let server = serve(Config::default(), routes);
    let resp = server.connect().get("/cookies");
    assert_eq!(
        resp.headers_named("set-cookie"),
        [
            "sid=abc123; Path=/app; Domain=example.com; Max-Age=3600; \
             Expires=Tue, 14 Nov 2023 22:13:20 GMT; Secure; HttpOnly; SameSite=Strict",
            "theme=dark; SameSite=Lax",
            "x=1; Secure; SameSite=None",
            "old=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
        ]
    );
}

#[test]
fn sends_any_status_with_its_reason() {
    let server = serve(Config::default(), routes);
    let mut client = server.connect();
    client.send("GET /status HTTP/1.1\r\nHost: t\r\n\r\n");
    let resp = client.read_response();
    assert_eq!(resp.status, 418);
    assert_eq!(resp.header("content-length"), Some("0"));
    assert_eq!(client.get("/nope").status, 404);
}

#[test]
fn closes_when_the_application_answers_with_connection_close() {
    let server = serve(Config::default(), |req| {
        req.send(Response::new(200).header("Connection", "close").body("bye"))
            .unwrap()
    });
    let mut client = server.connect();
    let resp = client.get("/");
    assert_eq!(resp.text(), "bye");
    assert_eq!(resp.headers_named("connection"), ["close"]);
    client.expect_closed();
}

#[test]
fn refuses_framing_headers_and_invalid_statuses_from_the_application() {
    let (tx, rx) = std::sync::mpsc::channel();
    let server = serve(Config::default(), move |req| {
        let results = [
            req.send(Response::new(200).header("Content-Length", "5")),
            req.send(Response::new(200).header("transfer-encoding", "chunked")),
            req.send(Response::new(101)),
            req.send(Response::new(99)),
            req.send(Response::new(1000)),
        ];
        req.respond(200, "after").unwrap();
        tx.send(results.map(|r| format!("{:?}", r.unwrap_err())))
            .unwrap();
    });
    let resp = server.connect().get("/");
    assert_eq!(resp.text(), "after");
    assert_eq!(resp.headers_named("content-length"), ["5"]);
    let errors = rx.recv_timeout(crate::util::IO_TIMEOUT).unwrap();
    assert!(errors[0].starts_with("InvalidHeader"), "{errors:?}");
    assert!(errors[1].starts_with("InvalidHeader"), "{errors:?}");
    assert_eq!(
        errors[2..],
        [
            "InvalidStatus(101)",
            "InvalidStatus(99)",
            "InvalidStatus(1000)"
        ]
    );
}

#[test]
fn answers_500_when_the_application_drops_a_request_unanswered() {
    let server = serve(Config::default(), |req| {
        if req.path() == "/forget" {
            drop(req);
        } else {
            req.respond(200, "ok").unwrap();
        }
    });
    let mut client = server.connect();
    assert_eq!(client.get("/forget").status, 500);
    // The connection goes on serving.
    assert_eq!(client.get("/").status, 200);
}

#[test]
fn answers_500_when_a_request_kept_by_a_worker_is_dropped_there() {
    let server = serve(Config::default(), |req| {
        std::thread::spawn(move || drop(req));
    });
    assert_eq!(server.connect().get("/").status, 500);
}
