//! The PROXY protocol (HAProxy's `proxy-protocol.txt`, versions 1 and 2):
//! a load balancer that forwards TCP connections opens each one with a
//! header naming the client it stands for, before the first byte of HTTP
//! or of the TLS ClientHello.
//!
//! [`ProxyProtocol`] is the option ([`crate::Config::proxy_protocol`]);
//! [`parse`] is the sans-IO reading of a header from the bytes received
//! so far, over the `ppp` crate. The driver of a connection reads the
//! header before anything else and closes the connection when [`parse`]
//! refuses it, or when the peer is not one of the trusted proxies.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use ppp::PartialResult;
use ppp::{v1, v2};

/// Whether connections begin with a PROXY protocol header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyProtocol {
    /// No header: the bytes are HTTP (or TLS) from the first. Default.
    #[default]
    Off,
    /// Every connection begins with a header, version 1 or 2, and comes
    /// from one of these addresses (the proxies). A connection from
    /// anyone else, or whose header is missing, malformed or longer than
    /// [`MAX_HEADER_LENGTH`], is closed (one warning in the log) and never
    /// read as HTTP. The header's source address is the connection's
    /// peer from then on ([`crate::Request::addr`], the access log,
    /// `X-Forwarded-For`, which is believed only if that address is itself
    /// in [`crate::Config::trusted_proxies`]); a `LOCAL` (v2) or `UNKNOWN`
    /// (v1) header, or one naming no IP address, keeps the proxy's.
    ///
    /// The header must arrive within `request_timeout` of the connection.
    /// A Unix socket peer has the address `0.0.0.0`
    /// ([`crate::UNIX_SOCKET_ADDR`]): list it to take headers there.
    Required {
        /// The proxies allowed to send a header.
        from: Vec<IpAddr>,
    },
}

impl ProxyProtocol {
    /// Whether a header is expected on every connection.
    pub fn is_required(&self) -> bool {
        matches!(self, ProxyProtocol::Required { .. })
    }

    /// Whether `peer` may send a header (an IPv4 peer of a dual-stack
    /// socket compared as IPv4).
    pub fn is_trusted(&self, peer: IpAddr) -> bool {
        match self {
            ProxyProtocol::Off => false,
            ProxyProtocol::Required { from } => from.contains(&peer.to_canonical()),
        }
    }
}

/// Longest header accepted, in bytes. A version 1 header is at most 107;
/// a version 2 header may in principle carry 64 KiB of TLVs, but what
/// HAProxy, cloud load balancers and nginx send stays far under this.
pub const MAX_HEADER_LENGTH: usize = 4096;

/// The version 2 signature.
const V2_SIGNATURE: &[u8] = v2::PROTOCOL_PREFIX;
/// Longest version 1 header, CR LF included.
const V1_MAX_LENGTH: usize = 107;
/// The version 1 signature.
const V1_SIGNATURE: &[u8] = b"PROXY ";
/// Bytes of the fixed part of a version 2 header (signature, version and
/// command, family, length).
const V2_FIXED: usize = 16;

/// A whole header, read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Whom the connection stands for; `None`: the proxy itself (`LOCAL`,
    /// `UNKNOWN`, or no IP address in the header).
    pub source: Option<SocketAddr>,
    /// The header's length: what follows is the client's first byte.
    pub len: usize,
    /// 1 or 2.
    pub version: u8,
}

/// What the bytes received so far hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// The start of a header: wait for more.
    Partial,
    /// A whole header.
    Complete(Header),
}

/// Why a header is refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum HeaderError {
    /// The bytes do not begin with either version's signature (a client
    /// speaking HTTP or TLS directly).
    Missing,
    /// Longer than [`MAX_HEADER_LENGTH`] (or 107 bytes for version 1).
    TooLong,
    /// A signature, then bytes that are not a valid header.
    Malformed(Malformed),
}

/// What is wrong in a header (the parser's own description).
pub struct Malformed(Inner);

enum Inner {
    V1(v1::BinaryParseError),
    /// A version 1 line that ended (CR, then a byte) with fields missing.
    V1Short,
    /// A byte that is not printable US-ASCII in a version 1 line.
    V1NotText,
    V2(v2::ParseError),
}

