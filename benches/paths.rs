//! Micro-benchmarks of URL path decoding on worst-case inputs.
//!
//! `uhttpd`'s path resolver (`uhttpd/src/static_files/resolve.rs`) lives
//! in the binary, which a bench cannot import, so this measures the library
//! function it decodes each segment with, `uhttp::util::decode_percent_encoding`,
//! on long and percent-heavy paths. Run with `cargo bench --bench paths`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use uhttp::util::{decode_percent_encoding, split_url};

fn inputs() -> Vec<(&'static str, String)> {
    let typical = "/assets/img/logo-2x.png".to_owned();
    // 8 KiB (the default header limit) of plain segments.
    let long_plain = "/abcdefghijklmno".repeat(512);
    // Every byte percent-encoded: a 2.7 KiB decoded name from 8 KiB of input.
    let all_encoded = "/".to_owned() + &"%41%42%43%44%45%46%47%48".repeat(341);
    // Multi-byte UTF-8 spelled as escapes (é = %C3%A9).
    let utf8_encoded = "/".to_owned() + &"%C3%A9".repeat(1365);
    // Encoded traversal attempts in many segments: what an attacker sends.
    let traversal = "/%2e%2e".repeat(1024);
    // Broken escapes and lone percents, which are kept as they are.
    let malformed = "/%zz%4%".repeat(1170);
    vec![
        ("typical", typical),
        ("long_plain_8KiB", long_plain),
        ("all_encoded_8KiB", all_encoded),
        ("utf8_encoded_8KiB", utf8_encoded),
        ("encoded_traversal_8KiB", traversal),
        ("malformed_escapes_8KiB", malformed),
    ]
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode_percent_encoding");
    for (name, path) in inputs() {
        group.throughput(Throughput::Bytes(path.len() as u64));
        group.bench_function(format!("{name}/whole"), |b| {
            b.iter(|| decode_percent_encoding(black_box(&path)))
        });
        // The resolver splits on '/' before decoding, then decodes each segment.
        group.bench_function(format!("{name}/per_segment"), |b| {
            b.iter(|| {
                black_box(&path)
                    .split('/')
                    .map(|segment| decode_percent_encoding(segment).len())
                    .sum::<usize>()
            })
        });
    }
    group.finish();
}

fn split(c: &mut Criterion) {
    let url = format!("{}?{}", "/a%20b".repeat(200), "k=v&".repeat(200));
    c.bench_function("split_url/long", |b| b.iter(|| split_url(black_box(&url))));
}

criterion_group!(benches, decode, split);
criterion_main!(benches);
