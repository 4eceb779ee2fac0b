//! Server-Sent Events: data lines, fields, refusals, comments.

use uhttp::{Config, Error, Response, SseStream};

use crate::util::{Client, IO_TIMEOUT, TestServer, serve_streams};

fn open() -> (TestServer, Client, SseStream) {
    let (server, streams) = serve_streams(Config::default(), |req| {
        req.response_sse(Response::new(200)).unwrap()
    });
    let mut client = server.connect();
    client.request("GET", "/events", "HTTP/1.1");
    let stream = streams.recv_timeout(IO_TIMEOUT).unwrap();
    let head = client.head();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-type"), Some("text/event-stream"));
    assert_eq!(head.header("cache-control"), Some("no-cache"));
    assert!(head.is_chunked());
    (server, client, stream)
}

fn text(chunk: Option<Vec<u8>>) -> String {
    String::from_utf8(chunk.expect("a chunk")).unwrap()
}

#[test]
fn splits_multi_line_data_into_one_data_line_each() {
    let (_server, mut client, stream) = open();
    stream.send_event("a\nb\r\nc", None, None, None).unwrap();
    assert_eq!(text(client.chunk()), "data: a\ndata: b\ndata: c\n\n");
    stream
        .send_event("cr\rand trailing\n", None, None, None)
        .unwrap();
    assert_eq!(
        text(client.chunk()),
        "data: cr\ndata: and trailing\ndata: \n\n"
    );
}

#[test]
fn writes_event_id_and_retry_fields_before_the_data() {
    let (_server, mut client, stream) = open();
    stream
        .send_event("payload", Some("tick"), Some("7"), Some(1500))
        .unwrap();
    assert_eq!(
        text(client.chunk()),
        "event: tick\nid: 7\nretry: 1500\ndata: payload\n\n"
    );
    stream.send_event("", None, None, None).unwrap();
    assert_eq!(text(client.chunk()), "data: \n\n");
}

#[test]
fn refuses_line_breaks_in_event_or_id_and_sends_nothing() {
    let (_server, mut client, stream) = open();
    let bad: [(Option<&str>, Option<&str>); 5] = [
        (Some("a\nb"), None),
        (Some("a\rb"), None),
        (None, Some("1\n2")),
        (None, Some("1\r\nevent: x")),
        (None, Some("nul\0")),
    ];
    for (event, id) in bad {
        let sent = stream.send_event("data", event, id, None);
        assert!(
            matches!(sent, Err(Error::InvalidHeader(_))),
            "{event:?} {id:?}: {sent:?}"
        );
    }
    // The next chunk on the wire is the next good event: nothing leaked.
    stream.send_event("fine", Some("ok"), None, None).unwrap();
    assert_eq!(text(client.chunk()), "event: ok\ndata: fine\n\n");
}

#[test]
fn sends_comments_as_keep_alive_and_ends_with_the_last_chunk() {
    let (_server, mut client, stream) = open();
    stream.send_comment("keep-alive").unwrap();
    assert_eq!(text(client.chunk()), ": keep-alive\n\n");
    stream.send_comment("two\nlines").unwrap();
    assert_eq!(text(client.chunk()), ": two\n: lines\n\n");
    stream.end().unwrap();
    assert_eq!(client.chunk(), None);
}
