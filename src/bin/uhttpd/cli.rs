//! The command line of `uhttpd` and its TOML config file, merged into one
//! [`Settings`].
//!
//! ```text
//! argv ──clap──▶ Cli + ArgMatches ─┐
//!                                  ├─ merge + check ─▶ Settings
//! -c FILE ──toml──▶ FileSettings ──┘
//! ```
//!
//! [`Cli`] is the option contract: its doc comments are the `--help` text,
//! and the man page and shell completions are rendered from it
//! (`generate.rs`). [`resolve`] parses the command line, reads the config
//! file named by `-c` if any, and returns [`Settings`], where every value
//! has its final type and default. A value given on the command line wins
//! over the file, which wins over the built-in default.
//!
//! Nothing here binds a socket or looks at ROOT or the certificate: that
//! happens when the settings are turned into a running server. Reading the
//! config file is the one piece of I/O, kept in [`resolve_from`].
//!
//! # Config file
//!
//! TOML, one key per option: the long option name with `_` for `-`
//! (snake_case), values typed as on the command line:
//!
//! ```toml
//! root = "/srv/www"
//! bind = ["::1", "127.0.0.1"]   # or a single string
//! port = 8443
//! cert = "/etc/letsencrypt/live/example.com/fullchain.pem"
//! key = "/etc/letsencrypt/live/example.com/privkey.pem"
//! redirect_http = 8080
//! upload_dir = "/srv/in"
//! max_upload_size = "1G"        # or a number of bytes
//! keep_alive_timeout = 30       # whole seconds
//! no_listing = true
//! trusted_proxy = ["10.0.0.1"]
//! verbose = 1                   # or true; quiet likewise
//! ```
//!
//! Unknown keys are an error. Relative paths in the file are relative to
//! the directory holding the file. Lists from the command line (`--bind`,
//! `--trusted-proxy`) replace the file's list rather than adding to it;
//! `-q`/`-v` on the command line replace the file's `quiet`/`verbose`.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::builder::RangedU64ValueParser;
use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, CommandFactory, FromArgMatches, Parser};
use log::LevelFilter;
use serde::Deserialize;

use crate::size::parse_size;

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
fn examples_help() -> String {
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

const ABOUT: &str = "Serve a directory over HTTP or HTTPS, echo requests at /rpc, receive uploads";

const LONG_ABOUT: &str = "\
uhttpd serves the files of a directory over HTTP or HTTPS.
It also echoes requests back as JSON at /rpc and, when asked, receives uploads.

With no options it serves the current directory over plain HTTP on port 8080, \
on all interfaces, and prints the URL it listens on. Sizes take an optional K, \
M, G or T suffix (powers of 1024: 10K is 10240 bytes); times are whole seconds. \
Every option can also come from a TOML file given with --config.";

/// The `uhttpd` command line. Parse it with [`resolve`], which also merges
/// the config file; parsing `Cli` alone ignores `--config`.
#[derive(Debug, Parser)]
#[command(
    name = "uhttpd",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = examples_help(),
    max_term_width = 100
)]
pub struct Cli {
    /// Directory to serve
    #[arg(value_name = "ROOT", default_value = ".", value_hint = clap::ValueHint::DirPath)]
    pub root: PathBuf,

    /// Address to listen on, without a port (repeat for several) [default: all interfaces]
    ///
    /// An IPv4 or IPv6 address such as 127.0.0.1 or ::1; the port comes
    /// from --port. Without --bind, uhttpd listens on all interfaces: on ::
    /// (which also takes IPv4 connections), or on 0.0.0.0 on hosts without
    /// IPv6.
    #[arg(short, long, value_name = "ADDR", help_heading = "Listening")]
    pub bind: Vec<IpAddr>,

