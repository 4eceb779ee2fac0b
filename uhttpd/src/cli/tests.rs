//! The command line and the config file, resolved: defaults, every
//! option from either source, precedence, the rules between options, and
//! one-line errors. `one_field_is_one_option` shows that an option defined
//! once in `args.rs` reaches every surface.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::CommandFactory;
use clap::error::ErrorKind;
use clap_complete::Shell;
use log::LevelFilter;

use super::args::Options;
use super::settings::{AuthSettings, ResolveError, Settings, TlsFiles, resolve_from};
use crate::generate;

fn settings(args: &[&str]) -> Settings {
    resolve_from(std::iter::once("uhttpd").chain(args.iter().copied()))
        .unwrap_or_else(|err| panic!("{args:?}: {err}"))
}

fn usage_error(args: &[&str]) -> ErrorKind {
    match resolve_from(std::iter::once("uhttpd").chain(args.iter().copied())) {
        Err(ResolveError::Usage(err)) => err.kind(),
        other => panic!("{args:?}: expected a usage error, got {other:?}"),
    }
}

fn invalid(args: &[&str]) -> String {
    match resolve_from(std::iter::once("uhttpd").chain(args.iter().copied())) {
        Err(ResolveError::Invalid(msg)) => msg,
        other => panic!("{args:?}: expected an invalid setting, got {other:?}"),
    }
}

/// Writes `text` as a config file in a fresh temporary directory.
fn config_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("uhttpd.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn no_arguments_serve_the_current_directory_on_8080_with_defaults() {
    let s = settings(&[]);
    assert_eq!(
        *s,
        Options {
            root: PathBuf::from("."),
            bind: vec![],
            port: 8080,
            workers: 1,
            unix: None,
            unix_mode: crate::unix_socket::SocketMode(0o660),
            cert: None,
            key: None,
            redirect_http: None,
            acme: Vec::new(),
            acme_email: None,
            acme_directory: None,
            acme_staging: false,
            acme_dir: None,
            acme_ca_root: None,
            upload_dir: None,
            overwrite: false,
            max_upload_size: 1 << 30,
            upload_expiry: Duration::from_secs(86400),
            max_open_uploads: 1000,
            max_open_uploads_per_client: 20,
            max_connections: None,
            keep_alive_timeout: Duration::from_secs(15),
            keep_alive_max_requests: 100,
            request_timeout: Duration::from_secs(5),
            send_timeout: Duration::from_secs(60),
            max_headers_length: 8 << 10,
            max_content_length: 512 << 10,
            max_connections_per_ip: None,
            rate_limit: None,
            rate_burst: None,
            limit_rate: None,
            no_listing: false,
            no_archive: false,
            cache_control: None,
            qr: false,
            index: vec!["index.html".parse().unwrap(), "index.htm".parse().unwrap()],
            spa: None,
            not_found: None,
            mime: vec![],
            header: vec![],
            cors: vec![],
            compress: false,
            compress_cache: 16 << 20,
            no_precompressed: false,
            no_rpc: false,
            trusted_proxy: vec![],
            proxy_protocol: false,
            auth_file: None,
            auth_uploads_only: false,
            health: None,
            drain: None,
            metrics: None,
            config: None,
            quiet: 0,
            verbose: 0,
            log_format: crate::access_log::LogFormat::Short,
            test_probe: 7,
        }
    );
    assert_eq!(s.tls(), None);
    assert_eq!(s.auth(), None);
    assert_eq!(s.log_level(), LevelFilter::Info);
}

#[test]
fn defaults_parse() {
    // What `Options::default` relies on, and what a file leaving every
    // key out gives.
    assert_eq!(Options::default(), *settings(&[]));
}

