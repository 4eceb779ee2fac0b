//! The byte layout of a directory archive: a pure function of the entry
//! list (names, kinds, sizes, mtimes) and the format, so its length is
//! known before a byte is produced and any range can be produced without
//! what comes before it.
//!
//! An archive is a sequence of [`Piece`]s at fixed offsets:
//!
//! ```text
//! tar: [Header(i) Data(i) Pad(i)]*  End            (headers: pax + ustar)
//! zip: [Header(i) Data(i) Descriptor(i)]*  Central(i)*  End
//! ```
//!
//! Zip entries are stored (no compression) with a data descriptor (flag
//! bit 3), so a file's CRC-32 is needed only after its data: streaming the
//! file computes it on the way. A range that starts after a file's data
//! (its descriptor, or the central directory) needs the CRC without the
//! data: the producer then reads the file once for it (see `produce.rs`).
//! ZIP64 fields are used per entry when its size or offset does not fit
//! in 32 bits, and the ZIP64 end records when the entry count, the
//! directory's size or its offset does not fit.
//!
//! The zip headers are written here by hand: the zip crates write an
//! archive front to back into a `Write` (`zip::ZipWriter`), and none lays
//! out offsets in advance so that a range can start anywhere.

use std::ops::Range;

/// The archive formats offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// POSIX ustar, with pax records for long or non-ASCII names and big
    /// files.
    Tar,
    /// Zip, stored (no compression), ZIP64 where needed.
    Zip,
}

impl Format {
    /// The format named by a `download=` query value.
    pub fn from_query(value: &str) -> Option<Format> {
        match value {
            "tar" => Some(Format::Tar),
            "zip" => Some(Format::Zip),
            _ => None,
        }
    }

    /// The file-name extension (and query value).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Tar => "tar",
            Format::Zip => "zip",
        }
    }

    /// The media type of the archive.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Tar => "application/x-tar",
            Format::Zip => "application/zip",
        }
    }
}

/// What the layout needs to know of one archive member.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entry {
    /// Relative, `/`-separated, without `.`/`..` segments or NUL; a
    /// directory's name has no trailing `/` (the formats add it).
    pub name: String,
    /// `None` for a directory, else the file's size.
    pub size: Option<u64>,
    /// Modification time, seconds since the epoch (0 before it).
    pub mtime: u64,
}

/// One piece of the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    /// The headers in front of entry `i`'s data.
    Header(usize),
    /// Entry `i`'s file content.
    Data(usize),
    /// Zeros after entry `i`'s data (tar: up to the 512-byte block).
    Pad(usize),
    /// Zip: entry `i`'s data descriptor (CRC-32 and sizes).
    Descriptor(usize),
    /// Zip: entry `i`'s central-directory record.
    Central(usize),
    /// Tar: two zero blocks; zip: the end-of-central-directory records.
    End,
}

/// A piece and where it lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// Offset in the archive.
    pub start: u64,
    /// Length in bytes (never 0).
    pub len: u64,
    /// What it holds.
    pub what: What,
}

impl Piece {
    /// Where it ends (exclusive).
    pub fn end(&self) -> u64 {
        self.start + self.len
    }
}

/// The whole layout: pieces in order, without gaps.
#[derive(Debug)]
pub struct Layout {
    pub format: Format,
    pub entries: Vec<Entry>,
    pub pieces: Vec<Piece>,
    /// Zip: offset of each entry's local header.
    offsets: Vec<u64>,
    /// Zip: where the central directory starts, and its length.
    central: Range<u64>,
    pub len: u64,
}

/// Why no layout can be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge;

const BLOCK: u64 = 512;
const U32_MAX: u64 = 0xFFFF_FFFF;
/// The largest size a ustar header holds (11 octal digits).
const USTAR_MAX_SIZE: u64 = 0o77_777_777_777;