    /// Port to listen on; 0 picks a free port and prints it
    #[arg(
        short,
        long,
        value_name = "PORT",
        default_value_t = 8080,
        help_heading = "Listening"
    )]
    pub port: u16,

    /// Number of threads accepting connections on the same port
    ///
    /// Each worker runs its own poll loop; the kernel spreads new
    /// connections between them (SO_REUSEPORT). At least 1.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1,
        value_parser = RangedU64ValueParser::<usize>::new().range(1..),
        help_heading = "Listening"
    )]
    pub workers: usize,

    /// PEM certificate chain for HTTPS (needs --key)
    ///
    /// The server's certificate followed by the intermediates, such as
    /// certbot's fullchain.pem. With --cert and --key, uhttpd serves HTTPS
    /// instead of HTTP, and reloads the pair when either file changes.
    #[arg(
        long,
        value_name = "FILE",
        requires = "key",
        value_hint = clap::ValueHint::FilePath,
        help_heading = "HTTPS"
    )]
    pub cert: Option<PathBuf>,

    /// PEM private key for HTTPS (needs --cert)
    ///
    /// RSA, ECDSA or Ed25519 key in PKCS#1, PKCS#8 or SEC1 form, such as
    /// certbot's privkey.pem.
    #[arg(
        long,
        value_name = "FILE",
        requires = "cert",
        value_hint = clap::ValueHint::FilePath,
        help_heading = "HTTPS"
    )]
    pub key: Option<PathBuf>,

    /// Also listen for plain HTTP on PORT and redirect it to HTTPS
    ///
    /// Needs --cert and --key (on the command line or in the config file).
    /// Every request on PORT is answered with a redirect to the same path on
    /// the HTTPS listener.
    #[arg(long, value_name = "PORT", help_heading = "HTTPS")]
    pub redirect_http: Option<u16>,

    /// Accept uploads into DIR (off by default)
    ///
    /// PUT /upload/NAME (as "curl -T FILE URL/upload/NAME" sends it) and
    /// POST /upload from an HTML form store files in DIR. A file appears
    /// under its name only once it is complete.
    #[arg(
        long,
        value_name = "DIR",
        value_hint = clap::ValueHint::DirPath,
        help_heading = "Uploads"
    )]
    pub upload_dir: Option<PathBuf>,

    /// Let an upload replace an existing file (otherwise: 409 Conflict)
    #[arg(long, help_heading = "Uploads")]
    pub overwrite: bool,

    /// Largest file accepted by an upload, e.g. 500M (larger: 413)
    #[arg(
        long,
        value_name = "SIZE",
        default_value = "1G",
        value_parser = parse_size,
        help_heading = "Uploads"
    )]
    pub max_upload_size: u64,

    /// Most connections open at once, per worker
    ///
    /// At the limit, the connection idle the longest between requests is
    /// closed to admit a new client; only while every connection is busy
    /// do new clients wait to be accepted. Default: derived from the
    /// open-file limit, which uhttpd raises to its hard maximum at
    /// start-up: (limit - 64) / (2 x workers), or / (3 x workers) with
    /// --redirect-http, at most 65536 (logged at start-up).
    #[arg(
        long,
        value_name = "N",
        value_parser = RangedU64ValueParser::<usize>::new().range(1..),
        help_heading = "Limits"
    )]
    pub max_connections: Option<usize>,

    /// Seconds an idle keep-alive connection stays open
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 15,
        value_parser = clap::value_parser!(u64).range(1..),
        help_heading = "Limits"
    )]
    pub keep_alive_timeout: u64,

    /// Requests served on one connection before it is closed (1: no keep-alive)
    #[arg(
        long,
        value_name = "N",
        default_value_t = 100,
        value_parser = RangedU64ValueParser::<usize>::new().range(1..),
        help_heading = "Limits"
    )]
    pub keep_alive_max_requests: usize,

    /// Seconds allowed from a request's first byte to the end of its headers (then: 408)
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 5,
        value_parser = clap::value_parser!(u64).range(1..),
        help_heading = "Limits"
    )]
    pub request_timeout: u64,

    /// Seconds a response may go without the client reading any of it before it is cut off
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..),
        help_heading = "Limits"
    )]
    pub send_timeout: u64,

    /// Largest request line plus headers (larger: 431)
    // 8K rather than the library's 4K: browsers with a few cookies exceed 4K.
    #[arg(
        long,
        value_name = "SIZE",
        default_value = "8K",
        value_parser = parse_size,
        help_heading = "Limits"
    )]
    pub max_headers_length: u64,

    /// Largest request body outside uploads, e.g. for /rpc (larger: 413)
    #[arg(
        long,
        value_name = "SIZE",
        default_value = "512K",
        value_parser = parse_size,
        help_heading = "Limits"
    )]
    pub max_content_length: u64,

    /// Do not list directories that have no index.html (answer 404)
    #[arg(long, help_heading = "Features")]
    pub no_listing: bool,

    /// Turn off the /rpc endpoint that echoes requests back as JSON
    #[arg(long, help_heading = "Features")]
    pub no_rpc: bool,

    /// Trust X-Forwarded-For from this proxy address (repeat for several)
    ///
    /// Requests coming from ADDR are logged with the client address the
    /// proxy reports; from any other address the header is ignored.
    #[arg(long, value_name = "ADDR", help_heading = "Access")]
    pub trusted_proxy: Vec<IpAddr>,

    /// Require an HTTP Basic login from the users listed in FILE
    ///
    /// FILE holds user names and password hashes, so that no password
    /// appears on the command line, where any local user can see it with ps.
    #[arg(
        long,
        value_name = "FILE",
        value_hint = clap::ValueHint::FilePath,
        help_heading = "Access"
    )]
    pub auth_file: Option<PathBuf>,

    /// With --auth-file: reading stays public, only uploads need a login
    #[arg(long, help_heading = "Access")]
    pub auth_uploads_only: bool,

    /// Read settings from a TOML file; options given here override it
    ///
    /// Keys are the long option names with _ instead of -, for example:
    /// port = 8443, upload_dir = "/srv/in", max_upload_size = "1G",
    /// bind = ["::"], no_listing = true, verbose = 1. Unknown keys
    /// are an error. Relative paths are relative to the file's directory.
    /// A list given on the command line (--bind, --trusted-proxy) replaces
    /// the file's list.
    #[arg(
        short,
        long,
        value_name = "FILE",
        value_hint = clap::ValueHint::FilePath
    )]
    pub config: Option<PathBuf>,

    /// Log less: -q hides the access log, -qq warnings, -qqq errors
    #[arg(
        short,
        long,
        action = ArgAction::Count,
        conflicts_with = "verbose",
        help_heading = "Logging"
    )]
    pub quiet: u8,

    /// Log more: -v adds debug messages, -vv traces (RUST_LOG also works)
    #[arg(short, long, action = ArgAction::Count, help_heading = "Logging")]
    pub verbose: u8,
}

