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
            let mut i = (p.wrapping_mul(0x9e37_79b1) >> 22) as usize;
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

/// Appends the PALETTE payload of `r` with `palette` (sorted, all of `r`'s colours).
pub fn encode(fb: &Framebuffer, r: PixelRect, palette: &[u32], out: &mut Vec<u8>) {
    debug_assert!((1..=256).contains(&palette.len()));
    out.push((palette.len() - 1) as u8);
    for &c in palette {
        out.extend_from_slice(&[(c >> 16) as u8, (c >> 8) as u8, c as u8]);
    }
    let bits = palette_bits(palette.len());
    let index_of = |p: u32| palette.binary_search(&p).expect("palette holds every colour") as u8;
    for y in 0..r.height {
        let (mut acc, mut n) = (0u8, 0u32);
        let mut last = (EMPTY, 0u8);
        for &p in fb.span(r, y) {
            let i = if p == last.0 { last.1 } else { index_of(p) };
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
