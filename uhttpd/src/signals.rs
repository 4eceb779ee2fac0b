//! Signals: `SIGTERM`/`SIGINT` start a graceful stop (with `--drain`,
//! `SIGTERM` drains first: see `lifecycle.rs`), `SIGHUP` reloads the
//! certificate. A thread waits for them and tells the poll loops.

use std::sync::Arc;
use std::time::Duration;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use uhttp::LoopHandle;

use crate::lifecycle::{Lifecycle, Signalled};
use crate::tls_reload::CertWatcher;

/// Starts the signal thread. A stop signal moves `lifecycle` on and wakes
/// every loop to see it; `drain` is `--drain`, applied to SIGTERM. A
/// second SIGINT/SIGTERM, during the drain or the stop, exits at once.
pub fn spawn(
    lifecycle: Arc<Lifecycle>,
    drain: Option<Duration>,
    loops: Vec<LoopHandle>,
    watcher: Option<Arc<CertWatcher>>,
) -> std::io::Result<()> {
    let mut signals = Signals::new([SIGTERM, SIGINT, SIGHUP])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if signal == SIGHUP {
                    match &watcher {
                        Some(w) => {
                            log::info!("SIGHUP: reloading the certificate");
                            crate::systemd::reloading();
                            w.reload_now();
                            crate::systemd::ready("certificate reloaded");
                        }
                        None => log::info!("SIGHUP: no certificate to reload"),
                    }
                    continue;
                }
                let drain = drain.filter(|_| signal == SIGTERM);
                match lifecycle.signal(drain) {
                    Signalled::Again => {
                        log::warn!("second stop signal: exiting now");
                        std::process::exit(1);
                    }
                    Signalled::Draining(secs) => log::info!(
                        "draining: health answers 503, requests are served for {}s more",
                        secs.as_secs()
                    ),
                    Signalled::Stopping => log::info!("stopping: finishing responses in flight"),
                }
                crate::systemd::stopping();
                for handle in &loops {
                    handle.interrupt();
                }
            }
        })?;
    Ok(())
}
