//! Other TLS stacks than rustls: `curl` and `openssl s_client`, when
//! installed (skipped with a note otherwise; `scripts/install-test-deps.sh`
//! installs both).

use std::io::Write;
use std::process::{Command, Stdio};

use crate::certs::Pair;
use crate::harness::{Server, one_kib, site};
use crate::tls_certs::KeyKind;

fn have(program: &str) -> bool {
    let found = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
        || Command::new(program)
            .arg("version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
    if !found {
        eprintln!("note: skipped: `{program}` is not installed");
    }
    found
}

#[test]
fn curl_fetches_over_tls_1_2_and_1_3_verifying_the_certificate() {
    if !have("curl") {
        return;
    }
    let pair = Pair::localhost(KeyKind::EcdsaP256Sec1);
    let root = site();
    let server = Server::serving(root.path(), &pair.args());
    let url = format!("https://localhost:{}/1k.bin", server.addr().port());
    let resolve = format!("localhost:{}:127.0.0.1", server.addr().port());
    for (flags, version) in [
        (&["--tlsv1.2", "--tls-max", "1.2"][..], "TLSv1.2"),
        (&["--tlsv1.3"][..], "TLSv1.3"),
    ] {
        let out = Command::new("curl")
            .args(["-sS", "-v", "--fail", "--cacert"])
            .arg(&pair.cert)
            .args(["--resolve", &resolve])
            .args(flags)
            .arg(&url)
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "curl {flags:?}: {log}");
        assert_eq!(out.stdout, one_kib(), "curl {flags:?}");
        assert!(
            log.contains(version),
            "curl {flags:?} did not use {version}: {log}"
        );
        assert!(
            log.contains("ALPN: server accepted http/1.1")
                || log.contains("ALPN, server accepted to use http/1.1"),
            "curl {flags:?}: no ALPN http/1.1: {log}"
        );
    }
    // Two URLs, one connection.
    let out = Command::new("curl")
        .args(["-sS", "-v", "--fail", "--cacert"])
        .arg(&pair.cert)
        .args(["--resolve", &resolve])
        .arg(&url)
        .arg(url.replace("1k.bin", "hello.txt"))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains("Re-using existing connection") || log.contains("Reusing existing"),
        "{log}"
    );
    let mut want = one_kib();
    want.extend_from_slice(b"hello over TLS\n");
    assert_eq!(out.stdout, want);
}

#[test]
fn curl_rejects_the_certificate_without_the_ca() {
    if !have("curl") {
        return;
    }
    let pair = Pair::localhost(KeyKind::Ed25519);
    let root = site();
    let server = Server::serving(root.path(), &pair.args());
    let out = Command::new("curl")
        .args(["-sS", "--fail"])
        .arg(format!(
            "https://127.0.0.1:{}/hello.txt",
            server.addr().port()
        ))
        .env("CURL_CA_BUNDLE", "/dev/null")
        .output()
        .unwrap();
    assert!(!out.status.success());
    // And one that trusts it still gets through afterwards.
    let out = Command::new("curl")
        .args(["-sS", "--fail", "--cacert"])
        .arg(&pair.cert)
        .arg(format!(
            "https://127.0.0.1:{}/hello.txt",
            server.addr().port()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"hello over TLS\n");
}

#[test]
fn openssl_s_client_verifies_negotiates_alpn_and_fetches() {
    if !have("openssl") {
        return;
    }
    let pair = Pair::localhost(KeyKind::RsaPkcs8);
    let root = site();
    let server = Server::serving(root.path(), &pair.args());
    for (flag, version) in [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")] {
        let mut child = Command::new("openssl")
            .args(["s_client", "-connect"])
            .arg(server.addr().to_string())
            .args(["-servername", "localhost", "-alpn", "h2,http/1.1"])
            .args(["-verify_return_error", "-verify_hostname", "localhost"])
            .arg("-CAfile")
            .arg(&pair.cert)
            .args([flag, "-ign_eof"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "s_client {flag}: {text}\n{log}");
        assert!(
            text.contains("Verify return code: 0 (ok)"),
            "{flag}: {text}"
        );
        assert!(text.contains("ALPN protocol: http/1.1"), "{flag}: {text}");
        assert!(
            text.contains(&format!("Protocol  : {version}"))
                || text.contains(&format!("New, {version},")),
            "{flag}: {text}"
        );
        assert!(text.contains("HTTP/1.1 200 OK"), "{flag}: {text}");
        assert!(text.contains("hello over TLS"), "{flag}: {text}");
    }
}

/// Regression: rustls logged a warning for every connection whose client
/// sent an IP address as SNI (wrk, older curl and openssl do).
#[test]
fn an_ip_address_as_sni_does_not_log_a_warning_per_connection() {
    if !have("openssl") {
        return;
    }
    let pair = Pair::localhost(KeyKind::EcdsaP256Pkcs8);
    let root = site();
    let server = Server::serving(root.path(), &pair.args());
    let mut child = Command::new("openssl")
        .args(["s_client", "-connect"])
        .arg(server.addr().to_string())
        .args(["-servername", "127.0.0.1", "-quiet", "-ign_eof"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"GET /sni-check HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("HTTP/1.1 404"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The access-log line comes after any handshake warning would have.
    server
        .stderr
        .wait_for_from(0, "the access-log line", |l| l.contains("/sni-check"));
    let lines = server.stderr.all();
    assert!(!lines.iter().any(|l| l.contains("WARN")), "{lines:#?}");
}
