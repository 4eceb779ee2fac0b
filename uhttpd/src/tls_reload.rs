//! Certificate reload: a thread that watches the certificate and key files
//! and swaps the server's [`TlsConfig`] when they change, plus
//! [`CertWatcher::reload_now`] for `SIGHUP`.
//!
//! What is watched (non-recursively, with `notify`): the directory of each
//! path as given, and the directory of the file each path resolves to.
//! Tools replace certificates by rename, and certbot's `live/DOMAIN/*.pem`
//! are symlinks into `archive/DOMAIN/` that renewal re-points, so watching
//! the files themselves would lose track after the first renewal. The
//! targets are resolved again after every check, and the watched set follows.
//!
//! ```text
//! event in a watched dir ──► pending ──(500 ms quiet, at most 3 s)──► check
//! reload_now() ────────────► pending ──(at once, forced)────────────► check
//! check: read both files; unchanged and not forced → nothing;
//!        else load → replace (info) | keep the old pair (error); re-resolve
//! ```
//!
//! A change in a watched directory schedules a check unless it only touches
//! some other regular file (a log file kept beside the certificate, the next
//! `archive/` file before its symlink is re-pointed): symlinks and
//! directories count, since Kubernetes secrets, for one, change by renaming
//! a `..data` symlink, not the files. The check compares the bytes with what
//! was last loaded, so remaining churn costs a read of two small files and
//! no reload or log line. Ignoring other files matters: a log written into
//! the watched directory would otherwise schedule a check with every line,
//! and at debug level each event's own log line is such a write.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use log::{debug, error, info, warn};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use uhttp::tls::TlsConfig;

use crate::served_cert::ServedCert;
use crate::{utc, x509};

/// When a check runs after changes.
#[derive(Clone, Copy)]
struct Timing {
    /// How long the directories must stay quiet: certificate and key are
    /// often written a moment apart.
    quiet: Duration,
    /// The longest wait after the first change, even if they never go quiet.
    max_delay: Duration,
}

const TIMING: Timing = Timing {
    quiet: Duration::from_millis(500),
    max_delay: Duration::from_secs(3),
};

/// Watches a certificate/key pair and reloads it into a [`TlsConfig`] when
/// it changes. Dropping it stops the watcher thread.
pub struct CertWatcher {
    tx: Sender<Message>,
    thread: Option<JoinHandle<()>>,
    #[cfg_attr(not(test), allow(dead_code))] // read by the tests
    counts: Arc<Counts>,
}

/// What happened so far; read by tests.
#[derive(Default)]
struct Counts {
    checks: AtomicU64,
    reloads: AtomicU64,
    failures: AtomicU64,
}

enum Message {
    Fs(notify::Result<notify::Event>),
    ReloadNow,
    Stop,
}

impl CertWatcher {
    /// Starts watching `cert` and `key` (the pair `tls` was loaded from);
    /// each reload records the new leaf in `served`. Fails when the
    /// directories cannot be watched (for example when one does not exist).
    pub fn spawn(
        cert: PathBuf,
        key: PathBuf,
        tls: TlsConfig,
        served: Arc<ServedCert>,
    ) -> Result<CertWatcher, notify::Error> {
        Self::spawn_with(cert, key, tls, served, TIMING)
    }

    fn spawn_with(
        cert: PathBuf,
        key: PathBuf,
        tls: TlsConfig,
        served: Arc<ServedCert>,
        timing: Timing,
    ) -> Result<CertWatcher, notify::Error> {
        // Absolute, so that event paths and watched directories compare and
        // a later change of working directory cannot matter. Symlinks are
        // kept: they are what gets re-pointed.
        let cert = std::path::absolute(&cert).unwrap_or(cert);
        let key = std::path::absolute(&key).unwrap_or(key);
        let (tx, rx) = mpsc::channel();
        let events = tx.clone();
        let watcher = notify::recommended_watcher(move |event| {
            // Fails only once the watcher thread is gone.
            let _ = events.send(Message::Fs(event));
        })?;
        let counts = Arc::new(Counts::default());
        let mut state = State {
            last: Contents::read(&cert, &key),
            cert,
            key,
            tls,
            served,
            watcher,
            watched: BTreeSet::new(),
            files: BTreeSet::new(),
            counts: Arc::clone(&counts),
            timing,
        };
        for dir in state.wanted_dirs() {
            state.watcher.watch(&dir, RecursiveMode::NonRecursive)?;
            state.watched.insert(dir);
        }
        state.files = state.wanted_files();
        let thread = thread::Builder::new()
            .name("uhttpd-cert-watch".into())
            .spawn(move || state.run(rx))
            .map_err(notify::Error::io)?;
        Ok(CertWatcher {
            tx,
            thread: Some(thread),
            counts,
        })
    }

