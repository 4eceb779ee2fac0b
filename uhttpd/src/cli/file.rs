//! The config file: TOML read into [`Options`], key for key.
//!
//! The keys are the fields of [`Options`] (the long option names with `_`
//! for `-`); a key left out keeps the option's default, an unknown key is
//! an error. Values are typed as on the command line, in TOML's types:
//! numbers as numbers, flags as `true`/`false`, lists as arrays; the
//! deserializers in [`de`] take the forms TOML has no type for. Relative
//! paths are relative to the directory holding the file.

use std::path::Path;

use super::args::Options;

/// Reads and parses the config file at `path`. Errors are one line, naming
/// the file (and the line, when the text is at fault).
pub fn read(path: &Path) -> Result<Options, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read config file {}: {err}", path.display()))?;
    parse(path, &text)
}

/// Parses the text of the file at `path`: `PATH: line N: what is wrong`.
pub fn parse(path: &Path, text: &str) -> Result<Options, String> {
    let dir = path.parent().unwrap_or(Path::new(""));
    de::relative_to(dir, || toml::from_str(text)).map_err(|err| {
        let line = err
            .span()
            .map(|span| format!(" line {}:", line_of(text, span.start)))
            .unwrap_or_default();
        // toml's messages may span lines; keep the error on one.
        let message = err.message().trim().replace('\n', ", ");
        format!("config file {}:{line} {message}", path.display())
    })
}

/// 1-based line number of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Deserializers for values the file writes differently from TOML's own
/// type for the field, named in `#[serde(deserialize_with)]` in `args.rs`.
/// Each is generic over the field's type (`T` or `Option<T>`).
pub mod de {
    use std::cell::RefCell;
    use std::fmt;
    use std::net::IpAddr;
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use serde::de::{Error, SeqAccess, Visitor};
    use serde::{Deserialize, Deserializer};

    use crate::size::parse_size;

    thread_local! {
        /// The directory of the file being parsed, for [`path`]: serde
        /// has no way to hand a deserializer such context.
        static BASE: RefCell<Option<PathBuf>> = const { RefCell::new(None) };
    }

    /// Runs `parse` with relative paths taken relative to `dir`.
    pub fn relative_to<T>(dir: &Path, parse: impl FnOnce() -> T) -> T {
        /// Clears the base again, even if `parse` panics.
        struct Reset;
        impl Drop for Reset {
            fn drop(&mut self) {
                BASE.with_borrow_mut(|base| *base = None);
            }
        }
        BASE.with_borrow_mut(|base| *base = Some(dir.to_owned()));
        let _reset = Reset;
        parse()
    }

    /// A path, relative to the config file's directory unless absolute.
    pub fn path<'de, D, T>(d: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: From<PathBuf>,
    {
        let path = PathBuf::deserialize(d)?;
        let path = BASE.with_borrow(|base| match base {
            Some(base) => base.join(&path),
            None => path,
        });
        Ok(T::from(path))
    }

    /// A size: a number of bytes, or a string such as `"512K"`.
    pub fn size<'de, D, T>(d: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<u64>,
    {
        struct SizeVisitor;
        impl Visitor<'_> for SizeVisitor {
            type Value = u64;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of bytes or a size such as \"512K\"")
            }
            fn visit_u64<E: Error>(self, v: u64) -> Result<u64, E> {
                Ok(v)
            }
            fn visit_i64<E: Error>(self, v: i64) -> Result<u64, E> {
                u64::try_from(v).map_err(|_| E::custom(format!("invalid size {v}: negative")))
            }
            fn visit_str<E: Error>(self, v: &str) -> Result<u64, E> {
                parse_size(v).map_err(E::custom)
            }
        }
        let bytes = d.deserialize_any(SizeVisitor)?;
        T::try_from(bytes).map_err(|_| D::Error::custom(format!("invalid size {bytes}: too large")))
    }

    /// A count or a number of requests, at least 1 (`workers = 4`).
    pub fn at_least_one<'de, D, T>(d: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: From<usize>,
    {
        let n = usize::deserialize(d)?;
        if n == 0 {
            return Err(D::Error::custom("invalid value 0: must be at least 1"));
        }
        Ok(T::from(n))
    }

    /// Whole seconds, at least 1 (`keep_alive_timeout = 30`).
    pub fn seconds<'de, D, T>(d: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: From<Duration>,
    {
        let secs = u64::deserialize(d)?;
        if secs == 0 {
            return Err(D::Error::custom(
                "invalid value 0: must be at least 1 second",
            ));
        }
        Ok(T::from(Duration::from_secs(secs)))
    }

    /// A repeatable count (`quiet`, `verbose`): `true`/`false` or a number.
    pub fn count<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
        struct CountVisitor;
        impl Visitor<'_> for CountVisitor {
            type Value = u8;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("true, false or a small number")
            }
            fn visit_bool<E: Error>(self, v: bool) -> Result<u8, E> {
                Ok(u8::from(v))
            }
            fn visit_i64<E: Error>(self, v: i64) -> Result<u8, E> {
                u8::try_from(v).map_err(|_| E::custom(format!("invalid count {v}")))
            }
            fn visit_u64<E: Error>(self, v: u64) -> Result<u8, E> {
                u8::try_from(v).map_err(|_| E::custom(format!("invalid count {v}")))
            }
        }
        d.deserialize_any(CountVisitor)
    }

    /// IP addresses: one string or a list of strings.
    pub fn addresses<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpAddr>, D::Error> {
        struct AddressesVisitor;
        fn parse<E: Error>(s: &str) -> Result<IpAddr, E> {
            s.parse()
                .map_err(|_| E::custom(format!("invalid IP address \"{s}\"")))
        }
        impl<'de> Visitor<'de> for AddressesVisitor {
            type Value = Vec<IpAddr>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an IP address or a list of them, such as [\"::1\", \"127.0.0.1\"]")
            }
            fn visit_str<E: Error>(self, v: &str) -> Result<Vec<IpAddr>, E> {
                parse(v).map(|addr| vec![addr])
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<IpAddr>, A::Error> {
                let mut addrs = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    addrs.push(parse(&s)?);
                }
                Ok(addrs)
            }
        }
        d.deserialize_any(AddressesVisitor)
    }
}
