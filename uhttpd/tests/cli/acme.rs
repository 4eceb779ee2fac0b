//! `--acme` against a real ACME CA: Pebble (`tests/common/pebble.rs`),
//! validating challenges on loopback against the server under test.
//!
//! uhttpd's listeners are bound here (port 0) and passed to it as systemd
//! passes sockets (`LISTEN_FDS`, the plain one named `redirect`), so that
//! Pebble can be told their ports before either starts, and a restarted
//! uhttpd listens on the same ports. Renewal is forced by Pebble itself:
//! certificates valid for 12 s are due for renewal 8 s after issuance.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use tempfile::TempDir;

use crate::common::pebble::{Options, Pebble, trusting};
use crate::common::poll;
use crate::util::{PATIENCE, Server, path_str, write_file};

const DOMAIN: &str = "test.example";

/// uhttpd's listeners, kept open across restarts.
struct Sockets {
    tls: TcpListener,
    plain: Option<TcpListener>,
}

impl Sockets {
    fn new(plain: bool) -> Sockets {
        let bind = || {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            // Inherited by the shell that execs uhttpd.
            rustix::io::fcntl_setfd(&listener, rustix::io::FdFlags::empty()).unwrap();
            listener
        };
        Sockets {
            tls: bind(),
            plain: plain.then(bind),
        }
    }

    fn tls_addr(&self) -> SocketAddr {
        self.tls.local_addr().unwrap()
    }

    fn plain_port(&self) -> Option<u16> {
        self.plain.as_ref().map(|l| l.local_addr().unwrap().port())
    }

    /// The shell lines that put the sockets at fd 3 (and 4) for uhttpd.
    fn activation(&self) -> String {
        let tls = self.tls.as_raw_fd();
        match &self.plain {
            None => format!(
                "exec 90<&{tls}; exec 3<&90 90<&-; \
                 export LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=main"
            ),
            Some(plain) => format!(
                "exec 90<&{tls} 91<&{}; exec 3<&90 4<&91 90<&- 91<&-; \
                 export LISTEN_PID=$$ LISTEN_FDS=2 LISTEN_FDNAMES=main:redirect",
                plain.as_raw_fd()
            ),
        }
    }
}

/// A port nothing listens on (free a moment ago): where Pebble is sent for
/// the challenge type that must not succeed.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// uhttpd with `--acme DOMAIN` against `pebble`, state in `acme_dir`.
fn uhttpd(
    sockets: &Sockets,
    directory: &str,
    ca_root: &Path,
    acme_dir: &Path,
    domain: &str,
) -> Server {
    uhttpd_with(sockets, directory, ca_root, acme_dir, domain, &[])
}

/// [`uhttpd`] with more arguments.
fn uhttpd_with(
    sockets: &Sockets,
    directory: &str,
    ca_root: &Path,
    acme_dir: &Path,
    domain: &str,
    extra: &[&str],
) -> Server {
    let builder = Server::builder()
        .args(extra)
        .under_shell(&sockets.activation())
        .args(["--acme", domain, "--acme-directory", directory])
        .args(["--acme-ca-root", path_str(ca_root)])
        .args(["--acme-dir", path_str(acme_dir)])
        .args(["--health", "/healthz"])
        .banner_lines(if sockets.plain.is_some() { 2 } else { 1 });
    write_file(builder.root(), "hello.txt", b"hello over acme");
    write_file(builder.root(), "big.bin", &big_file());
    builder.start()
}

fn big_file() -> Vec<u8> {
    (0..8u32 << 20).map(|i| (i % 251) as u8).collect()
}

/// A TLS connection to `addr` for SNI `domain`, verified against `roots`.
fn connect(
    addr: SocketAddr,
    client: &Arc<ClientConfig>,
    domain: &str,
) -> std::io::Result<StreamOwned<ClientConnection, TcpStream>> {
    let conn = ClientConnection::new(
        Arc::clone(client),
        ServerName::try_from(domain.to_owned()).unwrap(),
    )
    .unwrap();
    let tcp = crate::common::client::tcp(addr, PATIENCE);
    let mut stream = StreamOwned::new(conn, tcp);
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock)?;
    }
    Ok(stream)
}

/// The leaf served for `domain`, once it chains to `root` (the placeholder
/// does not); waits for issuance, bounded.
fn wait_for_leaf_from(
    server: &Server,
    addr: SocketAddr,
    root: &CertificateDer<'static>,
    domain: &str,
    not: Option<&CertificateDer<'static>>,
) -> CertificateDer<'static> {
    let client = trusting(root.clone());
    poll(
        "a certificate issued by Pebble is served",
        3 * PATIENCE,
        || {
            if let Some(line) = server.stderr.all().iter().find(|l| l.contains("failed")) {
                panic!("{line}");
            }
            let stream = connect(addr, &client, domain).ok()?;
            let leaf = stream
                .conn
                .peer_certificates()?
                .first()?
                .clone()
                .into_owned();
            (Some(&leaf) != not).then_some(leaf)
        },
    )
}

