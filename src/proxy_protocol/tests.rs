//! Headers of both versions as bytes, split at every offset, with hostile
//! bytes at every offset.

use super::*;

const V1_TCP4: &[u8] = b"PROXY TCP4 203.0.113.7 192.0.2.1 51000 443\r\n";
const V1_TCP6: &[u8] = b"PROXY TCP6 2001:db8::7 2001:db8::1 51000 443\r\n";
const V1_UNKNOWN: &[u8] = b"PROXY UNKNOWN\r\n";

/// A version 2 header: `command` 0 (LOCAL) or 1 (PROXY), `family` the
/// family and protocol byte, then the address block and TLVs.
fn v2(command: u8, family: u8, addresses: &[u8], tlvs: &[u8]) -> Vec<u8> {
    let mut out = V2_SIGNATURE.to_vec();
    out.push(0x20 | command);
    out.push(family);
    let len = u16::try_from(addresses.len() + tlvs.len()).unwrap();
    out.extend(len.to_be_bytes());
    out.extend(addresses);
    out.extend(tlvs);
    out
}

fn v2_tcp4() -> Vec<u8> {
    v2(
        1,
        0x11,
        &[203, 0, 113, 7, 192, 0, 2, 1, 0xc7, 0x38, 1, 0xbb],
        &[],
    )
}

