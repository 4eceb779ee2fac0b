//! From [`Settings`] to something that runs: ROOT checked, upload
//! directory checked, TLS pair loaded, every listener bound. Any failure is
//! a [`StartupError`] naming its cause; nothing is served half-configured.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::num::{NonZeroU32, NonZeroU64};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use uhttp::Config;
use uhttp::tls::{TlsConfig, TlsError};

use crate::acme::{self, Acme};
use crate::app::{self, App};
use crate::archive::Archiver;
use crate::auth::Auth;
use crate::cli::Settings;
use crate::cors::Cors;
use crate::fd_limit;
use crate::headers::ResponseHeaders;
use crate::health::Health;
use crate::lifecycle::Lifecycle;
use crate::pool::Pool;
use crate::served_cert::ServedCert;
use crate::static_files::StaticOptions;
use crate::static_files::compress::Compressor;
use crate::static_files::fallback::SitePath;
use crate::static_files::freshness::Freshness;
use crate::static_files::page::{PageOptions, UploadDir, dir_url};
use crate::static_files::resolve::{self, Opened, ResolveError};
use crate::static_files::search;
use crate::summary;
use crate::systemd::Activated;
use crate::unix_socket::{self, UnixSocketError};
use crate::upload::Uploads;

/// Why uhttpd cannot start.
#[derive(Debug)]
pub enum StartupError {
    Root {
        path: PathBuf,
        source: io::Error,
    },
    RootNotDir(PathBuf),
    UploadDir {
        path: PathBuf,
        source: io::Error,
    },
    UploadDirNotDir(PathBuf),
    UploadDirNotWritable {
        path: PathBuf,
        source: io::Error,
    },
    Tls(TlsError),
    Bind {
        addr: SocketAddr,
        source: io::Error,
    },
    Auth(String),
    Threads(io::Error),
    /// `--spa` or `--404` names no file under ROOT.
    SiteFile {
        option: &'static str,
        page: SitePath,
        source: ResolveError,
    },
    Unix(UnixSocketError),
    /// `--acme` cannot start (its directory, its placeholder).
    Acme(String),
}

impl fmt::Display for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartupError::Root { path, source } => {
                write!(f, "cannot serve {}: {source}", path.display())
            }
            StartupError::RootNotDir(path) => {
                write!(f, "cannot serve {}: not a directory", path.display())
            }
            StartupError::UploadDir { path, source } => {
                write!(f, "upload directory {}: {source}", path.display())
            }
            StartupError::UploadDirNotDir(path) => {
                write!(f, "upload directory {}: not a directory", path.display())
            }
            StartupError::UploadDirNotWritable { path, source } => {
                write!(
                    f,
                    "upload directory {} is not writable: {source}",
                    path.display()
                )
            }
            StartupError::Tls(e) => e.fmt(f),
            StartupError::Auth(msg) => f.write_str(msg),
            StartupError::Threads(e) => write!(f, "cannot start threads: {e}"),
            StartupError::SiteFile {
                option,
                page,
                source,
            } => write!(f, "{option} {page}: {source} (a path under ROOT)"),
            StartupError::Unix(e) => e.fmt(f),
            StartupError::Acme(msg) => f.write_str(msg),
            StartupError::Bind { addr, source } => match source.kind() {
                io::ErrorKind::AddrInUse => write!(f, "cannot listen on {addr}: port in use"),
                _ => write!(f, "cannot listen on {addr}: {source}"),
            },
        }
    }
}

impl std::error::Error for StartupError {}

/// The bound sockets of one worker: the main listeners and, with
/// `--redirect-http`, the redirect listeners; with `--unix`, the Unix
/// socket (shared by every worker).
pub struct WorkerSockets {
    pub main: Vec<TcpListener>,
    pub redirect: Vec<TcpListener>,
    pub unix: Option<std::os::unix::net::UnixListener>,
}