#[test]
fn parses_a_full_command_line() {
    let s = settings(&[
        "/srv/www",
        "-b",
        "::1",
        "--bind",
        "127.0.0.1",
        "-p",
        "8443",
        "--workers",
        "4",
        "--cert",
        "full.pem",
        "--key",
        "key.pem",
        "--redirect-http",
        "8080",
        "--upload-dir",
        "/srv/in",
        "--overwrite",
        "--max-upload-size",
        "10M",
        "--max-connections",
        "50",
        "--keep-alive-timeout",
        "30",
        "--keep-alive-max-requests",
        "7",
        "--request-timeout",
        "2",
        "--send-timeout",
        "90",
        "--max-headers-length",
        "16KiB",
        "--max-content-length",
        "1024",
        "--no-listing",
        "--no-rpc",
        "--trusted-proxy",
        "10.0.0.1",
        "--trusted-proxy",
        "fd00::1",
        "--proxy-protocol",
        "--auth-file",
        "users",
        "--auth-uploads-only",
        "-vv",
    ]);
    assert_eq!(s.root, PathBuf::from("/srv/www"));
    assert_eq!(
        s.bind,
        [
            IpAddr::V6(Ipv6Addr::LOCALHOST),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        ]
    );
    assert_eq!(s.port, 8443);
    assert_eq!(s.workers, 4);
    assert_eq!(
        s.tls(),
        Some(TlsFiles {
            cert: "full.pem".into(),
            key: "key.pem".into()
        })
    );
    assert_eq!(s.redirect_http, Some(8080));
    assert_eq!(s.upload_dir, Some(PathBuf::from("/srv/in")));
    assert!(s.overwrite);
    assert_eq!(s.max_upload_size, 10 << 20);
    assert_eq!(s.max_connections, Some(50));
    assert_eq!(s.keep_alive_timeout, Duration::from_secs(30));
    assert_eq!(s.keep_alive_max_requests, 7);
    assert_eq!(s.request_timeout, Duration::from_secs(2));
    assert_eq!(s.send_timeout, Duration::from_secs(90));
    assert_eq!(s.max_headers_length, 16 << 10);
    assert_eq!(s.max_content_length, 1024);
    assert!(s.no_listing);
    assert!(s.no_rpc);
    assert_eq!(
        s.trusted_proxy,
        [
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            "fd00::1".parse::<IpAddr>().unwrap()
        ]
    );
    assert!(s.proxy_protocol);
    assert_eq!(
        s.auth(),
        Some(AuthSettings {
            file: "users".into(),
            uploads_only: true
        })
    );
    assert_eq!(s.log_level(), LevelFilter::Trace);
}

#[test]
fn port_zero_means_pick_a_free_port() {
    assert_eq!(settings(&["-p", "0"]).port, 0);
}

#[test]
fn cert_and_key_come_together_or_not_at_all() {
    assert_eq!(
        usage_error(&["--cert", "a.pem"]),
        ErrorKind::MissingRequiredArgument
    );
    assert_eq!(
        usage_error(&["--key", "k.pem"]),
        ErrorKind::MissingRequiredArgument
    );
    assert!(
        settings(&["--cert", "a.pem", "--key", "k.pem"])
            .tls()
            .is_some()
    );
    assert!(settings(&[]).tls().is_none());
}

#[test]
fn redirect_http_needs_tls_and_another_port() {
    let msg = invalid(&["--redirect-http", "80"]);
    assert!(
        msg.contains("--redirect-http needs --cert and --key"),
        "{msg}"
    );
    let msg = invalid(&[
        "-p",
        "8443",
        "--cert",
        "c",
        "--key",
        "k",
        "--redirect-http",
        "8443",
    ]);
    assert!(msg.contains("is the HTTPS port itself"), "{msg}");
}

#[test]
fn acme_takes_names_instead_of_cert_and_key() {
    let s = settings(&[
        "--acme",
        "example.org",
        "--acme",
        "www.example.org",
        "--acme-dir",
        "/tmp/acme",
        "--acme-email",
        "ops@example.org",
        "--redirect-http",
        "80",
    ]);
    let acme = s.acme().unwrap();
    assert_eq!(acme.domains, ["example.org", "www.example.org"]);
    assert_eq!(
        acme.directory,
        "https://acme-v02.api.letsencrypt.org/directory"
    );
    assert_eq!(acme.dir, Path::new("/tmp/acme"));
    assert_eq!(acme.email.as_deref(), Some("ops@example.org"));
    assert!(s.tls().is_none());
    let staging = settings(&["--acme", "a.example", "--acme-dir", "d", "--acme-staging"]);
    assert!(staging.acme().unwrap().directory.contains("staging"));
    assert!(settings(&[]).acme().is_none());

    assert_eq!(
        usage_error(&["--acme", "a.example", "--cert", "c", "--key", "k"]),
        ErrorKind::ArgumentConflict
    );
    assert_eq!(
        usage_error(&["--acme-email", "ops@example.org"]),
        ErrorKind::MissingRequiredArgument
    );
    for bad in [
        "",
        "*.example.org",
        "a..example",
        "a-.example",
        "x.-a.example",
        "\u{e9}.example",
        "\u{20ac}.example",
        "\u{1f600}.example",
        "a b",
    ] {
        let msg = invalid(&["--acme", bad, "--acme-dir", "d"]);
        assert!(msg.contains("not a DNS name"), "{bad}: {msg}");
    }
}

#[test]
fn acme_dir_defaults_to_the_state_directory_named_acme() {
    use super::settings::acme_state_directory;
    use std::ffi::OsStr;
    // Never the upload directory (the shipped unit's only entry).
    assert_eq!(
        acme_state_directory(OsStr::new("/var/lib/uhttpd/uploads")),
        None
    );
    assert_eq!(
        acme_state_directory(OsStr::new("/var/lib/uhttpd/uploads:/var/lib/uhttpd/acme")),
        Some(PathBuf::from("/var/lib/uhttpd/acme"))
    );
    assert_eq!(acme_state_directory(OsStr::new("")), None);
}

