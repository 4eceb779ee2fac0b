//! uhttpd: serve a directory over HTTP(S), echo requests at /rpc, receive uploads.

// Modules are being written in parallel and wired into `main` as they land.
#![allow(dead_code)]

mod cli;
mod generate;
mod multipart;
mod size;
mod static_files;
mod tls_reload;

fn main() {
    // Hidden, for packagers: `uhttpd --generate-files DIR` writes the man
    // page and shell completions under DIR, then exits.
    let mut args = std::env::args_os().skip(1);
    if args.next().is_some_and(|arg| arg == "--generate-files") {
        let dir = std::path::PathBuf::from(args.next().unwrap_or_else(|| ".".into()));
        let code = match generate::write_all(&dir) {
            Ok(()) => 0,
            Err(err) => {
                eprintln!(
                    "uhttpd: cannot write generated files under {}: {err}",
                    dir.display()
                );
                1
            }
        };
        std::process::exit(code);
    }
}
