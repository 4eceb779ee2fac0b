//! [`PeerLimits`]: limits per client address, shared by every loop whose
//! [`Config`](crate::Config) holds a clone of it — open connections
//! ([`PeerLimits::max_connections`]) and a request rate ([`Rate`], a token
//! bucket).
//!
//! Clients are counted by address: an IPv4 address on its own, an IPv6
//! address with the others of its /64 (one subscriber, one LAN: an IPv6
//! client changes addresses within its prefix at will), an IPv4-mapped
//! IPv6 address (`::ffff:a.b.c.d`, what a dual-stack socket reports) as
//! its IPv4 address. The unspecified address, a Unix socket's peer
//! ([`crate::UNIX_SOCKET_ADDR`]), is not limited: it is a proxy on the
//! same host.
//!
//! The address is the one the server believes: the source of a PROXY
//! protocol header when there is one, and for the rate, the request's
//! [`remote_address`](crate::Request::remote_address) (which a trusted
//! proxy's `X-Forwarded-For` may name), as the access log has it.
//!
//! Memory is bounded: the table holds an address only while it has
//! connections open or its bucket is not full again (at most
//! `burst x interval` after its last request), and never more than
//! [`PeerLimits::max_clients`] addresses. Entries are dropped when their
//! last connection closes with the bucket full, and swept when the table
//! is full. When it is still full, a client not in it is refused (429) as
//! if over its limits: a flood of addresses is refused rather than let
//! through unlimited, and the addresses already counted keep their counts.
//!
//! The bucket logic is pure (its table takes `now`); [`PeerLimits`] puts
//! it behind one mutex, taken once per connection opened or closed and
//! once per request checked.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::sync::lock;

/// The default of [`PeerLimits::max_clients`]: 65536 addresses, about
/// 3 MiB of table.
pub const DEFAULT_MAX_CLIENTS: usize = 65536;

/// A request rate: `requests` per `per`, with bursts of up to `burst`
/// requests at once (a token bucket of `burst` tokens, one coming back
/// every `per / requests`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    requests: NonZeroU32,
    per: Duration,
    burst: NonZeroU32,
}

impl Rate {
    /// `requests` per `per` (from a nanosecond to [`Rate::MAX_PERIOD`]),
    /// bursts of `requests`.
    pub fn new(requests: NonZeroU32, per: Duration) -> Rate {
        Rate {
            requests,
            per: per.clamp(Duration::from_nanos(1), Rate::MAX_PERIOD),
            burst: requests,
        }
    }

    /// The longest period a rate is counted over: a day (so that the
    /// bucket's times stay far from the clock's range).
    pub const MAX_PERIOD: Duration = Duration::from_secs(86400);

    /// `requests` per second, bursts of `requests`.
    pub fn per_second(requests: NonZeroU32) -> Rate {
        Rate::new(requests, Duration::from_secs(1))
    }

    /// The same rate with bursts of up to `burst` requests.
    pub fn with_burst(self, burst: NonZeroU32) -> Rate {
        Rate { burst, ..self }
    }

    /// Requests allowed per [`Rate::per`].
    pub fn requests(&self) -> NonZeroU32 {
        self.requests
    }

    /// The period of [`Rate::requests`].
    pub fn per(&self) -> Duration {
        self.per
    }

    /// Requests allowed at once, from a full bucket.
    pub fn burst(&self) -> NonZeroU32 {
        self.burst
    }

    /// Time for one token to come back (at least a nanosecond).
    fn interval(&self) -> Duration {
        (self.per / self.requests.get()).max(Duration::from_nanos(1))
    }
}

/// Limits per client address, shared by the loops holding clones of it
/// (`Clone` is an `Arc` clone). Set the limits before cloning; each
/// limit is off until set.
///
/// ```
/// use std::num::NonZeroU32;
/// use uhttp::{Config, PeerLimits, Rate};
/// let ten = NonZeroU32::new(10).unwrap();
/// let mut config = Config::default();
/// config.peer_limits = Some(
///     PeerLimits::new()
///         .max_connections(ten)
///         .rate(Rate::per_second(ten)),
/// );
/// ```
#[derive(Clone, Debug)]
pub struct PeerLimits {
    max_connections: Option<NonZeroU32>,
    rate: Option<Rate>,
    max_clients: usize,
    table: Arc<Mutex<Table>>,
}

impl Default for PeerLimits {
    fn default() -> Self {
        PeerLimits::new()
    }
}

impl PeerLimits {
    /// No limit yet, room for [`DEFAULT_MAX_CLIENTS`] addresses.
    pub fn new() -> PeerLimits {
        PeerLimits {
            max_connections: None,
            rate: None,
            max_clients: DEFAULT_MAX_CLIENTS,
            table: Arc::default(),
        }
    }