#[test]
fn auth_uploads_only_needs_auth_file() {
    let msg = invalid(&["--auth-uploads-only"]);
    assert!(
        msg.contains("--auth-uploads-only needs --auth-file"),
        "{msg}"
    );
}

#[test]
fn proxy_protocol_needs_trusted_proxy() {
    let msg = invalid(&["--proxy-protocol"]);
    assert!(
        msg.contains("--proxy-protocol needs --trusted-proxy"),
        "{msg}"
    );
    assert!(settings(&["--proxy-protocol", "--trusted-proxy", "127.0.0.1"]).proxy_protocol);
}

#[test]
fn quiet_and_verbose_conflict() {
    assert_eq!(usage_error(&["-q", "-v"]), ErrorKind::ArgumentConflict);
    assert_eq!(
        usage_error(&["--verbose", "--quiet"]),
        ErrorKind::ArgumentConflict
    );
}

#[test]
fn quiet_and_verbose_counts_set_the_log_level() {
    let cases: &[(&[&str], LevelFilter)] = &[
        (&[], LevelFilter::Info),
        (&["-v"], LevelFilter::Debug),
        (&["-vv"], LevelFilter::Trace),
        (&["-vvvv"], LevelFilter::Trace),
        (&["-q"], LevelFilter::Warn),
        (&["-qq"], LevelFilter::Error),
        (&["-q", "-q", "-q"], LevelFilter::Off),
    ];
    for &(args, level) in cases {
        assert_eq!(settings(args).log_level(), level, "{args:?}");
    }
}

#[test]
fn refuses_bad_values_with_usage_errors() {
    let cases: &[&[&str]] = &[
        &["--port", "65536"],
        &["--port", "http"],
        &["--bind", "localhost"],
        &["--bind", "127.0.0.1:80"],
        &["--workers", "0"],
        &["--max-connections", "0"],
        &["--keep-alive-timeout", "0"],
        &["--keep-alive-timeout", "1.5"],
        &["--send-timeout", "0"],
        &["--keep-alive-max-requests", "0"],
        &["--request-timeout=-1"],
        &["--max-upload-size", "10X"],
        &["--max-content-length", "1.5M"],
        &["--trusted-proxy", "proxy.example"],
    ];
    for args in cases {
        assert_eq!(usage_error(args), ErrorKind::ValueValidation, "{args:?}");
    }
}

#[test]
fn bad_size_on_the_command_line_explains_the_format() {
    let Err(ResolveError::Usage(err)) = resolve_from(["uhttpd", "--max-upload-size", "10X"]) else {
        panic!("10X accepted");
    };
    let text = err.to_string();
    assert!(
        text.contains("use a number with an optional K, M or G suffix"),
        "{text}"
    );
}

#[test]
fn help_and_version_are_usage_outcomes() {
    assert_eq!(usage_error(&["-h"]), ErrorKind::DisplayHelp);
    assert_eq!(usage_error(&["--help"]), ErrorKind::DisplayHelp);
    assert_eq!(usage_error(&["-V"]), ErrorKind::DisplayVersion);
}

#[test]
fn help_shows_defaults_units_and_examples() {
    let help = Options::command().render_long_help().to_string();
    for needle in [
        "[default: 8080]",
        "[default: 1G]",
        "[default: 15]",
        "<SECS>",
        "<SIZE>",
        "Examples:",
        "curl -T report.pdf",
    ] {
        assert!(help.contains(needle), "help lacks {needle:?}:\n{help}");
    }
}