fn v2_tcp6_with_tlvs() -> Vec<u8> {
    let mut addresses = Vec::new();
    addresses.extend(
        "2001:db8::7"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    addresses.extend(
        "2001:db8::1"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    addresses.extend([0xc7, 0x38, 1, 0xbb]);
    // PP2_TYPE_AUTHORITY "example.com", PP2_TYPE_UNIQUE_ID, PP2_TYPE_NOOP.
    let mut tlvs = vec![0x02, 0, 11];
    tlvs.extend(b"example.com");
    tlvs.extend([0x05, 0, 4, 1, 2, 3, 4, 0x04, 0, 0]);
    v2(1, 0x21, &addresses, &tlvs)
}

fn v2_local() -> Vec<u8> {
    v2(0, 0x00, &[], &[])
}

fn client(s: &str) -> Option<SocketAddr> {
    Some(s.parse().unwrap())
}

fn complete(buf: &[u8]) -> Header {
    match parse(buf) {
        Ok(Parsed::Complete(h)) => h,
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(buf)),
    }
}

fn valid() -> Vec<(Vec<u8>, Option<SocketAddr>, u8)> {
    vec![
        (V1_TCP4.to_vec(), client("203.0.113.7:51000"), 1),
        (V1_TCP6.to_vec(), client("[2001:db8::7]:51000"), 1),
        (V1_UNKNOWN.to_vec(), None, 1),
        (b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n".to_vec(), None, 1),
        (v2_tcp4(), client("203.0.113.7:51000"), 2),
        (v2_tcp6_with_tlvs(), client("[2001:db8::7]:51000"), 2),
        (v2_local(), None, 2),
        // LOCAL with addresses: still the proxy's own connection.
        (
            v2(0, 0x11, &[1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2], &[]),
            None,
            2,
        ),
        // AF_UNIX: no IP address to use.
        (v2(1, 0x31, &[0; 216], &[]), None, 2),
        // UDP over IPv4: not a stream connection's client.
        (
            v2(1, 0x12, &[1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2], &[]),
            None,
            2,
        ),
    ]
}

#[test]
fn reads_both_versions_and_keeps_what_follows() {
    for (header, source, version) in valid() {
        for rest in [
            &b""[..],
            b"GET / HTTP/1.1\r\n\r\n",
            b"\x16\x03\x01\x02\x00\x01",
            b"\xff\xc3",
        ] {
            let mut buf = header.clone();
            buf.extend(rest);
            let parsed = complete(&buf);
            assert_eq!(
                parsed,
                Header {
                    source,
                    len: header.len(),
                    version
                }
            );
        }
    }
}

#[test]
fn every_prefix_of_a_header_waits_for_more() {
    for (header, ..) in valid() {
        for cut in 0..header.len() {
            assert_eq!(
                parse(&header[..cut]).unwrap(),
                Parsed::Partial,
                "{:?} cut at {cut}",
                String::from_utf8_lossy(&header)
            );
        }
    }
}

#[test]
fn refuses_bytes_without_a_signature_at_once() {
    for buf in [
        &b"GET / HTTP/1.1\r\n"[..],
        b"\x16\x03\x01\x00\xa5",
        b"G",
        b"proxy TCP4",
        b"PROXY\t",
        b"\r\n\r\nX",
        "\u{e9}PROXY".as_bytes(),
        b"\xff",
        b"\xc3",
    ] {
        assert!(matches!(parse(buf), Err(HeaderError::Missing)), "{buf:?}");
    }
}

#[test]
fn refuses_malformed_headers() {
    for buf in [
        &b"PROXY TCP4 203.0.113.7 192.0.2.1 51000 443\n"[..],
        b"PROXY TCP4 203.0.113.7 192.0.2.1 51000 65536\r\n",
        b"PROXY TCP4 203.0.113.7 192.0.2.1 051000 443\r\n",
        b"PROXY TCP4 2001:db8::7 192.0.2.1 51000 443\r\n",
        b"PROXY TCP6 203.0.113.7 2001:db8::1 51000 443\r\n",
        b"PROXY TCP5 203.0.113.7 192.0.2.1 51000 443\r\n",
        b"PROXY TCP4 203.0.113.\xc3\xa9 192.0.2.1 1 2\r\n",
        b"PROXY TCP4 203.0.113.7 192.0.2.1 51000 443 x\r\n",
        b"PROXY UNKNOWN\rX",
        b"PROXY TCP4 203.0.113.7\r\n",
        b"PROXY TCP4\r\n",
        b"PROXY \r\n",
        b"PROXY \xff\r\n",
    ] {
        assert!(
            matches!(parse(buf), Err(HeaderError::Malformed(_))),
            "{:?}: {:?}",
            String::from_utf8_lossy(buf),
            parse(buf)
        );
    }
    // Version 2: a bad version, command, family, protocol; a length too
    // short for the family's addresses.
    let good = v2_tcp4();
    for (at, byte) in [(12, 0x11), (12, 0x31), (12, 0x22), (13, 0x41), (13, 0x13)] {
        let mut bad = good.clone();
        bad[at] = byte;
        assert!(
            matches!(parse(&bad), Err(HeaderError::Malformed(_))),
            "{bad:?}"
        );
    }
    let short = v2(1, 0x11, &[1, 2, 3, 4], &[]);
    assert!(matches!(parse(&short), Err(HeaderError::Malformed(_))));
}

#[test]
fn refuses_headers_too_long_before_they_arrive() {
    // Version 1: 107 bytes at most, CRLF included.
    let mut v1 = b"PROXY UNKNOWN ".to_vec();
    v1.resize(107, b'x');
    assert!(matches!(parse(&v1), Err(HeaderError::TooLong)), "{v1:?}");
    v1.truncate(105);
    v1.extend(b"\r\n");
    assert!(matches!(complete(&v1), Header { len: 107, .. }));

    // Version 2: refused from its fixed part, the rest never waited for.
    let largest = v2(
        1,
        0x11,
        &[1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2],
        &vec![0x04; MAX_HEADER_LENGTH - 16 - 12],
    );
    assert_eq!(complete(&largest).len, MAX_HEADER_LENGTH);
    let mut oversized = v2(1, 0x11, &[1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2], &[]);
    let len = u16::try_from(MAX_HEADER_LENGTH - 16 + 1).unwrap();
    oversized[14..16].copy_from_slice(&len.to_be_bytes());
    assert!(matches!(parse(&oversized[..16]), Err(HeaderError::TooLong)));
    oversized[14..16].copy_from_slice(&u16::MAX.to_be_bytes());
    assert!(matches!(parse(&oversized), Err(HeaderError::TooLong)));
}

/// Bytes a peer may slip in: invalid UTF-8, and 2-, 3- and 4-byte
/// characters.
const HOSTILE: [&[u8]; 6] = [
    b"\xff",
    b"\xc3",
    b"\x00",
    "\u{e9}".as_bytes(),
    "\u{20ac}".as_bytes(),
    "\u{1f600}".as_bytes(),
];

#[test]
fn hostile_bytes_at_every_offset_never_pass_as_a_version_1_header() {
    for (header, source, _) in valid().into_iter().filter(|(_, _, v)| *v == 1) {
        for at in 0..=header.len() {
            for bytes in HOSTILE {
                let mut buf = header.clone();
                buf.splice(at..at, bytes.iter().copied());
                let result = parse(&buf);
                if at >= header.len() {
                    assert_eq!(
                        complete(&buf),
                        Header {
                            source,
                            len: header.len(),
                            version: 1
                        }
                    );
                } else {
                    assert!(result.is_err(), "{buf:?}: {result:?}");
                }
                // Cut anywhere: no panic, and a cut header is never whole.
                for cut in 0..buf.len().min(header.len()) {
                    assert!(!matches!(parse(&buf[..cut]), Ok(Parsed::Complete(_))));
                }
            }
        }
    }
}

#[test]
fn hostile_bytes_at_every_offset_of_a_version_2_header() {
    for (header, ..) in valid().into_iter().filter(|(_, _, v)| *v == 2) {
        for at in 0..=header.len() {
            for bytes in HOSTILE {
                let mut buf = header.clone();
                buf.splice(at..at, bytes.iter().copied());
                // In the payload, the length still says where the
                // header ends. In the fixed part a byte may still make a
                // header (a binary field changed), never one longer than
                // the bytes.
                match parse(&buf) {
                    Ok(Parsed::Complete(h)) if at >= 16 => assert_eq!(h.len, header.len()),
                    Ok(Parsed::Complete(h)) => assert!(h.len <= buf.len(), "{buf:?}"),
                    _ => assert!(at < 16, "{buf:?}"),
                }
            }
        }
    }
}

#[test]
fn trusts_only_the_listed_proxies() {
    let off = ProxyProtocol::Off;
    let on = ProxyProtocol::Required {
        from: vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()],
    };
    assert!(!off.is_required());
    assert!(on.is_required());
    assert!(!off.is_trusted("127.0.0.1".parse().unwrap()));
    assert!(on.is_trusted("127.0.0.1".parse().unwrap()));
    assert!(on.is_trusted("::ffff:127.0.0.1".parse().unwrap()));
    assert!(on.is_trusted("::1".parse().unwrap()));
    assert!(!on.is_trusted("127.0.0.2".parse().unwrap()));
    assert_eq!(ProxyProtocol::default(), ProxyProtocol::Off);
}

#[test]
fn errors_say_what_was_wrong() {
    assert_eq!(
        parse(b"GET").unwrap_err().to_string(),
        "no PROXY protocol header"
    );
    let e = parse(b"PROXY TCP5 x\r\n").unwrap_err().to_string();
    assert!(
        e.starts_with("malformed PROXY protocol header (version 1: "),
        "{e}"
    );
    let mut bad = v2_local();
    bad[12] = 0x2f;
    let e = parse(&bad).unwrap_err().to_string();
    assert!(
        e.starts_with("malformed PROXY protocol header (version 2: "),
        "{e}"
    );
}
