//! PALETTE rectangles: a few colours, each pixel an index packed at 1, 2, 4 or 8 bits.
//!
//! Antialiased text on a flat background has a handful of grey levels in any glyph cell,
//! so a keystroke's rectangle is a few dozen bytes of indices before deflate sees it.
//! ZRLE packs the same way; the deflate stream on top then finds repeated rows.

use deskshare_proto::{PixelRect, media::palette_bits, media::palette_len};

use crate::Framebuffer;

/// Why a PALETTE payload could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PaletteError {
    #[error("payload of {len} bytes, but {colours} colours need {expected}")]
    Length { len: usize, colours: usize, expected: u64 },
    #[error("index {index} at pixel {pixel} is outside the {colours}-colour palette")]
    Index { index: usize, pixel: usize, colours: usize },
}

const EMPTY: u32 = u32::MAX;

/// The distinct colours of `r`, sorted, if there are at most `max` (≤ 256).
pub fn colours(fb: &Framebuffer, r: PixelRect, max: usize) -> Option<Vec<u32>> {
    // Open addressing over 1024 slots: a pixel costs one multiply and, almost always, one
    // compare; `EMPTY` cannot be a pixel (the top byte is always zero).
    let mut slots = [EMPTY; 1024];
    let mut found = Vec::with_capacity(max + 1);
    let mut last = EMPTY;
    for y in 0..r.height {
        for &p in fb.span(r, y) {
            if p == last {
                continue;
            }
            last = p;
            let mut i = slot(p);
            loop {
                if slots[i] == p {
                    break;
                }
                if slots[i] == EMPTY {
                    slots[i] = p;
                    found.push(p);
                    if found.len() > max {
                        return None;
                    }
                    break;
                }
                i = (i + 1) & 1023;
            }
        }
    }
    found.sort_unstable();
    Some(found)
}

/// Colour → index for up to 256 colours, by open addressing (a pixel costs one multiply
/// and, almost always, one compare).
struct IndexTable {
    keys: [u32; 1024],
    values: [u8; 1024],
}

impl IndexTable {
    fn new(palette: &[u32]) -> Self {
        let mut t = IndexTable { keys: [EMPTY; 1024], values: [0; 1024] };
        for (i, &c) in palette.iter().enumerate() {
            let mut k = slot(c);
            while t.keys[k] != EMPTY && t.keys[k] != c {
                k = (k + 1) & 1023;
            }
            if t.keys[k] == EMPTY {
                (t.keys[k], t.values[k]) = (c, i as u8);
            }
        }
        t
    }

    fn get(&self, c: u32) -> Option<u8> {
        let mut k = slot(c);
        loop {
            match self.keys[k] {
                EMPTY => return None,
                key if key == c => return Some(self.values[k]),
                _ => k = (k + 1) & 1023,
            }
        }
    }
}

fn slot(p: u32) -> usize {
    (p.wrapping_mul(0x9e37_79b1) >> 22) as usize
}

/// The palette order a presenter's stream keeps from rectangle to rectangle.
///
/// Antialiased text has ~30 grey levels; two lines of text rarely have the same set, and
/// with each rectangle's own sorted palette one missing grey shifts every index after it,
/// so the deflate stream cannot match a glyph against the same glyph a line above. Keeping
/// the last palette as the prefix of the next one (up to 256 colours) keeps each colour's
/// index, and the repeated palette costs the stream a back-reference.
#[derive(Clone, Debug, Default)]
pub struct StickyPalette {
    order: Vec<u32>,
}

impl StickyPalette {
    /// The palette for a rectangle whose own colours are `own`: the kept order, extended
    /// by the colours it lacks — or, if it lacks any and `may_grow` is false, `None` (the
    /// rectangle then uses its own palette).
    pub fn palette_for(&mut self, own: &[u32], may_grow: bool) -> Option<&[u32]> {
        let known = IndexTable::new(&self.order);
        let new: Vec<u32> = own.iter().copied().filter(|&c| known.get(c).is_none()).collect();
        if !new.is_empty() && !may_grow {
            return None;
        }
        if self.order.len() + new.len() > 256 {
            self.order = own.to_vec();
        } else {
            self.order.extend(new);
        }
        Some(&self.order)
    }
}

/// Appends the PALETTE payload of `r` with `palette` (any order, holding all of `r`'s
/// colours, at most 256).
pub fn encode(fb: &Framebuffer, r: PixelRect, palette: &[u32], out: &mut Vec<u8>) {
    debug_assert!((1..=256).contains(&palette.len()));
    out.push((palette.len() - 1) as u8);
    for &c in palette {
        out.extend_from_slice(&[(c >> 16) as u8, (c >> 8) as u8, c as u8]);
    }
    let bits = palette_bits(palette.len());
    let table = IndexTable::new(palette);
    for y in 0..r.height {
        let (mut acc, mut n) = (0u8, 0u32);
        let mut last = (EMPTY, 0u8);
        for &p in fb.span(r, y) {
            let i = if p == last.0 { last.1 } else { table.get(p).expect("the palette holds every colour") };
            last = (p, i);
            acc |= i << (8 - bits - n);
            n += bits;
            if n == 8 {
                out.push(acc);
                (acc, n) = (0, 0);
            }
        }
        if n > 0 {
            out.push(acc);
        }
    }
}

/// Decodes a PALETTE payload for a `width`×`height` rectangle into `out` (row by row).
pub fn decode(data: &[u8], width: u16, height: u16, out: &mut Vec<u32>) -> Result<(), PaletteError> {
    let colours = usize::from(*data.first().ok_or(PaletteError::Length { len: 0, colours: 0, expected: 1 })?) + 1;
    let expected = palette_len(colours, width, height);
    if data.len() as u64 != expected {
        return Err(PaletteError::Length { len: data.len(), colours, expected });
    }
    let palette: Vec<u32> =
        data[1..1 + 3 * colours].chunks_exact(3).map(|c| crate::framebuffer::rgb_word(c[0], c[1], c[2])).collect();
    let bits = palette_bits(colours);
    let row_len = (usize::from(width) * bits as usize).div_ceil(8);
    let mask = ((1u16 << bits) - 1) as u8;
    out.clear();
    out.reserve(usize::from(width) * usize::from(height));
    for (y, row) in data[1 + 3 * colours..].chunks_exact(row_len).enumerate() {
        for x in 0..usize::from(width) {
            let bit = x * bits as usize;
            let index = usize::from((row[bit / 8] >> (8 - bits as usize - bit % 8)) & mask);
            let Some(&c) = palette.get(index) else {
                return Err(PaletteError::Index { index, pixel: y * usize::from(width) + x, colours });
            };
            out.push(c);
        }
    }
    Ok(())
}
