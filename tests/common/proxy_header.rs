//! PROXY protocol headers (HAProxy's `proxy-protocol.txt`) as a load
//! balancer sends them, built byte by byte here rather than by the parser
//! under test.

use std::net::SocketAddr;

/// The version 2 signature.
pub const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";

/// `PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n`.
pub fn v1(source: SocketAddr, destination: SocketAddr) -> Vec<u8> {
    let family = if source.is_ipv4() { "TCP4" } else { "TCP6" };
    format!(
        "PROXY {family} {} {} {} {}\r\n",
        source.ip(),
        destination.ip(),
        source.port(),
        destination.port()
    )
    .into_bytes()
}

/// `PROXY UNKNOWN\r\n`: the proxy does not say whom it stands for.
pub fn v1_unknown() -> Vec<u8> {
    b"PROXY UNKNOWN\r\n".to_vec()
}

/// A version 2 `PROXY` header over TCP, with `tlvs` (already encoded, see
/// [`tlv`]) after the addresses.
pub fn v2(source: SocketAddr, destination: SocketAddr, tlvs: &[u8]) -> Vec<u8> {
    let mut addresses = Vec::new();
    let family = match (source, destination) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => {
            addresses.extend(s.ip().octets());
            addresses.extend(d.ip().octets());
            0x11
        }
        (SocketAddr::V6(s), SocketAddr::V6(d)) => {
            addresses.extend(s.ip().octets());
            addresses.extend(d.ip().octets());
            0x21
        }
        _ => panic!("both addresses of one family"),
    };
    addresses.extend(source.port().to_be_bytes());
    addresses.extend(destination.port().to_be_bytes());
    v2_raw(0x21, family, &addresses, tlvs)
}

/// A version 2 `LOCAL` header (the proxy's own connection, e.g. a health
/// check): no addresses.
pub fn v2_local() -> Vec<u8> {
    v2_raw(0x20, 0x00, &[], &[])
}

/// A version 2 header from its fields: version and command byte, family
/// and protocol byte, address block, TLVs; the length is theirs.
pub fn v2_raw(version_command: u8, family: u8, addresses: &[u8], tlvs: &[u8]) -> Vec<u8> {
    let mut out = V2_SIGNATURE.to_vec();
    out.push(version_command);
    out.push(family);
    let len = u16::try_from(addresses.len() + tlvs.len()).expect("header length");
    out.extend(len.to_be_bytes());
    out.extend(addresses);
    out.extend(tlvs);
    out
}

/// One type-length-value entry.
pub fn tlv(kind: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend(u16::try_from(value.len()).unwrap().to_be_bytes());
    out.extend(value);
    out
}
