//! The options of `uhttpd`, each defined once: [`Options`].
//!
//! A field is one option everywhere. Its doc comment is the `--help` and
//! man page text; `#[arg]` says how the command line spells, defaults and
//! checks it (the man page and completions are rendered from that too);
//! its name is the config-file key, and `#[serde]`, where present, says how
//! the file writes the value when TOML's own type does not fit (a size as
//! `"1G"`, a path relative to the file, a count of at least 1). Adding an
//! option is adding a field here, then using it.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{RangedU64ValueParser, TypedValueParser};
use clap::{ArgAction, Parser};
use serde::Deserialize;

use super::file::de;
use super::help::{ABOUT, LONG_ABOUT, examples_help};
use crate::access_log::LogFormat;
use crate::headers::ExtraHeader;
use crate::health::HealthPath;
use crate::origin::CorsOrigin;
use crate::rate::RequestRate;
use crate::size::parse_size;
use crate::static_files::content_type::MimeOverride;
use crate::static_files::fallback::{IndexName, SitePath};
use crate::static_files::freshness::CacheControl;
use crate::unix_socket::SocketMode;

/// Every option of `uhttpd`, as the command line and the config file give
/// it. [`super::resolve`] layers the two and checks the rules between
/// options; parsing `Options` alone ignores `--config`.
#[derive(Debug, Clone, PartialEq, Eq, Parser, Deserialize)]
#[command(
    name = "uhttpd",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = examples_help(),
    max_term_width = 100
)]
// A key the file leaves out keeps the command line's default (`Default`).
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// Directory to serve
    #[arg(value_name = "ROOT", default_value = ".", value_hint = clap::ValueHint::DirPath)]
    #[serde(deserialize_with = "de::path")]
    pub root: PathBuf,

    /// Address to listen on, without a port (repeat for several) [default: all interfaces]
    ///
    /// An IPv4 or IPv6 address such as 127.0.0.1 or ::1; the port comes
    /// from --port. Without --bind, uhttpd listens on all interfaces: on ::
    /// (which also takes IPv4 connections), or on 0.0.0.0 on hosts without
    /// IPv6.
    #[arg(short, long, value_name = "ADDR", help_heading = "Listening")]
    #[serde(deserialize_with = "de::addresses")]
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
    #[serde(deserialize_with = "de::at_least_one")]
    pub workers: usize,

    /// Also listen on a Unix socket at PATH (then on TCP only with --bind)
    ///
    /// For a reverse proxy on the same host, such as nginx's "proxy_pass
    /// http://unix:PATH:" or Caddy's "reverse_proxy unix/PATH". With
    /// --unix, uhttpd listens on TCP only if --bind is given too. A socket
    /// file left at PATH by an earlier run is replaced; any other file is
    /// an error. The file is removed at exit. Connections on it are plain
    /// HTTP, even with --cert. The client shows as "unix:" in the access
    /// log; --trusted-proxy 0.0.0.0 believes X-Forwarded-For from it.
    #[arg(
        long,
        value_name = "PATH",
        value_hint = clap::ValueHint::FilePath,
        help_heading = "Listening"
    )]
    #[serde(deserialize_with = "de::path")]
    pub unix: Option<PathBuf>,

    /// Permissions of the --unix socket, in octal
    ///
    /// Who may connect: 0660 lets the owner and the group (such as the
    /// proxy's www-data) in, 0600 the owner only, 0666 every local user.
    #[arg(
        long,
        value_name = "MODE",
        default_value = "0660",
        requires = "unix",
        help_heading = "Listening"
    )]
    pub unix_mode: SocketMode,

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
    #[serde(deserialize_with = "de::path")]
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
    #[serde(deserialize_with = "de::path")]
    pub key: Option<PathBuf>,

    /// Also listen for plain HTTP on PORT and redirect it to HTTPS
    ///
    /// Needs --cert and --key, or --acme (on the command line or in the
    /// config file). Every request on PORT is answered with a redirect to
    /// the same path on the HTTPS listener; with --acme, ACME HTTP-01
    /// challenges (/.well-known/acme-challenge/) are answered first.
    #[arg(long, value_name = "PORT", help_heading = "HTTPS")]
    pub redirect_http: Option<u16>,

    /// Get and renew the HTTPS certificate for DOMAIN with ACME (repeat for several names)
    ///
    /// uhttpd serves HTTPS with a certificate from an ACME CA (Let's
    /// Encrypt by default), one certificate for all the names given, and
    /// renews it when a third of its lifetime is left (retrying with
    /// back-off on failure); a renewed certificate is used by new
    /// connections, open ones carry on. Challenges: HTTP-01 on the
    /// --redirect-http port when there is one (the CA connects to port 80),
    /// else TLS-ALPN-01 on the HTTPS port (443). Instead of --cert and --key.
    #[arg(
        long,
        value_name = "DOMAIN",
        conflicts_with_all = ["cert", "key"],
        help_heading = "HTTPS"
    )]
    pub acme: Vec<String>,

    /// Contact address for the ACME account (expiry notices)
    #[arg(long, value_name = "EMAIL", requires = "acme", help_heading = "HTTPS")]
    pub acme_email: Option<String>,

    /// ACME directory URL of the CA [default: Let's Encrypt]
    #[arg(
        long,
        value_name = "URL",
        requires = "acme",
        conflicts_with = "acme_staging",
        value_hint = clap::ValueHint::Url,
        help_heading = "HTTPS"
    )]
    pub acme_directory: Option<String>,

    /// Use Let's Encrypt's staging CA (untrusted certificates, for trials)
    #[arg(long, requires = "acme", help_heading = "HTTPS")]
    pub acme_staging: bool,

    /// Directory for the ACME account key and certificates
    ///
    /// Created if missing (mode 0700); files are written with mode 0600. A
    /// certificate stored there is served at start-up while it is valid,
    /// even if the CA cannot be reached. Under systemd, the default is the
    /// StateDirectory= entry named acme (StateDirectory=uhttpd/uploads
    /// uhttpd/acme gives /var/lib/uhttpd/acme); without one, --acme-dir is
    /// needed.
    #[arg(
        long,
        value_name = "DIR",
        requires = "acme",
        value_hint = clap::ValueHint::DirPath,
        help_heading = "HTTPS"
    )]
    #[serde(deserialize_with = "de::path")]
    pub acme_dir: Option<PathBuf>,

    /// PEM CA certificate to trust for the ACME directory's HTTPS (a test CA)
    #[arg(
        long,
        value_name = "FILE",
        requires = "acme",
        value_hint = clap::ValueHint::FilePath,
        help_heading = "HTTPS"
    )]
    #[serde(deserialize_with = "de::path")]
    pub acme_ca_root: Option<PathBuf>,

    /// Accept uploads into DIR (off by default)
    ///
    /// PUT /upload/NAME (as "curl -T FILE URL/upload/NAME" sends it) and
    /// POST /upload from an HTML form store files in DIR. A file appears
    /// under its name only once it is complete. Resumable uploads (the IETF
    /// resumable-upload draft and tus 1.0.0, e.g. tus-js-client or tuspy
    /// with endpoint URL/upload/) survive dropped connections and restarts.
    #[arg(
        long,
        value_name = "DIR",
        value_hint = clap::ValueHint::DirPath,
        help_heading = "Uploads"
    )]
    #[serde(deserialize_with = "de::path")]
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
    #[serde(deserialize_with = "de::size")]
    pub max_upload_size: u64,

    /// Seconds a resumable upload may sit unchanged before it is removed
    ///
    /// Resumable uploads (the IETF draft and tus 1.0, under /upload/) keep
    /// what arrived across dropped connections and restarts; one not
    /// appended to for this long is deleted. Default: 24 hours.
    #[arg(
        long,
        value_name = "SECS",
        default_value = "86400",
        value_parser = seconds(),
        help_heading = "Uploads"
    )]
    #[serde(deserialize_with = "de::seconds")]
    pub upload_expiry: Duration,

    /// Most resumable uploads open (incomplete) at once (more: 503)
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1000,
        value_parser = RangedU64ValueParser::<usize>::new().range(1..),
        help_heading = "Uploads"
    )]
    #[serde(deserialize_with = "de::at_least_one")]
    pub max_open_uploads: usize,

    /// Most resumable uploads open at once from one client address (more: 429)
    #[arg(
        long,
        value_name = "N",
        default_value_t = 20,
        value_parser = RangedU64ValueParser::<usize>::new().range(1..),
        help_heading = "Uploads"
    )]
    #[serde(deserialize_with = "de::at_least_one")]
    pub max_open_uploads_per_client: usize,

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
    #[serde(deserialize_with = "de::at_least_one")]
    pub max_connections: Option<usize>,

    /// Seconds an idle keep-alive connection stays open
    #[arg(
        long,
        value_name = "SECS",
        default_value = "15",
        value_parser = seconds(),
        help_heading = "Limits"
    )]
    #[serde(deserialize_with = "de::seconds")]
    pub keep_alive_timeout: Duration,

    /// Requests served on one connection before it is closed (1: no keep-alive)
    #[arg(
        long,
        value_name = "N",
        default_value_t = 100,
        value_parser = RangedU64ValueParser::<usize>::new().range(1..),
        help_heading = "Limits"
    )]
    #[serde(deserialize_with = "de::at_least_one")]
    pub keep_alive_max_requests: usize,

    /// Seconds allowed from a request's first byte to the end of its headers (then: 408)
    #[arg(
        long,
        value_name = "SECS",
        default_value = "5",
        value_parser = seconds(),
        help_heading = "Limits"
    )]
    #[serde(deserialize_with = "de::seconds")]
    pub request_timeout: Duration,

    /// Seconds a response may go without the client reading any of it before it is cut off
    #[arg(
        long,
        value_name = "SECS",
        default_value = "60",
        value_parser = seconds(),
        help_heading = "Limits"
    )]
    #[serde(deserialize_with = "de::seconds")]
    pub send_timeout: Duration,

    /// Largest request line plus headers (larger: 431)
    // 8K rather than the library's 4K: browsers with a few cookies exceed 4K.
    #[arg(
        long,
        value_name = "SIZE",
        default_value = "8K",
        value_parser = parse_size_as::<usize>,
        help_heading = "Limits"
    )]
    #[serde(deserialize_with = "de::size")]
    pub max_headers_length: usize,

    /// Largest request body outside uploads, e.g. for /rpc (larger: 413)
    #[arg(
        long,
        value_name = "SIZE",
        default_value = "512K",
        value_parser = parse_size,
        help_heading = "Limits"
    )]
    #[serde(deserialize_with = "de::size")]
    pub max_content_length: u64,

    /// Most connections open at once from one client address, over all workers (more: 429)
    ///
    /// The client is the address the connection comes from, or the one a
    /// --proxy-protocol header names; IPv6 clients count by /64 (one
    /// network), IPv4-mapped IPv6 as IPv4. A connection over the limit is
    /// answered "429 Too Many Requests" with "Connection: close" at once,
    /// logged, and closed; the client's other connections and every other
    /// client are served as usual. Connections on --unix are not counted.
    #[arg(
        long,
        value_name = "N",
        value_parser = RangedU64ValueParser::<usize>::new().range(1..=u64::from(u32::MAX)),
        help_heading = "Limits"
    )]
    #[serde(deserialize_with = "de::at_least_one")]
    pub max_connections_per_ip: Option<usize>,

    /// Requests allowed per client address, e.g. 10/s or 600/m (more: 429 with Retry-After)
    ///
    /// A token bucket per client (as --max-connections-per-ip counts
    /// them; behind a --trusted-proxy, the client its X-Forwarded-For
    /// names, as logged): it holds --rate-burst requests and refills at
    /// the rate. A request finding it empty is answered "429 Too Many
    /// Requests" with Retry-After, the seconds until a request passes
    /// again, and counted in --metrics (uhttpd_rate_limited_total); the
    /// connection stays open unless the request has a body.
    #[arg(long, value_name = "RATE", help_heading = "Limits")]
    pub rate_limit: Option<RequestRate>,

    /// Requests a client may make at once under --rate-limit [default: the rate's N]
    #[arg(
        long,
        value_name = "N",
        value_parser = RangedU64ValueParser::<usize>::new().range(1..=u64::from(u32::MAX)),
        help_heading = "Limits"
    )]
    #[serde(deserialize_with = "de::at_least_one")]
    pub rate_burst: Option<usize>,

    /// Bytes per second each connection's downloads are sent at, at most, e.g. 500K or 2M
    ///
    /// Every response body (files, listings, archives, /rpc) on one
    /// connection is sent at this rate at most, after a first burst of a
    /// twentieth of it (at least 4K); each connection has its own rate, so
    /// a client with several connections gets more. As nginx's limit_rate.
    #[arg(
        long,
        value_name = "SIZE",
        value_parser = parse_size,
        help_heading = "Limits"
    )]
    #[serde(deserialize_with = "de::size")]
    pub limit_rate: Option<u64>,

    /// Do not list directories that have no index file (answer 404)
    #[arg(long, help_heading = "Features")]
    pub no_listing: bool,

    /// Do not offer directories as .tar / .zip downloads (?download=tar|zip)
    ///
    /// Without it, a listed directory's URL with "?download=tar" or
    /// "?download=zip" sends its tree as one archive (zip: stored, not
    /// compressed), streamed as it is produced, with its length known in
    /// advance and Range support so a cut download resumes; dotfiles and
    /// symlinks leaving ROOT are left out, as when serving. With it (or
    /// with --no-listing) the query is ignored: the listing is sent.
    #[arg(long, help_heading = "Features")]
    pub no_archive: bool,

    /// Cache-Control sent with every file [default: no-cache for HTML, max-age=600 for others]
    ///
    /// Without it, HTML files are sent with "no-cache" (browsers check with
    /// the server before using a stored page: a change shows at once, an
    /// unchanged page costs a 304) and other files with "max-age=600"
    /// (used for ten minutes, then checked). VALUE replaces both, e.g.
    /// "no-cache" while editing a site, or "public, max-age=31536000,
    /// immutable" for files whose names change with their content; an empty
    /// VALUE sends no Cache-Control. Listings are always "no-cache", the
    /// redirect of a directory to its slash "max-age=600"; errors carry
    /// none.
    #[arg(long, value_name = "VALUE", help_heading = "Features")]
    pub cache_control: Option<CacheControl>,

    /// Print a QR code of the server's URL at start-up; listings show one of their own URL
    ///
    /// The code is printed in the terminal after the "serving" lines, for a
    /// phone to scan: it holds the listening address, or this host's name
    /// when uhttpd listens on all interfaces. Each listing page then offers
    /// a QR code of its own URL (an inline SVG, no script).
    #[arg(long, help_heading = "Features")]
    pub qr: bool,

    /// File served for a directory, tried in order (repeat for several) [default: index.html, index.htm]
    ///
    /// Giving --index replaces the default list. A directory with none of
    /// them is listed (or answers 404 with --no-listing).
    #[arg(
        long,
        value_name = "NAME",
        default_values = ["index.html", "index.htm"],
        hide_default_value = true,
        help_heading = "Features"
    )]
    pub index: Vec<IndexName>,

    /// Single-page app: unknown pages a browser asks for get FILE (200)
    ///
    /// FILE is a path under ROOT, such as index.html or /app/index.html. A
    /// request for a missing path whose Accept header lists text/html (a
    /// browser loading a page) and whose last segment has no extension
    /// gets FILE, so the app's own router shows the page; a missing asset
    /// (/app.js, an image, a fetch() asking for */*) still answers 404.
    #[arg(long, value_name = "FILE", help_heading = "Features")]
    pub spa: Option<SitePath>,

    /// Page sent with every 404 of a missing file (config key: not_found)
    ///
    /// FILE is a path under ROOT, such as 404.html; its type comes from its
    /// name. The status stays 404.
    #[arg(long = "404", value_name = "FILE", help_heading = "Features")]
    pub not_found: Option<SitePath>,

    /// Send files with extension EXT as TYPE, e.g. md=text/markdown (repeat for several)
    ///
    /// Replaces the type guessed from the extension (any case), exactly as
    /// written: --mime "md=text/markdown; charset=utf-8".
    #[arg(long, value_name = "EXT=TYPE", help_heading = "Features")]
    pub mime: Vec<MimeOverride>,

    /// Add a header to every answer, e.g. "X-Frame-Options: DENY" (repeat for several)
    ///
    /// Headers uhttpd sets itself are refused (Content-Type, Content-Length,
    /// Cache-Control: see --cache-control, Access-Control-*: see --cors,
    /// ...). Errors the server gives before reading a request whole (400
    /// for a malformed request, 408, 431) do not carry it.
    #[arg(long, value_name = "NAME: VALUE", help_heading = "Features")]
    pub header: Vec<ExtraHeader>,

    /// Let scripts of these origins read the files (comma-separated, or *)
    ///
    /// ORIGIN is scheme://host[:port], such as https://app.example or
    /// http://localhost:3000; * lets every site read. Answers get
    /// Access-Control-Allow-Origin (and Vary: Origin with a list); a
    /// preflight OPTIONS is answered 204 without a login. Never with
    /// credentials: a page that needs a login (--auth-file) is not readable
    /// from another site, and a 401 carries no CORS header. Uploads stay
    /// same-origin whatever --cors says.
    #[arg(
        long,
        value_name = "ORIGIN",
        value_delimiter = ',',
        help_heading = "Access"
    )]
    pub cors: Vec<CorsOrigin>,

    /// Compress text, JSON, JavaScript, CSS, SVG, WASM... on the fly for clients that accept it
    ///
    /// brotli, zstd or gzip, as the client's Accept-Encoding prefers, for
    /// files of compressible types from 1 KiB to 4 MiB (others are sent as
    /// they are), never for a Range request. Compression runs on two
    /// threads of its own, and each coded file is kept in memory (see
    /// --compress-cache), so a file is compressed once until it changes.
    #[arg(long, help_heading = "Compression")]
    pub compress: bool,

    /// Memory for files compressed by --compress, e.g. 64M; the oldest go first
    #[arg(
        long,
        value_name = "SIZE",
        default_value = "16M",
        value_parser = parse_size_as::<usize>,
        help_heading = "Compression"
    )]
    #[serde(deserialize_with = "de::size")]
    pub compress_cache: usize,

    /// Do not send precompressed siblings (FILE.br, FILE.zst, FILE.gz) for FILE
    ///
    /// By default, a request for app.js that accepts br, zstd or gzip gets
    /// app.js.br, app.js.zst or app.js.gz when that file exists, is at least
    /// as new as app.js and is served under the same rules, with
    /// Content-Encoding and app.js's Content-Type.
    #[arg(long, help_heading = "Compression")]
    pub no_precompressed: bool,

    /// Turn off the /rpc endpoint that echoes requests back as JSON
    #[arg(long, help_heading = "Features")]
    pub no_rpc: bool,

    /// Trust X-Forwarded-For from this proxy address (repeat for several)
    ///
    /// Requests coming from ADDR are logged with the client address the
    /// proxy reports, and their X-Forwarded-Proto is the scheme uploads are
    /// checked to come from (same origin); from any other address the
    /// headers are ignored.
    #[arg(long, value_name = "ADDR", help_heading = "Access")]
    #[serde(deserialize_with = "de::addresses")]
    pub trusted_proxy: Vec<IpAddr>,

    /// Every connection begins with a PROXY protocol header (v1 or v2) from a --trusted-proxy
    ///
    /// For a load balancer that forwards TCP and says who the client is
    /// with HAProxy's PROXY protocol (send-proxy, send-proxy-v2; nginx
    /// proxy_protocol). On every listener (HTTP, HTTPS, where the header
    /// comes before the TLS handshake, --redirect-http and --unix, whose
    /// peer is 0.0.0.0) a connection must come from a --trusted-proxy and
    /// begin with the header, within --request-timeout; any other is
    /// closed unanswered and logged. The client the header names is the
    /// address logged, shown by /rpc and checked by the login; its
    /// X-Forwarded-For is believed only if it is a --trusted-proxy itself.
    #[arg(long, help_heading = "Access")]
    pub proxy_protocol: bool,

    /// Require an HTTP Basic login from the users listed in FILE
    ///
    /// FILE holds user names and password hashes, so that no password
    /// appears on the command line, where any local user can see it with ps:
    /// user:hash lines as "htpasswd -B" writes them. A user may do
    /// everything, unless rules follow the hash: RIGHT[,RIGHT]...[@PATH],
    /// with the rights read, upload, overwrite, delete, mkdir, all, under
    /// PATH (default /). A line "* RULES" says what anyone may do, logged
    /// in or not; without it every request needs a login. Example:
    /// "* read@/pub" and "bob:$2y$... read upload,delete@/incoming".
    /// DELETE /PATH removes a file for users with the delete right.
    #[arg(
        long,
        value_name = "FILE",
        value_hint = clap::ValueHint::FilePath,
        help_heading = "Access"
    )]
    #[serde(deserialize_with = "de::path")]
    pub auth_file: Option<PathBuf>,

    /// With --auth-file: reading stays public, only uploads need a login
    ///
    /// The same as a line "* read" in the auth file: anyone may read
    /// everything; uploads, new folders and DELETE need a login.
    #[arg(long, help_heading = "Access")]
    pub auth_uploads_only: bool,

    /// Answer health checks at PATH with JSON, e.g. /healthz (off by default)
    ///
    /// For load balancers and monitoring: status, version, uptime_seconds,
    /// connections (open, all workers), workers, draining, tls and, with
    /// TLS, certificate (subject, not_after, days_left, expired). 200 while
    /// serving; 503 while draining (--drain) or stopping, or once the
    /// served certificate has expired. Answered on every listener,
    /// including the --redirect-http port and the --unix socket, before
    /// any other route (a file at PATH is hidden) and without a login:
    /// it reveals no more than the version and the load. Never cached
    /// (Cache-Control: no-store); HEAD works.
    #[arg(long, value_name = "PATH", help_heading = "Operating")]
    pub health: Option<HealthPath>,

    /// On SIGTERM, keep serving SECS seconds with health failing, then stop
    ///
    /// So that a load balancer sees the health check fail (503) and stops
    /// sending clients before the listeners close. During the drain
    /// requests are served as usual, each answer with "Connection: close";
    /// after SECS the listeners close and responses in flight get up to 10
    /// seconds to finish; then uhttpd exits 0. A second SIGTERM (or
    /// SIGINT) exits at once. SIGINT (Ctrl-C) does not drain. Under
    /// systemd, TimeoutStopSec must exceed SECS + 10.
    #[arg(
        long,
        value_name = "SECS",
        value_parser = seconds(),
        help_heading = "Operating"
    )]
    #[serde(deserialize_with = "de::seconds")]
    pub drain: Option<Duration>,

    /// Serve Prometheus metrics at http://ADDR/metrics, e.g. 127.0.0.1:9100 (off by default)
    ///
    /// A listener of its own (plain HTTP, no login: bind it to loopback or
    /// a private network), answering GET /metrics in the Prometheus text
    /// format 0.0.4: requests by method and status class, body bytes in and
    /// out, a request duration histogram, open connections, uploads
    /// (started, completed, failed, in progress), requests refused by
    /// --rate-limit, certificate reloads and expiry, build info. Port 0 picks a free port; the log
    /// says which.
    #[arg(long, value_name = "ADDR", help_heading = "Operating")]
    pub metrics: Option<SocketAddr>,

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
    // Not a key of the file: one file does not name another.
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Log less: -q hides the access log, -qq warnings, -qqq errors
    #[arg(
        short,
        long,
        action = ArgAction::Count,
        conflicts_with = "verbose",
        help_heading = "Logging"
    )]
    #[serde(deserialize_with = "de::count")]
    pub quiet: u8,

    /// Log more: -v adds debug messages, -vv traces (RUST_LOG also works)
    #[arg(short, long, action = ArgAction::Count, help_heading = "Logging")]
    #[serde(deserialize_with = "de::count")]
    pub verbose: u8,

    /// Format of the access log, one line per response on stderr
    ///
    /// short: address, request line, status, body bytes, duration, in a
    /// log record (with its time and level). common and combined: as nginx
    /// writes them (times in UTC; quotes, backslashes, control and
    /// non-ASCII bytes as \xHH). json: one object per line, with time,
    /// remote_addr, user, method, path, query, protocol, request, status,
    /// bytes_sent, request_bytes, duration_ms, referer, user_agent,
    /// outcome, refused. common, combined and json lines are bare: nothing
    /// before them.
    #[arg(
        long,
        value_name = "FORMAT",
        value_enum,
        default_value_t = LogFormat::Short,
        help_heading = "Logging"
    )]
    pub log_format: LogFormat,

    /// Test-only option, defined here and nowhere else
    ///
    /// It proves that one field reaches --help, the config file, the man
    /// page and the completions (`cli::tests::one_field_is_one_option`).
    /// The committed man page and completions come from the program, which
    /// does not have it (`tests/cli/generated.rs`).
    #[cfg(test)]
    #[arg(long, value_name = "N", default_value_t = 7, help_heading = "Limits")]
    pub test_probe: u32,
}

impl Default for Options {
    /// Every option at its default, as an empty command line gives it: the
    /// defaults are written once, in `#[arg]`.
    fn default() -> Options {
        // unwrap: no option is required, so no arguments always parse
        // (`defaults_parse` in the tests).
        Options::try_parse_from(["uhttpd"]).unwrap()
    }
}

/// Whole seconds, at least 1 (`--keep-alive-timeout 30`).
fn seconds() -> impl TypedValueParser<Value = Duration> + 'static {
    clap::value_parser!(u64).range(1..).map(Duration::from_secs)
}

/// A size ([`parse_size`]) that must also fit in `T`.
fn parse_size_as<T: TryFrom<u64>>(s: &str) -> Result<T, String> {
    let bytes = parse_size(s)?;
    T::try_from(bytes).map_err(|_| format!("invalid size \"{}\": too large", s.trim()))
}