impl fmt::Debug for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Inner::V1(e) => write!(f, "Malformed(v1: {e:?})"),
            Inner::V1Short => write!(f, "Malformed(v1: short line)"),
            Inner::V1NotText => write!(f, "Malformed(v1: not text)"),
            Inner::V2(e) => write!(f, "Malformed(v2: {e:?})"),
        }
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Inner::V1(e) => write!(f, "version 1: {e}"),
            Inner::V1Short => f.write_str("version 1: fields missing"),
            Inner::V1NotText => f.write_str("version 1: a byte that is not printable US-ASCII"),
            Inner::V2(e) => write!(f, "version 2: {e}"),
        }
    }
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::Missing => f.write_str("no PROXY protocol header"),
            HeaderError::TooLong => write!(
                f,
                "PROXY protocol header longer than {MAX_HEADER_LENGTH} bytes"
            ),
            HeaderError::Malformed(e) => write!(f, "malformed PROXY protocol header ({e})"),
        }
    }
}

impl std::error::Error for HeaderError {}

/// Reads a header from the start of `buf` (the bytes received so far;
/// what follows the header is left alone). The answer never depends on
/// how the bytes were split: a prefix of a header is [`Parsed::Partial`].
pub fn parse(buf: &[u8]) -> Result<Parsed, HeaderError> {
    let parsed = if starts_like(buf, V2_SIGNATURE) {
        parse_v2(buf)
    } else if starts_like(buf, V1_SIGNATURE) {
        parse_v1(buf)
    } else {
        Err(HeaderError::Missing)
    };
    // Whatever the parser says, waiting never goes past the cap.
    match parsed {
        Ok(Parsed::Partial) if buf.len() >= MAX_HEADER_LENGTH => Err(HeaderError::TooLong),
        other => other,
    }
}

/// Whether `buf` begins with `signature`, or is the start of it.
fn starts_like(buf: &[u8], signature: &[u8]) -> bool {
    let n = buf.len().min(signature.len());
    buf.get(..n) == signature.get(..n)
}

/// Version 1 is one line of US-ASCII: it is parsed once its CR LF has
/// arrived (`ppp` alone would refuse some prefixes of a valid line), and
/// refused before that on a byte that cannot be in it.
fn parse_v1(buf: &[u8]) -> Result<Parsed, HeaderError> {
    let cr = buf.iter().position(|&b| b == b'\r');
    let text = cr.map_or(buf, |cr| &buf[..cr]);
    if text.len() + 2 > V1_MAX_LENGTH {
        return Err(HeaderError::TooLong);
    }
    if !text.iter().all(|b| (b' '..=b'~').contains(b)) {
        return Err(HeaderError::Malformed(Malformed(Inner::V1NotText)));
    }
    let line = match cr {
        Some(cr) if cr + 1 < buf.len() => &buf[..cr + 2],
        _ => return Ok(Parsed::Partial),
    };
    match v1::Header::try_from(line) {
        Ok(header) => {
            let source = match header.addresses {
                v1::Addresses::Tcp4(a) => Some(SocketAddr::from((a.source_address, a.source_port))),
                v1::Addresses::Tcp6(a) => Some(SocketAddr::from((a.source_address, a.source_port))),
                v1::Addresses::Unknown => None,
            };
            Ok(Parsed::Complete(Header {
                source,
                len: line.len(),
                version: 1,
            }))
        }
        // The whole line is there: nothing is still to come.
        Err(e) if e.is_incomplete() => Err(HeaderError::Malformed(Malformed(Inner::V1Short))),
        Err(e) => Err(HeaderError::Malformed(Malformed(Inner::V1(e)))),
    }
}

fn parse_v2(buf: &[u8]) -> Result<Parsed, HeaderError> {
    // The length is known from the fixed part: refuse a header too long
    // before waiting for it.
    if let Some(&[hi, lo]) = buf.get(V2_FIXED - 2..V2_FIXED)
        && V2_FIXED + usize::from(u16::from_be_bytes([hi, lo])) > MAX_HEADER_LENGTH
    {
        return Err(HeaderError::TooLong);
    }
    match v2::Header::try_from(buf) {
        Ok(header) => {
            let source = match (header.command, header.protocol, header.addresses) {
                (v2::Command::Proxy, v2::Protocol::Stream, v2::Addresses::IPv4(a)) => {
                    Some(SocketAddr::from((a.source_address, a.source_port)))
                }
                (v2::Command::Proxy, v2::Protocol::Stream, v2::Addresses::IPv6(a)) => {
                    Some(SocketAddr::from((a.source_address, a.source_port)))
                }
                // LOCAL (the proxy's own connection, e.g. a health
                // check), AF_UNSPEC, AF_UNIX, or a datagram source.
                _ => None,
            };
            Ok(Parsed::Complete(Header {
                source,
                len: header.len(),
                version: 2,
            }))
        }
        Err(e) if e.is_incomplete() => Ok(Parsed::Partial),
        Err(e) => Err(HeaderError::Malformed(Malformed(Inner::V2(e)))),
    }
}

#[cfg(test)]
mod tests;
