//! What a `Request` says about the request, through the real parser.

use serde_json::{Value, json};
use uhttp::{Config, Request};

use crate::util::{agent, serve};

/// Answers with a JSON picture of everything the request handle exposes.
fn describe(req: Request) {
    let headers: Vec<Value> = req.headers().iter().map(|(n, v)| json!([n, v])).collect();
    let picture = json!({
        "method": req.method(),
        "url": req.url(),
        "path": req.path(),
        "query_a": req.query().get_all("a").collect::<Vec<_>>(),
        "query_b": req.query().get("b"),
        "protocol": req.protocol(),
        "user_agent_any_case": req.header("USER-AGENT"),
        "x_custom": req.headers().get("x-CUSTOM"),
        "headers": headers,
        "host": req.host(),
        "full_url": req.full_url(),
        "cookies": req.cookies().to_json(),
        "content_length": req.content_length(),
        "content_type": req.content_type(),
        "data": String::from_utf8_lossy(req.data()),
        "json": req.json().ok(),
        "form": req.form().to_json(),
        "remote": req.remote_address().to_string(),
        "addr_ip": req.addr().ip().to_string(),
        "local": req.socket_address().to_string(),
        "is_secure": req.is_secure(),
        "is_loaded": req.is_loaded(),
    });
    req.respond_json(200, &picture).unwrap();
}

#[test]
fn exposes_method_url_decoded_path_query_protocol_and_host() {
    let server = serve(Config::default(), describe);
    let url = server.url("/a%20b/%C3%A9t%C3%A9?a=1&b=two&a=3");
    let mut resp = agent()
        .get(&url)
        .header("User-Agent", "it-test")
        .header("X-Custom", "Value")
        .header("Cookie", "sid=abc; theme=dark")
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.body_mut().read_json().unwrap();
    assert_eq!(v["method"], "GET");
    assert_eq!(v["url"], "/a%20b/%C3%A9t%C3%A9?a=1&b=two&a=3");
    assert_eq!(v["path"], "/a b/été");
    assert_eq!(v["query_a"], json!(["1", "3"]));
    assert_eq!(v["query_b"], "two");
    assert_eq!(v["protocol"], "HTTP/1.1");
    assert_eq!(v["user_agent_any_case"], "it-test");
    assert_eq!(v["x_custom"], "Value");
    assert_eq!(v["host"], server.addr().to_string());
    assert_eq!(
        v["full_url"],
        format!("http://{}/a%20b/%C3%A9t%C3%A9?a=1&b=two&a=3", server.addr())
    );
    assert_eq!(v["cookies"], json!({"sid": "abc", "theme": "dark"}));
    assert_eq!(v["content_length"], Value::Null);
    assert_eq!(v["remote"], "127.0.0.1");
    assert_eq!(v["addr_ip"], "127.0.0.1");
    assert_eq!(v["local"], server.addr().to_string());
    assert_eq!(v["is_secure"], false);
    assert_eq!(v["is_loaded"], true);
}

#[test]
fn path_without_escapes_is_the_target_before_query_and_fragment() {
    let server = serve(Config::default(), describe);
    let mut client = server.connect();
    client.send("GET /plain/x.txt?a=1&b=+two#top HTTP/1.1\r\nHost: h\r\n\r\n");
    let v = client.read_response().json();
    assert_eq!(v["url"], "/plain/x.txt?a=1&b=+two#top");
    assert_eq!(v["path"], "/plain/x.txt");
    assert_eq!(v["query_a"], json!(["1"]));
    assert_eq!(v["query_b"], " two");
    assert_eq!(v["remote"], "127.0.0.1");
}

#[test]
fn header_names_are_case_insensitive_and_repeats_kept() {
    let server = serve(Config::default(), describe);
    let mut client = server.connect();
    client.send(
        "GET / HTTP/1.1\r\nHost: h.example:8080\r\nX-Rep: 1\r\nx-rep: 2\r\n\
         Cookie: a=1\r\nCookie: b=2\r\n\r\n",
    );
    let v = client.read_response().json();
    let reps: Vec<&Value> = v["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h[0] == "x-rep")
        .collect();
    assert_eq!(reps.len(), 2);
    assert_eq!(reps[1][1], "2");
    assert_eq!(v["host"], "h.example:8080");
    assert_eq!(v["full_url"], "http://h.example:8080/");
    assert_eq!(v["cookies"], json!({"a": "1", "b": "2"}));
}

#[test]
fn parses_json_bodies() {
    let server = serve(Config::default(), describe);
    let mut resp = agent()
        .post(server.url("/rpc"))
        .header("Content-Type", "application/json; charset=utf-8")
        .send(r#"{"x": [1, 2], "y": "z"}"#)
        .unwrap();
    let v: Value = resp.body_mut().read_json().unwrap();
    assert_eq!(v["method"], "POST");
    assert_eq!(v["content_type"], "application/json");
    assert_eq!(v["content_length"], 23);
    assert_eq!(v["json"], json!({"x": [1, 2], "y": "z"}));
    assert_eq!(v["data"], r#"{"x": [1, 2], "y": "z"}"#);
}

#[test]
fn parses_url_encoded_forms() {
    let server = serve(Config::default(), describe);
    let mut resp = agent()
        .post(server.url("/form"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send("name=J%C3%BCrgen+X&tag=a&tag=b")
        .unwrap();
    let v: Value = resp.body_mut().read_json().unwrap();
    assert_eq!(v["content_type"], "application/x-www-form-urlencoded");
    assert_eq!(v["form"], json!({"name": "Jürgen X", "tag": ["a", "b"]}));
    assert_eq!(v["json"], Value::Null);
}

#[test]
fn reports_http_10_and_a_missing_host() {
    let server = serve(Config::default(), describe);
    let mut client = server.connect();
    client.send("GET /x HTTP/1.0\r\n\r\n");
    let v = client.read_response().json();
    assert_eq!(v["protocol"], "HTTP/1.0");
    assert_eq!(v["host"], Value::Null);
    assert_eq!(v["full_url"], "http://localhost/x");
}

#[test]
fn takes_the_host_of_an_absolute_form_target() {
    let server = serve(Config::default(), describe);
    let mut client = server.connect();
    client.send("GET http://abs.example/p?q=1 HTTP/1.1\r\nHost: other\r\n\r\n");
    let v = client.read_response().json();
    assert_eq!(v["url"], "/p?q=1");
    assert_eq!(v["host"], "abs.example");
}
