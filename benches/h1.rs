//! Micro-benchmarks of the sans-IO HTTP/1.1 core: request-head parsing,
//! response-head encoding and chunked body decoding.
//!
//! Run with `cargo bench --bench h1`; the end-to-end comparison with other
//! servers is `bench/run.sh`.

use std::hint::black_box;
use std::time::SystemTime;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use uhttp::h1::body::BodyDecoder;
use uhttp::h1::encode::{ConnectionHeader, DateCache, Framing, encode_head};
use uhttp::h1::head::{Parsed, parse_head};

const MAX_HEAD: usize = 64 * 1024;

/// What a desktop browser sends for a page.
const BROWSER: &[u8] = b"GET /docs/index.html?lang=en HTTP/1.1\r\n\
Host: www.example.org\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Connection: keep-alive\r\n\
Cookie: session=3f1c2a9b7d4e; theme=dark\r\n\
Upgrade-Insecure-Requests: 1\r\n\
Sec-Fetch-Dest: document\r\n\
Sec-Fetch-Mode: navigate\r\n\
Sec-Fetch-Site: none\r\n\
Sec-Fetch-User: ?1\r\n\
If-None-Match: \"5f3a-19c2b0e4\"\r\n\
Priority: u=0, i\r\n\r\n";

/// A request with 40 header lines (a client behind several proxies).
fn forty_headers() -> Vec<u8> {
    let mut req =
        b"POST /api/v1/items?limit=50&offset=100 HTTP/1.1\r\nHost: api.example.org\r\n".to_vec();
    req.extend_from_slice(b"Content-Type: application/json\r\nContent-Length: 0\r\n");
    for i in 0..37 {
        req.extend_from_slice(
            format!(
                "X-Custom-Header-{i:02}: value-{i:02}-abcdefghijklmnopqrstuvwxyz0123456789\r\n"
            )
            .as_bytes(),
        );
    }
    req.extend_from_slice(b"\r\n");
    req
}

fn parse(c: &mut Criterion) {
    let forty = forty_headers();
    let mut group = c.benchmark_group("parse_head");
    for (name, input) in [("browser", BROWSER), ("40_headers", forty.as_slice())] {
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| match parse_head(black_box(input), MAX_HEAD) {
                Ok(Parsed::Complete(head, len)) => (head, len),
                other => panic!("not a complete head: {other:?}"),
            })
        });
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let mut dates = DateCache::default();
    let date = dates.get(SystemTime::now()).to_vec();
    let static_file = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Last-Modified", "Tue, 25 Nov 2025 00:24:00 GMT"),
        ("ETag", "\"5f3a-19c2b0e4\""),
        ("Accept-Ranges", "bytes"),
    ];
    let mut out = Vec::with_capacity(512);
    let mut group = c.benchmark_group("encode_head");
    group.bench_function("static_file_200", |b| {
        b.iter(|| {
            out.clear();
            encode_head(
                &mut out,
                black_box(200),
                &date,
                Framing::Length(black_box(1024)),
                ConnectionHeader::Omit,
                static_file.iter().copied(),
            );
            black_box(out.len())
        })
    });
    group.bench_function("chunked_close", |b| {
        b.iter(|| {
            out.clear();
            encode_head(
                &mut out,
                black_box(200),
                &date,
                Framing::Chunked,
                ConnectionHeader::Close,
                [("Content-Type", "application/x-ndjson")],
            );
            black_box(out.len())
        })
    });
    group.bench_function("date_cache_same_second", |b| {
        let now = SystemTime::now();
        b.iter(|| black_box(dates.get(black_box(now)).len()))
    });
    group.finish();
}

/// A chunked body of `chunks` chunks of `size` bytes each, with the final
/// zero-size chunk.
fn chunked_body(chunks: usize, size: usize) -> Vec<u8> {
    let mut body = Vec::new();
    for _ in 0..chunks {
        body.extend_from_slice(format!("{size:x};ext=1\r\n").as_bytes());
        body.extend(std::iter::repeat_n(b'x', size));
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    body
}

fn decode_all(input: &[u8]) -> usize {
    let mut decoder = BodyDecoder::chunked();
    let mut rest = input;
    let mut total = 0;
    while !decoder.is_done() {
        let step = decoder.decode(rest).expect("valid chunked body");
        total += step.data.len();
        rest = &rest[step.consumed..];
    }
    total
}

fn chunked(c: &mut Criterion) {
    let mut group = c.benchmark_group("chunked_decode");
    for (name, chunks, size) in [
        ("64KiB_in_16B_chunks", 4096, 16),
        ("64KiB_in_4KiB_chunks", 16, 4096),
    ] {
        let body = chunked_body(chunks, size);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(name, |b| b.iter(|| decode_all(black_box(&body))));
    }
    group.finish();
}

criterion_group!(benches, parse, encode, chunked);
criterion_main!(benches);
