//! How uhttpd shows a time: in UTC, date first. The calendar is `der`'s
//! (already here for certificates), whose range, 1970 to 9999, is the one
//! certificates use. Used by the directory listing and the certificate log.

use std::time::{SystemTime, UNIX_EPOCH};

use x509_cert::der::DateTime;

/// `YYYY-MM-DD HH:MM`: a modification time in the directory listing.
pub fn to_the_minute(time: SystemTime) -> Option<String> {
    let t = date_time(time)?;
    Some(format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minutes()
    ))
}

/// `YYYY-MM-DD HH:MM:SS UTC`: a certificate's expiry in the log.
pub fn to_the_second(time: SystemTime) -> Option<String> {
    date_and_time(time, ' ', "", " UTC")
}

/// `YYYY-MM-DDTHH:MM:SSZ` (RFC 3339): a listing's machine-readable time.
pub fn to_rfc3339(time: SystemTime) -> Option<String> {
    date_and_time(time, 'T', "", "Z")
}

/// `02/Dec/2026:01:11:06 +0000`: nginx's `$time_local`, in UTC.
pub fn common_log(time: SystemTime) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = date_time(time)?;
    let month = MONTHS.get(usize::from(t.month()).checked_sub(1)?)?;
    Some(format!(
        "{:02}/{month}/{:04}:{:02}:{:02}:{:02} +0000",
        t.day(),
        t.year(),
        t.hour(),
        t.minutes(),
        t.seconds()
    ))
}

/// `2026-12-02T01:11:06.123Z`: RFC 3339 in UTC, to the millisecond.
pub fn rfc3339_millis(time: SystemTime) -> Option<String> {
    let millis = time.duration_since(UNIX_EPOCH).ok()?.subsec_millis();
    date_and_time(time, 'T', &format!(".{millis:03}"), "Z")
}

/// `YYYY-MM-DD`, `between`, `HH:MM:SS`, `fraction`, `zone`.
fn date_and_time(time: SystemTime, between: char, fraction: &str, zone: &str) -> Option<String> {
    let t = date_time(time)?;
    Some(format!(
        "{:04}-{:02}-{:02}{between}{:02}:{:02}:{:02}{fraction}{zone}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minutes(),
        t.seconds()
    ))
}

/// `None` before 1970 (a file system or clock that does not know the
/// time) and after 9999.
fn date_time(time: SystemTime) -> Option<DateTime> {
    DateTime::from_unix_duration(time.duration_since(UNIX_EPOCH).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn formats_rfc3339() {
        assert_eq!(
            to_rfc3339(at(784_111_777)).as_deref(),
            Some("1994-11-06T08:49:37Z")
        );
        assert_eq!(to_rfc3339(UNIX_EPOCH - Duration::from_secs(1)), None);
    }

    #[test]
    fn formats_to_the_minute() {
        let cases = [
            (0, "1970-01-01 00:00"),
            (784_111_777, "1994-11-06 08:49"),
            (951_782_400, "2000-02-29 00:00"),
            (1_709_251_199, "2024-02-29 23:59"),
            (4_102_444_800, "2100-01-01 00:00"),
            (253_402_300_799, "9999-12-31 23:59"),
        ];
        for (secs, want) in cases {
            assert_eq!(to_the_minute(at(secs)).as_deref(), Some(want), "{secs}");
        }
    }

    #[test]
    fn formats_to_the_second_with_the_zone() {
        let cases = [
            (2_147_483_647, "2038-01-19 03:14:07 UTC"),
            (2_524_607_999, "2049-12-31 23:59:59 UTC"),
            (4_107_542_400, "2100-03-01 00:00:00 UTC"),
            (253_402_300_799, "9999-12-31 23:59:59 UTC"),
        ];
        for (secs, want) in cases {
            assert_eq!(to_the_second(at(secs)).as_deref(), Some(want), "{secs}");
        }
    }

    #[test]
    fn formats_log_times_as_nginx_and_rfc_3339_do() {
        let t = at(1_796_173_866) + Duration::from_millis(7);
        assert_eq!(common_log(t).as_deref(), Some("02/Dec/2026:01:11:06 +0000"));
        assert_eq!(
            rfc3339_millis(t).as_deref(),
            Some("2026-12-02T01:11:06.007Z")
        );
        assert_eq!(
            common_log(at(951_782_400)).as_deref(),
            Some("29/Feb/2000:00:00:00 +0000")
        );
        assert_eq!(rfc3339_millis(UNIX_EPOCH - Duration::from_secs(1)), None);
    }

    #[test]
    fn refuses_times_before_1970_and_after_9999() {
        assert_eq!(to_the_minute(UNIX_EPOCH - Duration::from_secs(1)), None);
        assert_eq!(to_the_second(at(253_402_300_800)), None);
        assert_eq!(to_the_minute(at(u64::from(u32::MAX) * 1_000)), None);
    }
}
