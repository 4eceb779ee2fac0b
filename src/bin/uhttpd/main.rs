//! uhttpd: serve a directory over HTTP(S), echo requests at /rpc, receive uploads.

// Modules are being written in parallel and wired into `main` as they land.
#![allow(dead_code)]

mod cli;
mod generate;
mod multipart;
mod size;
mod static_files;
mod tls_reload;

fn main() {}
