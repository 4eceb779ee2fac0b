//! When to order a certificate: pure functions of the served certificate's
//! validity, the failures so far and the time.
//!
//! Renewal is due once a third of the lifetime is left (Let's Encrypt's
//! advice for 90-day certificates: 30 days before expiry). After a failed
//! order, the next waits [`backoff`]: a minute, doubling up to six hours,
//! and never past the renewal time of a certificate still valid.
//!
//! ARI (RFC 9773) is not used: instant-acme supports it, but the CA used
//! in the tests (Pebble 2.4, as Debian ships it) does not offer it, so it
//! could not be tested here.

use std::time::{Duration, SystemTime};

/// The first wait after a failure.
const FIRST_RETRY: Duration = Duration::from_secs(60);
/// The longest wait between failed attempts.
const MAX_RETRY: Duration = Duration::from_secs(6 * 3600);

/// When a certificate valid from `not_before` to `not_after` should be
/// renewed: when a third of its lifetime is left.
pub fn renew_at(not_before: SystemTime, not_after: SystemTime) -> SystemTime {
    let lifetime = not_after.duration_since(not_before).unwrap_or_default();
    not_after.checked_sub(lifetime / 3).unwrap_or(not_before)
}

/// The wait after the `failures`-th failed attempt in a row (1 or more).
pub fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(20);
    FIRST_RETRY
        .checked_mul(1 << doublings)
        .unwrap_or(MAX_RETRY)
        .min(MAX_RETRY)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn renews_when_a_third_of_the_lifetime_is_left() {
        let start = SystemTime::UNIX_EPOCH + 1000 * DAY;
        assert_eq!(renew_at(start, start + 90 * DAY), start + 60 * DAY);
        assert_eq!(
            renew_at(start, start + Duration::from_secs(30)),
            start + Duration::from_secs(20)
        );
        // Upside-down validity: due at once.
        assert_eq!(renew_at(start + DAY, start), start);
    }

    #[test]
    fn backoff_doubles_from_a_minute_up_to_six_hours() {
        let minutes: Vec<u64> = [1, 2, 3, 4, 9, 10, 1000, u32::MAX]
            .iter()
            .map(|&n| backoff(n).as_secs() / 60)
            .collect();
        assert_eq!(minutes, [1, 2, 4, 8, 256, 360, 360, 360]);
        assert_eq!(backoff(0), FIRST_RETRY);
    }
}