/// Everything resolved: ready to run.
pub struct Startup {
    pub app: App,
    pub config: Config,
    pub redirect_config: Config,
    pub workers: Vec<WorkerSockets>,
    pub tls: Option<TlsConfig>,
    /// Lines telling the user where to point a browser.
    pub banner: Vec<String>,
    /// The start-up summary, for the log (`summary.rs`).
    pub summary: Vec<String>,
    /// Serving, draining, stopping: shared with the signal thread.
    pub lifecycle: Arc<Lifecycle>,
    /// The certificate served, which reloads update.
    pub served_cert: Option<Arc<ServedCert>>,
    /// The health check (`--health`), which needs the loops once made.
    pub health: Option<Arc<Health>>,
    /// The `--unix` socket, whose file goes when this is dropped.
    pub unix: Option<unix_socket::Bound>,
    /// `--acme`, to start once the loops run, and the challenge to answer.
    pub acme: Option<(Acme, acme::Kind)>,
}

impl Startup {
    /// Checks, loads and binds everything the settings name. Sockets
    /// passed by systemd (`activated`) are used instead of binding.
    pub fn new(settings: &Settings, activated: Option<Activated>) -> Result<Startup, StartupError> {
        let root = check_root(&settings.root)?;
        let root_dir = std::fs::File::open(&root).map_err(|source| StartupError::Root {
            path: root.clone(),
            source,
        })?;
        check_site_file(&root, &root_dir, "--spa", settings.spa.as_ref())?;
        check_site_file(&root, &root_dir, "--404", settings.not_found.as_ref())?;
        let uploads = match &settings.upload_dir {
            Some(dir) => {
                let dir = check_upload_dir(dir)?;
                Some(Uploads {
                    url: served_segments(&root, &dir).map(|s| dir_url(&s)),
                    dir,
                    overwrite: settings.overwrite,
                    max_size: settings.max_upload_size,
                })
            }
            None => None,
        };
        let headers = Arc::new(ResponseHeaders {
            cors: Cors::new(&settings.cors),
            extra: settings.header.clone(),
        });
        let resumable = match &uploads {
            Some(uploads) => Some(
                crate::resumable::Resumable::new(
                    uploads.clone(),
                    crate::resumable::store::Limits {
                        expiry: settings.upload_expiry,
                        max_open: settings.max_open_uploads,
                        max_open_per_client: settings.max_open_uploads_per_client,
                    },
                )
                .map_err(StartupError::Threads)?,
            ),
            None => None,
        };
        let disk = match &uploads {
            Some(uploads) => Some(Arc::new(
                app::disk_threads(uploads.clone(), Arc::clone(&headers))
                    .map_err(StartupError::Threads)?,
            )),
            None => None,
        };
        let archiver = if settings.no_archive || settings.no_listing {
            None
        } else {
            Some(Arc::new(Archiver::new().map_err(StartupError::Threads)?))
        };
        let auth = match &settings.auth() {
            Some(a) => Some(Arc::new(
                Auth::load(&a.file, a.uploads_only).map_err(StartupError::Auth)?,
            )),
            None => None,
        };
        let acme = match settings.acme() {
            Some(acme) => Some(Acme::prepare(acme).map_err(StartupError::Acme)?),
            None => None,
        };
        let tls = match (&settings.tls(), &acme) {
            (Some(files), _) => {
                Some(TlsConfig::load(&files.cert, &files.key).map_err(StartupError::Tls)?)
            }
            (None, Some(acme)) => Some(acme.tls.clone()),
            (None, None) => None,
        };
        // Read once more for the summary and the health check (a change in
        // between is picked up by the watcher, which updates both).
        let leaf = settings.cert.as_deref().map(ServedCert::read);
        let served_cert = tls.as_ref().map(|_| {
            let served = ServedCert::default();
            served.set(
                leaf.clone()
                    .and_then(Result::ok)
                    .or_else(|| acme.as_ref().and_then(Acme::summary)),
            );
            Arc::new(served)
        });
        let lifecycle = Arc::new(Lifecycle::default());
        let health = settings.health.clone().map(|path| {
            Arc::new(Health::new(
                path,
                settings.workers,
                Arc::clone(&lifecycle),
                served_cert.clone(),
            ))
        });

        let mut workers = match activated {
            Some(activated) => share_activated(activated, settings.workers)?,
            None => bind_workers(settings)?,
        };
        let unix = match &settings.unix {
            Some(path) => {
                let bound =
                    unix_socket::bind(path, settings.unix_mode).map_err(StartupError::Unix)?;
                for worker in &mut workers {
                    let clone = bound.listener.try_clone().map_err(|source| {
                        StartupError::Unix(UnixSocketError::Io {
                            path: path.clone(),
                            source,
                        })
                    })?;
                    worker.unix = Some(clone);
                }
                Some(bound)
            }
            None => None,
        };
        let main_port = port_of(&workers[0].main).unwrap_or(settings.port);
        let redirect_port = port_of(&workers[0].redirect);
        let scheme = if tls.is_some() { "https" } else { "http" };
        let mut banner = Vec::new();
        let mut listening = Vec::new();
        for listener in &workers[0].main {
            if let Ok(addr) = listener.local_addr() {
                listening.push(url(scheme, addr));
            }
        }
        if let Some(bound) = &unix {
            listening.push(format!("unix:{}", bound.path().display()));
        }
        for place in &listening {
            banner.push(format!("serving {} on {place}", root.display()));
        }
        if settings.qr {
            let first = workers[0].main.first().and_then(|l| l.local_addr().ok());
            if let Some(addr) = first {
                banner.extend(qr_lines(&qr_url(scheme, addr)));
            }
        }
        for listener in &workers[0].redirect {
            if let Ok(addr) = listener.local_addr() {
                banner.push(format!("redirecting {} to https", url("http", addr)));
                listening.push(format!("{} (redirects to https)", url("http", addr)));
            }
        }

        let max_body = match &uploads {
            Some(u) => u.max_size.max(settings.max_content_length),
            None => settings.max_content_length,
        };
        let mut config = Config::default();
        config.max_waiting_clients = max_connections(settings);
        config.keep_alive_timeout = settings.keep_alive_timeout;
        config.keep_alive_max_requests = settings.keep_alive_max_requests;
        config.max_headers_length = settings.max_headers_length;
        config.max_content_length = max_body;
        config.request_timeout = settings.request_timeout;
        config.send_timeout = settings.send_timeout;
        config.access_log = Some(crate::access_log::hook(
            settings.log_format,
            settings.metrics.is_some(),
        ));
        config.trusted_proxies = settings.trusted_proxy.clone();
        if settings.proxy_protocol {
            // Every listener, --redirect-http's included (its config is a
            // copy of this one).
            config.proxy_protocol = uhttp::ProxyProtocol::Required {
                from: settings.trusted_proxy.clone(),
            };
        }
        config.peer_limits = peer_limits(settings);
        config.limit_rate = settings.limit_rate.and_then(NonZeroU64::new);
        config.event_mode = true;
        config.tls = tls.clone();
        let mut redirect_config = config.clone();
        redirect_config.tls = None;
        // Bodies are never read there: every request is answered on
        // its headers (event mode), so a body of any size gets its
        // 308, not a 413.
        redirect_config.max_content_length = u64::MAX;
        let page = PageOptions {
            uploads: uploads
                .as_ref()
                .map(|u| match served_segments(&root, &u.dir) {
                    Some(segments) => UploadDir::Served(segments),
                    None => UploadDir::Hidden,
                }),
            qr_scheme: settings.qr.then_some(scheme),
            archive_links: archiver.is_some(),
        };
        let search = match settings.no_listing {
            true => None,
            false => Some(Arc::new(
                Pool::new(
                    "search",
                    search::THREADS,
                    search::PENDING,
                    |job: search::Job| job(),
                )
                .map_err(StartupError::Threads)?,
            )),
        };
        let acme_cert = acme.as_ref().map(|a| (a.cert_path(), a.summary()));
        let summary = summary::Facts {
            listeners: listening,
            cert: match (settings.cert.as_deref(), leaf, &acme_cert) {
                (Some(path), Some(leaf), _) => Some(summary::CertFacts { path, leaf }),
                (None, _, Some((path, leaf))) => Some(summary::CertFacts {
                    path,
                    leaf: leaf.clone().ok_or_else(|| {
                        "not there yet: a self-signed placeholder until ACME issues it".to_owned()
                    }),
                }),
                _ => None,
            },
            uploads: uploads.as_ref(),
            auth: auth
                .as_ref()
                .zip(settings.auth_file.as_deref())
                .map(|(a, file)| summary::AuthFacts {
                    file,
                    users: a.users(),
                    uploads_only: settings.auth_uploads_only,
                }),
            limits: summary::Limits {
                workers: settings.workers,
                max_connections: config.max_waiting_clients,
                max_headers_length: config.max_headers_length,
                max_content_length: settings.max_content_length,
                keep_alive_timeout: config.keep_alive_timeout,
                keep_alive_max_requests: config.keep_alive_max_requests,
                request_timeout: config.request_timeout,
                send_timeout: config.send_timeout,
                max_connections_per_ip: config
                    .peer_limits
                    .as_ref()
                    .and_then(|l| l.connection_limit()),
                rate_limit: config.peer_limits.as_ref().and_then(|l| l.rate_limit()),
                limit_rate: config.limit_rate,
            },
            health: settings.health.as_ref(),
            drain: settings.drain,
        }
        .lines(std::time::SystemTime::now());
        let app = App {
            files: StaticOptions {
                root_dir: Arc::new(root_dir),
                root,
                listing: !settings.no_listing,
                page,
                search,
                cache: Arc::default(),
                freshness: match &settings.cache_control {
                    Some(value) => Freshness::Given(value.clone()),
                    None => Freshness::Defaults,
                },
                index: settings.index.clone(),
                spa: settings.spa.clone(),
                not_found: settings.not_found.clone(),
                mime: settings.mime.clone(),
                precompressed: !settings.no_precompressed,
                compressor: match settings.compress {
                    true => Some(Arc::new(
                        Compressor::start(settings.compress_cache)
                            .map_err(StartupError::Threads)?,
                    )),
                    false => None,
                },
            },
            headers,
            trusted_proxies: settings.trusted_proxy.clone(),
            rpc: !settings.no_rpc,
            max_content_length: settings.max_content_length,
            uploads,
            redirect: redirect_port.map(|_| (1, main_port)),
            auth,
            disk,
            archiver,
            resumable,
            health: health.clone(),
            lifecycle: Arc::clone(&lifecycle),
            acme: acme.as_ref().map(|a| Arc::clone(&a.challenges)),
        };
        // HTTP-01 needs the plain listener the CA connects to (port 80).
        let acme = acme.map(|a| match redirect_port {
            None => (a, acme::Kind::TlsAlpn01),
            Some(_) => (a, acme::Kind::Http01),
        });
        if let Some((_, kind)) = &acme {
            acme::warn_unless_validated_port(*kind, redirect_port.unwrap_or(main_port));
        }
        Ok(Startup {
            app,
            config,
            redirect_config,
            workers,
            tls,
            banner,
            summary,
            lifecycle,
            served_cert,
            health,
            unix,
            acme,
        })
    }
}