/// Everything `uhttpd` needs to start, from the command line, the config
/// file and the defaults, each value in its final type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Directory to serve (not yet checked to exist).
    pub root: PathBuf,
    /// Addresses to listen on. Empty: all interfaces (`::`, or `0.0.0.0`
    /// on hosts without IPv6).
    pub bind: Vec<IpAddr>,
    /// Port for every address in `bind`; 0 means "pick a free one".
    pub port: u16,
    /// Number of poll loops sharing the port (`SO_REUSEPORT`); at least 1.
    pub workers: usize,
    /// Certificate and key: serve HTTPS. `None`: plain HTTP.
    pub tls: Option<TlsFiles>,
    /// Plain-HTTP port redirecting to HTTPS; only ever set with `tls`.
    pub redirect_http: Option<u16>,
    /// Uploads go here; `None`: uploads are off.
    pub upload_dir: Option<PathBuf>,
    /// An upload may replace an existing file.
    pub overwrite: bool,
    /// Largest upload, in bytes.
    pub max_upload_size: u64,
    /// Most connections open at once per worker; at least 1. `None`:
    /// derived from the open-file limit at start-up.
    pub max_connections: Option<usize>,
    /// Idle time before a keep-alive connection is closed; at least 1 s.
    pub keep_alive_timeout: Duration,
    /// Requests per connection; at least 1.
    pub keep_alive_max_requests: usize,
    /// Time from a request's first byte to the end of its headers; at least 1 s.
    pub request_timeout: Duration,
    /// Longest time without progress while a response is sent; at least 1 s.
    pub send_timeout: Duration,
    /// Largest request line plus headers, in bytes.
    pub max_headers_length: usize,
    /// Largest request body outside uploads, in bytes.
    pub max_content_length: u64,
    /// Directory listings are on (`--no-listing` turns them off).
    pub listing: bool,
    /// The `/rpc` echo endpoint is on (`--no-rpc` turns it off).
    pub rpc: bool,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// HTTP Basic authentication; `None`: everything is public.
    pub auth: Option<AuthSettings>,
    /// Log level from `-q`/`-v` (`Info` by default); `RUST_LOG`, when set,
    /// is for the caller to apply on top.
    pub log_level: LevelFilter,
    /// The config file the settings were read from, if any.
    pub config_file: Option<PathBuf>,
}

/// The PEM files of an HTTPS listener: always both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain, leaf first.
    pub cert: PathBuf,
    /// Private key.
    pub key: PathBuf,
}

/// HTTP Basic authentication settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    /// File of user names and password hashes.
    pub file: PathBuf,
    /// Only uploads need a login; reading stays public.
    pub uploads_only: bool,
}

/// Why the settings could not be resolved.
#[derive(Debug)]
pub enum ResolveError {
    /// The command line did not parse, or asked for `--help`/`--version`:
    /// `err.exit()` prints the right text and exits with the right code.
    Usage(clap::Error),
    /// The config file or the merged values are wrong; one line, naming the
    /// file or option.
    Invalid(String),
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::Usage(err) => err.fmt(f),
            ResolveError::Invalid(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for ResolveError {}

/// Resolves the settings from the process's arguments.
///
/// Like clap's `Parser::parse`, a usage error, `--help` or `--version`
/// prints its text and exits the process. Any other problem is returned as
/// one line for `main` to print.
pub fn resolve() -> Result<Settings, String> {
    use clap::error::ErrorKind;
    match resolve_from(std::env::args_os()) {
        Ok(settings) => Ok(settings),
        Err(ResolveError::Usage(err)) => match err.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => err.exit(),
            _ => Err(one_line(&err)),
        },
        Err(ResolveError::Invalid(msg)) => Err(msg),
    }
}

/// A clap usage error as one line: its message without the usage block,
/// e.g. `the following required arguments were not provided: --key <FILE>
/// (see uhttpd --help)`.
fn one_line(err: &clap::Error) -> String {
    let rendered = err.render().to_string();
    // The message is the first paragraph; usage and hints follow.
    let message = rendered.split("\n\n").next().unwrap_or(&rendered);
    let message = message.trim().trim_start_matches("error:").trim();
    let words: Vec<&str> = message.split_whitespace().collect();
    format!("{} (see uhttpd --help)", words.join(" "))
}

/// Resolves the settings from `args` (the first item is the program name):
/// parses them, reads the `--config` file if one is named, merges, checks.
pub fn resolve_from<I, T>(args: I) -> Result<Settings, ResolveError>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let matches = Cli::command()
        .try_get_matches_from(args)
        .map_err(ResolveError::Usage)?;
    let cli = Cli::from_arg_matches(&matches).map_err(ResolveError::Usage)?;
    let file = match &cli.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|err| {
                ResolveError::Invalid(format!("cannot read config file {}: {err}", path.display()))
            })?;
            Some(FileSettings::parse(path, &text).map_err(ResolveError::Invalid)?)
        }
        None => None,
    };
    merge(cli, &matches, file).map_err(ResolveError::Invalid)
}