    /// Connections open at once from one client address. One more is
    /// answered `429 Too Many Requests` with `Connection: close` as soon
    /// as its client is known (on accept, or after its PROXY protocol
    /// header; before its request is read), logged in the access log as
    /// refused ([`RequestError::TooManyConnections`]), and closed once
    /// what the client sent meanwhile is drained (at most
    /// [`LINGER`](crate::h1::conn::LINGER)). A connection's slot is free
    /// again when it closes, however it ends.
    ///
    /// [`RequestError::TooManyConnections`]: crate::RequestError::TooManyConnections
    pub fn max_connections(self, n: NonZeroU32) -> PeerLimits {
        PeerLimits {
            max_connections: Some(n),
            ..self
        }
    }

    /// Requests per client address. A request over it is answered `429
    /// Too Many Requests` with `Retry-After` (whole seconds until a token
    /// is back) without reaching the application; the connection stays
    /// open unless the request has a body, which is not read
    /// ([`RequestError::RateLimited`]).
    ///
    /// [`RequestError::RateLimited`]: crate::RequestError::RateLimited
    pub fn rate(self, rate: Rate) -> PeerLimits {
        PeerLimits {
            rate: Some(rate),
            ..self
        }
    }

    /// Most client addresses tracked at once (see the module docs for what
    /// happens when the table is full). At least 1.
    pub fn max_clients(self, n: usize) -> PeerLimits {
        PeerLimits {
            max_clients: n.max(1),
            ..self
        }
    }

    /// The connection limit, if set.
    pub fn connection_limit(&self) -> Option<NonZeroU32> {
        self.max_connections
    }

    /// The rate limit, if set.
    pub fn rate_limit(&self) -> Option<Rate> {
        self.rate
    }

    /// Takes a connection slot for `ip`; `Ok(None)`: not counted (no
    /// connection limit, or a Unix socket peer); `Err`: over the limit.
    pub(crate) fn connect(&self, ip: IpAddr, now: Instant) -> Result<Option<Slot>, Refused> {
        let (Some(max), Some(key)) = (self.max_connections, Key::of(ip)) else {
            return Ok(None);
        };
        lock(&self.table).connect(key, max.get(), self.max_clients, now)?;
        Ok(Some(Slot {
            table: Arc::clone(&self.table),
            key,
        }))
    }

    /// Takes a token for one request from `ip`; `Err(wait)`: over the
    /// rate, a token is back after `wait`.
    pub(crate) fn request(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let (Some(rate), Some(key)) = (self.rate, Key::of(ip)) else {
            return Ok(());
        };
        lock(&self.table).request(key, &rate, self.max_clients, now)
    }
}

/// A connection counted against its address's limit; the count goes down
/// when it is dropped (however the connection ended).
pub(crate) struct Slot {
    table: Arc<Mutex<Table>>,
    key: Key,
}

impl Drop for Slot {
    fn drop(&mut self) {
        lock(&self.table).disconnect(self.key, Instant::now());
    }
}

/// Over a limit (or the table is full).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Refused;

/// What clients are counted by: an IPv4 address, or an IPv6 /64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    V4(u32),
    V6(u64),
}

impl Key {
    /// `None` for the unspecified address (a Unix socket peer).
    fn of(ip: IpAddr) -> Option<Key> {
        if ip.is_unspecified() {
            return None;
        }
        Some(match ip {
            IpAddr::V4(v4) => Key::V4(v4.to_bits()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Key::V4(v4.to_bits()),
                None => Key::V6((v6.to_bits() >> 64) as u64),
            },
        })
    }
}

/// One address's counts.
#[derive(Debug, Default)]
struct Entry {
    connections: u32,
    /// The bucket as GCRA keeps it: when it would be full again (the
    /// "theoretical arrival time"); `None` or past: full.
    full_at: Option<Instant>,
}

impl Entry {
    /// Whether the entry says nothing a fresh one would not.
    fn is_spent(&self, now: Instant) -> bool {
        self.connections == 0 && self.full_at.is_none_or(|at| at <= now)
    }
}

/// The counts of every address, pure: the clock comes in as `now`.
#[derive(Debug, Default)]
struct Table {
    entries: HashMap<Key, Entry>,
    /// No entry can be freed before then (the earliest bucket to fill
    /// among entries without connections); `None`: unknown, sweep.
    next_sweep: Option<Instant>,
}

