//! A real ACME CA for the `--acme` tests: Pebble, Let's Encrypt's test
//! server (Debian package `pebble`), with `pebble-challtestsrv` from the
//! same package as its DNS server, answering every name with 127.0.0.1
//! (and no AAAA), so that the CA validates challenges against the server
//! under test on loopback. Both killed when dropped.
//!
//! Pebble's own HTTPS listener gets a certificate for `localhost` made
//! here, issued by a test CA ([`Pebble::listener_ca`], what uhttpd's
//! `--acme-ca-root` trusts). The root of the certificates Pebble issues
//! is on its management interface ([`Pebble::issuing_root`]).
//!
//! Ports: Pebble and the DNS server cannot be handed sockets, so their
//! ports are found by binding port 0 and closing the socket just before
//! they start; a start that fails (the port taken in between) is retried
//! with new ports. The ports Pebble validates on (`http_port`,
//! `tls_port`) are the server's, bound by the test.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use tempfile::TempDir;

use super::PATIENCE;

/// The command that installs Pebble, for the failure message.
const INSTALL: &str =
    "scripts/install-test-deps.sh (Debian package pebble: apt-get install pebble)";

/// Fails the test unless `pebble` and `pebble-challtestsrv` can be run.
pub fn require() {
    for program in ["pebble", "pebble-challtestsrv"] {
        let runs = Command::new(program)
            .arg("-h")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        assert!(runs, "{program} is not installed: {INSTALL}");
    }
}

/// How Pebble is configured.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Where Pebble's VA connects for HTTP-01.
    pub http_port: u16,
    /// Where Pebble's VA connects for TLS-ALPN-01.
    pub tls_port: u16,
    /// `PEBBLE_VA_ALWAYS_VALID`: every challenge passes unchecked (only
    /// for tests not about the challenge).
    pub always_valid: bool,
    /// `certificateValidityPeriod`, in seconds (Pebble's default: 5 years).
    pub validity_secs: Option<u64>,
    /// Names Pebble refuses to issue for (`domainBlocklist`).
    pub blocklist: Vec<String>,
}

/// Pebble and its DNS server, running.
pub struct Pebble {
    pebble: Child,
    dns: Child,
    dir: TempDir,
    /// The ACME directory URL.
    pub directory: String,
    management: SocketAddr,
    listener_ca: PathBuf,
    client: Arc<ClientConfig>,
}

impl Pebble {
    /// Starts Pebble with `options` and waits (bounded) until it listens.
    pub fn start(options: &Options) -> Pebble {
        require();
        let mut last = String::new();
        for _ in 0..3 {
            let dir = TempDir::new().unwrap();
            let (listener_ca, client) = listener_certificate(dir.path());
            let [acme, management, dns, dns_management] = free_ports();
            let config = config_json(dir.path(), options, acme, management);
            let config_path = dir.path().join("pebble-config.json");
            fs::write(&config_path, config).unwrap();
            let dns_child = spawn(
                Command::new("pebble-challtestsrv").args([
                    "-defaultIPv4",
                    "127.0.0.1",
                    "-defaultIPv6",
                    "",
                    "-dns01",
                    &dns.to_string(),
                    "-http01",
                    "",
                    "-https01",
                    "",
                    "-tlsalpn01",
                    "",
                    "-management",
                    &dns_management.to_string(),
                ]),
                &dir.path().join("dns.log"),
            );
            let mut command = Command::new("pebble");
            command
                .arg("-config")
                .arg(&config_path)
                .args(["-dnsserver", &dns.to_string()])
                // No random waits before validating.
                .env("PEBBLE_VA_NOSLEEP", "1")
                // Pebble rejects 5% of nonces by default; instant-acme
                // retries a rejected one up to 3 times, so a run could
                // still fail by chance: none are rejected here.
                .env("PEBBLE_WFE_NONCEREJECT", "0")
                // Every order validates its challenges (no reuse of an
                // earlier valid authorization).
                .env("PEBBLE_AUTHZREUSE", "0");
            if options.always_valid {
                command.env("PEBBLE_VA_ALWAYS_VALID", "1");
            }
            let pebble = spawn(&mut command, &dir.path().join("pebble.log"));
            let mut started = Pebble {
                pebble,
                dns: dns_child,
                directory: format!("https://localhost:{}/dir", acme.port()),
                management,
                listener_ca,
                client,
                dir,
            };
            if started.wait_listening(acme) {
                return started;
            }
            // Dropping it kills both; try again with other ports.
            last = started.log();
            eprintln!("pebble did not start, retrying with other ports:\n{last}");
        }
        panic!("pebble did not start:\n{last}");
    }

