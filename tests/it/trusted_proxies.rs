//! `X-Forwarded-For` is believed only from `trusted_proxies`.

use uhttp::Config;

use crate::util::serve;

fn remote(req: uhttp::Request) {
    let chain: Vec<String> = req
        .remote_addresses()
        .iter()
        .map(|a| a.to_string())
        .collect();
    req.respond(200, format!("{} {}", req.remote_address(), chain.join(",")))
        .unwrap();
}

fn ask(config: Config, xff: &str) -> String {
    let server = serve(config, remote);
    let mut client = server.connect();
    client.send(format!(
        "GET / HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: {xff}\r\n\r\n"
    ));
    client.read_response().text()
}

#[test]
fn ignores_x_forwarded_for_from_an_untrusted_peer() {
    assert_eq!(ask(Config::default(), "203.0.113.5"), "127.0.0.1 127.0.0.1");
}

#[test]
fn believes_x_forwarded_for_from_a_trusted_proxy() {
    let mut config = Config::default();
    config.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    assert_eq!(
        ask(config, "198.51.100.1, 203.0.113.5"),
        // Only the hop the trusted proxy reported is believed: 203.0.113.5
        // is not a trusted proxy, so what it claims is not taken.
        "203.0.113.5 203.0.113.5,127.0.0.1"
    );
}

#[test]
fn walks_back_through_several_trusted_proxies() {
    let mut config = Config::default();
    config.trusted_proxies = vec!["127.0.0.1".parse().unwrap(), "10.0.0.7".parse().unwrap()];
    assert_eq!(
        ask(config, "198.51.100.1, 10.0.0.7"),
        "198.51.100.1 198.51.100.1,10.0.0.7,127.0.0.1"
    );
}
