//! Request-body decoding: `Content-Length` and `Transfer-Encoding: chunked`
//! (RFC 9112 §7.1), as an explicit state machine fed whatever bytes arrived.

use crate::error::RequestError;

/// Bytes allowed in one chunk-size line including extensions, and in all
/// trailer lines together. Longer is refused with 400.
const MAX_CHUNK_LINE: usize = 4096;
const MAX_TRAILERS: usize = 16 * 1024;

/// Decodes a request body.
#[derive(Debug, Clone)]
pub enum BodyDecoder {
    /// A `Content-Length` body with this many bytes still to come.
    Length(u64),
    /// A chunked body.
    Chunked(Chunked),
}

/// Where a chunked decoder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkedState {
    /// Hex digits of the chunk size.
    Size,
    /// After the size: optional whitespace and `;ext` up to CR.
    Extension,
    /// Expecting the LF that ends the size line.
    SizeLf,
    /// Chunk data.
    Data,
    /// Expecting CR after the data.
    DataCr,
    /// Expecting LF after the data.
    DataLf,
    /// At the start of a trailer line (or the final CRLF).
    TrailerStart,
    /// Inside a trailer line.
    Trailer,
    /// Expecting the LF that ends a trailer line.
    TrailerLf,
    /// Expecting the LF of the final empty line.
    EndLf,
    /// The body is complete.
    Done,
}

/// State of a chunked body.
#[derive(Debug, Clone)]
pub struct Chunked {
    state: ChunkedState,
    size: u64,
    digits: usize,
    line_len: usize,
    trailer_len: usize,
}

/// What one call to [`BodyDecoder::decode`] did.
#[derive(Debug, PartialEq, Eq)]
pub struct Step<'a> {
    /// Input bytes used up.
    pub consumed: usize,
    /// Body bytes found (a slice of the input).
    pub data: &'a [u8],
    /// Whether the body is complete.
    pub done: bool,
}

impl BodyDecoder {
    /// A decoder for a body of exactly `len` bytes.
    pub fn length(len: u64) -> Self {
        BodyDecoder::Length(len)
    }

    /// A decoder for a chunked body.
    pub fn chunked() -> Self {
        BodyDecoder::Chunked(Chunked {
            state: ChunkedState::Size,
            size: 0,
            digits: 0,
            line_len: 0,
            trailer_len: 0,
        })
    }

    /// Whether the whole body has been decoded.
    pub fn is_done(&self) -> bool {
        match self {
            BodyDecoder::Length(n) => *n == 0,
            BodyDecoder::Chunked(c) => c.state == ChunkedState::Done,
        }
    }

    /// Decodes from `input`, returning at most one run of body bytes.
    /// Call again with the rest of the input while `consumed` is non-zero
    /// and the body is not done.
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> Result<Step<'a>, RequestError> {
        match self {
            BodyDecoder::Length(remaining) => {
                let n = (*remaining).min(input.len() as u64) as usize;
                *remaining -= n as u64;
                Ok(Step {
                    consumed: n,
                    data: &input[..n],
                    done: *remaining == 0,
                })
            }
            BodyDecoder::Chunked(c) => c.decode(input),
        }
    }
}

impl Chunked {
    fn decode<'a>(&mut self, input: &'a [u8]) -> Result<Step<'a>, RequestError> {
        use ChunkedState::*;
        let mut i = 0;
        while i < input.len() && self.state != Done {
            let b = input[i];
            match self.state {
                Size => match hex_value(b) {
                    Some(v) => {
                        self.digits += 1;
                        if self.digits > 16 {
                            return Err(RequestError::BadRequest("chunk size too large"));
                        }
                        self.size = self.size << 4 | u64::from(v);
                        self.bump_line()?;
                    }
                    None if self.digits == 0 => {
                        return Err(RequestError::BadRequest("invalid chunk size"));
                    }
                    None if b == b'\r' => self.state = SizeLf,
                    None if b == b';' || b == b' ' || b == b'\t' => {
                        self.state = Extension;
                        self.bump_line()?;
                    }
                    None => return Err(RequestError::BadRequest("invalid chunk size")),
                },
                Extension => match b {
                    b'\r' => self.state = SizeLf,
                    b'\n' => return Err(RequestError::BadRequest("bare LF in chunk size line")),
                    _ => self.bump_line()?,
                },
                SizeLf => {
                    if b != b'\n' {
                        return Err(RequestError::BadRequest("invalid chunk size line"));
                    }
                    self.line_len = 0;
                    self.digits = 0;
                    self.state = if self.size == 0 { TrailerStart } else { Data };
                }
                Data => {
                    let n = (self.size).min((input.len() - i) as u64) as usize;
                    self.size -= n as u64;
                    if self.size == 0 {
                        self.state = DataCr;
                    }
                    return Ok(Step {
                        consumed: i + n,
                        data: &input[i..i + n],
                        done: false,
                    });
                }
                DataCr => {
                    if b != b'\r' {
                        return Err(RequestError::BadRequest("missing CRLF after chunk"));
                    }
                    self.state = DataLf;
                }
                DataLf => {
                    if b != b'\n' {
                        return Err(RequestError::BadRequest("missing CRLF after chunk"));
                    }
                    self.state = Size;
                }
                TrailerStart => {
                    self.state = if b == b'\r' { EndLf } else { Trailer };
                    self.bump_trailer()?;
                }
                Trailer => {
                    if b == b'\r' {
                        self.state = TrailerLf;
                    }
                    self.bump_trailer()?;
                }
                TrailerLf => {
                    if b != b'\n' {
                        return Err(RequestError::BadRequest("invalid trailer line"));
                    }
                    self.state = TrailerStart;
                }
                EndLf => {
                    if b != b'\n' {
                        return Err(RequestError::BadRequest("invalid end of chunked body"));
                    }
                    self.state = Done;
                }
                Done => unreachable!("loop stops at Done"),
            }
            i += 1;
        }
        Ok(Step {
            consumed: i,
            data: &[],
            done: self.state == Done,
        })
    }

    fn bump_line(&mut self) -> Result<(), RequestError> {
        self.line_len += 1;
        if self.line_len > MAX_CHUNK_LINE {
            return Err(RequestError::BadRequest("chunk size line too long"));
        }
        Ok(())
    }

    fn bump_trailer(&mut self) -> Result<(), RequestError> {
        self.trailer_len += 1;
        if self.trailer_len > MAX_TRAILERS {
            return Err(RequestError::BadRequest("trailers too long"));
        }
        Ok(())
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}