/// The `--metrics` address, from the log.
fn metrics_addr(server: &Server) -> SocketAddr {
    let line = server
        .stderr
        .wait_for("the metrics address", |l| l.contains("metrics on http://"));
    line.split("http://")
        .nth(1)
        .and_then(|rest| rest.strip_suffix("/metrics"))
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
}

/// The value of the unlabelled metric `name`, if it is there.
fn metric(addr: SocketAddr, name: &str) -> Option<u64> {
    let mut response = crate::util::agent()
        .get(format!("http://{addr}/metrics"))
        .call()
        .unwrap();
    let text = response.body_mut().read_to_string().unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// GET `path` over a verified TLS connection; the body.
fn get(addr: SocketAddr, root: &CertificateDer<'static>, path: &str) -> Vec<u8> {
    let mut stream = connect(addr, &trusting(root.clone()), DOMAIN).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {DOMAIN}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let response = crate::util::read_to_close(&mut stream);
    assert_eq!(response.status, 200);
    response.body
}

/// The log line that says how long issuance or renewal took.
fn timing_line(server: &Server, what: &str) -> String {
    server.stderr.wait_for(what, |l| {
        l.contains(&format!("certificate {what}")) && l.contains(" done in ")
    })
}

fn assert_private(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for name in ["account.json", "cert.pem", "key.pem"] {
        let mode = std::fs::metadata(dir.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{name}");
    }
}

#[test]
fn http01_alone_gets_a_certificate_chaining_to_pebbles_root() {
    let sockets = Sockets::new(true);
    let pebble = Pebble::start(&Options {
        http_port: sockets.plain_port().unwrap(),
        tls_port: closed_port(),
        ..Options::default()
    });
    let state = TempDir::new().unwrap();
    let acme_dir = state.path().join("acme");
    let server = uhttpd(
        &sockets,
        &pebble.directory,
        pebble.listener_ca(),
        &acme_dir,
        DOMAIN,
    );
    let root = pebble.issuing_root();
    wait_for_leaf_from(&server, sockets.tls_addr(), &root, DOMAIN, None);
    assert_eq!(
        get(sockets.tls_addr(), &root, "/hello.txt"),
        b"hello over acme"
    );
    eprintln!("HTTP-01: {}", timing_line(&server, "issuance"));
    let ordered = server
        .stderr
        .wait_for("the order", |l| l.contains("issuance of the certificate"));
    assert!(ordered.ends_with("(HTTP-01)"), "{ordered}");
    assert_private(&acme_dir);
    // The health check reports the issued certificate (Pebble's: 5 years).
    let health: serde_json::Value =
        serde_json::from_slice(&get(sockets.tls_addr(), &root, "/healthz")).unwrap();
    let certificate = &health["certificate"];
    assert!(
        certificate["subject"].as_str().unwrap().contains(DOMAIN),
        "{health}"
    );
    assert!(
        certificate["days_left"].as_i64().unwrap() > 1000,
        "{health}"
    );
}

#[test]
fn tls_alpn01_alone_gets_one_certificate_for_two_names() {
    let sockets = Sockets::new(false);
    let pebble = Pebble::start(&Options {
        http_port: closed_port(),
        tls_port: sockets.tls_addr().port(),
        ..Options::default()
    });
    let state = TempDir::new().unwrap();
    let server = uhttpd_with(
        &sockets,
        &pebble.directory,
        pebble.listener_ca(),
        state.path(),
        DOMAIN,
        &["--acme", "www.test.example"],
    );
    let root = pebble.issuing_root();
    let leaf = wait_for_leaf_from(&server, sockets.tls_addr(), &root, DOMAIN, None);
    // The same certificate, verified for the second name.
    let other = connect(
        sockets.tls_addr(),
        &trusting(root.clone()),
        "www.test.example",
    )
    .unwrap();
    assert_eq!(other.conn.peer_certificates().unwrap()[0], leaf);
    assert_eq!(
        get(sockets.tls_addr(), &root, "/hello.txt"),
        b"hello over acme"
    );
    eprintln!("TLS-ALPN-01: {}", timing_line(&server, "issuance"));
    let ordered = server
        .stderr
        .wait_for("the order", |l| l.contains("issuance of the certificate"));
    assert!(ordered.ends_with("(TLS-ALPN-01)"), "{ordered}");
}

#[test]
fn renewal_swaps_the_certificate_while_a_download_runs() {
    let sockets = Sockets::new(false);
    let pebble = Pebble::start(&Options {
        http_port: closed_port(),
        tls_port: sockets.tls_addr().port(),
        always_valid: true,
        validity_secs: Some(12),
        ..Options::default()
    });
    let state = TempDir::new().unwrap();
    let server = uhttpd_with(
        &sockets,
        &pebble.directory,
        pebble.listener_ca(),
        state.path(),
        DOMAIN,
        &["--metrics", "127.0.0.1:0"],
    );
    let metrics = metrics_addr(&server);
    let root = pebble.issuing_root();
    let first = wait_for_leaf_from(&server, sockets.tls_addr(), &root, DOMAIN, None);
    let first_expiry = poll(
        "the issued certificate's expiry is a metric",
        PATIENCE,
        || metric(metrics, "uhttpd_certificate_not_after_timestamp_seconds"),
    );

    // A download on the first certificate, read slowly across the swap.
    let mut download = connect(sockets.tls_addr(), &trusting(root.clone()), DOMAIN).unwrap();
    write!(
        download,
        "GET /big.bin HTTP/1.1\r\nHost: {DOMAIN}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut head_and_some = vec![0; 64 * 1024];
    download.read_exact(&mut head_and_some).unwrap();
    assert_eq!(download.conn.peer_certificates().unwrap()[0], first);

    let second = wait_for_leaf_from(&server, sockets.tls_addr(), &root, DOMAIN, Some(&first));
    assert_ne!(first, second);
    eprintln!("renewal: {}", timing_line(&server, "renewal"));
    // The expiry metric follows; each swap counts as a reload.
    poll(
        "the renewed certificate's expiry is a metric",
        PATIENCE,
        || {
            let expiry = metric(metrics, "uhttpd_certificate_not_after_timestamp_seconds")?;
            (expiry > first_expiry).then_some(())
        },
    );
    assert!(metric(metrics, "uhttpd_certificate_reloads_total").unwrap() >= 2);
    assert_eq!(
        metric(metrics, "uhttpd_certificate_reload_failures_total"),
        Some(0)
    );

    let mut rest = Vec::new();
    download.read_to_end(&mut rest).unwrap();
    head_and_some.extend_from_slice(&rest);
    let response = crate::util::Response::parse(head_and_some);
    assert_eq!(response.status, 200);
    assert!(
        response.body == big_file(),
        "the download across the swap is intact"
    );
}

#[test]
fn serves_the_stored_certificate_when_the_ca_is_down_at_start() {
    let sockets = Sockets::new(false);
    let state = TempDir::new().unwrap();
    let (first, root, directory, ca_root) = {
        let pebble = Pebble::start(&Options {
            http_port: closed_port(),
            tls_port: sockets.tls_addr().port(),
            always_valid: true,
            ..Options::default()
        });
        let server = uhttpd(
            &sockets,
            &pebble.directory,
            pebble.listener_ca(),
            state.path(),
            DOMAIN,
        );
        let root = pebble.issuing_root();
        let leaf = wait_for_leaf_from(&server, sockets.tls_addr(), &root, DOMAIN, None);
        let ca_root = state.path().join("listener-ca.pem");
        std::fs::copy(pebble.listener_ca(), &ca_root).unwrap();
        (leaf, root, pebble.directory.clone(), ca_root)
        // Both stopped here.
    };
    let server = uhttpd(&sockets, &directory, &ca_root, state.path(), DOMAIN);
    server
        .stderr
        .wait_for("the stored certificate is served", |l| {
            l.contains("serving the stored certificate")
        });
    let client = trusting(root.clone());
    let stream = connect(sockets.tls_addr(), &client, DOMAIN).unwrap();
    assert_eq!(stream.conn.peer_certificates().unwrap()[0], first);
    assert_eq!(
        get(sockets.tls_addr(), &root, "/hello.txt"),
        b"hello over acme"
    );
}

/// A certificate for `domain`, self-signed, valid since 2000 and for two
/// more years: still valid, and long due for renewal.
fn write_due_certificate(dir: &Path, domain: &str) -> CertificateDer<'static> {
    let year = 1970
        + SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            / 31_556_952;
    write_certificate(dir, domain, 2000, i32::try_from(year).unwrap() + 2)
}

/// A self-signed certificate for `domain`, valid from the first day of
/// `from` to the first day of `to`, stored as uhttpd stores its own.
fn write_certificate(dir: &Path, domain: &str, from: i32, to: i32) -> CertificateDer<'static> {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec![domain.to_owned()]).unwrap();
    params.not_before = rcgen::date_time_ymd(from, 1, 1);
    params.not_after = rcgen::date_time_ymd(to, 1, 1);
    let cert = params.self_signed(&key).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    write_file(dir, "cert.pem", cert.pem().as_bytes());
    write_file(dir, "key.pem", key.serialize_pem().as_bytes());
    cert.der().clone()
}

#[test]
fn a_refused_order_is_logged_and_the_previous_certificate_kept() {
    let domain = "blocked.example";
    let sockets = Sockets::new(false);
    let pebble = Pebble::start(&Options {
        http_port: closed_port(),
        tls_port: sockets.tls_addr().port(),
        always_valid: true,
        blocklist: vec![domain.to_owned()],
        ..Options::default()
    });
    let state = TempDir::new().unwrap();
    let stored = write_due_certificate(state.path(), domain);
    let server = uhttpd(
        &sockets,
        &pebble.directory,
        pebble.listener_ca(),
        state.path(),
        domain,
    );
    let line = server.stderr.wait_for("the refusal is logged", |l| {
        l.contains("renewal") && l.contains("failed")
    });
    eprintln!("refused: {line}");
    assert!(
        line.contains("rejectedIdentifier"),
        "{line}\n{}",
        pebble.log()
    );
    assert!(
        line.contains("still serving the previous certificate"),
        "{line}"
    );
    let stream = connect(sockets.tls_addr(), &trusting(stored.clone()), domain).unwrap();
    assert_eq!(stream.conn.peer_certificates().unwrap()[0], stored);
}

#[test]
fn serves_a_stored_certificate_due_for_renewal_while_the_ca_is_unreachable() {
    let sockets = Sockets::new(false);
    let state = TempDir::new().unwrap();
    let stored = write_due_certificate(state.path(), DOMAIN);
    let directory = format!("https://localhost:{}/dir", closed_port());
    // Any CA certificate will do: nothing answers there.
    let ca_root = state.path().join("cert.pem");
    let server = uhttpd(&sockets, &directory, &ca_root, state.path(), DOMAIN);
    let line = server.stderr.wait_for("the failure is logged", |l| {
        l.contains("renewal") && l.contains("failed")
    });
    assert!(
        line.contains("still serving the previous certificate"),
        "{line}"
    );
    let stream = connect(sockets.tls_addr(), &trusting(stored.clone()), DOMAIN).unwrap();
    assert_eq!(stream.conn.peer_certificates().unwrap()[0], stored);
    assert_eq!(
        get(sockets.tls_addr(), &stored, "/hello.txt"),
        b"hello over acme"
    );

    // RFC 8737 §3: only a ClientHello offering acme-tls/1 alone is a
    // validation; with no challenge open it gets no certificate.
    let with_alpn = |protocols: &[&[u8]]| {
        let mut config = (*trusting(stored.clone())).clone();
        config.alpn_protocols = protocols.iter().map(|p| p.to_vec()).collect();
        connect(sockets.tls_addr(), &Arc::new(config), DOMAIN)
    };
    assert!(with_alpn(&[b"acme-tls/1"]).is_err());
    let both = with_alpn(&[b"acme-tls/1", b"http/1.1"]).unwrap();
    assert_eq!(both.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(both.conn.peer_certificates().unwrap()[0], stored);
}

#[test]
fn a_name_added_since_is_ordered_at_once_while_the_stored_certificate_is_served() {
    let sockets = Sockets::new(false);
    let pebble = Pebble::start(&Options {
        http_port: closed_port(),
        tls_port: sockets.tls_addr().port(),
        always_valid: true,
        ..Options::default()
    });
    let state = TempDir::new().unwrap();
    // Valid for decades: not due for renewal, but not for the new name.
    let stored = write_certificate(state.path(), DOMAIN, 2020, 2100);
    let server = uhttpd_with(
        &sockets,
        &pebble.directory,
        pebble.listener_ca(),
        state.path(),
        DOMAIN,
        &["--acme", "new.test.example"],
    );
    let served = connect(sockets.tls_addr(), &trusting(stored.clone()), DOMAIN);
    // Served at start, unless the new one came first.
    if let Ok(stream) = served {
        assert_eq!(stream.conn.peer_certificates().unwrap()[0], stored);
    }
    let root = pebble.issuing_root();
    wait_for_leaf_from(&server, sockets.tls_addr(), &root, "new.test.example", None);
    server
        .stderr
        .wait_for("the stored certificate was served", |l| {
            l.contains("serving the stored certificate")
        });
}