impl Layout {
    /// Lays out `entries` (in this order) as an archive in `format`.
    /// Fails only when the archive would pass 2^64 bytes.
    pub fn new(format: Format, entries: Vec<Entry>) -> Result<Layout, TooLarge> {
        let mut layout = Layout {
            format,
            entries,
            pieces: Vec::new(),
            offsets: Vec::new(),
            central: 0..0,
            len: 0,
        };
        let mut at = 0u64;
        let push = |pieces: &mut Vec<Piece>, at: &mut u64, len: u64, what: What| {
            if len > 0 {
                pieces.push(Piece {
                    start: *at,
                    len,
                    what,
                });
            }
            *at = at.checked_add(len).ok_or(TooLarge)?;
            Ok::<(), TooLarge>(())
        };
        let n = layout.entries.len();
        for i in 0..n {
            let entry = &layout.entries[i];
            let size = entry.size.unwrap_or(0);
            match format {
                Format::Tar => {
                    let header = tar_header(entry).len() as u64;
                    push(&mut layout.pieces, &mut at, header, What::Header(i))?;
                    push(&mut layout.pieces, &mut at, size, What::Data(i))?;
                    push(
                        &mut layout.pieces,
                        &mut at,
                        (BLOCK - size % BLOCK) % BLOCK,
                        What::Pad(i),
                    )?;
                }
                Format::Zip => {
                    layout.offsets.push(at);
                    push(
                        &mut layout.pieces,
                        &mut at,
                        zip_local_len(entry),
                        What::Header(i),
                    )?;
                    push(&mut layout.pieces, &mut at, size, What::Data(i))?;
                    if entry.size.is_some() {
                        let descriptor = if zip64_size(entry) { 24 } else { 16 };
                        push(&mut layout.pieces, &mut at, descriptor, What::Descriptor(i))?;
                    }
                }
            }
        }
        match format {
            Format::Tar => push(&mut layout.pieces, &mut at, 2 * BLOCK, What::End)?,
            Format::Zip => {
                let start = at;
                for i in 0..n {
                    let len = zip_central_len(&layout.entries[i], layout.offsets[i]);
                    push(&mut layout.pieces, &mut at, len, What::Central(i))?;
                }
                layout.central = start..at;
                let end = zip_end_len(n, &layout.central);
                push(&mut layout.pieces, &mut at, end, What::End)?;
            }
        }
        layout.len = at;
        Ok(layout)
    }

    /// The index of the piece holding byte `offset` (`None` past the end).
    pub fn piece_at(&self, offset: u64) -> Option<usize> {
        let i = self.pieces.partition_point(|p| p.end() <= offset);
        (i < self.pieces.len()).then_some(i)
    }

    /// The bytes of a piece that is not file content: `Data` pieces come
    /// from the file, and `crc(i)` gives entry `i`'s CRC-32 (asked only
    /// for zip descriptors and central records of files).
    pub fn render<E>(
        &self,
        what: What,
        crc: impl FnOnce(usize) -> Result<u32, E>,
        out: &mut Vec<u8>,
    ) -> Result<(), E> {
        match what {
            What::Header(i) => match self.format {
                Format::Tar => out.extend_from_slice(&tar_header(&self.entries[i])),
                Format::Zip => zip_local(&self.entries[i], out),
            },
            What::Data(_) => {}
            What::Pad(i) => {
                let size = self.entries[i].size.unwrap_or(0);
                out.resize(out.len() + ((BLOCK - size % BLOCK) % BLOCK) as usize, 0);
            }
            What::Descriptor(i) => zip_descriptor(&self.entries[i], crc(i)?, out),
            What::Central(i) => {
                let entry = &self.entries[i];
                let crc = if entry.size.is_some_and(|s| s > 0) {
                    crc(i)?
                } else {
                    0
                };
                zip_central(entry, crc, self.offsets[i], out);
            }
            What::End => match self.format {
                Format::Tar => out.resize(out.len() + 2 * BLOCK as usize, 0),
                Format::Zip => zip_end(self.entries.len(), &self.central, out),
            },
        }
        Ok(())
    }
}

// ----- tar -----

