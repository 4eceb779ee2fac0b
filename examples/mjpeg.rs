//! A `multipart/x-mixed-replace` stream of generated frames, the way an
//! MJPEG camera serves video: open `/` in a browser and a bar sweeps
//! across the picture. The frames are small PNG images made here (no
//! image crate needed); a camera would send JPEG frames the same way.
//!
//! ```text
//! cargo run --example mjpeg -- 8080
//! curl -sN localhost:8080/stream | head -c 2000 | strings | head
//! ```

use std::time::{Duration, Instant};

use uhttp::{Event, HttpServer, MultipartStream, Response};

const WIDTH: usize = 160;
const HEIGHT: usize = 90;
const FPS: u32 = 10;

fn main() -> Result<(), uhttp::Error> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let mut server = HttpServer::bind(("127.0.0.1", port))?;
    println!("listening on http://{}", server.local_addr());
    let mut viewers: Vec<MultipartStream> = Vec::new();
    let frame_time = Duration::from_secs(1) / FPS;
    let mut next_frame = Instant::now();
    let mut frame_number = 0usize;
    loop {
        let timeout = next_frame.saturating_duration_since(Instant::now());
        // Only the loop failing ends the program; a client that left
        // only makes its own answer fail.
        if let Some(Event::Request(req)) = server.wait(Some(timeout))? {
            let result = match req.path() {
                "/" => req.send(
                    Response::new(200)
                        .header("Content-Type", "text/html; charset=utf-8")
                        .body("<!doctype html><title>uhttp MJPEG</title><img src=\"/stream\">"),
                ),
                "/stream" => req
                    .response_multipart(Response::new(200))
                    .map(|viewer| viewers.push(viewer)),
                _ => req.respond(404, "Not Found\n"),
            };
            if let Err(e) = result {
                eprintln!("cannot answer {}: {e}", req.url());
            }
        }
        if Instant::now() >= next_frame {
            let png = frame(frame_number);
            // A viewer that left (or stopped reading) is dropped.
            viewers.retain(|v| v.send_frame("image/png", &png).is_ok());
            frame_number += 1;
            next_frame += frame_time;
        }
    }
}

/// An RGB picture with a bright bar at a position that moves each frame.
fn frame(n: usize) -> Vec<u8> {
    let bar = (n * 4) % WIDTH;
    let mut rows = Vec::with_capacity(HEIGHT * (1 + WIDTH * 3));
    for y in 0..HEIGHT {
        rows.push(0); // PNG filter type: none
        for x in 0..WIDTH {
            let on_bar = x.abs_diff(bar) < 6;
            let shade = (y * 255 / HEIGHT) as u8;
            let pixel = if on_bar {
                [255, 200, 0]
            } else {
                [20, 40, shade]
            };
            rows.extend_from_slice(&pixel);
        }
    }
    png(WIDTH as u32, HEIGHT as u32, &rows)
}

/// A PNG (8-bit RGB) with the image data in stored (uncompressed) deflate
/// blocks.
fn png(width: u32, height: u32, rows: &[u8]) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]); // depth 8, RGB
    chunk(&mut out, b"IHDR", &header);
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = rows.chunks(65535).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler32(rows).to_be_bytes());
    chunk(&mut out, b"IDAT", &zlib);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    b << 16 | a
}