    /// Reloads the pair now, even if the files look unchanged (`SIGHUP`).
    /// Returns at once; the outcome is logged.
    pub fn reload_now(&self) {
        // Fails only if the thread is gone, and then there is nothing to do.
        let _ = self.tx.send(Message::ReloadNow);
    }
}

impl Drop for CertWatcher {
    fn drop(&mut self) {
        let _ = self.tx.send(Message::Stop);
        if let Some(thread) = self.thread.take() {
            // A panic on the watcher thread was already reported there.
            let _ = thread.join();
        }
    }
}

/// The bytes of both files, to tell a real change from unrelated churn.
#[derive(PartialEq, Eq)]
struct Contents {
    cert: Vec<u8>,
    key: Vec<u8>,
}

impl Contents {
    /// `None` when either file cannot be read (the reload will say why).
    fn read(cert: &Path, key: &Path) -> Option<Contents> {
        Some(Contents {
            cert: std::fs::read(cert).ok()?,
            key: std::fs::read(key).ok()?,
        })
    }
}

/// A check waiting for the directories to go quiet.
struct Pending {
    first: Instant,
    last: Instant,
    forced: bool,
}

impl Pending {
    fn new(now: Instant) -> Pending {
        Pending {
            first: now,
            last: now,
            forced: false,
        }
    }

    fn due(&self, timing: Timing) -> Instant {
        if self.forced {
            self.first
        } else {
            (self.last + timing.quiet).min(self.first + timing.max_delay)
        }
    }
}

/// Everything the watcher thread owns.
struct State {
    cert: PathBuf,
    key: PathBuf,
    tls: TlsConfig,
    /// What the health check reports: updated after each reload.
    served: Arc<ServedCert>,
    watcher: RecommendedWatcher,
    watched: BTreeSet<PathBuf>,
    /// The certificate and key paths and the files they resolve to.
    files: BTreeSet<PathBuf>,
    /// What the last reload attempt read; `None` if it could not read.
    last: Option<Contents>,
    counts: Arc<Counts>,
    timing: Timing,
}

impl State {
    fn run(mut self, rx: Receiver<Message>) {
        let mut pending: Option<Pending> = None;
        loop {
            let message = match &pending {
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(p) => {
                    rx.recv_timeout(p.due(self.timing).saturating_duration_since(Instant::now()))
                }
            };
            let now = Instant::now();
            match message {
                Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                Ok(Message::ReloadNow) => {
                    pending.get_or_insert_with(|| Pending::new(now)).forced = true;
                }
                Ok(Message::Fs(Ok(event))) => {
                    if self.note(&event) {
                        debug!("certificate watch: {:?} {:?}", event.kind, event.paths);
                        pending.get_or_insert_with(|| Pending::new(now)).last = now;
                    }
                }
                Ok(Message::Fs(Err(e))) => {
                    // Events may have been lost (queue overflow): look anyway.
                    warn!("watching certificate files: {e}");
                    pending.get_or_insert_with(|| Pending::new(now)).last = now;
                }
                Err(RecvTimeoutError::Timeout) => {
                    if let Some(p) = pending.take() {
                        self.check(p.forced);
                    }
                }
            }
        }
    }

    /// Whether `event` schedules a check: reads and opens change nothing,
    /// nor do changes to other regular files; anything else in a watched
    /// directory might (see the module docs). Forgets the watch of a
    /// watched directory that was removed.
    fn note(&mut self, event: &notify::Event) -> bool {
        if matches!(event.kind, EventKind::Access(_)) {
            return false;
        }
        if matches!(event.kind, EventKind::Remove(_)) {
            // A watched directory itself went away: its watch is gone, so
            // forget it and let the next re-resolve watch it again.
            for path in &event.paths {
                if self.watched.remove(path) {
                    let _ = self.watcher.unwatch(path);
                }
            }
        }
        event.paths.is_empty() || event.paths.iter().any(|p| may_matter(&self.files, p))
    }

