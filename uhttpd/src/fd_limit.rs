//! The open-file limit: raised to its hard maximum at start-up, and the
//! default `--max-connections` derived from it.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Descriptors kept for all but connections: listeners, each worker's
/// poll and waker, stdio, the certificate watcher, the auth file.
const RESERVE: u64 = 64;
/// The derived default never goes above this.
const MOST: u64 = 65536;

/// Raises the soft limit on open files to the hard limit; returns the
/// limit now in force (`None`: unlimited).
pub fn raise() -> Option<u64> {
    let limit = getrlimit(Resource::Nofile);
    if limit.current == limit.maximum {
        return limit.current;
    }
    let raised = Rlimit {
        current: limit.maximum,
        maximum: limit.maximum,
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => limit.maximum,
        Err(e) => {
            log::debug!(
                "cannot raise the open-file limit from {:?} to {:?}: {e}",
                limit.current,
                limit.maximum
            );
            limit.current
        }
    }
}

/// The default `--max-connections` (a limit per worker and per server)
/// for an open-file `limit`: a connection to the main server may hold a
/// file open besides its socket (a file being sent, an upload being
/// written), one to the HTTP redirect server only its socket; `RESERVE`
/// descriptors stay for the rest. At least 1, at most `MOST`.
pub fn default_max_connections(limit: Option<u64>, workers: usize, redirect: bool) -> usize {
    let per_worker = if redirect { 3 } else { 2 };
    let n = match limit {
        None => MOST,
        Some(limit) => limit.saturating_sub(RESERVE) / (per_worker * workers.max(1) as u64),
    };
    // unwrap: at most MOST (65536), which fits in a usize.
    usize::try_from(n.clamp(1, MOST)).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_room_for_a_file_per_connection_and_a_reserve() {
        let cases = [
            // (limit, workers, redirect, default)
            (Some(1024), 1, false, 480),
            (Some(1024), 2, false, 240),
            (Some(1024), 1, true, 320),
            (Some(4096), 4, true, 336),
            (Some(524_288), 1, false, 65536),
            (Some(1 << 20), 1, false, 65536),
            (None, 2, true, 65536),
            (Some(64), 1, false, 1),
            (Some(0), 1, false, 1),
            (Some(u64::MAX), 1, false, 65536),
        ];
        for (limit, workers, redirect, expected) in cases {
            assert_eq!(
                default_max_connections(limit, workers, redirect),
                expected,
                "{limit:?} {workers} {redirect}"
            );
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn raising_leaves_the_soft_limit_at_the_hard_one() {
        let limit = raise();
        let now = getrlimit(Resource::Nofile);
        assert_eq!(limit, now.current);
        // Raising cannot fail on Linux: the hard limit is always allowed.
        assert_eq!(now.current, now.maximum);
    }
}
