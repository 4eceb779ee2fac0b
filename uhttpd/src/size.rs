//! Byte sizes as people write them on a command line or in a config file.
//!
//! `1024`, `10K`, `1M`, `2G`, `1T` (any case), and the same with a `B` or
//! `iB` after the letter (`10KB`, `10KiB`). Every multiplier is a power of
//! 1024: a `K` is always 1024 bytes here, whatever the suffix spelling, so
//! `10KB` and `10KiB` mean the same thing.

/// Parses a byte size: a whole number with an optional `K`, `M`, `G` or `T`
/// suffix (powers of 1024), optionally followed by `B` or `iB`.
///
/// Leading and trailing whitespace is ignored, and so is whitespace between
/// the number and the suffix (`"10 M"`). Empty input, signs, fractions,
/// unknown suffixes and values that do not fit in a `u64` are refused with
/// a message naming the input.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let text = s.trim();
    let invalid =
        || format!("invalid size \"{text}\": use a number with an optional K, M or G suffix");

    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(digits_end);
    if digits.is_empty() {
        return Err(invalid());
    }
    let shift = match suffix.trim_start().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(invalid()),
    };
    let too_large = || {
        format!(
            "invalid size \"{text}\": too large (at most {} bytes)",
            u64::MAX
        )
    };
    let number: u64 = digits.parse().map_err(|_| too_large())?;
    number.checked_mul(1 << shift).ok_or_else(too_large)
}

/// A byte size as [`parse_size`] reads it back: the largest suffix that
/// divides it exactly (`8K`, `1G`, `1536K`), else bytes (`1000`).
pub fn format_size(bytes: u64) -> String {
    for (shift, suffix) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] {
        if bytes != 0 && bytes.is_multiple_of(1 << shift) {
            return format!("{}{suffix}", bytes >> shift);
        }
    }
    bytes.to_string()
}

#[cfg(test)]
mod tests {
    use super::{format_size, parse_size};

    #[test]
    fn formats_sizes_that_parse_back() {
        for (bytes, text) in [
            (0, "0"),
            (1000, "1000"),
            (8 * K, "8K"),
            (1536 * K, "1536K"),
            (K * K * K, "1G"),
            (u64::MAX, "18446744073709551615"),
        ] {
            assert_eq!(format_size(bytes), text);
            assert_eq!(parse_size(text), Ok(bytes));
        }
    }

    const K: u64 = 1024;

    #[test]
    fn accepts_numbers_and_power_of_1024_suffixes() {
        let cases: &[(&str, u64)] = &[
            ("0", 0),
            ("1024", 1024),
            ("007", 7),
            ("10K", 10 * K),
            ("10k", 10 * K),
            ("10KB", 10 * K),
            ("10kb", 10 * K),
            ("10KiB", 10 * K),
            ("10kib", 10 * K),
            ("1M", K * K),
            ("1MiB", K * K),
            ("2G", 2 * K * K * K),
            ("2gb", 2 * K * K * K),
            ("1T", K * K * K * K),
            ("1TiB", K * K * K * K),
            ("512B", 512),
            ("  64K  ", 64 * K),
            ("10 M", 10 * K * K),
            ("\t3G\n", 3 * K * K * K),
            ("18446744073709551615", u64::MAX),
            ("16777215T", 16_777_215 * K * K * K * K),
        ];
        for &(input, expected) in cases {
            assert_eq!(parse_size(input), Ok(expected), "input {input:?}");
        }
    }

    #[test]
    fn refuses_malformed_sizes_with_the_usage_hint() {
        let cases = [
            "", "   ", "K", "-1", "+1", "-1K", "1.5M", "0.5", "10X", "10 KK", "10Ki", "1e3", "M10",
            "10 K B", "1_000", "0x10", "ten",
        ];
        for input in cases {
            let err = parse_size(input).expect_err(input);
            assert!(
                err.contains("use a number with an optional K, M or G suffix"),
                "input {input:?}: {err}"
            );
        }
    }

    #[test]
    fn error_message_quotes_the_trimmed_input() {
        assert_eq!(
            parse_size(" 10X ").unwrap_err(),
            "invalid size \"10X\": use a number with an optional K, M or G suffix"
        );
    }

    #[test]
    fn refuses_sizes_that_overflow_u64() {
        let cases = [
            "18446744073709551616",
            "16777216T",
            "17179869184G",
            "99999999999999999999999",
        ];
        for input in cases {
            let err = parse_size(input).expect_err(input);
            assert!(err.contains("too large"), "input {input:?}: {err}");
        }
    }
}
