//! `--acme`: the HTTPS certificate from an ACME CA (RFC 8555), ordered and
//! renewed on a thread of its own, off the poll loops.
//!
//! ```text
//! start-up: stored cert.pem/key.pem, not expired? ─yes─► serve it
//!                                                 └─no──► serve a self-signed placeholder
//! ACME thread (tokio current-thread runtime, here only):
//!   wait until due (renew_at; now for the placeholder or a certificate
//!   lacking a name; after a failure, not before the backoff)
//!   ─► order (challenges answered by the workers: HTTP-01 in app.rs,
//!      TLS-ALPN-01 in the certificate resolver) ─► store ─► TlsConfig::replace
//! ```
//!
//! A new certificate swaps in like a certbot renewal (`tls_reload.rs`):
//! new connections get it, open ones carry on. A failed order is logged
//! with the CA's reason and the certificate in place stays served.
//!
//! Which challenge: HTTP-01 when there is a plain listener
//! (`--redirect-http`, or a socket passed as `redirect`), since the CA
//! connects to port 80; else TLS-ALPN-01 on the HTTPS port.

mod challenges;
mod order;
mod schedule;
mod store;

use std::io;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use log::{error, info, warn};
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use uhttp::tls::{self, TlsConfig, TlsError};

pub use challenges::Challenges;
pub use order::Kind;

use crate::cli::AcmeSettings;
use crate::served_cert::ServedCert;
use crate::x509::{self, Lifetime, Summary};
use challenges::{ACME_TLS_ALPN, Resolver};
use order::{Issued, OrderError};
use store::Store;

/// The longest an order may take, all steps together.
const ORDER_TIMEOUT: Duration = Duration::from_secs(300);

/// The longest single sleep of the thread: the clock is looked at again
/// after it (a suspended machine, a changed clock).
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// `--acme`, prepared at start-up: the TLS config to serve and what is in
/// it; [`Acme::spawn`] starts the thread that keeps it current.
pub struct Acme {
    settings: AcmeSettings,
    store: Store,
    /// What the TLS listener serves.
    pub tls: TlsConfig,
    /// Shared with the workers, which answer the challenges.
    pub challenges: Arc<Challenges>,
    /// The served certificate's validity; `None` for the placeholder.
    lifetime: Option<Lifetime>,
    /// The served leaf, for the health check.
    summary: Option<Summary>,
    /// Order at once, whatever the served certificate's lifetime: it
    /// lacks some of the names (they were added since).
    order_now: bool,
}

impl Acme {
    /// Opens the store and loads the stored certificate if it is still
    /// valid for the names, else makes the placeholder. No network.
    pub fn prepare(settings: AcmeSettings) -> Result<Acme, String> {
        let store = Store::open(&settings.dir)
            .map_err(|e| format!("--acme-dir {}: {e}", settings.dir.display()))?;
        let challenges = Arc::<Challenges>::default();
        let stored = match load_stored(&store, &settings.domains, &challenges) {
            Ok(stored) => stored,
            Err(why) => {
                warn!("ACME: not serving the stored certificate: {why}");
                None
            }
        };
        let order_now = stored.as_ref().is_some_and(|s| !s.missing.is_empty());
        let (config, lifetime, summary) = match stored {
            Some(stored) => {
                info!(
                    "ACME: serving the stored certificate {} (expires {})",
                    store.cert_path().display(),
                    when(stored.lifetime.not_after)
                );
                if !stored.missing.is_empty() {
                    warn!(
                        "ACME: the stored certificate is not for {}: ordering a new one",
                        stored.missing.join(", ")
                    );
                }
                (stored.config, Some(stored.lifetime), stored.summary)
            }
            None => {
                let config = placeholder(&settings.domains, &challenges)
                    .map_err(|e| format!("--acme: cannot make a placeholder certificate: {e}"))?;
                info!(
                    "ACME: no certificate yet for {}: serving a self-signed placeholder until one is issued",
                    settings.domains.join(", ")
                );
                (config, None, None)
            }
        };
        Ok(Acme {
            settings,
            store,
            tls: TlsConfig::new(config),
            challenges,
            lifetime,
            summary,
            order_now,
        })
    }

    /// Where the certificate is stored.
    pub fn cert_path(&self) -> std::path::PathBuf {
        self.store.cert_path()
    }

    /// The served leaf's summary (`None` for the placeholder).
    pub fn summary(&self) -> Option<Summary> {
        self.summary.clone()
    }