#[test]
fn config_file_supplies_settings() {
    let (dir, path) = config_file(
        r#"
        root = "site"
        bind = ["::", "0.0.0.0"]
        port = 8443
        workers = 2
        cert = "/etc/tls/full.pem"
        key = "/etc/tls/key.pem"
        redirect_http = 8080
        upload_dir = "/srv/in"
        overwrite = true
        max_upload_size = "1G"
        upload_expiry = 3600
        max_open_uploads = 50
        max_open_uploads_per_client = 5
        max_connections = 10
        keep_alive_timeout = 30
        keep_alive_max_requests = 5
        request_timeout = 3
        send_timeout = 120
        max_headers_length = 2048
        max_content_length = "1M"
        no_listing = true
        no_rpc = true
        trusted_proxy = "10.0.0.1"
        proxy_protocol = true
        auth_file = "users"
        auth_uploads_only = true
        quiet = true
        "#,
    );
    let s = settings(&["-c", path.to_str().unwrap()]);
    assert_eq!(s.root, dir.path().join("site"));
    assert_eq!(
        s.bind,
        [
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        ]
    );
    assert_eq!(s.port, 8443);
    assert_eq!(s.workers, 2);
    assert_eq!(
        s.tls(),
        Some(TlsFiles {
            cert: "/etc/tls/full.pem".into(),
            key: "/etc/tls/key.pem".into()
        })
    );
    assert_eq!(s.redirect_http, Some(8080));
    assert_eq!(s.upload_dir, Some(PathBuf::from("/srv/in")));
    assert!(s.overwrite);
    assert_eq!(s.max_upload_size, 1 << 30);
    assert_eq!(s.upload_expiry, Duration::from_secs(3600));
    assert_eq!((s.max_open_uploads, s.max_open_uploads_per_client), (50, 5));
    assert_eq!(s.max_connections, Some(10));
    assert_eq!(s.keep_alive_timeout, Duration::from_secs(30));
    assert_eq!(s.keep_alive_max_requests, 5);
    assert_eq!(s.request_timeout, Duration::from_secs(3));
    assert_eq!(s.send_timeout, Duration::from_secs(120));
    assert_eq!(s.max_headers_length, 2048);
    assert_eq!(s.max_content_length, 1 << 20);
    assert!(s.no_listing);
    assert!(s.no_rpc);
    assert_eq!(s.trusted_proxy, [IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))]);
    assert!(s.proxy_protocol);
    assert_eq!(
        s.auth(),
        Some(AuthSettings {
            file: dir.path().join("users"),
            uploads_only: true
        })
    );
    assert_eq!(s.log_level(), LevelFilter::Warn);
    assert_eq!(s.config, Some(path));
}

#[test]
fn command_line_overrides_config_file() {
    let (_dir, path) = config_file(
        r#"
        root = "/srv/file-root"
        port = 8443
        bind = ["::1"]
        max_upload_size = "1G"
        keep_alive_timeout = 30
        max_connections = 10
        upload_dir = "/srv/file-in"
        verbose = 2
        "#,
    );
    let path = path.to_str().unwrap();
    let s = settings(&[
        "-c",
        path,
        "/srv/cli-root",
        "-p",
        "9000",
        "-b",
        "127.0.0.1",
        "--max-upload-size",
        "5M",
        "--upload-dir",
        "/srv/cli-in",
        "--max-connections",
        "20",
        "-q",
    ]);
    assert_eq!(s.root, PathBuf::from("/srv/cli-root"));
    assert_eq!(s.port, 9000);
    assert_eq!(s.bind, [IpAddr::V4(Ipv4Addr::LOCALHOST)]);
    assert_eq!(s.max_upload_size, 5 << 20);
    assert_eq!(s.upload_dir, Some(PathBuf::from("/srv/cli-in")));
    assert_eq!(s.max_connections, Some(20));
    assert_eq!(s.log_level(), LevelFilter::Warn);
    // Not given on the command line: the file's value stays.
    assert_eq!(s.keep_alive_timeout, Duration::from_secs(30));

    // A value typed on the command line wins even when it equals the default.
    assert_eq!(settings(&["-c", path, "-p", "8080"]).port, 8080);
}

#[test]
fn config_file_can_complete_the_command_line() {
    let (_dir, path) = config_file("cert = \"/c.pem\"\nkey = \"/k.pem\"\nauth_file = \"/users\"\n");
    let s = settings(&[
        "-c",
        path.to_str().unwrap(),
        "--redirect-http",
        "80",
        "--auth-uploads-only",
    ]);
    assert_eq!(s.redirect_http, Some(80));
    assert!(s.tls().is_some());
    assert!(s.auth().unwrap().uploads_only);
}

#[test]
fn config_file_errors_name_the_file_line_and_key() {
    let cases = [
        (
            "port = 8080\nlisten = \"::\"\n",
            "line 2: unknown field `listen`",
        ),
        ("upload-dir = \"/in\"\n", "unknown field `upload-dir`"),
        (
            "max_upload_size = \"10X\"\n",
            "line 1: invalid size \"10X\": use a number with an optional K, M or G suffix",
        ),
        ("max_upload_size = -5\n", "invalid size -5: negative"),
        ("max_upload_size = 1.5\n", "a number of bytes or a size"),
        ("port = 70000\n", "line 1:"),
        (
            "bind = [\"::1\", \"localhost\"]\n",
            "invalid IP address \"localhost\"",
        ),
        ("keep_alive_timeout = \"30s\"\n", "line 1:"),
        ("no_listing = \"yes\"\n", "line 1:"),
        ("port = \n", "line 1:"),
    ];
    for (text, expected) in cases {
        let (_dir, path) = config_file(text);
        let msg = invalid(&["-c", path.to_str().unwrap()]);
        assert!(
            msg.starts_with(&format!("config file {}: ", path.display())),
            "{text:?}: {msg}"
        );
        assert!(msg.contains(expected), "{text:?}: {msg}");
        assert!(!msg.contains('\n'), "{text:?}: not one line: {msg}");
    }
}