impl Table {
    fn connect(&mut self, key: Key, max: u32, cap: usize, now: Instant) -> Result<(), Refused> {
        let entry = self.entry(key, cap, now).ok_or(Refused)?;
        if entry.connections >= max {
            return Err(Refused);
        }
        entry.connections += 1;
        Ok(())
    }

    fn disconnect(&mut self, key: Key, now: Instant) {
        let Some(entry) = self.entries.get_mut(&key) else {
            return;
        };
        entry.connections = entry.connections.saturating_sub(1);
        if entry.is_spent(now) {
            self.entries.remove(&key);
        } else if entry.connections == 0
            && let Some(at) = entry.full_at
        {
            self.may_free_at(at);
        }
    }

    /// An entry without connections will be spent at `at`.
    fn may_free_at(&mut self, at: Instant) {
        if let Some(next) = &mut self.next_sweep {
            *next = (*next).min(at);
        }
    }

    /// GCRA, the token bucket counted in time: a request is allowed while
    /// the bucket would be full again within `(burst - 1) x interval`;
    /// each takes one `interval` more.
    fn request(&mut self, key: Key, rate: &Rate, cap: usize, now: Instant) -> Result<(), Duration> {
        let interval = rate.interval();
        let tolerance = interval.saturating_mul(rate.burst.get() - 1);
        let Some(entry) = self.entry(key, cap, now) else {
            return Err(Duration::from_secs(1));
        };
        let full_at = entry.full_at.map_or(now, |at| at.max(now));
        let ahead = full_at - now;
        if ahead > tolerance {
            return Err(ahead - tolerance);
        }
        // Within `burst x interval` of now: at most u32::MAX days, far
        // inside an `Instant`'s range.
        let full_at = full_at + interval;
        entry.full_at = Some(full_at);
        if entry.connections == 0 {
            self.may_free_at(full_at);
        }
        Ok(())
    }

    /// The entry of `key`, made if there is room (after a sweep if the
    /// table is full).
    fn entry(&mut self, key: Key, cap: usize, now: Instant) -> Option<&mut Entry> {
        if !self.entries.contains_key(&key) && self.entries.len() >= cap {
            self.sweep(now);
            if self.entries.len() >= cap {
                return None;
            }
        }
        Some(self.entries.entry(key).or_default())
    }