    /// Starts the thread that orders and renews the certificate, answering
    /// `kind` challenges; each new certificate is recorded in `served`.
    /// The async runtime is made on that thread and lives there only.
    pub fn spawn(self, kind: Kind, served: Arc<ServedCert>) -> io::Result<()> {
        let (started, outcome) = std::sync::mpsc::channel();
        thread::Builder::new()
            .name("uhttpd-acme".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                match runtime {
                    Ok(runtime) => {
                        let _ = started.send(Ok(()));
                        self.run(&runtime, kind, &served);
                    }
                    Err(e) => {
                        let _ = started.send(Err(e));
                    }
                }
            })?;
        outcome
            .recv()
            .unwrap_or_else(|_| Err(io::Error::other("the ACME thread ended at start")))
    }

    fn run(mut self, runtime: &tokio::runtime::Runtime, kind: Kind, served: &ServedCert) {
        let mut account = None;
        let mut failures = 0u32;
        let mut retry_at: Option<SystemTime> = None;
        loop {
            let wait = self
                .next_attempt(retry_at)
                .duration_since(SystemTime::now())
                .unwrap_or_default();
            if !wait.is_zero() {
                thread::sleep(wait.min(MAX_SLEEP));
                continue;
            }
            let renewal = self.lifetime.is_some();
            let what = if renewal { "renewal" } else { "issuance" };
            let names = self.settings.domains.join(", ");
            info!(
                "ACME: {what} of the certificate for {names} from {} ({kind})",
                self.settings.directory
            );
            let started = Instant::now();
            let result = self.order(runtime, &mut account, kind);
            match result.and_then(|issued| self.install(issued)) {
                Ok(()) => {
                    self.order_now = false;
                    failures = 0;
                    retry_at = None;
                    served.set(self.summary.clone());
                    // After the new expiry is recorded (as tls_reload.rs).
                    crate::metrics::METRICS.cert_reloaded();
                    let expires = self.lifetime.as_ref().map(|l| l.not_after);
                    info!(
                        "ACME: certificate {what} for {names} done in {:.2} s: serving it (expires {})",
                        started.elapsed().as_secs_f64(),
                        expires.map_or_else(|| "unknown".into(), when)
                    );
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    let backoff = schedule::backoff(failures);
                    retry_at = Some(SystemTime::now() + backoff);
                    crate::metrics::METRICS.cert_reload_failed();
                    let still = match &self.lifetime {
                        Some(l) => format!(
                            "still serving the previous certificate (expires {})",
                            when(l.not_after)
                        ),
                        None => "still serving the self-signed placeholder".into(),
                    };
                    error!(
                        "ACME: certificate {what} for {names} failed after {:.2} s: {}; {still}; next attempt in {} s",
                        started.elapsed().as_secs_f64(),
                        with_causes(&e),
                        backoff.as_secs()
                    );
                    // The account may be what failed (e.g. deleted by the CA).
                    if matches!(e, OrderError::Acme(_)) {
                        account = None;
                    }
                }
            }
        }
    }

    /// When to order next: when renewal is due (at once for the
    /// placeholder, or a certificate lacking names), but not before
    /// `retry_at` after a failure.
    fn next_attempt(&self, retry_at: Option<SystemTime>) -> SystemTime {
        let due = match &self.lifetime {
            Some(l) if !self.order_now => schedule::renew_at(l.not_before, l.not_after),
            _ => SystemTime::UNIX_EPOCH,
        };
        retry_at.map_or(due, |retry| retry.max(due))
    }

    /// One order, start to end, on `runtime`; logs in to (or creates) the
    /// account first if `account` is not set.
    fn order(
        &self,
        runtime: &tokio::runtime::Runtime,
        account: &mut Option<instant_acme::Account>,
        kind: Kind,
    ) -> Result<Issued, OrderError> {
        runtime.block_on(async {
            let order = async {
                let account = match account {
                    Some(account) => account,
                    None => account.insert(order::account(&self.settings, &self.store).await?),
                };
                order::issue(account, &self.settings.domains, kind, &self.challenges).await
            };
            tokio::time::timeout(ORDER_TIMEOUT, order)
                .await
                .unwrap_or(Err(OrderError::Timeout))
        })
    }

    /// Stores the new certificate and serves it.
    fn install(&mut self, issued: Issued) -> Result<(), OrderError> {
        let unusable = |why: String| OrderError::Invalid(format!("unusable certificate: {why}"));
        let chain = CertificateDer::pem_slice_iter(issued.chain_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| unusable(e.to_string()))?;
        let leaf = chain
            .first()
            .ok_or_else(|| unusable("no certificate".into()))?;
        let lifetime = x509::lifetime(leaf).map_err(|e| unusable(e.to_string()))?;
        let summary = x509::summarize(leaf).ok();
        let key = PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes())
            .map_err(|e| unusable(e.to_string()))?;
        let config =
            server_config(chain, key, &self.challenges).map_err(|e| unusable(e.to_string()))?;
        if let Err(e) = self
            .store
            .save_certificate(&issued.chain_pem, &issued.key_pem)
        {
            // Served anyway; the next start orders again.
            error!(
                "ACME: cannot store the certificate in {}: {e}",
                self.store.dir().display()
            );
        }
        self.tls.replace(config);
        self.lifetime = Some(lifetime);
        self.summary = summary;
        Ok(())
    }
}

