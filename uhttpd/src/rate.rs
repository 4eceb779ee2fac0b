//! `--rate-limit N/s` (or `N/m`): a request rate as people write it.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

/// Requests per second or per minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct RequestRate {
    pub requests: NonZeroU32,
    pub per: Per,
}

/// The period of a [`RequestRate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    Second,
    Minute,
}

impl RequestRate {
    /// The library's rate, with bursts of `burst` requests (default: one
    /// period's worth, `N`).
    pub fn with_burst(&self, burst: Option<NonZeroU32>) -> uhttp::Rate {
        let per = match self.per {
            Per::Second => Duration::from_secs(1),
            Per::Minute => Duration::from_secs(60),
        };
        let rate = uhttp::Rate::new(self.requests, per);
        match burst {
            Some(burst) => rate.with_burst(burst),
            None => rate,
        }
    }
}

impl FromStr for RequestRate {
    type Err = String;

    /// `10/s`, `600/m` (also `/sec`, `/second`, `/min`, `/minute`, any
    /// case, spaces around the parts).
    fn from_str(s: &str) -> Result<RequestRate, String> {
        let text = s.trim();
        let invalid = || {
            format!(
                "invalid rate \"{text}\": use requests per second or minute, such as 10/s or 600/m"
            )
        };
        let (count, unit) = text.split_once('/').ok_or_else(invalid)?;
        let count = count.trim();
        if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let requests: u32 = count
            .parse()
            .map_err(|_| format!("invalid rate \"{text}\": at most {} requests", u32::MAX))?;
        let requests = NonZeroU32::new(requests)
            .ok_or_else(|| format!("invalid rate \"{text}\": at least 1 request"))?;
        let per = match unit.trim().to_ascii_lowercase().as_str() {
            "s" | "sec" | "second" => Per::Second,
            "m" | "min" | "minute" => Per::Minute,
            _ => return Err(invalid()),
        };
        Ok(RequestRate { requests, per })
    }
}

impl TryFrom<String> for RequestRate {
    type Error = String;

    fn try_from(s: String) -> Result<RequestRate, String> {
        s.parse()
    }
}

impl fmt::Display for RequestRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.per {
            Per::Second => "s",
            Per::Minute => "m",
        };
        write!(f, "{}/{unit}", self.requests)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_per_second_and_minute_parse_and_print_back() {
        for (text, requests, per, shown) in [
            ("10/s", 10, Per::Second, "10/s"),
            (" 1 / sec ", 1, Per::Second, "1/s"),
            ("600/M", 600, Per::Minute, "600/m"),
            ("5/minute", 5, Per::Minute, "5/m"),
            ("4294967295/second", u32::MAX, Per::Second, "4294967295/s"),
        ] {
            let rate: RequestRate = text.parse().unwrap();
            assert_eq!((rate.requests.get(), rate.per), (requests, per), "{text}");
            assert_eq!(rate.to_string(), shown);
            assert_eq!(shown.parse::<RequestRate>(), Ok(rate));
        }
    }

    #[test]
    fn malformed_rates_are_refused_with_a_hint() {
        for text in [
            "",
            "10",
            "/s",
            "10/",
            "10/h",
            "-1/s",
            "+1/s",
            "1.5/s",
            "10/s/s",
            "ten/s",
            "1 0/s",
            "10 per s",
            "é/s",
            "10/é",
            "\u{ff11}/s",
            "10\u{0}/s",
        ] {
            let err = text.parse::<RequestRate>().expect_err(text);
            assert!(err.contains("such as 10/s"), "{text:?}: {err}");
        }
        assert!(
            "0/s"
                .parse::<RequestRate>()
                .unwrap_err()
                .contains("at least 1")
        );
        assert!(
            "4294967296/s"
                .parse::<RequestRate>()
                .unwrap_err()
                .contains("at most")
        );
    }

    #[test]
    fn the_burst_defaults_to_one_period() {
        let rate: RequestRate = "600/m".parse().unwrap();
        let lib = rate.with_burst(None);
        assert_eq!(lib.burst().get(), 600);
        assert_eq!(lib.per(), Duration::from_secs(60));
        let burst = NonZeroU32::new(5);
        assert_eq!(rate.with_burst(burst).burst().get(), 5);
    }
}
