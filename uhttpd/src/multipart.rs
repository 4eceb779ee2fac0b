//! Incremental `multipart/form-data` parser (RFC 7578 over RFC 2046), with
//! bounded memory.
//!
//! A push parser: the body is [`MultipartParser::feed`] in pieces of any
//! size, and each part comes out as [`PartEvent::Start`], any number of
//! [`PartEvent::Data`] slices, then [`PartEvent::End`]. Part data is never
//! accumulated: bytes are passed on as soon as they cannot belong to a
//! delimiter, so at most `boundary.len() + 3` bytes are held back (and
//! those are always a prefix of the delimiter, never copied). Part headers
//! are buffered up to [`MAX_HEADER_BYTES`] and [`MAX_HEADERS`] per part.
//!
//! ```text
//! Preamble ──"--B"──▶ AfterDelimiter ──CRLF──▶ Headers ──CRLF CRLF──▶ Body
//!    (ignored)            │    ▲                 (Start)               │ (Data…)
//!                         │    └─────────── "CRLF--B" (End) ───────────┘
//!                         └──"--"──▶ Epilogue (ignored; `finish` succeeds)
//! any error ──▶ Failed (every later call returns the error again)
//! ```
//!
//! Line endings must be CRLF. The filename is reported as sent (a quoted
//! one with a backslash is not even unescaped): it is untrusted, and the
//! caller checks it before using it as a path.

use std::fmt;

use percent_encoding::percent_decode_str;

/// Most bytes of part headers, CRLFs included, per part.
pub const MAX_HEADER_BYTES: usize = 8 * 1024;
/// Most header fields per part.
pub const MAX_HEADERS: usize = 16;
/// Longest boundary RFC 2046 allows.
pub const MAX_BOUNDARY_LEN: usize = 70;

/// What the parser reports, in order, for each part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartEvent<'a> {
    /// A part begins; its headers are complete.
    Start {
        /// The form field name.
        name: String,
        /// The file name, for a file field (`filename*` preferred).
        filename: Option<String>,
        /// The part's `Content-Type`, when given.
        content_type: Option<String>,
    },
    /// The next bytes of the part's content.
    Data(&'a [u8]),
    /// The part's content is complete.
    End,
}

/// Why a body is not acceptable `multipart/form-data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultipartError {
    /// The boundary is empty, longer than 70 characters, or uses
    /// characters RFC 2046 does not allow.
    InvalidBoundary,
    /// A part's headers exceed [`MAX_HEADER_BYTES`].
    HeadersTooLarge,
    /// A part has more than [`MAX_HEADERS`] header fields.
    TooManyHeaders,
    /// A line of part headers does not end in CRLF.
    BareLineEnding,
    /// A part header line is not `name: value`, is folded, or is not UTF-8.
    InvalidHeader,
    /// `Content-Disposition` is missing, repeated, not `form-data`,
    /// without a name, or malformed.
    InvalidContentDisposition,
    /// A delimiter is followed by something other than `--` or CRLF.
    InvalidDelimiter,
    /// The body ended before the closing delimiter.
    Incomplete,
    /// The event handler failed; the body was not parsed further.
    Aborted,
}

impl fmt::Display for MultipartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MultipartError::InvalidBoundary => "invalid multipart boundary",
            MultipartError::HeadersTooLarge => "multipart part headers too large",
            MultipartError::TooManyHeaders => "too many multipart part headers",
            MultipartError::BareLineEnding => "multipart header line not ended by CRLF",
            MultipartError::InvalidHeader => "malformed multipart part header",
            MultipartError::InvalidContentDisposition => {
                "missing or malformed Content-Disposition in multipart part"
            }
            MultipartError::InvalidDelimiter => "malformed multipart delimiter line",
            MultipartError::Incomplete => "multipart body ended before its closing delimiter",
            MultipartError::Aborted => "multipart parsing aborted by its event handler",
        })
    }
}

impl std::error::Error for MultipartError {}

/// A failure of [`MultipartParser::feed`]: the body, or the event handler.
#[derive(Debug, PartialEq, Eq)]
pub enum FeedError<E> {
    /// The body is not acceptable.
    Multipart(MultipartError),
    /// The event handler returned this error.
    Handler(E),
}

impl<E: fmt::Display> fmt::Display for FeedError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FeedError::Multipart(e) => e.fmt(f),
            FeedError::Handler(_) => f.write_str("multipart event handler failed"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for FeedError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FeedError::Multipart(_) => None,
            FeedError::Handler(e) => Some(e),
        }
    }
}

impl<E> From<MultipartError> for FeedError<E> {
    fn from(e: MultipartError) -> Self {
        FeedError::Multipart(e)
    }
}