#[test]
fn config_file_values_are_checked_like_the_command_line() {
    let cases = [
        ("cert = \"/c.pem\"\n", "--cert and --key go together"),
        (
            "redirect_http = 80\n",
            "--redirect-http needs --cert and --key",
        ),
        (
            "auth_uploads_only = true\n",
            "--auth-uploads-only needs --auth-file",
        ),
        (
            "proxy_protocol = true\n",
            "--proxy-protocol needs --trusted-proxy",
        ),
        ("quiet = 1\nverbose = 1\n", "quiet and verbose"),
        // 0 is refused as on the command line, at its line of the file.
        (
            "workers = 0\n",
            "line 1: invalid value 0: must be at least 1",
        ),
        (
            "port = 80\nmax_connections = 0\n",
            "line 2: invalid value 0: must be at least 1",
        ),
        (
            "keep_alive_max_requests = 0\n",
            "line 1: invalid value 0: must be at least 1",
        ),
        (
            "keep_alive_timeout = 0\n",
            "line 1: invalid value 0: must be at least 1 second",
        ),
        (
            "request_timeout = 0\n",
            "line 1: invalid value 0: must be at least 1 second",
        ),
        (
            "send_timeout = 0\n",
            "line 1: invalid value 0: must be at least 1 second",
        ),
        (
            "port = 80\ncache_control = \"no-cache\\r\\nX: y\"\n",
            "line 2: a Cache-Control value is printable ASCII",
        ),
    ];
    for (text, expected) in cases {
        let (_dir, path) = config_file(text);
        let msg = invalid(&["-c", path.to_str().unwrap()]);
        assert!(msg.contains(expected), "{text:?}: {msg}");
    }
}

#[test]
fn missing_config_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.toml");
    let msg = invalid(&["-c", path.to_str().unwrap()]);
    assert!(
        msg.starts_with(&format!("cannot read config file {}: ", path.display())),
        "{msg}"
    );
}

#[test]
fn empty_config_file_changes_nothing() {
    let (_dir, path) = config_file("# nothing set\n");
    let s = settings(&["-c", path.to_str().unwrap()]);
    assert_eq!(
        Options {
            config: None,
            ..Options::clone(&s)
        },
        *settings(&[])
    );
}

/// The test-only option `test_probe` is one field in `args.rs`, under
/// `#[cfg(test)]`, and nothing else: it is in `--help`, the man page and
/// every completion script, takes a default, the command line and the
/// config file, and the command line wins over the file.
#[test]
fn one_field_is_one_option() {
    let help = Options::command().render_long_help().to_string();
    assert!(help.contains("--test-probe <N>"), "{help}");
    assert!(help.contains("Test-only option, defined here"), "{help}");
    assert!(help.contains("[default: 7]"), "{help}");

    assert_eq!(settings(&[]).test_probe, 7);
    assert_eq!(settings(&["--test-probe", "3"]).test_probe, 3);
    assert_eq!(
        usage_error(&["--test-probe", "x"]),
        ErrorKind::ValueValidation
    );
    let (_dir, path) = config_file("test_probe = 5\n");
    let path = path.to_str().unwrap();
    assert_eq!(settings(&["-c", path]).test_probe, 5);
    assert_eq!(settings(&["-c", path, "--test-probe", "7"]).test_probe, 7);
    let (_dir, bad) = config_file("test_probe = \"five\"\n");
    assert!(invalid(&["-c", bad.to_str().unwrap()]).contains("line 1:"));

    let man = String::from_utf8(generate::render_man()).unwrap();
    assert!(man.contains("\\-\\-test\\-probe"), "{man}");
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let script = String::from_utf8(generate::render_completion(shell)).unwrap();
        assert!(script.contains("test-probe"), "{shell:?}:\n{script}");
    }

    // The committed files come from the program, which has no test-only
    // option (`tests/cli/generated.rs` checks they are current).
    for (path, _) in generate::FILES {
        let committed = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path));
        let committed = committed.unwrap();
        assert!(!committed.contains("test-probe"), "{path}");
        assert!(!committed.contains("test\\-probe"), "{path}");
    }
}