/// Warns when the listener answering `kind` challenges is not on the port
/// a public CA validates on (80 for HTTP-01, 443 for TLS-ALPN-01): fine
/// behind a port forward, or with a test CA told the port.
pub fn warn_unless_validated_port(kind: Kind, port: u16) {
    let (wanted, how) = match kind {
        Kind::Http01 => (80, "--redirect-http 80"),
        Kind::TlsAlpn01 => (443, "--port 443, or --redirect-http 80 for HTTP-01"),
    };
    if port != wanted {
        warn!(
            "ACME: {kind} challenges are answered on port {port}, but CAs validate on port {wanted}: \
             unless that port is forwarded here, use {how}"
        );
    }
}

/// A stored certificate fit to serve.
struct Stored {
    config: ServerConfig,
    lifetime: Lifetime,
    summary: Option<Summary>,
    /// The `--acme` names it is not for (served meanwhile).
    missing: Vec<String>,
}

/// The stored pair, if there is one, it loads and has not expired.
fn load_stored(
    store: &Store,
    domains: &[String],
    challenges: &Arc<Challenges>,
) -> Result<Option<Stored>, String> {
    let cert = store.cert_path();
    if !cert.exists() {
        return Ok(None);
    }
    let chain = tls::load_certs(&cert).map_err(|e| e.to_string())?;
    let key = tls::load_private_key(&store.key_path()).map_err(|e| e.to_string())?;
    // unwrap: `load_certs` returns at least one certificate.
    let leaf = chain.first().unwrap();
    let lifetime = x509::lifetime(leaf).map_err(|e| format!("{}: {e}", cert.display()))?;
    let missing: Vec<String> = domains
        .iter()
        .filter(|d| !lifetime.dns_names.iter().any(|n| n.eq_ignore_ascii_case(d)))
        .cloned()
        .collect();
    if lifetime.not_after <= SystemTime::now() {
        return Err(format!("it expired on {}", when(lifetime.not_after)));
    }
    let summary = x509::summarize(leaf).ok();
    let config = server_config(chain, key, challenges).map_err(|e| e.to_string())?;
    Ok(Some(Stored {
        config,
        lifetime,
        summary,
        missing,
    }))
}

/// A self-signed certificate for `domains`, served until the first one is
/// issued (the TLS listener needs a certificate, and TLS-ALPN-01 the
/// listener).
fn placeholder(domains: &[String], challenges: &Arc<Challenges>) -> Result<ServerConfig, String> {
    let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
    let cert = rcgen::CertificateParams::new(domains.to_vec())
        .and_then(|params| params.self_signed(&key))
        .map_err(|e| e.to_string())?;
    let key =
        PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes()).map_err(|e| e.to_string())?;
    server_config(vec![cert.der().clone()], key, challenges).map_err(|e| e.to_string())
}

/// The library's config for the pair, with the resolver that answers
/// TLS-ALPN-01 challenges and `acme-tls/1` offered beside `http/1.1`.
fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    challenges: &Arc<Challenges>,
) -> Result<ServerConfig, TlsError> {
    let mut config = tls::server_config(chain, key)?;
    config.cert_resolver = Arc::new(Resolver {
        served: Arc::clone(&config.cert_resolver),
        challenges: Arc::clone(challenges),
    });
    config.alpn_protocols.push(ACME_TLS_ALPN.to_vec());
    Ok(config)
}

/// `e` and each of its causes, `: `-separated (hyper's own message alone,
/// "client error (Connect)", does not say what went wrong).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

fn when(time: SystemTime) -> String {
    crate::utc::to_the_second(time).unwrap_or_else(|| "unknown".into())
}