    /// Whether Pebble accepts connections on `addr` within the patience,
    /// and neither process exited.
    fn wait_listening(&mut self, addr: SocketAddr) -> bool {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            for child in [&mut self.pebble, &mut self.dns] {
                if child.try_wait().ok().flatten().is_some() {
                    return false;
                }
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
                && TcpStream::connect_timeout(&self.management, Duration::from_millis(200)).is_ok()
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// The CA certificate that issued Pebble's own HTTPS certificate (for
    /// `--acme-ca-root`).
    pub fn listener_ca(&self) -> &Path {
        &self.listener_ca
    }

    /// The root of the certificates Pebble issues (`/roots/0` on the
    /// management interface), DER.
    pub fn issuing_root(&self) -> CertificateDer<'static> {
        let pem = self.management_get("/roots/0");
        rustls::pki_types::pem::PemObject::from_pem_slice(pem.as_bytes())
            .unwrap_or_else(|e| panic!("/roots/0 is not a PEM certificate ({e}): {pem}"))
    }

    /// What Pebble and its DNS server logged so far.
    pub fn log(&self) -> String {
        let read = |name: &str| fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        format!("pebble:\n{}\ndns:\n{}", read("pebble.log"), read("dns.log"))
    }

    /// A GET on the management interface (HTTPS, the listener's
    /// certificate); the body.
    fn management_get(&self, path: &str) -> String {
        let conn = ClientConnection::new(
            Arc::clone(&self.client),
            ServerName::try_from("localhost").unwrap(),
        )
        .unwrap();
        let tcp = super::client::tcp(self.management, PATIENCE);
        let mut stream = StreamOwned::new(conn, tcp);
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut raw = Vec::new();
        // Pebble (Go) may end without close_notify: keep what came.
        let _ = stream.read_to_end(&mut raw);
        let response = super::client::Response::parse(raw);
        assert_eq!(response.status, 200, "GET {path}: {}", response.text());
        response.text()
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        for child in [&mut self.pebble, &mut self.dns] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `N` distinct loopback ports free a moment ago (see the module docs).
fn free_ports<const N: usize>() -> [SocketAddr; N] {
    let listeners: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().unwrap())
}

fn spawn(command: &mut Command, log: &Path) -> Child {
    let out = File::create(log).unwrap();
    let err = out.try_clone().unwrap();
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}; {INSTALL}"))
}

fn config_json(dir: &Path, options: &Options, acme: SocketAddr, management: SocketAddr) -> String {
    let mut pebble = serde_json::json!({
        "listenAddress": acme.to_string(),
        "managementListenAddress": management.to_string(),
        "certificate": dir.join("listener.pem"),
        "privateKey": dir.join("listener.key"),
        "httpPort": options.http_port,
        "tlsPort": options.tls_port,
        "ocspResponderURL": "",
        "externalAccountBindingRequired": false,
        "domainBlocklist": options.blocklist,
    });
    if let Some(secs) = options.validity_secs {
        pebble["certificateValidityPeriod"] = secs.into();
    }
    serde_json::json!({ "pebble": pebble }).to_string()
}

/// Writes Pebble's `localhost` certificate and key, and the CA that issued
/// it (returned, with a client config trusting it).
fn listener_certificate(dir: &Path) -> (PathBuf, Arc<ClientConfig>) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Pebble listener test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let leaf = params.signed_by(&key, &ca, &ca_key).unwrap();
    fs::write(dir.join("listener.pem"), leaf.pem()).unwrap();
    fs::write(dir.join("listener.key"), key.serialize_pem()).unwrap();
    let ca_path = dir.join("listener-ca.pem");
    fs::write(&ca_path, ca.pem()).unwrap();
    (ca_path, trusting(ca.der().clone()))
}

/// A TLS client config trusting only `root`.
pub fn trusting(root: CertificateDer<'static>) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(root).unwrap();
    Arc::new(
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}
