//! systemd integration: socket activation (`LISTEN_FDS`) and readiness
//! notification (`sd_notify`: READY, RELOADING, STOPPING). Outside
//! systemd both are no-ops.

use std::net::TcpListener;
use std::os::fd::FromRawFd;

use sd_notify::NotifyState;

/// Listening sockets passed by systemd. A socket whose
/// `FileDescriptorName=` is `redirect` serves `--redirect-http`; every
/// other one is a main listener.
pub struct Activated {
    pub main: Vec<TcpListener>,
    pub redirect: Vec<TcpListener>,
}

/// The sockets systemd passed, if it passed any.
pub fn activated_listeners() -> Result<Option<Activated>, String> {
    let fds = sd_notify::listen_fds_with_names().map_err(|e| format!("socket activation: {e}"))?;
    if fds.len() == 0 {
        return Ok(None);
    }
    let mut activated = Activated {
        main: Vec::new(),
        redirect: Vec::new(),
    };
    for (fd, name) in fds {
        // SAFETY: systemd passed `fd` to this process (LISTEN_PID matched,
        // checked by `listen_fds_with_names`); it is open, and nothing
        // else in the process owns it, so taking ownership once is sound.
        let listener = unsafe { TcpListener::from_raw_fd(fd) };
        if listener.local_addr().is_err() {
            return Err(format!("socket activation: fd {fd} is not a TCP socket"));
        }
        if name == "redirect" {
            activated.redirect.push(listener);
        } else {
            activated.main.push(listener);
        }
    }
    if activated.main.is_empty() {
        return Err("socket activation: only redirect sockets were passed".into());
    }
    Ok(Some(activated))
}

/// Tells systemd start-up is complete.
pub fn ready(status: &str) {
    notify(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// Tells systemd a reload (of the certificate) started.
pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => notify(&[NotifyState::Reloading, now]),
        Err(_) => notify(&[NotifyState::Reloading]),
    }
}

/// Tells systemd the service is stopping.
pub fn stopping() {
    notify(&[NotifyState::Stopping]);
}

fn notify(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        log::warn!("cannot notify systemd: {e}");
    }
}
