//! The layout of directory archives in `uhttpd` (`archive/layout.rs`).
//!
//! The input is an entry list (each entry: a kind/size byte, a name up to
//! a NUL; sizes small, near 4 GiB or past it) and a range. Invariants: no
//! panic or overflow; the pieces are contiguous, never empty, and add up
//! to the announced length; every piece renders to exactly its length;
//! `piece_at` finds the piece holding any offset; rendering a range from
//! the piece holding its start gives the bytes of that range of the whole
//! (checked for archives small enough to render whole).
#![no_main]

use std::convert::Infallible;

use libfuzzer_sys::fuzz_target;
use uhttp_fuzz::archive::layout::{Entry, Format, Layout, What};

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let format = if control & 1 == 0 {
        Format::Tar
    } else {
        Format::Zip
    };
    let mut entries = Vec::new();
    for chunk in rest.split(|&b| b == 0).take(64) {
        let Some((&kind, name)) = chunk.split_first() else {
            continue;
        };
        let name = String::from_utf8_lossy(name).into_owned();
        let size = match kind >> 6 {
            0 => None,
            1 => Some(u64::from(kind & 0x3F)),
            2 => Some(0xFFFF_FFFF - 2 + u64::from(kind & 3)),
            _ => Some((9 << 30) + u64::from(kind & 0x3F)),
        };
        let mtime = u64::from(kind) * 86_400 * 400;
        entries.push(Entry { name, size, mtime });
    }
    let Ok(layout) = Layout::new(format, entries) else {
        return;
    };
    let mut at = 0u64;
    for (i, piece) in layout.pieces.iter().enumerate() {
        assert_eq!(piece.start, at);
        assert!(piece.len > 0);
        assert_eq!(layout.piece_at(piece.start), Some(i));
        assert_eq!(layout.piece_at(piece.end() - 1), Some(i));
        if !matches!(piece.what, What::Data(_)) {
            let mut bytes = Vec::new();
            layout
                .render(piece.what, |_| Ok::<_, Infallible>(0x1234_5678), &mut bytes)
                .unwrap();
            assert_eq!(bytes.len() as u64, piece.len, "{piece:?}");
        }
        at = piece.end();
    }
    assert_eq!(at, layout.len);
    assert_eq!(layout.piece_at(layout.len), None);
    if layout.len <= 1 << 20 {
        let whole = render(&layout, 0, layout.len);
        let start = u64::from(control >> 1) * layout.len / 128;
        let end = (start + u64::from(control) * 37).min(layout.len);
        assert_eq!(
            render(&layout, start, end),
            whole[start as usize..end as usize]
        );
    }
});

/// Bytes `start..end`, file content as a pattern of its entry's index.
fn render(layout: &Layout, start: u64, end: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let Some(first) = layout.piece_at(start) else {
        return out;
    };
    for piece in &layout.pieces[first..] {
        if piece.start >= end {
            break;
        }
        let mut bytes = Vec::new();
        match piece.what {
            What::Data(i) => bytes.resize(piece.len as usize, i as u8),
            what => layout
                .render(what, |_| Ok::<_, Infallible>(7), &mut bytes)
                .unwrap(),
        }
        let from = start.saturating_sub(piece.start) as usize;
        let to = (end.min(piece.end()) - piece.start) as usize;
        out.extend_from_slice(&bytes[from..to]);
    }
    out
}