/// The config file: every key optional, named like the long options.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    root: Option<PathBuf>,
    #[serde(default, deserialize_with = "de::addresses")]
    bind: Option<Vec<IpAddr>>,
    port: Option<u16>,
    workers: Option<usize>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    redirect_http: Option<u16>,
    upload_dir: Option<PathBuf>,
    overwrite: Option<bool>,
    #[serde(default, deserialize_with = "de::size")]
    max_upload_size: Option<u64>,
    max_connections: Option<usize>,
    keep_alive_timeout: Option<u64>,
    keep_alive_max_requests: Option<usize>,
    request_timeout: Option<u64>,
    send_timeout: Option<u64>,
    #[serde(default, deserialize_with = "de::size")]
    max_headers_length: Option<u64>,
    #[serde(default, deserialize_with = "de::size")]
    max_content_length: Option<u64>,
    no_listing: Option<bool>,
    no_rpc: Option<bool>,
    #[serde(default, deserialize_with = "de::addresses")]
    trusted_proxy: Option<Vec<IpAddr>>,
    auth_file: Option<PathBuf>,
    auth_uploads_only: Option<bool>,
    #[serde(default, deserialize_with = "de::count")]
    quiet: Option<u8>,
    #[serde(default, deserialize_with = "de::count")]
    verbose: Option<u8>,
}

impl FileSettings {
    /// Parses the file's text; paths in it become relative to its directory.
    /// Errors are one line: `PATH: line N: what is wrong`.
    fn parse(path: &Path, text: &str) -> Result<FileSettings, String> {
        let mut file: FileSettings = toml::from_str(text).map_err(|err| {
            let line = err
                .span()
                .map(|span| format!(" line {}:", line_of(text, span.start)))
                .unwrap_or_default();
            // toml's messages may span lines; keep the error on one.
            let message = err.message().trim().replace('\n', ", ");
            format!("config file {}:{line} {message}", path.display())
        })?;
        let dir = path.parent().unwrap_or(Path::new(""));
        for p in [
            &mut file.root,
            &mut file.cert,
            &mut file.key,
            &mut file.upload_dir,
            &mut file.auth_file,
        ]
        .into_iter()
        .flatten()
        {
            *p = dir.join(&*p);
        }
        Ok(file)
    }
}

/// 1-based line number of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Merges the command line over the file over the defaults, then checks the
/// rules that span several options.
fn merge(cli: Cli, matches: &ArgMatches, file: Option<FileSettings>) -> Result<Settings, String> {
    let file = file.unwrap_or_default();
    let list = |cli_value: Vec<IpAddr>, file_value: Option<Vec<IpAddr>>| {
        if cli_value.is_empty() {
            file_value.unwrap_or_default()
        } else {
            cli_value
        }
    };

    let root = pick(matches, "root", cli.root, file.root);
    let tls = match (cli.cert.or(file.cert), cli.key.or(file.key)) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        _ => return Err("--cert and --key go together: give both or neither".into()),
    };
    let redirect_http = cli.redirect_http.or(file.redirect_http);
    let port = pick(matches, "port", cli.port, file.port);
    if let Some(redirect) = redirect_http {
        if tls.is_none() {
            return Err("--redirect-http needs --cert and --key (it redirects to HTTPS)".into());
        }
        if redirect == port && port != 0 {
            return Err(format!(
                "--redirect-http {redirect} is the HTTPS port itself; choose another port"
            ));
        }
    }
    let auth = match (
        cli.auth_file.or(file.auth_file),
        cli.auth_uploads_only || file.auth_uploads_only.unwrap_or(false),
    ) {
        (Some(file), uploads_only) => Some(AuthSettings { file, uploads_only }),
        (None, false) => None,
        (None, true) => return Err("--auth-uploads-only needs --auth-file".into()),
    };
    let (quiet, verbose) = if cli.quiet > 0 || cli.verbose > 0 {
        (cli.quiet, cli.verbose)
    } else {
        (file.quiet.unwrap_or(0), file.verbose.unwrap_or(0))
    };
    if quiet > 0 && verbose > 0 {
        return Err("quiet and verbose cannot both be set".into());
    }

    let workers = at_least_one(
        "workers",
        pick(matches, "workers", cli.workers, file.workers),
    )?;
    let max_connections = cli
        .max_connections
        .or(file.max_connections)
        .map(|n| at_least_one("max-connections", n))
        .transpose()?;
    let keep_alive_max_requests = at_least_one(
        "keep-alive-max-requests",
        pick(
            matches,
            "keep_alive_max_requests",
            cli.keep_alive_max_requests,
            file.keep_alive_max_requests,
        ),
    )?;
    let keep_alive_timeout = at_least_one(
        "keep-alive-timeout",
        pick(
            matches,
            "keep_alive_timeout",
            cli.keep_alive_timeout,
            file.keep_alive_timeout,
        ),
    )?;
    let request_timeout = at_least_one(
        "request-timeout",
        pick(
            matches,
            "request_timeout",
            cli.request_timeout,
            file.request_timeout,
        ),
    )?;
    let send_timeout = at_least_one(
        "send-timeout",
        pick(matches, "send_timeout", cli.send_timeout, file.send_timeout),
    )?;
    let max_headers_length = pick(
        matches,
        "max_headers_length",
        cli.max_headers_length,
        file.max_headers_length,
    );
    let max_headers_length = usize::try_from(max_headers_length)
        .map_err(|_| format!("--max-headers-length {max_headers_length} is too large"))?;

    Ok(Settings {
        root,
        bind: list(cli.bind, file.bind),
        port,
        workers,
        tls,
        redirect_http,
        upload_dir: cli.upload_dir.or(file.upload_dir),
        overwrite: cli.overwrite || file.overwrite.unwrap_or(false),
        max_upload_size: pick(
            matches,
            "max_upload_size",
            cli.max_upload_size,
            file.max_upload_size,
        ),
        max_connections,
        keep_alive_timeout: Duration::from_secs(keep_alive_timeout),
        keep_alive_max_requests,
        request_timeout: Duration::from_secs(request_timeout),
        send_timeout: Duration::from_secs(send_timeout),
        max_headers_length,
        max_content_length: pick(
            matches,
            "max_content_length",
            cli.max_content_length,
            file.max_content_length,
        ),
        listing: !(cli.no_listing || file.no_listing.unwrap_or(false)),
        rpc: !(cli.no_rpc || file.no_rpc.unwrap_or(false)),
        trusted_proxies: list(cli.trusted_proxy, file.trusted_proxy),
        auth,
        log_level: log_level(quiet, verbose),
        config_file: cli.config,
    })
}