/// Where the parser is; see the module diagram.
#[derive(Debug)]
enum State {
    /// Skipping the preamble; `matched` bytes of the delimiter seen.
    Preamble { matched: usize },
    /// A delimiter was read; `padded` once transport padding was skipped.
    AfterDelimiter { padded: bool },
    /// Read `-` after a delimiter: a second one closes the body.
    CloseDash,
    /// Read CR after a delimiter: LF starts the part headers.
    DelimiterCr,
    /// Reading part headers.
    Headers(PartHead),
    /// Passing part data on; `matched` bytes of the delimiter held back.
    Body { matched: usize },
    /// After the closing delimiter: everything is ignored.
    Epilogue,
    /// An error happened; it is returned again.
    Failed(MultipartError),
}

/// Part headers read so far (the current line is in the parser's buffer).
#[derive(Debug, Default)]
struct PartHead {
    bytes: usize,
    fields: usize,
    after_cr: bool,
    disposition: Option<String>,
    content_type: Option<String>,
}

/// Push parser for one `multipart/form-data` body.
#[derive(Debug)]
pub struct MultipartParser {
    /// `CRLF "--" boundary`.
    delimiter: Vec<u8>,
    state: State,
    /// The header line being read (bounded by [`MAX_HEADER_BYTES`]).
    line: Vec<u8>,
}