    /// Drops the entries a fresh one would replace, when one may be.
    fn sweep(&mut self, now: Instant) {
        if self.next_sweep.is_some_and(|at| now < at) {
            return;
        }
        self.entries.retain(|_, e| !e.is_spent(now));
        // Entries that all hold connections free no room until one
        // closes (`disconnect` then lowers `next_sweep`, as `request`
        // does for a new bucket).
        let nothing_soon = now.checked_add(Duration::from_secs(86400));
        self.next_sweep = self
            .entries
            .values()
            .filter(|e| e.connections == 0)
            .filter_map(|e| e.full_at)
            .min()
            .or(nothing_soon);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn n(v: u32) -> NonZeroU32 {
        NonZeroU32::new(v).unwrap()
    }

    #[test]
    fn ipv6_clients_are_grouped_by_64_and_mapped_ipv4_is_ipv4() {
        let same = [
            ("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"),
            ("2001:db8:1:2::1", "2001:db8:1:2:abcd::"),
            ("fe80::1", "fe80::2"),
            ("::1", "::2"),
            ("::ffff:192.0.2.7", "192.0.2.7"),
            ("::ffff:127.0.0.1", "127.0.0.1"),
        ];
        for (a, b) in same {
            assert_eq!(Key::of(ip(a)), Key::of(ip(b)), "{a} and {b}");
        }
        let different = [
            ("2001:db8:1:2::1", "2001:db8:1:3::1"),
            ("2001:db8:1:2::1", "2001:db9:1:2::1"),
            ("192.0.2.7", "192.0.2.8"),
            ("127.0.0.1", "127.0.0.2"),
            // The IPv4-compatible form (deprecated) is IPv6.
            ("::192.0.2.7", "192.0.2.7"),
            ("::ffff:192.0.2.7", "::ffff:192.0.2.8"),
        ];
        for (a, b) in different {
            assert_ne!(Key::of(ip(a)), Key::of(ip(b)), "{a} and {b}");
        }
        assert_eq!(Key::of(ip("0.0.0.0")), None);
        assert_eq!(Key::of(ip("::")), None);
    }

    #[test]
    fn connections_are_counted_per_address_and_released_on_drop() {
        let limits = PeerLimits::new().max_connections(n(2));
        let now = Instant::now();
        let a = limits.connect(ip("192.0.2.1"), now).unwrap();
        let b = limits.connect(ip("::ffff:192.0.2.1"), now).unwrap();
        assert!(a.is_some() && b.is_some());
        assert_eq!(limits.connect(ip("192.0.2.1"), now).err(), Some(Refused));
        assert!(limits.connect(ip("192.0.2.2"), now).unwrap().is_some());
        drop(a);
        let c = limits.connect(ip("192.0.2.1"), now).unwrap();
        assert!(c.is_some());
        drop((b, c));
        assert!(lock(&limits.table).entries.is_empty());
        // Unix socket peers are not counted.
        assert!(limits.connect(ip("0.0.0.0"), now).unwrap().is_none());
    }

    #[test]
    fn rate_allows_the_burst_then_says_when_a_token_is_back() {
        let rate = Rate::per_second(n(2)).with_burst(n(3));
        let mut table = Table::default();
        let key = Key::of(ip("192.0.2.1")).unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(table.request(key, &rate, 10, t0), Ok(()));
        }
        assert_eq!(
            table.request(key, &rate, 10, t0),
            Err(Duration::from_millis(500))
        );
        let later = t0 + Duration::from_millis(200);
        assert_eq!(
            table.request(key, &rate, 10, later),
            Err(Duration::from_millis(300))
        );
        let back = t0 + Duration::from_millis(500);
        assert_eq!(table.request(key, &rate, 10, back), Ok(()));
        assert!(table.request(key, &rate, 10, back).is_err());
        // Long after: the bucket is full again, a whole burst passes.
        let idle = t0 + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(table.request(key, &rate, 10, idle), Ok(()));
        }
        // Another address has its own bucket.
        let other = Key::of(ip("192.0.2.2")).unwrap();
        assert_eq!(table.request(other, &rate, 10, t0), Ok(()));
    }

    #[test]
    fn a_per_minute_rate_refills_one_token_every_interval() {
        let rate = Rate::new(n(6), Duration::from_secs(60)).with_burst(n(1));
        let mut table = Table::default();
        let key = Key::of(ip("2001:db8::1")).unwrap();
        let t0 = Instant::now();
        assert_eq!(table.request(key, &rate, 10, t0), Ok(()));
        let same_64 = Key::of(ip("2001:db8::ffff")).unwrap();
        assert_eq!(
            table.request(same_64, &rate, 10, t0),
            Err(Duration::from_secs(10))
        );
        assert_eq!(
            table.request(key, &rate, 10, t0 + Duration::from_secs(10)),
            Ok(())
        );
    }

    #[test]
    fn the_longest_rates_do_not_overflow_the_clock() {
        let rate = Rate::new(n(1), Duration::MAX).with_burst(n(u32::MAX));
        assert_eq!(rate.per(), Rate::MAX_PERIOD);
        let mut table = Table::default();
        let t0 = Instant::now();
        for _ in 0..1000 {
            assert_eq!(table.request(Key::V4(1), &rate, 10, t0), Ok(()));
        }
        let rate = Rate::new(n(1), Duration::MAX).with_burst(n(1));
        assert_eq!(table.request(Key::V4(2), &rate, 10, t0), Ok(()));
        assert_eq!(
            table.request(Key::V4(2), &rate, 10, t0),
            Err(Rate::MAX_PERIOD)
        );
    }

    #[test]
    fn a_full_table_sweeps_full_buckets_and_refuses_newcomers_otherwise() {
        let rate = Rate::per_second(n(1));
        let mut table = Table::default();
        let t0 = Instant::now();
        for i in 0..4u32 {
            let key = Key::V4(i);
            assert_eq!(table.request(key, &rate, 4, t0), Ok(()));
        }
        assert_eq!(table.entries.len(), 4);
        // Full, no bucket refilled yet: a newcomer is refused, the
        // counted addresses are still counted.
        assert_eq!(
            table.request(Key::V4(9), &rate, 4, t0),
            Err(Duration::from_secs(1))
        );
        assert!(table.request(Key::V4(0), &rate, 4, t0).is_err());
        assert_eq!(table.entries.len(), 4);
        // A second later every bucket is full again: swept, room made.
        let later = t0 + Duration::from_secs(2);
        assert_eq!(table.request(Key::V4(9), &rate, 4, later), Ok(()));
        assert_eq!(table.entries.len(), 1);
        // Entries holding connections are never swept.
        let mut table = Table::default();
        for i in 0..4u32 {
            table.connect(Key::V4(i), 10, 4, t0).unwrap();
        }
        assert_eq!(table.connect(Key::V4(9), 10, 4, later), Err(Refused));
        table.disconnect(Key::V4(0), later);
        assert_eq!(table.connect(Key::V4(9), 10, 4, later), Ok(()));
    }
}
