//! Signals: `SIGTERM`/`SIGINT` start a graceful stop, `SIGHUP` reloads the
//! certificate. A thread waits for them and tells the poll loops.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use uhttp::LoopHandle;

use crate::tls_reload::CertWatcher;

/// Starts the signal thread. `stop` is set on SIGTERM/SIGINT and every
/// loop is woken to see it; a second SIGINT/SIGTERM exits at once.
pub fn spawn(
    stop: Arc<AtomicBool>,
    loops: Vec<LoopHandle>,
    watcher: Option<Arc<CertWatcher>>,
) -> std::io::Result<()> {
    let mut signals = Signals::new([SIGTERM, SIGINT, SIGHUP])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                match signal {
                    SIGHUP => match &watcher {
                        Some(w) => {
                            log::info!("SIGHUP: reloading the certificate");
                            crate::systemd::reloading();
                            w.reload_now();
                            crate::systemd::ready("certificate reloaded");
                        }
                        None => log::info!("SIGHUP: no certificate to reload"),
                    },
                    _ => {
                        if stop.swap(true, Ordering::SeqCst) {
                            log::warn!("second stop signal: exiting now");
                            std::process::exit(1);
                        }
                        log::info!("stopping: finishing responses in flight");
                        crate::systemd::stopping();
                        for handle in &loops {
                            handle.interrupt();
                        }
                    }
                }
            }
        })?;
    Ok(())
}