impl MultipartParser {
    /// A parser for the body delimited by `boundary` (the `boundary`
    /// parameter of `Content-Type`, unquoted): 1 to 70 characters from
    /// RFC 2046's `bchars`, not ending in a space.
    pub fn new(boundary: &str) -> Result<Self, MultipartError> {
        let valid = !boundary.is_empty()
            && boundary.len() <= MAX_BOUNDARY_LEN
            && !boundary.ends_with(' ')
            && boundary.bytes().all(is_bchar);
        if !valid {
            return Err(MultipartError::InvalidBoundary);
        }
        let mut delimiter = b"\r\n--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        Ok(MultipartParser {
            delimiter,
            // The first delimiter may open the body, without a CRLF before.
            state: State::Preamble { matched: 2 },
            line: Vec::new(),
        })
    }

    /// Parses the next piece of the body, passing events to `on_event`.
    ///
    /// After any error the parser is failed: later calls return the same
    /// error (or [`MultipartError::Aborted`] when the handler failed).
    pub fn feed<E>(
        &mut self,
        input: &[u8],
        mut on_event: impl FnMut(PartEvent<'_>) -> Result<(), E>,
    ) -> Result<(), FeedError<E>> {
        if let State::Failed(e) = self.state {
            return Err(e.into());
        }
        let result = self.run(input, &mut on_event);
        if let Err(e) = &result {
            self.state = State::Failed(match e {
                FeedError::Multipart(e) => *e,
                FeedError::Handler(_) => MultipartError::Aborted,
            });
        }
        result
    }

    /// Ends the body: an error unless the closing delimiter was read.
    pub fn finish(&mut self) -> Result<(), MultipartError> {
        match self.state {
            State::Epilogue => Ok(()),
            State::Failed(e) => Err(e),
            _ => {
                self.state = State::Failed(MultipartError::Incomplete);
                Err(MultipartError::Incomplete)
            }
        }
    }

    fn run<E>(
        &mut self,
        input: &[u8],
        on_event: &mut impl FnMut(PartEvent<'_>) -> Result<(), E>,
    ) -> Result<(), FeedError<E>> {
        let mut pos = 0;
        while let Some(rest @ &[first, ..]) = input.get(pos..) {
            match &mut self.state {
                State::Preamble { matched } => {
                    let matched = *matched;
                    pos += self.scan(rest, matched, false, on_event)?;
                }
                State::Body { matched } => {
                    let matched = *matched;
                    pos += self.scan(rest, matched, true, on_event)?;
                }
                State::AfterDelimiter { padded } => {
                    self.state = match first {
                        b'-' if !*padded => State::CloseDash,
                        b' ' | b'\t' => State::AfterDelimiter { padded: true },
                        b'\r' => State::DelimiterCr,
                        _ => return Err(MultipartError::InvalidDelimiter.into()),
                    };
                    pos += 1;
                }
                State::CloseDash => {
                    if first != b'-' {
                        return Err(MultipartError::InvalidDelimiter.into());
                    }
                    self.state = State::Epilogue;
                    pos += 1;
                }
                State::DelimiterCr => {
                    if first != b'\n' {
                        return Err(MultipartError::InvalidDelimiter.into());
                    }
                    self.line.clear();
                    self.state = State::Headers(PartHead::default());
                    pos += 1;
                }
                State::Headers(_) => pos += self.read_headers(rest, on_event)?,
                State::Epilogue => pos = input.len(),
                State::Failed(e) => return Err((*e).into()),
            }
        }
        Ok(())
    }

    /// Looks for the delimiter in `input`, `matched` bytes of it already
    /// seen; passes other bytes on as data when `emit`. Returns how many
    /// bytes were consumed, and updates the state.
    ///
    /// A boundary cannot contain CR, so a delimiter can only start at a CR:
    /// on a mismatch, the held-back bytes are all data, and matching starts
    /// again at the byte that did not match.
    fn scan<E>(
        &mut self,
        input: &[u8],
        mut matched: usize,
        emit: bool,
        on_event: &mut impl FnMut(PartEvent<'_>) -> Result<(), E>,
    ) -> Result<usize, FeedError<E>> {
        let mut pos = 0;
        while pos < input.len() {
            if matched == 0 {
                let rest = &input[pos..];
                let data_len = rest.iter().position(|&b| b == b'\r').unwrap_or(rest.len());
                if emit && data_len > 0 {
                    on_event(PartEvent::Data(&rest[..data_len])).map_err(FeedError::Handler)?;
                }
                pos += data_len;
                if pos == input.len() {
                    break;
                }
                matched = 1;
                pos += 1;
            }
            let want = &self.delimiter[matched..];
            let rest = &input[pos..];
            let same = want.iter().zip(rest).take_while(|(a, b)| a == b).count();
            pos += same;
            matched += same;
            if matched == self.delimiter.len() {
                if emit {
                    on_event(PartEvent::End).map_err(FeedError::Handler)?;
                }
                self.state = State::AfterDelimiter { padded: false };
                return Ok(pos);
            }
            if pos < input.len() {
                // Mismatch: what was held back is data after all.
                if emit {
                    on_event(PartEvent::Data(&self.delimiter[..matched]))
                        .map_err(FeedError::Handler)?;
                }
                matched = 0;
            }
        }
        self.state = if emit {
            State::Body { matched }
        } else {
            State::Preamble { matched }
        };
        Ok(pos)
    }

    /// Reads part header bytes; on the empty line, reports
    /// [`PartEvent::Start`] and moves to the body. Returns bytes consumed.
    fn read_headers<E>(
        &mut self,
        input: &[u8],
        on_event: &mut impl FnMut(PartEvent<'_>) -> Result<(), E>,
    ) -> Result<usize, FeedError<E>> {
        let State::Headers(head) = &mut self.state else {
            unreachable!("read_headers is only called in State::Headers");
        };
        for (i, &b) in input.iter().enumerate() {
            head.bytes += 1;
            if head.bytes > MAX_HEADER_BYTES {
                return Err(MultipartError::HeadersTooLarge.into());
            }
            if head.after_cr {
                if b != b'\n' {
                    return Err(MultipartError::BareLineEnding.into());
                }
                head.after_cr = false;
                if self.line.is_empty() {
                    let head = std::mem::take(head);
                    let start = part_start(head)?;
                    on_event(start).map_err(FeedError::Handler)?;
                    self.state = State::Body { matched: 0 };
                    return Ok(i + 1);
                }
                head.fields += 1;
                if head.fields > MAX_HEADERS {
                    return Err(MultipartError::TooManyHeaders.into());
                }
                read_field(&self.line, head)?;
                self.line.clear();
            } else if b == b'\r' {
                head.after_cr = true;
            } else if b == b'\n' {
                return Err(MultipartError::BareLineEnding.into());
            } else {
                self.line.push(b);
            }
        }
        Ok(input.len())
    }
}

/// `bchars` of RFC 2046 §5.1.1: digits, letters, `'()+_,-./:=?` and space.
fn is_bchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&b)
}

/// Records a header line of a part, keeping the fields that matter.
fn read_field(line: &[u8], head: &mut PartHead) -> Result<(), MultipartError> {
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or(MultipartError::InvalidHeader)?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
        // Also refuses obsolete line folding: a line starting with SP/HTAB.
        return Err(MultipartError::InvalidHeader);
    }
    let slot = if name.eq_ignore_ascii_case(b"content-disposition") {
        &mut head.disposition
    } else if name.eq_ignore_ascii_case(b"content-type") {
        &mut head.content_type
    } else {
        return Ok(());
    };
    if slot.is_some() {
        return Err(if name.eq_ignore_ascii_case(b"content-disposition") {
            MultipartError::InvalidContentDisposition
        } else {
            MultipartError::InvalidHeader
        });
    }
    let value = std::str::from_utf8(value).map_err(|_| MultipartError::InvalidHeader)?;
    *slot = Some(value.trim_matches([' ', '\t']).to_owned());
    Ok(())
}

/// `tchar` of RFC 9110 §5.6.2.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn part_start(head: PartHead) -> Result<PartEvent<'static>, MultipartError> {
    let disposition = head
        .disposition
        .ok_or(MultipartError::InvalidContentDisposition)?;
    let (name, filename) =
        parse_disposition(&disposition).ok_or(MultipartError::InvalidContentDisposition)?;
    Ok(PartEvent::Start {
        name,
        filename,
        content_type: head.content_type,
    })
}