/// Every option is a key of the config file under its id, except
/// `--config` itself: the file's keys and the command line are one list.
#[test]
fn every_option_but_config_is_a_file_key() {
    let (_dir, path) = config_file("no_such_option = 1\n");
    let msg = invalid(&["-c", path.to_str().unwrap()]);
    for arg in Options::command().get_arguments() {
        let id = arg.get_id().as_str();
        let listed = msg.contains(&format!("`{id}`"));
        assert_eq!(listed, id != "config", "{id}: {msg}");
    }
}

/// A relative path in the file means the same as the file's directory
/// joined with it on the command line, for every option taking a path
/// (found by its value hint, so a new path option is checked too).
#[test]
fn every_path_in_the_file_is_relative_to_the_file() {
    use clap::ValueHint;
    let command = Options::command();
    let paths = command.get_arguments().filter(|arg| {
        matches!(
            arg.get_value_hint(),
            ValueHint::FilePath | ValueHint::DirPath | ValueHint::AnyPath
        ) && arg.get_id() != "config"
    });
    let mut checked = 0;
    for arg in paths {
        let id = arg.get_id().as_str();
        let (dir, path) = config_file(&format!("{id} = \"sub/x\"\n"));
        let from_file = super::file::parse(&path, &std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|err| panic!("{id}: {err}"));
        let joined = dir.path().join("sub/x");
        let mut argv = vec!["uhttpd".into()];
        if let Some(long) = arg.get_long() {
            argv.push(format!("--{long}"));
        }
        argv.push(joined.to_str().unwrap().to_owned());
        // `requires` (cert needs key) is the settings' business, not the
        // value's: parse the value alone.
        let matches = command.clone().ignore_errors(true).get_matches_from(argv);
        let from_command_line =
            <Options as clap::FromArgMatches>::from_arg_matches(&matches).unwrap();
        assert_eq!(from_file, from_command_line, "{id}");
        checked += 1;
    }
    assert_eq!(
        checked, 8,
        "root, unix, cert, key, acme_dir, acme_ca_root, upload_dir, auth_file"
    );
}

#[test]
fn cache_control_is_checked_and_kept_as_given() {
    use crate::static_files::freshness::CacheControl;
    assert_eq!(settings(&[]).cache_control, None);
    let given = settings(&["--cache-control", " max-age=60, public "]);
    let value = given.cache_control.as_ref().map(CacheControl::get);
    assert_eq!(value, Some(Some("max-age=60, public")));
    let empty = settings(&["--cache-control", ""]);
    assert_eq!(
        empty.cache_control.as_ref().map(CacheControl::get),
        Some(None)
    );
    for bad in ["no-cache\r\nSet-Cookie: a=b", "caf\u{e9}"] {
        assert_eq!(
            usage_error(&["--cache-control", bad]),
            ErrorKind::ValueValidation,
            "{bad:?}"
        );
    }
    let (_dir, path) = config_file("cache_control = \"no-cache\"\n");
    let path = path.to_str().unwrap();
    let from_file = settings(&["-c", path]);
    assert_eq!(
        from_file.cache_control.as_ref().map(CacheControl::get),
        Some(Some("no-cache"))
    );
    let overridden = settings(&["-c", path, "--cache-control", "max-age=5"]);
    assert_eq!(
        overridden.cache_control.as_ref().map(CacheControl::get),
        Some(Some("max-age=5"))
    );
}

#[test]
fn qr_comes_from_the_command_line_or_the_file() {
    assert!(!settings(&[]).qr);
    assert!(settings(&["--qr"]).qr);
    let (_dir, path) = config_file("qr = true\n");
    assert!(settings(&["-c", path.to_str().unwrap()]).qr);
}