/// `--max-connections-per-ip`, `--rate-limit` and `--rate-burst`: one
/// table, shared by every worker and listener (each gets a clone of the
/// config), so a client is counted once whichever loop accepted it.
fn peer_limits(settings: &Settings) -> Option<uhttp::PeerLimits> {
    if settings.max_connections_per_ip.is_none() && settings.rate_limit.is_none() {
        return None;
    }
    // The options are at least 1 and at most u32::MAX (`cli::args`).
    let count = |n: usize| NonZeroU32::new(u32::try_from(n).unwrap_or(u32::MAX));
    let mut limits = uhttp::PeerLimits::new();
    if let Some(max) = settings.max_connections_per_ip.and_then(count) {
        limits = limits.max_connections(max);
    }
    if let Some(rate) = settings.rate_limit {
        limits = limits.rate(rate.with_burst(settings.rate_burst.and_then(count)));
    }
    Some(limits)
}

/// Raises the open-file limit, and picks `--max-connections`: as given,
/// or derived from that limit (and logged).
fn max_connections(settings: &Settings) -> usize {
    let limit = fd_limit::raise();
    if let Some(n) = settings.max_connections {
        return n;
    }
    let redirect = settings.redirect_http.is_some();
    let n = fd_limit::default_max_connections(limit, settings.workers, redirect);
    let limit = limit.map_or("unlimited".to_owned(), |l| l.to_string());
    log::info!("open-file limit {limit}: up to {n} connections per worker");
    n
}

