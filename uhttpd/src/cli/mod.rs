//! The command line of `uhttpd` and its TOML config file, resolved into one
//! [`Settings`].
//!
//! ```text
//! argv ──clap──▶ Options + ArgMatches ─┐
//!                                      ├─ overlay + check ─▶ Settings
//! -c FILE ──toml──▶ Options ───────────┘
//! ```
//!
//! | file | what lives there |
//! | --- | --- |
//! | `args.rs` | [`Options`](args::Options): every option once, for clap and serde alike |
//! | `file.rs` | reading the config file, the file's value formats |
//! | `settings.rs` | layering the command line over the file, the rules between options, [`Settings`] |
//! | `help.rs` | the prose of `--help` and the man page: about, examples |
//!
//! [`Options`](args::Options) is the option contract: its doc comments are the `--help`
//! text, and the man page and shell completions are rendered from it
//! (`generate.rs`); its field names are the config-file keys. [`resolve`]
//! parses the command line, reads the config file named by `-c` if any,
//! and returns [`Settings`], where every value has its final type and
//! default. A value given on the command line wins over the file, which
//! wins over the built-in default.
//!
//! Nothing here binds a socket or looks at ROOT or the certificate: that
//! happens when the settings are turned into a running server. Reading the
//! config file is the one piece of I/O, kept in `file::read`.
//!
//! # Config file
//!
//! TOML, one key per option: the long option name with `_` for `-`
//! (snake_case), values typed as on the command line:
//!
//! ```toml
//! root = "/srv/www"
//! bind = ["::1", "127.0.0.1"]   # or a single string
//! port = 8443
//! cert = "/etc/letsencrypt/live/example.com/fullchain.pem"
//! key = "/etc/letsencrypt/live/example.com/privkey.pem"
//! redirect_http = 8080
//! upload_dir = "/srv/in"
//! max_upload_size = "1G"        # or a number of bytes
//! upload_expiry = 86400         # resumable uploads, whole seconds
//! keep_alive_timeout = 30       # whole seconds
//! no_listing = true
//! no_archive = true             # no ?download=tar|zip
//! cache_control = "no-cache"   # of every file; "" for none
//! index = ["index.html"]       # tried in order
//! spa = "index.html"            # under ROOT
//! not_found = "404.html"        # --404, under ROOT
//! mime = ["md=text/markdown"]
//! header = ["X-Frame-Options: DENY"]
//! cors = ["https://app.example"] # or ["*"]
//! compress = true               # and compress_cache = "64M"
//! trusted_proxy = ["10.0.0.1"]
//! health = "/healthz"          # off unless given
//! drain = 30                    # seconds, on SIGTERM
//! verbose = 1                   # or true; quiet likewise
//! ```
//!
//! Unknown keys are an error. Relative paths in the file are relative to
//! the directory holding the file (`spa` and `not_found` are paths under
//! ROOT). Lists from the command line (`--bind`, `--trusted-proxy`,
//! `--index`, `--mime`, `--header`, `--cors`) replace the file's list
//! rather than adding to it; `-q`/`-v` on the command line replace the
//! file's `quiet`/`verbose`.

mod args;
mod file;
mod help;
mod settings;
#[cfg(test)]
mod tests;

pub use help::EXAMPLES;
pub use settings::{AcmeSettings, Settings, resolve};

/// The clap command: `--help`, the man page and the completions.
pub fn command() -> clap::Command {
    <args::Options as clap::CommandFactory>::command()
}