#[test]
fn routing_and_header_options_are_checked_and_lists_replace_defaults() {
    use crate::origin::CorsOrigin;
    let names = |s: &Settings| s.index.iter().map(|i| i.to_string()).collect::<Vec<_>>();
    assert_eq!(names(&settings(&[])), ["index.html", "index.htm"]);
    let given = settings(&["--index", "main.html", "--index", "index.html"]);
    assert_eq!(names(&given), ["main.html", "index.html"]);
    let s = settings(&[
        "--spa",
        "app/index.html",
        "--404",
        "/404.html",
        "--mime",
        "md=text/markdown",
        "--header",
        "X-Frame-Options: DENY",
        "--header",
        "Referrer-Policy: no-referrer",
        "--cors",
        "https://a.example,http://localhost:3000",
        "--cors",
        "https://b.example/",
    ]);
    assert_eq!(s.spa.as_ref().unwrap().raw(), "/app/index.html");
    assert_eq!(s.not_found.as_ref().unwrap().raw(), "/404.html");
    assert_eq!(s.mime.len(), 1);
    let headers: Vec<_> = s.header.iter().map(|h| (h.name(), h.value())).collect();
    assert_eq!(
        headers,
        [
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer")
        ]
    );
    let origins: Vec<_> = s.cors.iter().map(|o| o.to_string()).collect();
    assert_eq!(
        origins,
        [
            "https://a.example",
            "http://localhost:3000",
            "https://b.example"
        ]
    );
    assert_eq!(settings(&["--cors", "*"]).cors, [CorsOrigin::Any]);
    for bad in [
        &["--index", "../x"][..],
        &["--index", ".index.html"],
        &["--spa", "../outside.html"],
        &["--404", ""],
        &["--mime", "md"],
        &["--mime", "md=nonsense"],
        &["--header", "Content-Type: text/plain"],
        &["--header", "X-A: a\r\nX-B: b"],
        &["--header", "no colon"],
        &["--cors", "https://a.example/path"],
        &["--cors", "a.example"],
    ] {
        assert_eq!(usage_error(bad), ErrorKind::ValueValidation, "{bad:?}");
    }
    assert!(invalid(&["--cors", "*,https://a.example"]).contains("alone"));

    let (_dir, path) = config_file(
        "index = [\"start.html\"]\nspa = \"index.html\"\nnot_found = \"404.html\"\n\
         mime = [\"md=text/markdown\"]\nheader = [\"X-A: b\"]\ncors = [\"*\"]\n",
    );
    let path = path.to_str().unwrap();
    let from_file = settings(&["-c", path]);
    assert_eq!(names(&from_file), ["start.html"]);
    assert_eq!(from_file.not_found.as_ref().unwrap().raw(), "/404.html");
    assert_eq!(from_file.cors, [CorsOrigin::Any]);
    assert_eq!(from_file.header.len(), 1);
    let overridden = settings(&[
        "-c",
        path,
        "--index",
        "a.html",
        "--cors",
        "https://c.example",
    ]);
    assert_eq!(names(&overridden), ["a.html"]);
    assert_eq!(overridden.cors.len(), 1);
    let (_dir, bad) = config_file("header = [\"Content-Length: 1\"]\n");
    assert!(invalid(&["-c", bad.to_str().unwrap()]).contains("Content-Length"));
}

#[test]
fn no_archive_comes_from_the_flag_or_the_file() {
    assert!(!settings(&[]).no_archive);
    assert!(settings(&["--no-archive"]).no_archive);
    let (_dir, path) = config_file("no_archive = true\n");
    assert!(settings(&["-c", path.to_str().unwrap()]).no_archive);
}

#[test]
fn log_format_is_one_of_four_from_either_source() {
    use crate::access_log::LogFormat;
    assert_eq!(settings(&[]).log_format, LogFormat::Short);
    for (text, format) in [
        ("short", LogFormat::Short),
        ("common", LogFormat::Common),
        ("combined", LogFormat::Combined),
        ("json", LogFormat::Json),
    ] {
        assert_eq!(settings(&["--log-format", text]).log_format, format);
        let (_dir, path) = config_file(&format!("log_format = \"{text}\"\n"));
        let from_file = settings(&["-c", path.to_str().unwrap()]);
        assert_eq!(from_file.log_format, format, "{text}");
    }
    assert_eq!(
        usage_error(&["--log-format", "nginx"]),
        ErrorKind::InvalidValue
    );
    let (_dir, path) = config_file("log_format = \"JSON\"\n");
    assert!(invalid(&["-c", path.to_str().unwrap()]).contains("unknown variant `JSON`"));
}

#[test]
fn unix_socket_and_its_mode_from_either_source() {
    use crate::unix_socket::SocketMode;
    let s = settings(&["--unix", "/run/u.sock"]);
    assert_eq!(s.unix.as_deref(), Some(Path::new("/run/u.sock")));
    assert_eq!(s.unix_mode, SocketMode(0o660));
    let s = settings(&["--unix", "u.sock", "--unix-mode", "600"]);
    assert_eq!(s.unix_mode, SocketMode(0o600));
    assert_eq!(
        usage_error(&["--unix", "u.sock", "--unix-mode", "0999"]),
        ErrorKind::ValueValidation
    );
    assert_eq!(
        usage_error(&["--unix-mode", "0600"]),
        ErrorKind::MissingRequiredArgument
    );
    for text in ["unix_mode = \"0640\"", "unix_mode = 0o640"] {
        let (dir, path) = config_file(&format!("unix = \"u.sock\"\n{text}\n"));
        let s = settings(&["-c", path.to_str().unwrap()]);
        assert_eq!(s.unix_mode, SocketMode(0o640), "{text}");
        assert_eq!(s.unix, Some(dir.path().join("u.sock")));
    }
    let (_dir, path) = config_file("unix = \"u.sock\"\nunix_mode = 0o1777\n");
    assert!(invalid(&["-c", path.to_str().unwrap()]).contains("0o1777"));
}