    fn check(&mut self, forced: bool) {
        self.counts.checks.fetch_add(1, Ordering::Relaxed);
        let contents = Contents::read(&self.cert, &self.key);
        if !forced && contents.is_some() && contents == self.last {
            debug!("certificate files unchanged: {}", self.cert.display());
        } else {
            self.reload();
            self.last = contents;
        }
        self.rewatch();
    }

    fn reload(&self) {
        match self.tls.reload(&self.cert, &self.key) {
            Ok(()) => {
                self.counts.reloads.fetch_add(1, Ordering::Relaxed);
                self.served.set(self.log_reloaded());
                // After the new expiry is recorded: a scrape that sees
                // the count sees the expiry too.
                crate::metrics::METRICS.cert_reloaded();
            }
            Err(e) => {
                self.counts.failures.fetch_add(1, Ordering::Relaxed);
                crate::metrics::METRICS.cert_reload_failed();
                error!("certificate reload failed, still serving the previous certificate: {e}");
            }
        }
    }

    /// Logs the reloaded leaf's subject and expiry, and returns them.
    fn log_reloaded(&self) -> Option<x509::Summary> {
        // Read again for the log line (and the health check) only; if the
        // file changed in between, its event brings another reload.
        let path = self.cert.display();
        let summary = match ServedCert::read(&self.cert) {
            Ok(summary) => summary,
            Err(e) => {
                info!("reloaded certificate {path}: subject unknown, expires unknown ({e})");
                return None;
            }
        };
        let expires = utc::to_the_second(summary.not_after).unwrap_or_else(|| "unknown".to_owned());
        info!(
            "reloaded certificate {path}: subject {}, expires {expires}",
            summary.subject
        );
        if summary.not_after < SystemTime::now() {
            warn!("certificate {path} expired on {expires}");
        }
        Some(summary)
    }

    /// The directories of both paths and of the files they resolve to.
    fn wanted_dirs(&self) -> BTreeSet<PathBuf> {
        let mut dirs = BTreeSet::new();
        for path in [&self.cert, &self.key] {
            if let Some(dir) = path.parent() {
                dirs.insert(dir.to_owned());
            }
            if let Ok(target) = std::fs::canonicalize(path)
                && let Some(dir) = target.parent()
            {
                dirs.insert(dir.to_owned());
            }
        }
        dirs
    }

    /// The certificate and key paths as given and the files they resolve to.
    fn wanted_files(&self) -> BTreeSet<PathBuf> {
        let mut files = BTreeSet::new();
        for path in [&self.cert, &self.key] {
            files.insert(path.clone());
            if let Ok(target) = std::fs::canonicalize(path) {
                files.insert(target);
            }
        }
        files
    }

    /// Follows re-pointed symlinks: watch new target directories, drop old.
    fn rewatch(&mut self) {
        self.files = self.wanted_files();
        let wanted = self.wanted_dirs();
        let stale: Vec<PathBuf> = self.watched.difference(&wanted).cloned().collect();
        for dir in stale {
            // The directory may be gone already, and its watch with it.
            let _ = self.watcher.unwatch(&dir);
            self.watched.remove(&dir);
        }
        for dir in wanted {
            if self.watched.contains(&dir) {
                continue;
            }
            match self.watcher.watch(&dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    debug!("watching {}", dir.display());
                    self.watched.insert(dir);
                }
                // Retried after the next check.
                Err(e) => warn!("cannot watch {}: {e}", dir.display()),
            }
        }
    }
}

/// Whether a change at `path` may change what the certificate or key
/// paths (and the files they resolve to, `files`) read: it is one of them,
/// or a symlink or directory (a step on the way to them), or gone (it may
/// have been one). Another regular file is not.
fn may_matter(files: &BTreeSet<PathBuf>, path: &Path) -> bool {
    if files.contains(path) {
        return true;
    }
    !std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_file())
}

#[cfg(test)]
#[path = "../../tests/common/tls_certs.rs"]
mod tls_certs;

#[cfg(test)]
mod tests {
    use super::tls_certs::{KeyKind, Material, generate, replace_file, served};
    use super::*;
    use rustls_pki_types::CertificateDer;
    use std::fs;

    const WAIT: Duration = Duration::from_secs(10);