/// `form-data; name="..."; filename="..."; filename*=UTF-8''...` →
/// `(name, filename)`, preferring a decodable `filename*` (RFC 7578 §4.2,
/// RFC 5987). `None` when not `form-data`, without a name, or malformed.
/// A quoted `filename` holding a backslash is given as sent, escapes
/// kept, so that the caller sees (and refuses) the backslash.
fn parse_disposition(value: &str) -> Option<(String, Option<String>)> {
    let (kind, mut rest) = value.split_once(';').unwrap_or((value, ""));
    if !kind.trim().eq_ignore_ascii_case("form-data") {
        return None;
    }
    let (mut name, mut filename, mut filename_ext) = (None, None, None);
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        if rest.is_empty() {
            break;
        }
        let (param, after) = rest.split_once('=')?;
        let param = param.trim_end_matches([' ', '\t']);
        if param.is_empty() || !param.bytes().all(is_tchar) {
            return None;
        }
        let (value, raw, after) = param_value(after.trim_start_matches([' ', '\t']))?;
        rest = after.trim_start_matches([' ', '\t']);
        if !(rest.is_empty() || rest.starts_with(';')) {
            return None;
        }
        let (slot, value) = match param.to_ascii_lowercase().as_str() {
            "name" => (&mut name, value),
            // Browsers send a backslash as it is (old ones sent a whole
            // `C:\dir\name`): unescaping would make some other name of it.
            "filename" if raw.contains('\\') => (&mut filename, raw.to_owned()),
            "filename" => (&mut filename, value),
            "filename*" => (&mut filename_ext, value),
            _ => continue,
        };
        if slot.is_some() {
            return None;
        }
        *slot = Some(value);
    }
    let filename = filename_ext
        .as_deref()
        .and_then(decode_ext_value)
        .or(filename);
    Some((name?, filename))
}

/// A parameter value, quoted (with `\` escapes) or a token: the value,
/// the value as sent (between the quotes, escapes kept), and the rest.
fn param_value(s: &str) -> Option<(String, &str, &str)> {
    let Some(quoted) = s.strip_prefix('"') else {
        let end = s.find([';', ' ', '\t']).unwrap_or(s.len());
        let token = s.get(..end)?;
        return Some((token.to_owned(), token, s.get(end..)?));
    };
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, quoted.get(..i)?, quoted.get(i + 1..)?)),
            '\\' => value.push(chars.next()?.1),
            _ => value.push(c),
        }
    }
    None // Unterminated quoted string.
}

