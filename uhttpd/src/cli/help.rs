//! The prose of `--help` and the man page around the options: the
//! summary, the description and the examples. Each option's own text is its
//! doc comment in `args.rs`.

/// One line under the usage.
pub const ABOUT: &str =
    "Serve a directory over HTTP or HTTPS, echo requests at /rpc, receive uploads";

/// The description of `--help` and of the man page.
pub const LONG_ABOUT: &str = "\
uhttpd serves the files of a directory over HTTP or HTTPS.
It also echoes requests back as JSON at /rpc and, when asked, receives uploads.

With no options it serves the current directory over plain HTTP on port 8080, \
on all interfaces, and prints the URL it listens on. Sizes take an optional K, \
M, G or T suffix (powers of 1024: 10K is 10240 bytes); times are whole seconds. \
Every option can also come from a TOML file given with --config.";

/// The examples at the end of `--help` and in the man page: what each
/// does, then the command lines.
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "Serve the directory ./public on http://localhost:8000/:",
        "uhttpd -p 8000 public",
    ),
    (
        "Serve /srv/www over HTTPS with certbot's files, redirecting plain HTTP to it:",
        "uhttpd /srv/www -p 443 --redirect-http 80 \\\n    \
         --cert /etc/letsencrypt/live/example.com/fullchain.pem \\\n    \
         --key /etc/letsencrypt/live/example.com/privkey.pem",
    ),
    (
        "Accept uploads of up to 100 MiB into ./incoming, then send a file with curl:",
        "uhttpd --upload-dir incoming --max-upload-size 100M\n\
         curl -T report.pdf http://localhost:8080/upload/report.pdf",
    ),
];

/// [`EXAMPLES`] laid out for `--help`.
pub fn examples_help() -> String {
    let mut text = String::from("Examples:");
    for (what, commands) in EXAMPLES {
        text.push_str("\n  ");
        text.push_str(what);
        for line in commands.lines() {
            text.push_str("\n    ");
            text.push_str(line);
        }
        text.push('\n');
    }
    text.pop();
    text
}