/// Whether option `id` was typed on the command line (rather than taken
/// from its default).
fn typed(matches: &ArgMatches, id: &str) -> bool {
    matches.value_source(id) == Some(ValueSource::CommandLine)
}

/// For an option with a default: the command line's value if typed there,
/// else the file's if it has one, else the default.
fn pick<T>(matches: &ArgMatches, id: &str, cli_value: T, file_value: Option<T>) -> T {
    if typed(matches, id) {
        cli_value
    } else {
        file_value.unwrap_or(cli_value)
    }
}

/// Refuses 0 for counts and timeouts (the command line refuses it already;
/// this catches the config file).
fn at_least_one<T: PartialEq + From<u8>>(option: &str, value: T) -> Result<T, String> {
    if value == T::from(0) {
        Err(format!("--{option} must be at least 1"))
    } else {
        Ok(value)
    }
}

/// `Info` by default (the access log is at `info`); each `-q` takes one
/// level away, each `-v` adds one.
fn log_level(quiet: u8, verbose: u8) -> LevelFilter {
    match (quiet, verbose) {
        (0, 0) => LevelFilter::Info,
        (0, 1) => LevelFilter::Debug,
        (0, _) => LevelFilter::Trace,
        (1, _) => LevelFilter::Warn,
        (2, _) => LevelFilter::Error,
        _ => LevelFilter::Off,
    }
}

/// Deserializers for config-file values that take more than one form.
mod de {
    use std::fmt;
    use std::net::IpAddr;

    use serde::Deserializer;
    use serde::de::{Error, SeqAccess, Visitor};

    use crate::size::parse_size;