/// The headers of one tar entry: a pax extended header (when the name is
/// not ASCII or too long for ustar, or the size too big) and the ustar
/// header.
fn tar_header(entry: &Entry) -> Vec<u8> {
    let mut name = entry.name.clone();
    if entry.size.is_none() {
        name.push('/');
    }
    let size = entry.size.unwrap_or(0);
    let mut pax = Vec::new();
    let long_name = !name.is_ascii() || name.len() > 100;
    if long_name {
        pax_record(&mut pax, "path", &name);
    }
    if size > USTAR_MAX_SIZE {
        pax_record(&mut pax, "size", &size.to_string());
    }
    let mut out = Vec::with_capacity(BLOCK as usize * 3);
    if !pax.is_empty() {
        let mut header = tar::Header::new_ustar();
        set_name(&mut header, "././@PaxHeader");
        header.set_entry_type(tar::EntryType::XHeader);
        header.set_size(pax.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(entry.mtime.min(USTAR_MAX_SIZE));
        header.set_cksum();
        out.extend_from_slice(header.as_bytes());
        let padded = pax.len().div_ceil(BLOCK as usize) * BLOCK as usize;
        pax.resize(padded, 0);
        out.extend_from_slice(&pax);
    }
    let mut header = tar::Header::new_ustar();
    if long_name {
        // The pax record holds the name; ustar readers get a safe stand-in:
        // its ASCII characters, cut at 100 bytes.
        let fallback: String = name.chars().filter(char::is_ascii).take(100).collect();
        set_name(&mut header, &fallback);
    } else {
        set_name(&mut header, &name);
    }
    if entry.size.is_some() {
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
    } else {
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(0o755);
    }
    // A too-big size is in the pax record; ustar gets 0 (readers apply the
    // record).
    header.set_size(if size > USTAR_MAX_SIZE { 0 } else { size });
    header.set_mtime(entry.mtime.min(USTAR_MAX_SIZE));
    header.set_cksum();
    out.extend_from_slice(header.as_bytes());
    out
}

/// Writes `name` (at most 100 bytes, ASCII) into the ustar name field.
/// Not `Header::set_path`: it would split or refuse, and the pax record
/// already holds the real name.
fn set_name(header: &mut tar::Header, name: &str) {
    if let Some(ustar) = header.as_ustar_mut() {
        let bytes = name.as_bytes();
        let n = bytes.len().min(ustar.name.len());
        ustar.name[..n].copy_from_slice(&bytes[..n]);
    }
}

/// Appends one pax record, `"<len> <key>=<value>\n"`, where `<len>`
/// counts the whole record, its own digits included.
fn pax_record(out: &mut Vec<u8>, key: &str, value: &str) {
    let rest = 1 + key.len() + 1 + value.len() + 1;
    let mut len = rest + 1;
    while len != rest + len.to_string().len() {
        len = rest + len.to_string().len();
    }
    out.extend_from_slice(format!("{len} {key}={value}\n").as_bytes());
}

// ----- zip (APPNOTE.TXT 6.3.10) -----

/// General purpose flags: 3 (sizes and CRC in a data descriptor), 11
/// (names are UTF-8).
const ZIP_FLAGS: u16 = 1 << 3 | 1 << 11;
/// Version needed: 2.0, or 4.5 with ZIP64 fields.
const ZIP_VERSION: u16 = 20;
const ZIP64_VERSION: u16 = 45;
/// Version made by: Unix (3), so the external attributes hold a mode.
const MADE_BY_UNIX: u16 = 3 << 8;

fn zip64_size(entry: &Entry) -> bool {
    entry.size.is_some_and(|s| s >= U32_MAX)
}

fn zip_name(entry: &Entry) -> String {
    match entry.size {
        Some(_) => entry.name.clone(),
        None => format!("{}/", entry.name),
    }
}

fn zip_name_len(entry: &Entry) -> u64 {
    entry.name.len() as u64 + u64::from(entry.size.is_none())
}

fn zip_local_len(entry: &Entry) -> u64 {
    30 + zip_name_len(entry) + if zip64_size(entry) { 20 } else { 0 }
}

/// The ZIP64 extra field of a central record: the fields whose 32-bit
/// slot says 0xFFFFFFFF, in order.
fn zip64_central_fields(entry: &Entry, offset: u64) -> Vec<u64> {
    let mut fields = Vec::new();
    if zip64_size(entry) {
        let size = entry.size.unwrap_or(0);
        fields.extend([size, size]);
    }
    if offset >= U32_MAX {
        fields.push(offset);
    }
    fields
}

fn zip_central_len(entry: &Entry, offset: u64) -> u64 {
    let fields = zip64_central_fields(entry, offset).len() as u64;
    let extra = if fields > 0 { 4 + 8 * fields } else { 0 };
    46 + zip_name_len(entry) + extra
}

fn zip64_end_needed(count: usize, central: &Range<u64>) -> bool {
    count >= 0xFFFF || central.start >= U32_MAX || central.end - central.start >= U32_MAX
}

fn zip_end_len(count: usize, central: &Range<u64>) -> u64 {
    22 + if zip64_end_needed(count, central) {
        56 + 20
    } else {
        0
    }
}

/// MS-DOS date and time (UTC; 1980-01-01 for earlier times).
fn dos_time(mtime: u64) -> (u16, u16) {
    let days = mtime / 86_400;
    let secs = mtime % 86_400;
    let (year, month, day) = civil_from_days(days);
    if year < 1980 {
        return (0, (1 << 5) | 1);
    }
    let year = year.min(2107);
    let time = (((secs / 3600) << 11) | ((secs % 3600 / 60) << 5) | ((secs % 60) / 2)) as u16;
    let date = (((year - 1980) << 9) | (month << 5) | day) as u16;
    (time, date)
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// A 32-bit field, or 0xFFFFFFFF when the value is in a ZIP64 field.
fn clamp32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn zip_local(entry: &Entry, out: &mut Vec<u8>) {
    let zip64 = zip64_size(entry);
    let (time, date) = dos_time(entry.mtime);
    let name = zip_name(entry);
    put32(out, 0x0403_4b50);
    put16(out, if zip64 { ZIP64_VERSION } else { ZIP_VERSION });
    put16(
        out,
        if entry.size.is_some() {
            ZIP_FLAGS
        } else {
            1 << 11
        },
    );
    put16(out, 0); // stored
    put16(out, time);
    put16(out, date);
    put32(out, 0); // CRC-32: in the descriptor (0 for a directory)
    let unknown = if zip64 { u32::MAX } else { 0 };
    put32(out, unknown);
    put32(out, unknown);
    put16(out, name.len() as u16);
    put16(out, if zip64 { 20 } else { 0 });
    out.extend_from_slice(name.as_bytes());
    if zip64 {
        put16(out, 0x0001);
        put16(out, 16);
        put64(out, 0);
        put64(out, 0);
    }
}

fn zip_descriptor(entry: &Entry, crc: u32, out: &mut Vec<u8>) {
    let size = entry.size.unwrap_or(0);
    put32(out, 0x0807_4b50);
    put32(out, crc);
    if zip64_size(entry) {
        put64(out, size);
        put64(out, size);
    } else {
        put32(out, size as u32);
        put32(out, size as u32);
    }
}

fn zip_central(entry: &Entry, crc: u32, offset: u64, out: &mut Vec<u8>) {
    let fields = zip64_central_fields(entry, offset);
    let zip64 = !fields.is_empty();
    let (time, date) = dos_time(entry.mtime);
    let name = zip_name(entry);
    let size = entry.size.unwrap_or(0);
    let version = if zip64 { ZIP64_VERSION } else { ZIP_VERSION };
    put32(out, 0x0201_4b50);
    put16(out, MADE_BY_UNIX | version);
    put16(out, version);
    put16(
        out,
        if entry.size.is_some() {
            ZIP_FLAGS
        } else {
            1 << 11
        },
    );
    put16(out, 0);
    put16(out, time);
    put16(out, date);
    put32(out, crc);
    put32(out, clamp32(size));
    put32(out, clamp32(size));
    put16(out, name.len() as u16);
    put16(
        out,
        if zip64 {
            4 + 8 * fields.len() as u16
        } else {
            0
        },
    );
    put16(out, 0); // comment
    put16(out, 0); // disk
    put16(out, 0); // internal attributes
    let external = match entry.size {
        Some(_) => 0o100_644u32 << 16,
        None => 0o040_755u32 << 16 | 0x10,
    };
    put32(out, external);
    put32(out, clamp32(offset));
    out.extend_from_slice(name.as_bytes());
    if zip64 {
        put16(out, 0x0001);
        put16(out, 8 * fields.len() as u16);
        for field in fields {
            put64(out, field);
        }
    }
}

fn zip_end(count: usize, central: &Range<u64>, out: &mut Vec<u8>) {
    let size = central.end - central.start;
    if zip64_end_needed(count, central) {
        let record = central.end;
        put32(out, 0x0606_4b50);
        put64(out, 44);
        put16(out, MADE_BY_UNIX | ZIP64_VERSION);
        put16(out, ZIP64_VERSION);
        put32(out, 0);
        put32(out, 0);
        put64(out, count as u64);
        put64(out, count as u64);
        put64(out, size);
        put64(out, central.start);
        put32(out, 0x0706_4b50);
        put32(out, 0);
        put64(out, record);
        put32(out, 1);
    }
    let count16 = u16::try_from(count).unwrap_or(u16::MAX);
    put32(out, 0x0605_4b50);
    put16(out, 0);
    put16(out, 0);
    put16(out, count16);
    put16(out, count16);
    put32(out, clamp32(size));
    put32(out, clamp32(central.start));
    put16(out, 0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;
    use std::io::Read as _;

    fn file(name: &str, size: u64) -> Entry {
        Entry {
            name: name.to_owned(),
            size: Some(size),
            mtime: 1_700_000_000,
        }
    }

    fn dir(name: &str) -> Entry {
        Entry {
            name: name.to_owned(),
            size: None,
            mtime: 1_700_000_000,
        }
    }

    /// The content of a file in these tests: its size in a repeating
    /// pattern that depends on the name.
    fn content(entry: &Entry) -> Vec<u8> {
        let seed = entry.name.len() as u8;
        (0..entry.size.unwrap_or(0))
            .map(|i| seed.wrapping_add(i as u8))
            .collect()
    }

    /// Renders `range` of the archive, piece by piece from the first one
    /// it touches, as the producer does.
    fn render_range(layout: &Layout, range: Range<u64>) -> Vec<u8> {
        let mut out = Vec::new();
        let Some(first) = layout.piece_at(range.start) else {
            return out;
        };
        for piece in &layout.pieces[first..] {
            if piece.start >= range.end {
                break;
            }
            let mut bytes = Vec::new();
            match piece.what {
                What::Data(i) => bytes = content(&layout.entries[i]),
                what => layout
                    .render(
                        what,
                        |i| Ok::<_, Infallible>(crc32fast::hash(&content(&layout.entries[i]))),
                        &mut bytes,
                    )
                    .unwrap(),
            }
            assert_eq!(bytes.len() as u64, piece.len, "{piece:?}");
            let from = range.start.saturating_sub(piece.start) as usize;
            let to = (range.end.min(piece.end()) - piece.start) as usize;
            out.extend_from_slice(&bytes[from..to]);
        }
        out
    }

    fn sample() -> Vec<Entry> {
        vec![
            dir("top"),
            file("top/empty", 0),
            file("top/a.txt", 5),
            file("top/block", 512),
            dir("top/sub"),
            file("top/sub/é日🦀.bin", 1000),
            file(&format!("top/{}", "n".repeat(150)), 3),
        ]
    }

    #[test]
    fn pieces_are_contiguous_and_render_to_their_length() {
        for format in [Format::Tar, Format::Zip] {
            let layout = Layout::new(format, sample()).unwrap();
            let mut at = 0;
            for piece in &layout.pieces {
                assert_eq!(piece.start, at);
                assert!(piece.len > 0);
                at = piece.end();
            }
            assert_eq!(at, layout.len);
            assert_eq!(
                render_range(&layout, 0..layout.len).len() as u64,
                layout.len
            );
        }
    }

    #[test]
    fn any_range_equals_that_slice_of_the_whole() {
        for format in [Format::Tar, Format::Zip] {
            let layout = Layout::new(format, sample()).unwrap();
            let whole = render_range(&layout, 0..layout.len);
            let len = layout.len;
            let mut starts: Vec<u64> = layout
                .pieces
                .iter()
                .flat_map(|p| [p.start, p.start + 1, p.end() - 1])
                .collect();
            starts.extend((0..len).step_by(97));
            for start in starts {
                for end in [start + 1, start + 511, start + 4096, len] {
                    let end = end.min(len);
                    if start >= end {
                        continue;
                    }
                    let part = render_range(&layout, start..end);
                    assert_eq!(
                        part,
                        whole[start as usize..end as usize],
                        "{format:?} {start}..{end}"
                    );
                }
            }
        }
    }

    #[test]
    fn tar_reads_back_with_the_tar_crate() {
        let entries = sample();
        let layout = Layout::new(Format::Tar, entries.clone()).unwrap();
        assert_eq!(layout.len % 512, 0);
        let bytes = render_range(&layout, 0..layout.len);
        let mut archive = tar::Archive::new(&bytes[..]);
        let mut seen = Vec::new();
        for item in archive.entries().unwrap() {
            let mut item = item.unwrap();
            let path = item.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            item.read_to_end(&mut data).unwrap();
            assert_eq!(item.header().mtime().unwrap(), 1_700_000_000);
            seen.push((path, data));
        }
        let expected: Vec<(String, Vec<u8>)> = entries
            .iter()
            .map(|e| match e.size {
                Some(_) => (e.name.clone(), content(e)),
                None => (format!("{}/", e.name), Vec::new()),
            })
            .collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn zip_records_sit_where_the_layout_says() {
        let layout = Layout::new(Format::Zip, sample()).unwrap();
        let bytes = render_range(&layout, 0..layout.len);
        let sig =
            |at: u64| u32::from_le_bytes(bytes[at as usize..at as usize + 4].try_into().unwrap());
        for piece in &layout.pieces {
            match piece.what {
                What::Header(_) => assert_eq!(sig(piece.start), 0x0403_4b50),
                What::Descriptor(_) => assert_eq!(sig(piece.start), 0x0807_4b50),
                What::Central(i) => {
                    assert_eq!(sig(piece.start), 0x0201_4b50);
                    let at = piece.start as usize + 42;
                    let offset = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
                    assert_eq!(u64::from(offset), layout.offsets[i]);
                }
                What::End => assert_eq!(sig(piece.start), 0x0605_4b50),
                What::Data(_) | What::Pad(_) => {}
            }
        }
        assert_eq!(layout.len - 22, layout.central.end);
    }

    #[test]
    fn zip64_fields_appear_past_4_gib_and_65535_entries() {
        let big = Layout::new(Format::Zip, vec![file("big", 5 << 30), file("after", 1)]).unwrap();
        // 30 + name + 20 (ZIP64 extra), then data, then a 24-byte descriptor.
        assert_eq!(big.pieces[0].len, 30 + 3 + 20);
        assert_eq!(big.pieces[2].len, 24);
        // The second entry starts past 4 GiB: its central record carries
        // the offset in a ZIP64 field.
        assert!(big.offsets[1] > U32_MAX);
        assert_eq!(
            zip_central_len(&big.entries[1], big.offsets[1]),
            46 + 5 + 12
        );
        assert_eq!(big.pieces.last().unwrap().len, 22 + 56 + 20);

        let many: Vec<Entry> = (0..70_000).map(|i| file(&format!("f{i}"), 0)).collect();
        let many = Layout::new(Format::Zip, many).unwrap();
        assert_eq!(many.pieces.last().unwrap().len, 22 + 56 + 20);
        let small = Layout::new(Format::Zip, vec![file("f", 1)]).unwrap();
        assert_eq!(small.pieces.last().unwrap().len, 22);
    }

    #[test]
    fn tar_uses_pax_for_big_files() {
        let layout = Layout::new(Format::Tar, vec![file("big", 9 << 30)]).unwrap();
        let mut header = Vec::new();
        layout
            .render(What::Header(0), |_| Ok::<_, Infallible>(0), &mut header)
            .unwrap();
        assert_eq!(header.len(), 3 * 512);
        let pax = String::from_utf8_lossy(&header[512..1024]);
        assert!(pax.starts_with("19 size=9663676416\n"), "{pax}");
    }

    #[test]
    fn pax_record_lengths_count_their_own_digits() {
        for value_len in [0, 1, 5, 90, 94, 95, 96, 990, 995, 996] {
            let mut out = Vec::new();
            pax_record(&mut out, "path", &"x".repeat(value_len));
            let text = String::from_utf8(out).unwrap();
            let (len, _) = text.split_once(' ').unwrap();
            assert_eq!(len.parse::<usize>().unwrap(), text.len(), "{text:?}");
        }
    }

    #[test]
    fn dos_times_are_utc_and_clamped() {
        // 2023-11-14 22:13:20 UTC.
        let (time, date) = dos_time(1_700_000_000);
        assert_eq!(date, (43 << 9) | (11 << 5) | 14);
        assert_eq!(time, (22 << 11) | (13 << 5) | 10);
        assert_eq!(dos_time(0), (0, (1 << 5) | 1));
    }

    #[test]
    fn piece_at_finds_the_piece_holding_an_offset() {
        let layout = Layout::new(Format::Tar, sample()).unwrap();
        for (i, piece) in layout.pieces.iter().enumerate() {
            assert_eq!(layout.piece_at(piece.start), Some(i));
            assert_eq!(layout.piece_at(piece.end() - 1), Some(i));
        }
        assert_eq!(layout.piece_at(layout.len), None);
    }
}
