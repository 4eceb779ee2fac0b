//! From the command line and the config file to checked [`Settings`].
//!
//! [`resolve_from`] parses the command line, reads the `--config` file if
//! one is named, lays the options typed on the command line over the
//! file's (see [`overlay`]), and checks the rules that span several
//! options. Nothing here names an option one by one except those rules.

use std::ffi::OsString;
use std::fmt;
use std::ops::Deref;
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};
use log::LevelFilter;

use super::args::Options;
use super::file;
use crate::origin::CorsOrigin;

/// Everything `uhttpd` needs to start: the [`Options`] from the command
/// line, the config file and the defaults, checked against each other.
///
/// It derefs to the options (`settings.port`); what combines several of
/// them has a method ([`Settings::tls`], [`Settings::auth`],
/// [`Settings::log_level`]). Only [`resolve_from`] makes one, so the rules
/// between options hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    options: Options,
}

/// The PEM files of an HTTPS listener: always both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain, leaf first.
    pub cert: PathBuf,
    /// Private key.
    pub key: PathBuf,
}

/// Where and how `--acme` gets its certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcmeSettings {
    /// The names of the certificate, the first as its subject.
    pub domains: Vec<String>,
    /// The account's contact, if given.
    pub email: Option<String>,
    /// The CA's directory URL.
    pub directory: String,
    /// Account key and certificates.
    pub dir: PathBuf,
    /// A CA certificate to trust for the directory's HTTPS.
    pub ca_root: Option<PathBuf>,
}

/// The directory of systemd's `$STATE_DIRECTORY` (`StateDirectory=`)
/// named `acme`, such as `/var/lib/uhttpd/acme`: a directory of its own,
/// never the upload directory (the shipped unit's first entry).
fn state_directory() -> Option<PathBuf> {
    acme_state_directory(&std::env::var_os("STATE_DIRECTORY")?)
}

/// The entry named `acme` of a `$STATE_DIRECTORY` value (`:`-separated).
pub(super) fn acme_state_directory(dirs: &std::ffi::OsStr) -> Option<PathBuf> {
    std::env::split_paths(dirs).find(|dir| dir.file_name().is_some_and(|name| name == "acme"))
}

/// Whether `name` is a DNS name an ACME CA can validate by HTTP-01 or
/// TLS-ALPN-01: dot-separated labels of ASCII letters, digits and `-`.
fn is_dns_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// HTTP Basic authentication settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    /// File of user names and password hashes.
    pub file: PathBuf,
    /// Only uploads need a login; reading stays public.
    pub uploads_only: bool,
}

impl Deref for Settings {
    type Target = Options;
    fn deref(&self) -> &Options {
        &self.options
    }
}

impl Settings {
    /// Checks the rules that span several options, whichever source each
    /// value came from.
    fn check(options: Options) -> Result<Settings, String> {
        if options.cert.is_some() != options.key.is_some() {
            return Err("--cert and --key go together: give both or neither".into());
        }
        if let Some(redirect) = options.redirect_http {
            if options.cert.is_none() && options.acme.is_empty() {
                return Err(
                    "--redirect-http needs --cert and --key, or --acme (it redirects to HTTPS)"
                        .into(),
                );
            }
            if redirect == options.port && options.port != 0 {
                return Err(format!(
                    "--redirect-http {redirect} is the HTTPS port itself; choose another port"
                ));
            }
        }
        for domain in &options.acme {
            if !is_dns_name(domain) {
                return Err(format!(
                    "--acme {domain:?}: not a DNS name (letters, digits, '-' and '.'; no wildcard)"
                ));
            }
        }
        if !options.acme.is_empty() && options.acme_dir.is_none() && state_directory().is_none() {
            return Err(
                "--acme needs --acme-dir, or a systemd StateDirectory= entry named acme \
                 (StateDirectory=uhttpd/uploads uhttpd/acme)"
                    .into(),
            );
        }
        if options.proxy_protocol && options.trusted_proxy.is_empty() {
            return Err(
                "--proxy-protocol needs --trusted-proxy (the addresses of the load balancers)"
                    .into(),
            );
        }
        if options.rate_burst.is_some() && options.rate_limit.is_none() {
            return Err("--rate-burst needs --rate-limit".into());
        }
        if options.limit_rate == Some(0) {
            return Err(
                "--limit-rate 0 would send nothing: give bytes per second, such as 500K".into(),
            );
        }
        if options.auth_uploads_only && options.auth_file.is_none() {
            return Err("--auth-uploads-only needs --auth-file".into());
        }
        if options.cors.len() > 1 && options.cors.contains(&CorsOrigin::Any) {
            return Err("--cors '*' lets every origin read: give it alone, not in a list".into());
        }
        if options.quiet > 0 && options.verbose > 0 {
            return Err("quiet and verbose cannot both be set".into());
        }
        Ok(Settings { options })
    }

    /// Certificate and key: serve HTTPS. `None`: plain HTTP.
    pub fn tls(&self) -> Option<TlsFiles> {
        let (cert, key) = (self.cert.clone()?, self.key.clone()?);
        Some(TlsFiles { cert, key })
    }