/// Binds the listeners of every worker: the first binds what the settings
/// say (port 0 picks a port), the others the same addresses and ports,
/// all with `SO_REUSEPORT` when there are several.
fn bind_workers(settings: &Settings) -> Result<Vec<WorkerSockets>, StartupError> {
    let reuse_port = settings.workers > 1;
    // With --unix, TCP only on the addresses given.
    let main = if settings.unix.is_some() && settings.bind.is_empty() {
        Vec::new()
    } else {
        bind_all(&settings.bind, settings.port, reuse_port)?
    };
    let redirect = match settings.redirect_http {
        Some(port) => bind_all(&settings.bind, port, reuse_port)?,
        None => Vec::new(),
    };
    let main_port = port_of(&main).unwrap_or(settings.port);
    let redirect_port = port_of(&redirect);
    let bound: Vec<IpAddr> = main
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .map(|a| a.ip())
        .collect();
    let mut workers = vec![WorkerSockets {
        main,
        redirect,
        unix: None,
    }];
    for _ in 1..settings.workers {
        let main = match bound.is_empty() {
            true => Vec::new(),
            false => bind_all(&bound, main_port, true)?,
        };
        let redirect = match redirect_port {
            Some(port) => bind_all(&bound, port, true)?,
            None => Vec::new(),
        };
        workers.push(WorkerSockets {
            main,
            redirect,
            unix: None,
        });
    }
    Ok(workers)
}

