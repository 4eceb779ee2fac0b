//! Where uhttpd is in its life: serving, draining (`--drain`), stopping.
//! One [`Lifecycle`] is shared by the signal thread (which moves it on),
//! the workers (which close their listeners when it says so) and the
//! health check (which answers 503 once it is no longer serving).
//!
//! ```text
//! Serving ──SIGTERM with --drain SECS──▶ Draining { until } ──SECS later──▶ Stopping
//!    └──────SIGINT, or SIGTERM without --drain──────────────────────────────────▲
//! Draining or Stopping ──another SIGTERM/SIGINT──▶ exit at once (signals.rs)
//! ```
//!
//! SIGINT never drains: a person at the terminal pressing Ctrl-C wants
//! the server gone, not kept serving for SECS more.
//!
//! Stopping is what it always was: listeners close, idle connections
//! close, responses in flight get a grace period (`main.rs`).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What a stop signal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signalled {
    /// The drain began: health answers 503, requests are still served.
    Draining(Duration),
    /// The graceful stop began.
    Stopping,
    /// A stop was already under way: the caller exits at once.
    Again,
}

/// The shared state; every method may be called from any thread.
#[derive(Debug, Default)]
pub struct Lifecycle {
    /// Set once, when the drain begins: when it ends.
    drain_until: OnceLock<Instant>,
    /// The graceful stop was asked for without a drain (or cut a drain short).
    stop: AtomicBool,
}

impl Lifecycle {
    /// A stop signal: drains for `drain` (when `Some`), else stops.
    pub fn signal(&self, drain: Option<Duration>) -> Signalled {
        if self.is_draining() || self.stop.load(Ordering::SeqCst) {
            return Signalled::Again;
        }
        match drain {
            Some(drain) => {
                // Only the signal thread moves the state on, so the cell
                // is still empty here.
                let _ = self.drain_until.set(Instant::now() + drain);
                Signalled::Draining(drain)
            }
            None => {
                self.stop.store(true, Ordering::SeqCst);
                Signalled::Stopping
            }
        }
    }

    /// Whether the health check should say "draining" (503): a drain or a
    /// stop is under way.
    pub fn is_draining(&self) -> bool {
        self.drain_until.get().is_some() || self.stop.load(Ordering::SeqCst)
    }

    /// Whether the workers should stop now: a stop was asked for, or the
    /// drain is over. (The clock is read only while draining.)
    pub fn should_stop(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
            || self.drain_until.get().is_some_and(|&u| Instant::now() >= u)
    }

    /// When the drain ends, while it goes on: a worker's wait must not
    /// outlast it.
    pub fn drain_ends(&self) -> Option<Instant> {
        self.drain_until.get().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_drain_a_signal_stops_and_a_second_exits() {
        let life = Lifecycle::default();
        assert!(!life.is_draining());
        assert!(!life.should_stop());
        assert_eq!(life.signal(None), Signalled::Stopping);
        assert!(life.is_draining());
        assert!(life.should_stop());
        assert_eq!(life.signal(None), Signalled::Again);
    }

    #[test]
    fn a_drain_reports_draining_and_stops_only_when_it_ends() {
        let life = Lifecycle::default();
        let secs = Duration::from_secs(30);
        let before = Instant::now();
        assert_eq!(life.signal(Some(secs)), Signalled::Draining(secs));
        assert!(life.is_draining());
        assert!(life.drain_ends().unwrap() >= before + secs);
        assert!(!life.should_stop());
        assert_eq!(life.signal(Some(secs)), Signalled::Again);
        assert_eq!(life.signal(None), Signalled::Again);
    }

    #[test]
    fn workers_stop_once_the_drain_is_over() {
        let life = Lifecycle::default();
        assert_eq!(
            life.signal(Some(Duration::ZERO)),
            Signalled::Draining(Duration::ZERO)
        );
        assert!(life.should_stop());
    }
}