    /// `--acme` and its options; `None` without `--acme`.
    pub fn acme(&self) -> Option<AcmeSettings> {
        if self.acme.is_empty() {
            return None;
        }
        let directory = match (&self.acme_directory, self.acme_staging) {
            (Some(url), _) => url.clone(),
            (None, true) => instant_acme::LetsEncrypt::Staging.url().to_owned(),
            (None, false) => instant_acme::LetsEncrypt::Production.url().to_owned(),
        };
        Some(AcmeSettings {
            domains: self.acme.clone(),
            email: self.acme_email.clone(),
            directory,
            // `check` made sure one of the two is there.
            dir: self
                .acme_dir
                .clone()
                .or_else(state_directory)
                .unwrap_or_default(),
            ca_root: self.acme_ca_root.clone(),
        })
    }

    /// HTTP Basic authentication; `None`: everything is public.
    pub fn auth(&self) -> Option<AuthSettings> {
        Some(AuthSettings {
            file: self.auth_file.clone()?,
            uploads_only: self.auth_uploads_only,
        })
    }

    /// `Info` by default (the access log is at `info`); each `-q` takes one
    /// level away, each `-v` adds one. `RUST_LOG`, when set, is for the
    /// caller to apply on top.
    pub fn log_level(&self) -> LevelFilter {
        match (self.quiet, self.verbose) {
            (0, 0) => LevelFilter::Info,
            (0, 1) => LevelFilter::Debug,
            (0, _) => LevelFilter::Trace,
            (1, _) => LevelFilter::Warn,
            (2, _) => LevelFilter::Error,
            _ => LevelFilter::Off,
        }
    }
}

/// Why the settings could not be resolved.
#[derive(Debug)]
pub enum ResolveError {
    /// The command line did not parse, or asked for `--help`/`--version`:
    /// `err.exit()` prints the right text and exits with the right code.
    Usage(clap::Error),
    /// The config file or the merged values are wrong; one line, naming the
    /// file or option.
    Invalid(String),
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::Usage(err) => err.fmt(f),
            ResolveError::Invalid(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for ResolveError {}

/// Resolves the settings from the process's arguments.
///
/// Like clap's `Parser::parse`, a usage error, `--help` or `--version`
/// prints its text and exits the process. Any other problem is returned as
/// one line for `main` to print.
pub fn resolve() -> Result<Settings, String> {
    use clap::error::ErrorKind;
    match resolve_from(std::env::args_os()) {
        Ok(settings) => Ok(settings),
        Err(ResolveError::Usage(err)) => match err.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => err.exit(),
            _ => Err(one_line(&err)),
        },
        Err(ResolveError::Invalid(msg)) => Err(msg),
    }
}

/// A clap usage error as one line: its message without the usage block,
/// e.g. `the following required arguments were not provided: --key <FILE>
/// (see uhttpd --help)`.
fn one_line(err: &clap::Error) -> String {
    let rendered = err.render().to_string();
    // The message is the first paragraph; usage and hints follow.
    let message = rendered.split("\n\n").next().unwrap_or(&rendered);
    let message = message.trim().trim_start_matches("error:").trim();
    let words: Vec<&str> = message.split_whitespace().collect();
    format!("{} (see uhttpd --help)", words.join(" "))
}

/// Resolves the settings from `args` (the first item is the program name):
/// parses them, reads the `--config` file if one is named, lays the command
/// line over it, checks.
pub fn resolve_from<I, T>(args: I) -> Result<Settings, ResolveError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let matches = Options::command()
        .try_get_matches_from(args)
        .map_err(ResolveError::Usage)?;
    let given = Options::from_arg_matches(&matches).map_err(ResolveError::Usage)?;
    let options = match &given.config {
        Some(path) => {
            let mut options = file::read(path).map_err(ResolveError::Invalid)?;
            overlay(&mut options, matches).map_err(ResolveError::Usage)?;
            options
        }
        None => given,
    };
    Settings::check(options).map_err(ResolveError::Invalid)
}

/// Lays the options typed on the command line over `options` (the file's):
/// a value typed there wins, even one equal to the default; a list replaces
/// the file's list. Every other option keeps the file's value, or its
/// default when the file has none.
///
/// It works on every option at once: the defaults are dropped from
/// `matches`, then clap's own `update_from_arg_matches` assigns what is left.
fn overlay(options: &mut Options, mut matches: ArgMatches) -> Result<(), clap::Error> {
    let defaulted: Vec<String> = matches
        .ids()
        .map(|id| id.as_str().to_owned())
        .filter(|id| !typed(&matches, id))
        .collect();
    for id in defaulted {
        // unwrap: the id comes from these matches.
        matches.try_clear_id(&id).unwrap();
    }
    // -q and -v are one setting, the log level: either one on the command
    // line replaces both of the file's.
    if typed(&matches, "quiet") || typed(&matches, "verbose") {
        options.quiet = 0;
        options.verbose = 0;
    }
    options.update_from_arg_matches(&matches)
}

/// Whether option `id` was typed on the command line (rather than taken
/// from its default).
fn typed(matches: &ArgMatches, id: &str) -> bool {
    matches.value_source(id) == Some(ValueSource::CommandLine)
}