/// Socket activation: every worker accepts on the same passed sockets.
fn share_activated(
    activated: Activated,
    workers: usize,
) -> Result<Vec<WorkerSockets>, StartupError> {
    let clone_all = |listeners: &[TcpListener]| -> Result<Vec<TcpListener>, StartupError> {
        listeners
            .iter()
            .map(|l| {
                l.try_clone().map_err(|source| StartupError::Bind {
                    addr: l
                        .local_addr()
                        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0))),
                    source,
                })
            })
            .collect()
    };
    let mut all = Vec::with_capacity(workers);
    for _ in 1..workers {
        all.push(WorkerSockets {
            main: clone_all(&activated.main)?,
            redirect: clone_all(&activated.redirect)?,
            unix: None,
        });
    }
    all.insert(
        0,
        WorkerSockets {
            main: activated.main,
            redirect: activated.redirect,
            unix: None,
        },
    );
    Ok(all)
}

fn port_of(listeners: &[TcpListener]) -> Option<u16> {
    listeners.first()?.local_addr().ok().map(|a| a.port())
}

fn check_root(root: &Path) -> Result<PathBuf, StartupError> {
    let canonical = root.canonicalize().map_err(|source| StartupError::Root {
        path: root.to_owned(),
        source,
    })?;
    if !canonical.is_dir() {
        return Err(StartupError::RootNotDir(root.to_owned()));
    }
    Ok(canonical)
}

/// The path segments of `dir` below `root` (both canonical) when the
/// listing shows it: under ROOT, every segment UTF-8 and none a dotfile.
fn served_segments(root: &Path, dir: &Path) -> Option<Vec<String>> {
    dir.strip_prefix(root)
        .ok()?
        .components()
        .map(|c| match c {
            std::path::Component::Normal(s) => s.to_str().filter(|s| !s.starts_with('.')),
            _ => None,
        })
        .map(|s| s.map(str::to_owned))
        .collect()
}

