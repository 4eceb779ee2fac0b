//! [`Pacer`]: the byte budget of a connection under
//! [`Config::limit_rate`](crate::Config::limit_rate), a token bucket in
//! bytes, pure (the clock comes in as `now`). The driver asks it before
//! each write and, when the budget is spent, arms a timer for when it
//! will have enough again: the loop sleeps in its poll meanwhile.

use std::num::NonZeroU64;
use std::time::{Duration, Instant};

/// Most bytes saved up while the connection sends less than its rate
/// (between responses, or while the client is slow): a twentieth of a
/// second's worth, at least this many.
const MIN_BURST: u64 = 4096;
/// Wake-ups per second, at most, while a response is paced.
const WAKEUPS_PER_SECOND: u64 = 20;
const NANOS: u128 = 1_000_000_000;

/// A connection's byte budget.
#[derive(Debug)]
pub(crate) struct Pacer {
    /// Bytes per second.
    rate: u64,
    /// The most `tokens` may reach.
    burst: u64,
    /// Bytes that may be sent now.
    tokens: u64,
    /// Tokens are counted up to this moment.
    counted: Instant,
}

/// A connection's pacing: its budget, and the timer set while writing
/// waits for it.
#[derive(Debug)]
pub(crate) struct Pacing {
    pub pacer: Pacer,
    /// Writing waits for the budget until then.
    pub until: Option<Instant>,
}

impl Pacing {
    pub fn new(rate: NonZeroU64, now: Instant) -> Pacing {
        Pacing {
            pacer: Pacer::new(rate, now),
            until: None,
        }
    }
}

impl Pacer {
    /// A budget of `rate` bytes a second, starting with a full burst.
    pub fn new(rate: NonZeroU64, now: Instant) -> Pacer {
        let rate = rate.get();
        let burst = (rate / WAKEUPS_PER_SECOND).max(MIN_BURST);
        Pacer {
            rate,
            burst,
            tokens: burst,
            counted: now,
        }
    }

    /// Bytes that may be written now (more than 0), or when to ask again.
    pub fn allowance(&mut self, now: Instant) -> Result<usize, Instant> {
        self.refill(now);
        if self.tokens > 0 {
            return Ok(usize::try_from(self.tokens).unwrap_or(usize::MAX));
        }
        // Enough for a worthwhile write, at most WAKEUPS_PER_SECOND times
        // a second.
        let want = (self.rate / WAKEUPS_PER_SECOND).clamp(1, self.burst);
        Err(self.counted + self.time_for(want))
    }

    /// `n` bytes were written.
    pub fn spent(&mut self, n: usize) {
        self.tokens = self.tokens.saturating_sub(n as u64);
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.counted);
        let earned = elapsed.as_nanos().saturating_mul(u128::from(self.rate)) / NANOS;
        let earned = u64::try_from(earned).unwrap_or(u64::MAX);
        if earned == 0 {
            return;
        }
        let tokens = self.tokens.saturating_add(earned);
        if tokens >= self.burst {
            self.tokens = self.burst;
            self.counted = now;
        } else {
            self.tokens = tokens;
            // Only the time that earned whole bytes is used up: the
            // fraction of a byte carries over to the next refill.
            self.counted += self.time_for(earned);
        }
    }

    /// How long `bytes` take at the rate, rounded up to the nanosecond:
    /// after that long, `refill` counts at least `bytes`.
    fn time_for(&self, bytes: u64) -> Duration {
        let nanos = (u128::from(bytes) * NANOS).div_ceil(u128::from(self.rate));
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pacer(rate: u64, now: Instant) -> Pacer {
        Pacer::new(NonZeroU64::new(rate).unwrap(), now)
    }

    /// Sends `total` bytes as fast as the pacer allows, in writes of at
    /// most `write`; the time the last byte went out.
    fn send(p: &mut Pacer, mut now: Instant, mut total: u64, write: u64) -> Instant {
        let mut wakeups = 0;
        while total > 0 {
            match p.allowance(now) {
                Ok(n) => {
                    let n = (n as u64).min(write).min(total);
                    p.spent(n as usize);
                    total -= n;
                }
                Err(at) => {
                    assert!(at > now, "a wake-up in the future");
                    now = at;
                    wakeups += 1;
                    assert!(wakeups < 100_000, "bounded");
                }
            }
        }
        now
    }

    #[test]
    fn a_mebibyte_at_256k_per_second_takes_four_seconds_less_the_burst() {
        let t0 = Instant::now();
        let mut p = pacer(256 * 1024, t0);
        let end = send(&mut p, t0, 1 << 20, 64 * 1024);
        let took = end - t0;
        // The first burst (1/20 s) goes at once, then one every 1/20 s;
        // the last few bytes wait for the last of them.
        assert!(
            took >= Duration::from_millis(3950) && took <= Duration::from_millis(4001),
            "took {took:?}"
        );
    }

    #[test]
    fn small_writes_and_slow_rates_keep_the_rate() {
        for (rate, write) in [(1000, 7), (10, 1), (3_000_000, 1 << 20), (4096, 100)] {
            let t0 = Instant::now();
            let mut p = pacer(rate, t0);
            let total = rate * 3;
            let end = send(&mut p, t0, total, write);
            let took = (end - t0).as_secs_f64();
            let burst = (rate / 20).max(MIN_BURST).min(total) as f64;
            let expected = (total as f64 - burst) / rate as f64;
            assert!(
                (took - expected).abs() < 0.06,
                "rate {rate}, writes of {write}: took {took}, expected {expected}"
            );
        }
    }

    #[test]
    fn time_idle_saves_up_one_burst_at_most() {
        let t0 = Instant::now();
        let mut p = pacer(40_000, t0);
        assert_eq!(p.allowance(t0), Ok(MIN_BURST as usize));
        p.spent(MIN_BURST as usize);
        let later = t0 + Duration::from_secs(60);
        assert_eq!(p.allowance(later), Ok(MIN_BURST as usize));
        p.spent(MIN_BURST as usize);
        // Spent: the next write waits for a twentieth of a second's worth.
        assert_eq!(p.allowance(later), Err(later + Duration::from_millis(50)));
    }
}