#[test]
fn health_and_drain_from_either_source() {
    let s = settings(&["--health", "/healthz", "--drain", "30"]);
    assert_eq!(s.health, Some("/healthz".parse().unwrap()));
    assert_eq!(s.drain, Some(Duration::from_secs(30)));
    let (_dir, path) = config_file("health = \"/-/ready\"\ndrain = 5\n");
    let s = settings(&["-c", path.to_str().unwrap()]);
    assert_eq!(s.health, Some("/-/ready".parse().unwrap()));
    assert_eq!(s.drain, Some(Duration::from_secs(5)));
    for bad in [
        &["--health", "healthz"][..],
        &["--health", "/a b"],
        &["--health", "/é"],
        &["--drain", "0"],
        &["--drain", "soon"],
    ] {
        assert_eq!(usage_error(bad), ErrorKind::ValueValidation, "{bad:?}");
    }
    for text in ["health = \"x\"\n", "drain = 0\n"] {
        let (_dir, path) = config_file(text);
        let msg = invalid(&["-c", path.to_str().unwrap()]);
        assert!(msg.contains("line 1"), "{msg}");
    }
}

#[test]
fn compression_options_come_from_the_command_line_or_the_file() {
    let defaults = settings(&[]);
    assert!(!defaults.compress && !defaults.no_precompressed);
    assert_eq!(defaults.compress_cache, 16 << 20);
    let given = settings(&["--compress", "--compress-cache", "1M", "--no-precompressed"]);
    assert!(given.compress && given.no_precompressed);
    assert_eq!(given.compress_cache, 1 << 20);
    assert_eq!(
        usage_error(&["--compress-cache", "lots"]),
        ErrorKind::ValueValidation
    );
    let (_dir, path) =
        config_file("compress = true\ncompress_cache = \"64K\"\nno_precompressed = true\n");
    let from_file = settings(&["-c", path.to_str().unwrap()]);
    assert!(from_file.compress && from_file.no_precompressed);
    assert_eq!(from_file.compress_cache, 64 << 10);
}

#[test]
fn metrics_address_from_either_source() {
    let s = settings(&["--metrics", "127.0.0.1:9100"]);
    assert_eq!(s.metrics, Some("127.0.0.1:9100".parse().unwrap()));
    let (_dir, path) = config_file("metrics = \"[::1]:9100\"\n");
    let s = settings(&["-c", path.to_str().unwrap()]);
    assert_eq!(s.metrics, Some("[::1]:9100".parse().unwrap()));
    for bad in [&["--metrics", "9100"][..], &["--metrics", "localhost:9100"]] {
        assert_eq!(usage_error(bad), ErrorKind::ValueValidation, "{bad:?}");
    }
    let (_dir, path) = config_file("metrics = 9100\n");
    let msg = invalid(&["-c", path.to_str().unwrap()]);
    assert!(msg.contains("line 1"), "{msg}");
}

#[test]
fn client_limits_come_from_the_command_line_or_the_file() {
    let s = settings(&[
        "--max-connections-per-ip",
        "8",
        "--rate-limit",
        "10/s",
        "--rate-burst",
        "20",
        "--limit-rate",
        "512K",
    ]);
    assert_eq!(s.max_connections_per_ip, Some(8));
    assert_eq!(s.rate_limit, Some("10/s".parse().unwrap()));
    assert_eq!(s.rate_burst, Some(20));
    assert_eq!(s.limit_rate, Some(512 << 10));

    let (dir, path) =
        config_file("max_connections_per_ip = 4\nrate_limit = \"600/m\"\nlimit_rate = \"1M\"\n");
    let s = settings(&["--config", path.to_str().unwrap(), "--rate-burst", "5"]);
    assert_eq!(s.max_connections_per_ip, Some(4));
    assert_eq!(s.rate_limit, Some("600/m".parse().unwrap()));
    assert_eq!(s.rate_burst, Some(5));
    assert_eq!(s.limit_rate, Some(1 << 20));
    drop(dir);

    assert_eq!(
        usage_error(&["--max-connections-per-ip", "0"]),
        ErrorKind::ValueValidation
    );
    assert_eq!(
        usage_error(&["--rate-limit", "10"]),
        ErrorKind::ValueValidation
    );
    assert_eq!(
        usage_error(&["--limit-rate", "1X"]),
        ErrorKind::ValueValidation
    );
    assert!(invalid(&["--rate-burst", "3"]).contains("needs --rate-limit"));
    assert!(invalid(&["--limit-rate", "0"]).contains("--limit-rate 0"));
    let (_dir, path) = config_file("rate_limit = \"10/h\"\n");
    assert!(invalid(&["--config", path.to_str().unwrap()]).contains("such as 10/s"));
}