/// `--spa` and `--404` must name a file the resolver serves (under ROOT,
/// no dotfile); it is opened again for each request, so it may change.
fn check_site_file(
    root: &Path,
    root_dir: &std::fs::File,
    option: &'static str,
    page: Option<&SitePath>,
) -> Result<(), StartupError> {
    let Some(page) = page else {
        return Ok(());
    };
    match resolve::open(root, root_dir, page.raw()) {
        Ok(Opened::File { .. }) => Ok(()),
        Ok(Opened::Dir { .. }) => Err(ResolveError::NotFound),
        Err(e) => Err(e),
    }
    .map_err(|source| StartupError::SiteFile {
        option,
        page: page.clone(),
        source,
    })
}

/// The upload directory must exist, be a directory, and take a file.
fn check_upload_dir(dir: &Path) -> Result<PathBuf, StartupError> {
    let canonical = dir
        .canonicalize()
        .map_err(|source| StartupError::UploadDir {
            path: dir.to_owned(),
            source,
        })?;
    if !canonical.is_dir() {
        return Err(StartupError::UploadDirNotDir(dir.to_owned()));
    }
    tempfile::Builder::new()
        .prefix(".uhttpd-write-test-")
        .tempfile_in(&canonical)
        .map_err(|source| StartupError::UploadDirNotWritable {
            path: dir.to_owned(),
            source,
        })?;
    Ok(canonical)
}

/// Binds `port` on every address; no address means all interfaces:
/// dual-stack `::`, or `0.0.0.0` where the host has no IPv6. With port 0
/// the first socket picks the port and the others use the same one.
fn bind_all(
    addrs: &[IpAddr],
    port: u16,
    reuse_port: bool,
) -> Result<Vec<TcpListener>, StartupError> {
    if addrs.is_empty() {
        let any6 = SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), port);
        return match uhttp::bind(any6, reuse_port) {
            Ok(listener) => Ok(vec![listener]),
            Err(e) if is_no_ipv6(&e) => {
                let any4 = SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), port);
                bind_one(any4, reuse_port).map(|l| vec![l])
            }
            Err(source) => Err(StartupError::Bind { addr: any6, source }),
        };
    }
    let mut listeners: Vec<TcpListener> = Vec::with_capacity(addrs.len());
    let mut port = port;
    for ip in addrs {
        let listener = bind_one(SocketAddr::new(*ip, port), reuse_port)?;
        if port == 0 {
            port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        }
        listeners.push(listener);
    }
    Ok(listeners)
}

fn bind_one(addr: SocketAddr, reuse_port: bool) -> Result<TcpListener, StartupError> {
    uhttp::bind(addr, reuse_port).map_err(|source| StartupError::Bind { addr, source })
}

fn is_no_ipv6(e: &io::Error) -> bool {
    // EAFNOSUPPORT (97) or EADDRNOTAVAIL (99) on Linux.
    matches!(e.raw_os_error(), Some(97) | Some(99))
}

/// A URL for a listening address; wildcards are shown as `localhost`.
fn url(scheme: &str, addr: SocketAddr) -> String {
    let host = match addr.ip() {
        ip if ip.is_unspecified() => "localhost".to_owned(),
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    };
    let all = if addr.ip().is_unspecified() {
        " (all interfaces)"
    } else {
        ""
    };
    format!("{scheme}://{host}:{}/{all}", addr.port())
}

/// The URL a phone should open: the listening address, or this host's
/// name when listening on all interfaces.
fn qr_url(scheme: &str, addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        let name = rustix::system::uname();
        let host = name.nodename().to_string_lossy();
        return format!("{scheme}://{host}:{}/", addr.port());
    }
    url(scheme, addr)
}

/// `url` and its QR code, drawn with half-block characters (dark modules
/// as spaces, for a terminal with a dark background).
fn qr_lines(url: &str) -> Vec<String> {
    use qrcode::render::unicode::Dense1x2;
    let Ok(code) = qrcode::QrCode::new(url.as_bytes()) else {
        return Vec::new();
    };
    let drawn = code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .build();
    let mut lines = vec![format!("QR code of {url}:")];
    lines.extend(drawn.lines().map(str::to_owned));
    lines
}