/// Decodes an RFC 5987 `ext-value`: `charset'[language]'pct-encoded`, for
/// the UTF-8 and ISO-8859-1 charsets.
fn decode_ext_value(value: &str) -> Option<String> {
    let mut fields = value.splitn(3, '\'');
    let (charset, _language, encoded) = (fields.next()?, fields.next()?, fields.next()?);
    let bytes: Vec<u8> = percent_decode_str(encoded).collect();
    if charset.eq_ignore_ascii_case("utf-8") {
        String::from_utf8(bytes).ok()
    } else if charset.eq_ignore_ascii_case("iso-8859-1") {
        Some(bytes.into_iter().map(char::from).collect())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An owned event, with consecutive data merged, to compare in tables.
    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Ev {
        Start(String, Option<String>, Option<String>),
        Data(Vec<u8>),
        End,
    }

    fn push(events: &mut Vec<Ev>, event: PartEvent<'_>) {
        match event {
            PartEvent::Start {
                name,
                filename,
                content_type,
            } => events.push(Ev::Start(name, filename, content_type)),
            PartEvent::Data(data) => {
                assert!(!data.is_empty(), "empty Data event");
                match events.last_mut() {
                    Some(Ev::Data(prev)) => prev.extend_from_slice(data),
                    _ => events.push(Ev::Data(data.to_vec())),
                }
            }
            PartEvent::End => events.push(Ev::End),
        }
    }

    /// Feeds `pieces` in order, then finishes.
    fn parse_pieces<'a>(
        boundary: &str,
        pieces: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Vec<Ev>, MultipartError> {
        let mut parser = MultipartParser::new(boundary)?;
        let mut events = Vec::new();
        for piece in pieces {
            parser
                .feed(piece, |e| {
                    push(&mut events, e);
                    Ok::<(), ()>(())
                })
                .map_err(|e| match e {
                    FeedError::Multipart(e) => e,
                    FeedError::Handler(()) => unreachable!(),
                })?;
        }
        parser.finish()?;
        Ok(events)
    }

    fn parse(boundary: &str, body: &[u8]) -> Result<Vec<Ev>, MultipartError> {
        parse_pieces(boundary, [body])
    }

    fn start(name: &str, filename: Option<&str>, content_type: Option<&str>) -> Ev {
        Ev::Start(
            name.into(),
            filename.map(Into::into),
            content_type.map(Into::into),
        )
    }

    fn data(d: &str) -> Ev {
        Ev::Data(d.as_bytes().to_vec())
    }

    const SAMPLE: &str = concat!(
        "This preamble is ignored.\r\n",
        "--XyZ\r\n",
        "Content-Disposition: form-data; name=\"field\"\r\n",
        "\r\n",
        "value\r\n",
        "--XyZ \t\r\n",
        "content-disposition: form-data; name=\"file\"; filename=\"a \\\"q\\\".txt\"\r\n",
        "Content-Type: text/plain\r\n",
        "X-Other: ignored\r\n",
        "\r\n",
        "l1\r\nl2\r\r\n-\r\n--X\r\n--XyY\n--XyZ\r\n",
        "--XyZ\r\n",
        "Content-Disposition: form-data; name=\"euro\"; ",
        "filename*=UTF-8''%E2%82%AC.bin; filename=\"e.bin\"\r\n",
        "\r\n",
        "\r\n",
        "--XyZ--\r\n",
        "The epilogue is ignored too.\r\n--XyZ\r\n",
    );

    fn sample_events() -> Vec<Ev> {
        vec![
            start("field", None, None),
            data("value"),
            Ev::End,
            // Escapes kept: the filename holds a backslash.
            start("file", Some("a \\\"q\\\".txt"), Some("text/plain")),
            data("l1\r\nl2\r\r\n-\r\n--X\r\n--XyY\n--XyZ"),
            Ev::End,
            start("euro", Some("€.bin"), None),
            Ev::End,
        ]
    }

    #[test]
    fn parses_parts_and_ignores_preamble_and_epilogue() {
        assert_eq!(parse("XyZ", SAMPLE.as_bytes()), Ok(sample_events()));
    }

    #[test]
    fn gives_the_same_events_at_every_split_point() {
        let body = SAMPLE.as_bytes();
        for i in 0..=body.len() {
            let got = parse_pieces("XyZ", [&body[..i], &body[i..]]);
            assert_eq!(got, Ok(sample_events()), "split at {i}");
        }
    }

    #[test]
    fn gives_the_same_events_when_a_short_piece_sits_anywhere() {
        // Every pair of split points at most 16 bytes apart: the middle
        // piece lies inside, or straddles, each delimiter and header.
        let body = SAMPLE.as_bytes();
        for i in 0..=body.len() {
            for j in i..=body.len().min(i + 16) {
                let got = parse_pieces("XyZ", [&body[..i], &body[i..j], &body[j..]]);
                assert_eq!(got, Ok(sample_events()), "split at {i} and {j}");
            }
        }
    }

    #[test]
    fn gives_the_same_events_when_fed_one_byte_at_a_time() {
        let body = SAMPLE.as_bytes();
        let got = parse_pieces("XyZ", body.chunks(1));
        assert_eq!(got, Ok(sample_events()));
    }

    #[test]
    fn accepts_a_body_opening_with_its_delimiter_and_empty_feeds() {
        let body = b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--b--";
        let want = vec![start("x", None, None), data("1"), Ev::End];
        assert_eq!(parse("b", body), Ok(want.clone()));
        let (a, b) = body.split_at(10);
        assert_eq!(parse_pieces("b", [&b""[..], a, b"", b, b""]), Ok(want));
    }

    #[test]
    fn passes_data_on_as_soon_as_it_cannot_be_a_delimiter() {
        let boundary = "Bound-ary";
        let head = "--Bound-ary\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n";
        // Content full of near-delimiters ("\r\n--Bound-ar"), never a whole one.
        let alphabet = b"\r\n-Bound-ar";
        let mut seed = 12345u32;
        let content: Vec<u8> = (0..20_000)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                alphabet[(seed >> 16) as usize % alphabet.len()]
            })
            .collect();
        let mut body = head.as_bytes().to_vec();
        body.extend_from_slice(&content);
        body.extend_from_slice(b"\r\n--Bound-ary--\r\n");

        let mut parser = MultipartParser::new(boundary).unwrap();
        let mut emitted = Vec::new();
        for (k, byte) in body.iter().enumerate() {
            parser
                .feed(std::slice::from_ref(byte), |e| {
                    if let PartEvent::Data(d) = e {
                        emitted.extend_from_slice(d);
                    }
                    Ok::<(), ()>(())
                })
                .unwrap();
            let fed = (k + 1).saturating_sub(head.len()).min(content.len());
            assert!(emitted.len() <= fed);
            assert!(
                emitted.len() + boundary.len() + 4 >= fed,
                "held back {} bytes after {} fed",
                fed - emitted.len(),
                k + 1
            );
        }
        parser.finish().unwrap();
        assert_eq!(emitted, content);
    }

    #[test]
    fn holds_back_only_a_possible_delimiter() {
        let head = "--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n";
        let cases = [
            ("hello", "hello"),
            ("hello\r", "hello"),
            ("hello\r\n--Xy", "hello"),
            ("hello\r\n--Xa", "hello\r\n--Xa"),
            ("hello\r\r", "hello\r"),
            ("hello\r\n--XyZ", "hello"),
        ];
        for (content, want) in cases {
            let mut parser = MultipartParser::new("XyZ").unwrap();
            let mut events = Vec::new();
            let body = format!("{head}{content}");
            parser
                .feed(body.as_bytes(), |e| {
                    push(&mut events, e);
                    Ok::<(), ()>(())
                })
                .unwrap();
            assert_eq!(events[1], data(want), "{content:?}");
        }
    }

    #[test]
    fn streams_a_large_part_without_accumulating_it() {
        let mut body = b"--b\r\nContent-Disposition: form-data; name=f\r\n\r\n".to_vec();
        body.extend(std::iter::repeat_n(b'x', 1 << 20));
        body.extend_from_slice(b"\r\n--b--\r\n");
        let mut parser = MultipartParser::new("b").unwrap();
        let (mut events, mut bytes) = (0, 0);
        for chunk in body.chunks(4096) {
            parser
                .feed(chunk, |e| {
                    if let PartEvent::Data(d) = e {
                        events += 1;
                        bytes += d.len();
                    }
                    Ok::<(), ()>(())
                })
                .unwrap();
        }
        parser.finish().unwrap();
        assert_eq!(bytes, 1 << 20);
        assert!(events >= 256, "{events} data events");
        assert!(parser.line.capacity() <= MAX_HEADER_BYTES);
    }

    #[test]
    fn refuses_malformed_bodies() {
        let cd = "Content-Disposition: form-data; name=\"f\"\r\n";
        let many: String = (0..=MAX_HEADERS)
            .map(|i| format!("X-H{i}: v\r\n"))
            .collect();
        let big = format!("X-Big: {}\r\n", "v".repeat(MAX_HEADER_BYTES));
        use MultipartError::*;
        let cases: Vec<(String, MultipartError)> = vec![
            (String::new(), Incomplete),
            ("only a preamble\r\n".into(), Incomplete),
            ("--b".into(), Incomplete),
            (format!("--b\r\n{cd}"), Incomplete),
            (format!("--b\r\n{cd}\r\ndata"), Incomplete),
            (format!("--b\r\n{cd}\r\ndata\r\n--b"), Incomplete),
            (format!("--b\r\n{cd}\r\ndata\r\n--b-"), Incomplete),
            (format!("--b\r\n{cd}\r\ndata\r\n--b\r\n"), Incomplete),
            (format!("--b\r\n{cd}{big}\r\n\r\n--b--"), HeadersTooLarge),
            (format!("--b\r\n{cd}{many}\r\n\r\n--b--"), TooManyHeaders),
            (format!("--b\n{cd}\r\n\r\n--b--"), InvalidDelimiter),
            (format!("--b\r\r\n{cd}\r\n\r\n--b--"), InvalidDelimiter),
            (format!("--bx\r\n{cd}\r\n\r\n--b--"), InvalidDelimiter),
            (format!("--b-x\r\n{cd}\r\n\r\n--b--"), InvalidDelimiter),
            (format!("--b -\r\n{cd}\r\n\r\n--b--"), InvalidDelimiter),
            (format!("--b\r\n{cd}\r\ndata\r\n--bx--"), InvalidDelimiter),
            (
                "--b\r\nContent-Disposition: form-data; name=f\n\r\n\r\n--b--".into(),
                BareLineEnding,
            ),
            (
                "--b\r\nContent-Disposition: form-data; name=f\r\n\n\r\n--b--".into(),
                BareLineEnding,
            ),
            (
                "--b\r\nContent-Disposition: form-data; name=f\rX\r\n\r\n--b--".into(),
                BareLineEnding,
            ),
            (
                format!("--b\r\n{cd}no colon\r\n\r\n\r\n--b--"),
                InvalidHeader,
            ),
            (
                format!("--b\r\n{cd}: empty name\r\n\r\n\r\n--b--"),
                InvalidHeader,
            ),
            (
                format!("--b\r\n{cd}X-A: 1\r\n folded\r\n\r\n\r\n--b--"),
                InvalidHeader,
            ),
            (
                format!("--b\r\n{cd}Content-Type : a\r\n\r\n\r\n--b--"),
                InvalidHeader,
            ),
            (
                format!("--b\r\n{cd}Content-Type: a\r\nContent-Type: b\r\n\r\n\r\n--b--"),
                InvalidHeader,
            ),
            ("--b\r\n\r\n\r\n--b--".into(), InvalidContentDisposition),
            (
                "--b\r\nContent-Type: text/plain\r\n\r\n\r\n--b--".into(),
                InvalidContentDisposition,
            ),
            (
                format!("--b\r\n{cd}{cd}\r\n\r\n--b--"),
                InvalidContentDisposition,
            ),
        ];
        for (body, want) in cases {
            assert_eq!(parse("b", body.as_bytes()), Err(want), "{body:?}");
        }
    }

    #[test]
    fn refuses_part_headers_that_are_not_utf8() {
        let body = b"--b\r\nContent-Disposition: form-data; name=\"\xff\"\r\n\r\n\r\n--b--";
        assert_eq!(parse("b", body), Err(MultipartError::InvalidHeader));
        let other = b"--b\r\nContent-Disposition: form-data; name=a\r\nX-Y: \xff\r\n\r\n\r\n--b--";
        assert_eq!(parse("b", other), Ok(vec![start("a", None, None), Ev::End]));
    }

    /// Regression for issue 9: multi-byte UTF-8 and invalid bytes at every
    /// offset of a part's header lines. Invalid bytes in a kept header are
    /// refused as not UTF-8; a character outside a quoted value breaks the
    /// syntax; inside one it is part of the name. Nothing panics.
    #[test]
    fn part_headers_with_any_byte_at_any_offset_parse_or_fail_cleanly() {
        use crate::test_support::bytes_at_every_offset;
        use MultipartError::{InvalidContentDisposition, InvalidHeader};
        let disposition = b"Content-Disposition: form-data; name=\"f\"; filename=\"a.txt\"";
        let content_type = b"Content-Type: text/plain";
        for (which, line) in [(0, &disposition[..]), (1, &content_type[..])] {
            for (_, altered) in bytes_at_every_offset(line) {
                let (first, second) = match which {
                    0 => (&altered[..], &content_type[..]),
                    _ => (&disposition[..], &altered[..]),
                };
                let mut body = b"--b\r\n".to_vec();
                body.extend_from_slice(first);
                body.extend_from_slice(b"\r\n");
                body.extend_from_slice(second);
                body.extend_from_slice(b"\r\n\r\ndata\r\n--b--\r\n");
                let shown = String::from_utf8_lossy(&altered).into_owned();
                match parse("b", &body) {
                    Ok(events) => {
                        assert!(std::str::from_utf8(&altered).is_ok(), "{shown}");
                        assert_eq!(events.len(), 3, "{shown}");
                        assert_eq!(events[1], data("data"), "{shown}");
                    }
                    Err(e) if std::str::from_utf8(&altered).is_err() => {
                        assert_eq!(e, InvalidHeader, "{shown}");
                    }
                    Err(e) => assert!(
                        matches!(e, InvalidHeader | InvalidContentDisposition),
                        "{shown}: {e:?}"
                    ),
                }
            }
        }
    }

    #[test]
    fn names_and_filenames_keep_multibyte_characters_wherever_they_are() {
        use crate::test_support::str_at_every_offset;
        for (_, name) in str_at_every_offset("field") {
            for (_, filename) in str_at_every_offset("a.txt") {
                let value = format!("form-data; name=\"{name}\"; filename=\"{filename}\"");
                assert_eq!(
                    parse_disposition(&value),
                    Some((name.clone(), Some(filename.clone()))),
                    "{value}"
                );
            }
        }
    }

    #[test]
    fn boundary_parameter_with_any_character_at_any_offset_is_checked() {
        use crate::test_support::str_at_every_offset;
        let header = "multipart/form-data; boundary=XyZ";
        for (at, value) in str_at_every_offset(header) {
            let (media_type, params) = uhttp::util::parse_header_parameters(&value);
            let Some(boundary) = params.get("boundary") else {
                continue;
            };
            let parsed = MultipartParser::new(boundary);
            if at >= header.len() - 3 {
                // Inside the boundary: not a bchar.
                assert_eq!(
                    parsed.unwrap_err(),
                    MultipartError::InvalidBoundary,
                    "{value}"
                );
            } else if at < "multipart/form-data".len() {
                assert_ne!(media_type, "multipart/form-data", "{value}");
            }
        }
    }

    #[test]
    fn accepts_headers_up_to_the_caps() {
        let cd = "Content-Disposition: form-data; name=f\r\n";
        let fields: String = (1..MAX_HEADERS).map(|i| format!("X-H{i}: v\r\n")).collect();
        let body = format!("--b\r\n{cd}{fields}\r\n\r\n--b--");
        assert!(parse("b", body.as_bytes()).is_ok());

        let used = cd.len() + "X-Big: \r\n".len() + 2;
        let big = format!("X-Big: {}\r\n", "v".repeat(MAX_HEADER_BYTES - used));
        let body = format!("--b\r\n{cd}{big}\r\n\r\n--b--");
        assert!(parse("b", body.as_bytes()).is_ok());
    }

    #[test]
    fn parses_content_disposition_parameters() {
        /// `(name, filename)`, or `None` when refused.
        type Parsed = Option<(&'static str, Option<&'static str>)>;
        let cases: [(&str, Parsed); 21] = [
            ("form-data; name=\"a\"", Some(("a", None))),
            ("form-data; name=a", Some(("a", None))),
            ("Form-Data ; NAME = \"a\" ;", Some(("a", None))),
            (
                "form-data;name=\"a;b\";filename=\"c;d\"",
                Some(("a;b", Some("c;d"))),
            ),
            ("form-data; name=\"a\\\"b\\\\\"", Some(("a\"b\\", None))),
            ("form-data; name=\"\"; filename=\"\"", Some(("", Some("")))),
            (
                "form-data; name=f; filename=\"r\u{e9}sum\u{e9}.pdf\"",
                Some(("f", Some("r\u{e9}sum\u{e9}.pdf"))),
            ),
            (
                "form-data; name=f; filename*=UTF-8''%C3%A9%20x.txt",
                Some(("f", Some("\u{e9} x.txt"))),
            ),
            (
                "form-data; name=f; filename*=utf-8'en'a%2Fb",
                Some(("f", Some("a/b"))),
            ),
            (
                "form-data; name=f; filename*=ISO-8859-1''%E9",
                Some(("f", Some("\u{e9}"))),
            ),
            (
                "form-data; name=f; filename=\"a\"; filename*=UTF-8''%FF",
                Some(("f", Some("a"))),
            ),
            (
                "form-data; name=f; filename=\"a\"; filename*=KOI8-R''%C1",
                Some(("f", Some("a"))),
            ),
            // A filename with a backslash is given as sent (issue 9).
            (
                "form-data; name=f; filename=\"C:\\Windows\\pwn\"",
                Some(("f", Some("C:\\Windows\\pwn"))),
            ),
            (
                "form-data; name=f; filename=\"a\\\\b\"",
                Some(("f", Some("a\\\\b"))),
            ),
            (
                "form-data; name=f; filename=\"a\\\"b\"",
                Some(("f", Some("a\\\"b"))),
            ),
            (
                "form-data; name=f; filename=C:\\x",
                Some(("f", Some("C:\\x"))),
            ),
            ("form-data; filename=\"a\"", None),
            ("attachment; name=\"a\"", None),
            ("form-data; name=\"a", None),
            ("form-data; name=\"a\"x", None),
            ("form-data; name=a; name=b", None),
        ];
        for (value, want) in cases {
            let got = parse_disposition(value);
            let want = want.map(|(n, f)| (n.to_owned(), f.map(str::to_owned)));
            assert_eq!(got, want, "{value}");
        }
    }

    #[test]
    fn checks_the_boundary() {
        let longest = "b".repeat(MAX_BOUNDARY_LEN);
        for ok in [
            "b",
            longest.as_str(),
            "----WebKitFormBoundary7MA4YWxkTrZu0gW",
            "'()+_,-./:=? x",
        ] {
            assert!(MultipartParser::new(ok).is_ok(), "{ok}");
        }
        let too_long = "b".repeat(MAX_BOUNDARY_LEN + 1);
        for bad in [
            "",
            too_long.as_str(),
            "a\rb",
            "a\nb",
            "a\"b",
            "ends ",
            "é",
            "a;b",
        ] {
            assert_eq!(
                MultipartParser::new(bad).unwrap_err(),
                MultipartError::InvalidBoundary,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn errors_are_sticky() {
        let mut parser = MultipartParser::new("b").unwrap();
        let ok = |_: PartEvent<'_>| Ok::<(), ()>(());
        let err = parser.feed(b"--bx", ok);
        assert_eq!(
            err,
            Err(FeedError::Multipart(MultipartError::InvalidDelimiter))
        );
        let again = parser.feed(b"\r\n", ok);
        assert_eq!(
            again,
            Err(FeedError::Multipart(MultipartError::InvalidDelimiter))
        );
        assert_eq!(parser.finish(), Err(MultipartError::InvalidDelimiter));
    }

    #[test]
    fn stops_at_a_handler_error_and_then_reports_aborted() {
        let body = b"--b\r\nContent-Disposition: form-data; name=f\r\n\r\nabc\r\n--b--";
        let mut parser = MultipartParser::new("b").unwrap();
        let mut seen = 0;
        let got = parser.feed(body, |e| {
            seen += 1;
            match e {
                PartEvent::Data(_) => Err("disk full"),
                _ => Ok(()),
            }
        });
        assert_eq!(got, Err(FeedError::Handler("disk full")));
        assert_eq!(seen, 2);
        assert_eq!(
            parser.feed(b"", |_| Ok::<(), ()>(())),
            Err(FeedError::Multipart(MultipartError::Aborted))
        );
        assert_eq!(parser.finish(), Err(MultipartError::Aborted));
    }

    #[test]
    fn errors_display_a_cause() {
        assert_eq!(
            MultipartError::Incomplete.to_string(),
            "multipart body ended before its closing delimiter"
        );
        let handler: FeedError<std::io::Error> =
            FeedError::Handler(std::io::Error::other("disk full"));
        assert_eq!(handler.to_string(), "multipart event handler failed");
        let source = std::error::Error::source(&handler).unwrap();
        assert_eq!(source.to_string(), "disk full");
    }
}