    /// A size: a number of bytes, or a string such as `"512K"`.
    pub fn size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        struct SizeVisitor;
        impl Visitor<'_> for SizeVisitor {
            type Value = u64;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of bytes or a size such as \"512K\"")
            }
            fn visit_u64<E: Error>(self, v: u64) -> Result<u64, E> {
                Ok(v)
            }
            fn visit_i64<E: Error>(self, v: i64) -> Result<u64, E> {
                u64::try_from(v).map_err(|_| E::custom(format!("invalid size {v}: negative")))
            }
            fn visit_str<E: Error>(self, v: &str) -> Result<u64, E> {
                parse_size(v).map_err(E::custom)
            }
        }
        d.deserialize_any(SizeVisitor).map(Some)
    }

    /// A repeatable count (`quiet`, `verbose`): `true`/`false` or a number.
    pub fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u8>, D::Error> {
        struct CountVisitor;
        impl Visitor<'_> for CountVisitor {
            type Value = u8;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("true, false or a small number")
            }
            fn visit_bool<E: Error>(self, v: bool) -> Result<u8, E> {
                Ok(u8::from(v))
            }
            fn visit_i64<E: Error>(self, v: i64) -> Result<u8, E> {
                u8::try_from(v).map_err(|_| E::custom(format!("invalid count {v}")))
            }
            fn visit_u64<E: Error>(self, v: u64) -> Result<u8, E> {
                u8::try_from(v).map_err(|_| E::custom(format!("invalid count {v}")))
            }
        }
        d.deserialize_any(CountVisitor).map(Some)
    }

    /// IP addresses: one string or a list of strings.
    pub fn addresses<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<IpAddr>>, D::Error> {
        struct AddressesVisitor;
        fn parse<E: Error>(s: &str) -> Result<IpAddr, E> {
            s.parse()
                .map_err(|_| E::custom(format!("invalid IP address \"{s}\"")))
        }
        impl<'de> Visitor<'de> for AddressesVisitor {
            type Value = Vec<IpAddr>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an IP address or a list of them, such as [\"::1\", \"127.0.0.1\"]")
            }
            fn visit_str<E: Error>(self, v: &str) -> Result<Vec<IpAddr>, E> {
                parse(v).map(|addr| vec![addr])
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<IpAddr>, A::Error> {
                let mut addrs = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    addrs.push(parse(&s)?);
                }
                Ok(addrs)
            }
        }
        d.deserialize_any(AddressesVisitor).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use clap::error::ErrorKind;

    use super::*;

    fn settings(args: &[&str]) -> Settings {
        resolve_from(std::iter::once("uhttpd").chain(args.iter().copied()))
            .unwrap_or_else(|err| panic!("{args:?}: {err}"))
    }

    fn usage_error(args: &[&str]) -> ErrorKind {
        match resolve_from(std::iter::once("uhttpd").chain(args.iter().copied())) {
            Err(ResolveError::Usage(err)) => err.kind(),
            other => panic!("{args:?}: expected a usage error, got {other:?}"),
        }
    }

    fn invalid(args: &[&str]) -> String {
        match resolve_from(std::iter::once("uhttpd").chain(args.iter().copied())) {
            Err(ResolveError::Invalid(msg)) => msg,
            other => panic!("{args:?}: expected an invalid setting, got {other:?}"),
        }
    }

    /// Writes `text` as a config file in a fresh temporary directory.
    fn config_file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("uhttpd.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn no_arguments_serve_the_current_directory_on_8080_with_defaults() {
        let s = settings(&[]);
        assert_eq!(
            s,
            Settings {
                root: PathBuf::from("."),
                bind: vec![],
                port: 8080,
                workers: 1,
                tls: None,
                redirect_http: None,
                upload_dir: None,
                overwrite: false,
                max_upload_size: 1 << 30,
                max_connections: None,
                keep_alive_timeout: Duration::from_secs(15),
                keep_alive_max_requests: 100,
                request_timeout: Duration::from_secs(5),
                send_timeout: Duration::from_secs(60),
                max_headers_length: 8 << 10,
                max_content_length: 512 << 10,
                listing: true,
                rpc: true,
                trusted_proxies: vec![],
                auth: None,
                log_level: LevelFilter::Info,
                config_file: None,
            }
        );
    }

    #[test]
    fn parses_a_full_command_line() {
        let s = settings(&[
            "/srv/www",
            "-b",
            "::1",
            "--bind",
            "127.0.0.1",
            "-p",
            "8443",
            "--workers",
            "4",
            "--cert",
            "full.pem",
            "--key",
            "key.pem",
            "--redirect-http",
            "8080",
            "--upload-dir",
            "/srv/in",
            "--overwrite",
            "--max-upload-size",
            "10M",
            "--max-connections",
            "50",
            "--keep-alive-timeout",
            "30",
            "--keep-alive-max-requests",
            "7",
            "--request-timeout",
            "2",
            "--send-timeout",
            "90",
            "--max-headers-length",
            "16KiB",
            "--max-content-length",
            "1024",
            "--no-listing",
            "--no-rpc",
            "--trusted-proxy",
            "10.0.0.1",
            "--trusted-proxy",
            "fd00::1",
            "--auth-file",
            "users",
            "--auth-uploads-only",
            "-vv",
        ]);
        assert_eq!(s.root, PathBuf::from("/srv/www"));
        assert_eq!(
            s.bind,
            [
                IpAddr::V6(Ipv6Addr::LOCALHOST),
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            ]
        );
        assert_eq!(s.port, 8443);
        assert_eq!(s.workers, 4);
        assert_eq!(
            s.tls,
            Some(TlsFiles {
                cert: "full.pem".into(),
                key: "key.pem".into()
            })
        );
        assert_eq!(s.redirect_http, Some(8080));
        assert_eq!(s.upload_dir, Some(PathBuf::from("/srv/in")));
        assert!(s.overwrite);
        assert_eq!(s.max_upload_size, 10 << 20);
        assert_eq!(s.max_connections, Some(50));
        assert_eq!(s.keep_alive_timeout, Duration::from_secs(30));
        assert_eq!(s.keep_alive_max_requests, 7);
        assert_eq!(s.request_timeout, Duration::from_secs(2));
        assert_eq!(s.send_timeout, Duration::from_secs(90));
        assert_eq!(s.max_headers_length, 16 << 10);
        assert_eq!(s.max_content_length, 1024);
        assert!(!s.listing);
        assert!(!s.rpc);
        assert_eq!(
            s.trusted_proxies,
            [
                IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
                "fd00::1".parse::<IpAddr>().unwrap()
            ]
        );
        assert_eq!(
            s.auth,
            Some(AuthSettings {
                file: "users".into(),
                uploads_only: true
            })
        );
        assert_eq!(s.log_level, LevelFilter::Trace);
    }

    #[test]
    fn port_zero_means_pick_a_free_port() {
        assert_eq!(settings(&["-p", "0"]).port, 0);
    }

    #[test]
    fn cert_and_key_come_together_or_not_at_all() {
        assert_eq!(
            usage_error(&["--cert", "a.pem"]),
            ErrorKind::MissingRequiredArgument
        );
        assert_eq!(
            usage_error(&["--key", "k.pem"]),
            ErrorKind::MissingRequiredArgument
        );
        assert!(
            settings(&["--cert", "a.pem", "--key", "k.pem"])
                .tls
                .is_some()
        );
        assert!(settings(&[]).tls.is_none());
    }

    #[test]
    fn redirect_http_needs_tls_and_another_port() {
        let msg = invalid(&["--redirect-http", "80"]);
        assert!(
            msg.contains("--redirect-http needs --cert and --key"),
            "{msg}"
        );
        let msg = invalid(&[
            "-p",
            "8443",
            "--cert",
            "c",
            "--key",
            "k",
            "--redirect-http",
            "8443",
        ]);
        assert!(msg.contains("is the HTTPS port itself"), "{msg}");
    }

    #[test]
    fn auth_uploads_only_needs_auth_file() {
        let msg = invalid(&["--auth-uploads-only"]);
        assert!(
            msg.contains("--auth-uploads-only needs --auth-file"),
            "{msg}"
        );
    }

    #[test]
    fn quiet_and_verbose_conflict() {
        assert_eq!(usage_error(&["-q", "-v"]), ErrorKind::ArgumentConflict);
        assert_eq!(
            usage_error(&["--verbose", "--quiet"]),
            ErrorKind::ArgumentConflict
        );
    }

    #[test]
    fn quiet_and_verbose_counts_set_the_log_level() {
        let cases: &[(&[&str], LevelFilter)] = &[
            (&[], LevelFilter::Info),
            (&["-v"], LevelFilter::Debug),
            (&["-vv"], LevelFilter::Trace),
            (&["-vvvv"], LevelFilter::Trace),
            (&["-q"], LevelFilter::Warn),
            (&["-qq"], LevelFilter::Error),
            (&["-q", "-q", "-q"], LevelFilter::Off),
        ];
        for &(args, level) in cases {
            assert_eq!(settings(args).log_level, level, "{args:?}");
        }
    }

    #[test]
    fn refuses_bad_values_with_usage_errors() {
        let cases: &[&[&str]] = &[
            &["--port", "65536"],
            &["--port", "http"],
            &["--bind", "localhost"],
            &["--bind", "127.0.0.1:80"],
            &["--workers", "0"],
            &["--max-connections", "0"],
            &["--keep-alive-timeout", "0"],
            &["--keep-alive-timeout", "1.5"],
            &["--send-timeout", "0"],
            &["--keep-alive-max-requests", "0"],
            &["--request-timeout=-1"],
            &["--max-upload-size", "10X"],
            &["--max-content-length", "1.5M"],
            &["--trusted-proxy", "proxy.example"],
        ];
        for args in cases {
            assert_eq!(usage_error(args), ErrorKind::ValueValidation, "{args:?}");
        }
    }

    #[test]
    fn bad_size_on_the_command_line_explains_the_format() {
        let Err(ResolveError::Usage(err)) = resolve_from(["uhttpd", "--max-upload-size", "10X"])
        else {
            panic!("10X accepted");
        };
        let text = err.to_string();
        assert!(
            text.contains("use a number with an optional K, M or G suffix"),
            "{text}"
        );
    }

    #[test]
    fn help_and_version_are_usage_outcomes() {
        assert_eq!(usage_error(&["-h"]), ErrorKind::DisplayHelp);
        assert_eq!(usage_error(&["--help"]), ErrorKind::DisplayHelp);
        assert_eq!(usage_error(&["-V"]), ErrorKind::DisplayVersion);
    }

    #[test]
    fn help_shows_defaults_units_and_examples() {
        let help = Cli::command().render_long_help().to_string();
        for needle in [
            "[default: 8080]",
            "[default: 1G]",
            "[default: 15]",
            "<SECS>",
            "<SIZE>",
            "Examples:",
            "curl -T report.pdf",
        ] {
            assert!(help.contains(needle), "help lacks {needle:?}:\n{help}");
        }
    }

    #[test]
    fn config_file_supplies_settings() {
        let (dir, path) = config_file(
            r#"
            root = "site"
            bind = ["::", "0.0.0.0"]
            port = 8443
            workers = 2
            cert = "/etc/tls/full.pem"
            key = "/etc/tls/key.pem"
            redirect_http = 8080
            upload_dir = "/srv/in"
            overwrite = true
            max_upload_size = "1G"
            max_connections = 10
            keep_alive_timeout = 30
            keep_alive_max_requests = 5
            request_timeout = 3
            send_timeout = 120
            max_headers_length = 2048
            max_content_length = "1M"
            no_listing = true
            no_rpc = true
            trusted_proxy = "10.0.0.1"
            auth_file = "users"
            auth_uploads_only = true
            quiet = true
            "#,
        );
        let s = settings(&["-c", path.to_str().unwrap()]);
        assert_eq!(s.root, dir.path().join("site"));
        assert_eq!(
            s.bind,
            [
                IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                IpAddr::V4(Ipv4Addr::UNSPECIFIED)
            ]
        );
        assert_eq!(s.port, 8443);
        assert_eq!(s.workers, 2);
        assert_eq!(
            s.tls,
            Some(TlsFiles {
                cert: "/etc/tls/full.pem".into(),
                key: "/etc/tls/key.pem".into()
            })
        );
        assert_eq!(s.redirect_http, Some(8080));
        assert_eq!(s.upload_dir, Some(PathBuf::from("/srv/in")));
        assert!(s.overwrite);
        assert_eq!(s.max_upload_size, 1 << 30);
        assert_eq!(s.max_connections, Some(10));
        assert_eq!(s.keep_alive_timeout, Duration::from_secs(30));
        assert_eq!(s.keep_alive_max_requests, 5);
        assert_eq!(s.request_timeout, Duration::from_secs(3));
        assert_eq!(s.send_timeout, Duration::from_secs(120));
        assert_eq!(s.max_headers_length, 2048);
        assert_eq!(s.max_content_length, 1 << 20);
        assert!(!s.listing);
        assert!(!s.rpc);
        assert_eq!(s.trusted_proxies, [IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))]);
        assert_eq!(
            s.auth,
            Some(AuthSettings {
                file: dir.path().join("users"),
                uploads_only: true
            })
        );
        assert_eq!(s.log_level, LevelFilter::Warn);
        assert_eq!(s.config_file, Some(path));
    }

    #[test]
    fn command_line_overrides_config_file() {
        let (_dir, path) = config_file(
            r#"
            root = "/srv/file-root"
            port = 8443
            bind = ["::1"]
            max_upload_size = "1G"
            keep_alive_timeout = 30
            max_connections = 10
            upload_dir = "/srv/file-in"
            verbose = 2
            "#,
        );
        let path = path.to_str().unwrap();
        let s = settings(&[
            "-c",
            path,
            "/srv/cli-root",
            "-p",
            "9000",
            "-b",
            "127.0.0.1",
            "--max-upload-size",
            "5M",
            "--upload-dir",
            "/srv/cli-in",
            "--max-connections",
            "20",
            "-q",
        ]);
        assert_eq!(s.root, PathBuf::from("/srv/cli-root"));
        assert_eq!(s.port, 9000);
        assert_eq!(s.bind, [IpAddr::V4(Ipv4Addr::LOCALHOST)]);
        assert_eq!(s.max_upload_size, 5 << 20);
        assert_eq!(s.upload_dir, Some(PathBuf::from("/srv/cli-in")));
        assert_eq!(s.max_connections, Some(20));
        assert_eq!(s.log_level, LevelFilter::Warn);
        // Not given on the command line: the file's value stays.
        assert_eq!(s.keep_alive_timeout, Duration::from_secs(30));

        // A value typed on the command line wins even when it equals the default.
        assert_eq!(settings(&["-c", path, "-p", "8080"]).port, 8080);
    }

    #[test]
    fn config_file_can_complete_the_command_line() {
        let (_dir, path) =
            config_file("cert = \"/c.pem\"\nkey = \"/k.pem\"\nauth_file = \"/users\"\n");
        let s = settings(&[
            "-c",
            path.to_str().unwrap(),
            "--redirect-http",
            "80",
            "--auth-uploads-only",
        ]);
        assert_eq!(s.redirect_http, Some(80));
        assert!(s.tls.is_some());
        assert!(s.auth.unwrap().uploads_only);
    }

    #[test]
    fn config_file_errors_name_the_file_line_and_key() {
        let cases = [
            (
                "port = 8080\nlisten = \"::\"\n",
                "line 2: unknown field `listen`",
            ),
            ("upload-dir = \"/in\"\n", "unknown field `upload-dir`"),
            (
                "max_upload_size = \"10X\"\n",
                "line 1: invalid size \"10X\": use a number with an optional K, M or G suffix",
            ),
            ("max_upload_size = -5\n", "invalid size -5: negative"),
            ("max_upload_size = 1.5\n", "a number of bytes or a size"),
            ("port = 70000\n", "line 1:"),
            (
                "bind = [\"::1\", \"localhost\"]\n",
                "invalid IP address \"localhost\"",
            ),
            ("keep_alive_timeout = \"30s\"\n", "line 1:"),
            ("no_listing = \"yes\"\n", "line 1:"),
            ("port = \n", "line 1:"),
        ];
        for (text, expected) in cases {
            let (_dir, path) = config_file(text);
            let msg = invalid(&["-c", path.to_str().unwrap()]);
            assert!(
                msg.starts_with(&format!("config file {}: ", path.display())),
                "{text:?}: {msg}"
            );
            assert!(msg.contains(expected), "{text:?}: {msg}");
            assert!(!msg.contains('\n'), "{text:?}: not one line: {msg}");
        }
    }

    #[test]
    fn config_file_values_are_checked_like_the_command_line() {
        let cases = [
            ("cert = \"/c.pem\"\n", "--cert and --key go together"),
            (
                "redirect_http = 80\n",
                "--redirect-http needs --cert and --key",
            ),
            (
                "auth_uploads_only = true\n",
                "--auth-uploads-only needs --auth-file",
            ),
            ("quiet = 1\nverbose = 1\n", "quiet and verbose"),
            ("workers = 0\n", "--workers must be at least 1"),
            (
                "max_connections = 0\n",
                "--max-connections must be at least 1",
            ),
            (
                "request_timeout = 0\n",
                "--request-timeout must be at least 1",
            ),
            ("send_timeout = 0\n", "--send-timeout must be at least 1"),
        ];
        for (text, expected) in cases {
            let (_dir, path) = config_file(text);
            let msg = invalid(&["-c", path.to_str().unwrap()]);
            assert!(msg.contains(expected), "{text:?}: {msg}");
        }
    }

    #[test]
    fn missing_config_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.toml");
        let msg = invalid(&["-c", path.to_str().unwrap()]);
        assert!(
            msg.starts_with(&format!("cannot read config file {}: ", path.display())),
            "{msg}"
        );
    }

    #[test]
    fn empty_config_file_changes_nothing() {
        let (_dir, path) = config_file("# nothing set\n");
        let s = settings(&["-c", path.to_str().unwrap()]);
        assert_eq!(
            Settings {
                config_file: None,
                ..s
            },
            settings(&[])
        );
    }
}