    /// Polls `done` every 50 ms for up to 10 s.
    fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + WAIT;
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn serving(tls: &TlsConfig) -> CertificateDer<'static> {
        served(tls.current(), &rustls::version::TLS13)
            .chain
            .swap_remove(0)
    }

    fn pair(name: &str) -> Material {
        generate(KeyKind::EcdsaP256Pkcs8, name)
    }

    fn count(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// `dir/cert.pem` and `dir/key.pem` holding `material`, loaded.
    fn start(dir: &Path, material: &Material) -> (PathBuf, PathBuf, TlsConfig) {
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        fs::write(&cert, &material.cert_pem).unwrap();
        fs::write(&key, &material.key_pem).unwrap();
        let tls = TlsConfig::load(&cert, &key).unwrap();
        (cert, key, tls)
    }

    #[test]
    fn reloads_after_files_are_replaced_by_rename() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key, tls) = start(dir.path(), &pair("first.test"));
        let served = Arc::new(ServedCert::default());
        let watcher =
            CertWatcher::spawn(cert.clone(), key.clone(), tls.clone(), Arc::clone(&served))
                .unwrap();

        let second = pair("second.test");
        replace_file(&key, &second.key_pem);
        replace_file(&cert, &second.cert_pem);
        wait_until("the second certificate is served", || {
            serving(&tls) == *second.leaf()
        });
        assert_eq!(count(&watcher.counts.reloads), 1);
        // What the health check reports follows the reload.
        wait_until("the second certificate is reported", || {
            served.get().is_some_and(|s| s.subject == "second.test")
        });
    }

    #[test]
    fn waits_for_both_files_before_loading() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key, tls) = start(dir.path(), &pair("first.test"));
        // A long quiet period, so a slow machine cannot split the scenario.
        let timing = Timing {
            quiet: Duration::from_secs(2),
            max_delay: Duration::from_secs(5),
        };
        let watcher = CertWatcher::spawn_with(
            cert.clone(),
            key.clone(),
            tls.clone(),
            Arc::default(),
            timing,
        )
        .unwrap();

        // The scenario, not synchronisation: a key written a moment before
        // its certificate must not be loaded with the old certificate.
        let second = pair("second.test");
        replace_file(&key, &second.key_pem);
        thread::sleep(Duration::from_millis(100));
        replace_file(&cert, &second.cert_pem);
        wait_until("the second certificate is served", || {
            serving(&tls) == *second.leaf()
        });
        assert_eq!(count(&watcher.counts.failures), 0);
        assert_eq!(count(&watcher.counts.reloads), 1);
    }

    #[cfg(unix)]
    #[test]
    fn follows_re_pointed_certbot_symlinks() {
        use std::os::unix::fs::symlink;

        let root = tempfile::tempdir().unwrap();
        let archive = root.path().join("archive/x");
        let live = root.path().join("live/x");
        fs::create_dir_all(&archive).unwrap();
        fs::create_dir_all(&live).unwrap();
        let put = |dir: &Path, n: u32, material: &Material| {
            fs::write(dir.join(format!("fullchain{n}.pem")), &material.cert_pem).unwrap();
            fs::write(dir.join(format!("privkey{n}.pem")), &material.key_pem).unwrap();
        };
        // certbot: write the new link beside the old one, rename it over.
        let point = |target_dir: &str, n: u32| {
            for name in ["fullchain", "privkey"] {
                let link = live.join(format!("{name}.pem"));
                let temp = live.join(format!("{name}.pem.new"));
                symlink(format!("{target_dir}/{name}{n}.pem"), &temp).unwrap();
                fs::rename(&temp, &link).unwrap();
            }
        };
        let first = pair("first.test");
        put(&archive, 1, &first);
        point("../../archive/x", 1);
        let cert = live.join("fullchain.pem");
        let key = live.join("privkey.pem");
        let tls = TlsConfig::load(&cert, &key).unwrap();
        let _watcher = CertWatcher::spawn(cert, key, tls.clone(), Arc::default()).unwrap();

        // Renewal: new files in archive/, links re-pointed.
        let second = pair("second.test");
        put(&archive, 2, &second);
        point("../../archive/x", 2);
        wait_until("the renewed certificate is served", || {
            serving(&tls) == *second.leaf()
        });

        // Links re-pointed into a directory not watched before.
        let elsewhere = root.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        let third = pair("third.test");
        put(&elsewhere, 3, &third);
        point("../../elsewhere", 3);
        wait_until("the certificate from the new directory is served", || {
            serving(&tls) == *third.leaf()
        });

        // Edited in place there: only the re-resolved target directory sees it.
        let fourth = pair("fourth.test");
        put(&elsewhere, 3, &fourth);
        wait_until("the edited certificate is served", || {
            serving(&tls) == *fourth.leaf()
        });
    }

    #[test]
    fn keeps_the_old_pair_when_the_new_one_is_broken() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key, tls) = start(dir.path(), &pair("first.test"));
        let watcher =
            CertWatcher::spawn(cert.clone(), key.clone(), tls.clone(), Arc::default()).unwrap();
        let before = tls.current();

        // The new certificate with the old key: a mismatched pair.
        let second = pair("second.test");
        replace_file(&cert, &second.cert_pem);
        wait_until("the broken pair was tried", || {
            count(&watcher.counts.failures) == 1
        });
        assert!(Arc::ptr_eq(&before, &tls.current()));

        replace_file(&key, "not a key");
        wait_until("the garbage key was tried", || {
            count(&watcher.counts.failures) == 2
        });
        assert!(Arc::ptr_eq(&before, &tls.current()));

        replace_file(&key, &second.key_pem);
        wait_until("the repaired pair is served", || {
            serving(&tls) == *second.leaf()
        });
        assert_eq!(count(&watcher.counts.reloads), 1);
    }

    #[test]
    fn reload_now_reloads_unchanged_files() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key, tls) = start(dir.path(), &pair("first.test"));
        let watcher = CertWatcher::spawn(cert, key, tls.clone(), Arc::default()).unwrap();
        let before = tls.current();

        watcher.reload_now();
        wait_until("a new config is in place", || {
            !Arc::ptr_eq(&before, &tls.current())
        });
        assert_eq!(count(&watcher.counts.reloads), 1);
    }

    #[test]
    fn ignores_unrelated_changes_in_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key, tls) = start(dir.path(), &pair("first.test"));
        let watcher = CertWatcher::spawn(cert, key, tls.clone(), Arc::default()).unwrap();
        let before = tls.current();

        // Another file: not even a check. A symlink (Kubernetes' `..data`)
        // is looked at, and reloads nothing since the pair is unchanged.
        fs::write(dir.path().join("notes.txt"), "unrelated").unwrap();
        std::os::unix::fs::symlink("notes.txt", dir.path().join("..data")).unwrap();
        wait_until("the change was looked at", || {
            count(&watcher.counts.checks) >= 1
        });
        assert_eq!(count(&watcher.counts.reloads), 0);
        assert!(Arc::ptr_eq(&before, &tls.current()));
    }

    /// Regression: with the log written into the certificate's directory,
    /// each event's debug line was itself an event, and the watcher spun.
    #[test]
    fn only_the_pair_symlinks_directories_and_vanished_paths_matter() {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        fs::write(path("cert.pem"), "x").unwrap();
        fs::write(path("uhttpd.log"), "x").unwrap();
        fs::create_dir(path("..2024_01_01")).unwrap();
        std::os::unix::fs::symlink("..2024_01_01", path("..data")).unwrap();
        let files = BTreeSet::from([path("cert.pem"), path("gone-key.pem")]);
        for (name, matters) in [
            ("cert.pem", true),
            ("gone-key.pem", true),
            ("uhttpd.log", false),
            ("..2024_01_01", true),
            ("..data", true),
            ("..data_tmp", true),
        ] {
            assert_eq!(may_matter(&files, &path(name)), matters, "{name}");
        }
    }

    #[test]
    fn watcher_stops_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key, tls) = start(dir.path(), &pair("first.test"));
        let watcher = CertWatcher::spawn(cert, key, tls, Arc::default()).unwrap();
        let (done, dropped) = mpsc::channel();
        thread::spawn(move || {
            drop(watcher);
            done.send(()).unwrap();
        });
        dropped
            .recv_timeout(WAIT)
            .expect("dropping the watcher joins its thread");
    }

    #[test]
    fn spawn_fails_for_a_missing_directory() {
        let dir = tempfile::tempdir().unwrap();
        let (_, _, tls) = start(dir.path(), &pair("first.test"));
        let missing = dir.path().join("no/such/dir");
        let result = CertWatcher::spawn(
            missing.join("cert.pem"),
            missing.join("key.pem"),
            tls,
            Arc::default(),
        );
        assert!(result.is_err());
    }
}
