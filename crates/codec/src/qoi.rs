//! QOI ("Quite OK Image") op stream for RGB pixels, without QOI's file header and end
//! marker: the tile's size is known from the frame, so only the ops travel.
//!
//! Why QOI: it compresses screen content (runs, repeated UI colours, small gradients)
//! well, encodes in a single pass, and decodes in a few lines of JavaScript in a Worker,
//! which DESIGN.md measured at ~0.1–0.3 ms a tile, far below a `createImageBitmap` call.
//! Alpha is always 255, so the RGBA op is never produced and is rejected on decode.

use crate::framebuffer::rgb_word;

const OP_INDEX: u8 = 0x00;
const OP_DIFF: u8 = 0x40;
const OP_LUMA: u8 = 0x80;
const OP_RUN: u8 = 0xc0;
const OP_RGB: u8 = 0xfe;
const OP_RGBA: u8 = 0xff;
const MASK_2: u8 = 0xc0;

/// Why a QOI stream could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QoiError {
    #[error("stream ended after {decoded} of {expected} pixels")]
    Truncated { decoded: usize, expected: usize },
    #[error("stream runs past the tile's {expected} pixels")]
    Overrun { expected: usize },
    #[error("{0} bytes left after the last pixel")]
    Trailing(usize),
    #[error("RGBA op in an RGB stream")]
    AlphaOp,
}

#[inline]
fn hash(p: u32) -> usize {
    let (r, g, b) = ((p >> 16) & 0xff, (p >> 8) & 0xff, p & 0xff);
    ((r * 3 + g * 5 + b * 7 + 255 * 11) % 64) as usize
}

/// Appends the op stream for `pixels` (`0x00RRGGBB`) to `out`.
pub fn encode(pixels: impl IntoIterator<Item = u32>, out: &mut Vec<u8>) {
    let mut index = [0u32; 64];
    let mut prev = 0u32; // QOI starts from opaque black
    let mut run = 0u8;
    for px in pixels {
        if px == prev {
            run += 1;
            if run == 62 {
                out.push(OP_RUN | (run - 1));
                run = 0;
            }
            continue;
        }
        if run > 0 {
            out.push(OP_RUN | (run - 1));
            run = 0;
        }
        let h = hash(px);
        if index[h] == px {
            out.push(OP_INDEX | h as u8);
        } else {
            index[h] = px;
            let dr = ((px >> 16) as u8).wrapping_sub((prev >> 16) as u8) as i8;
            let dg = ((px >> 8) as u8).wrapping_sub((prev >> 8) as u8) as i8;
            let db = (px as u8).wrapping_sub(prev as u8) as i8;
            let (dr_dg, db_dg) = (dr.wrapping_sub(dg), db.wrapping_sub(dg));
            if (-2..=1).contains(&dr) && (-2..=1).contains(&dg) && (-2..=1).contains(&db) {
                out.push(OP_DIFF | (((dr + 2) as u8) << 4) | (((dg + 2) as u8) << 2) | (db + 2) as u8);
            } else if (-32..=31).contains(&dg) && (-8..=7).contains(&dr_dg) && (-8..=7).contains(&db_dg) {
                out.push(OP_LUMA | (dg + 32) as u8);
                out.push((((dr_dg + 8) as u8) << 4) | (db_dg + 8) as u8);
            } else {
                out.extend_from_slice(&[OP_RGB, (px >> 16) as u8, (px >> 8) as u8, px as u8]);
            }
        }
        prev = px;
    }
    if run > 0 {
        out.push(OP_RUN | (run - 1));
    }
}

/// Decodes exactly `out.len()` pixels from `data` into `out`.
pub fn decode(data: &[u8], out: &mut [u32]) -> Result<(), QoiError> {
    let expected = out.len();
    let mut index = [0u32; 64];
    let mut px = 0u32;
    let (mut i, mut n) = (0usize, 0usize);
    while n < expected {
        let Some(&b) = data.get(i) else {
            return Err(QoiError::Truncated { decoded: n, expected });
        };
        i += 1;
        let need = |extra: usize| {
            if i + extra <= data.len() { Ok(()) } else { Err(QoiError::Truncated { decoded: n, expected }) }
        };
        if b == OP_RGB {
            need(3)?;
            px = rgb_word(data[i], data[i + 1], data[i + 2]);
            i += 3;
        } else if b == OP_RGBA {
            return Err(QoiError::AlphaOp);
        } else {
            match b & MASK_2 {
                OP_INDEX => px = index[usize::from(b)],
                OP_DIFF => {
                    let r = ((px >> 16) as u8).wrapping_add(((b >> 4) & 3).wrapping_sub(2));
                    let g = ((px >> 8) as u8).wrapping_add(((b >> 2) & 3).wrapping_sub(2));
                    let bl = (px as u8).wrapping_add((b & 3).wrapping_sub(2));
                    px = rgb_word(r, g, bl);
                }
                OP_LUMA => {
                    need(1)?;
                    let b2 = data[i];
                    i += 1;
                    let dg = (b & 0x3f).wrapping_sub(32);
                    let r = ((px >> 16) as u8).wrapping_add(dg.wrapping_sub(8).wrapping_add(b2 >> 4));
                    let g = ((px >> 8) as u8).wrapping_add(dg);
                    let bl = (px as u8).wrapping_add(dg.wrapping_sub(8).wrapping_add(b2 & 0x0f));
                    px = rgb_word(r, g, bl);
                }
                _ => {
                    let run = usize::from(b & 0x3f) + 1;
                    if n + run > expected {
                        return Err(QoiError::Overrun { expected });
                    }
                    out[n..n + run].fill(px);
                    n += run;
                    continue;
                }
            }
        }
        index[hash(px)] = px;
        out[n] = px;
        n += 1;
    }
    match data.len() - i {
        0 => Ok(()),
        rest => Err(QoiError::Trailing(rest)),
    }
}
