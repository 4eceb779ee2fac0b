//! Pure helpers of the uHTTP Server API: percent decoding, query strings,
//! the `Cookie` request header, URL splitting and header parsing.
//!
//! Everything here is a function of its input only (no sockets, no clock),
//! so the request parser, the application and `uhttpd` share one
//! implementation of each rule.

mod cookies;
mod header;
mod params;
mod percent;
mod query;
mod url;

pub use cookies::parse_cookies;
pub use header::{is_token, is_valid_header_value, parse_header_line, parse_header_parameters};
pub use params::Params;
pub use percent::{
    decode_form_component, decode_percent_encoding, decode_percent_encoding_bytes,
    encode_path_segment,
};
pub use query::parse_query;
pub use url::{parse_url, split_url};

/// A byte-class table: ASCII letters and digits, plus the bytes of
/// `extra`. Lookups are one load, for checks run on every request.
pub(crate) const fn ascii_table(extra: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        table[extra[i] as usize] = true;
        i += 1;
    }
    table
}

#[cfg(test)]
pub(crate) mod every_offset;
