//! Encoding and decoding one rectangle, choosing the smallest lossless form before the
//! deflate stream sees it.

use deskshare_proto::{PixelRect, RectEncoding};

use crate::palette::{self, PaletteError, StickyPalette};
use crate::qoi::{self, QoiError};
use crate::{Framebuffer, framebuffer::rgb_word};

/// Why a rectangle's payload could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RectError {
    #[error("{encoding:?} payload of {len} bytes does not fit a {width}x{height} rectangle")]
    Size { encoding: RectEncoding, len: usize, width: u16, height: u16 },
    #[error(transparent)]
    Qoi(#[from] QoiError),
    #[error(transparent)]
    Palette(#[from] PaletteError),
}

/// Most colours for which PALETTE is chosen. Beyond, the indices are a byte a pixel and
/// QOI does as well with no palette to send.
const MAX_PALETTE: usize = 256;

/// Appends the payload of `r` in `fb` to `out` and says how it is encoded: SOLID for one
/// colour, PALETTE for up to 256, otherwise QOI unless RAW is smaller (noise).
pub fn encode_rect(fb: &Framebuffer, r: PixelRect, out: &mut Vec<u8>) -> RectEncoding {
    encode_rect_in_stream(fb, r, out, None)
}

/// A rectangle at least this wide (a few glyphs: a line of text, a tile) keeps the
/// stream's palette order, and so does a narrower one whose colours the order already
/// holds; any other narrow one (a keystroke's glyph cell and cursor) repeats its own
/// sorted palette, which is the same each time the same glyph is typed, while a
/// kept palette of every grey seen would double its size and push the glyph's last
/// occurrence out of deflate's 32 KiB window (measured with scripts/measure-bandwidth.sh:
/// typing 1.5 kB/s with this rule, 2.1 kB/s with every rectangle kept in order; scrolling
/// 10 kB/s, 19 kB/s with none).
const STICKY_WIDTH: u16 = 32;

/// [`encode_rect`] for a rectangle of a presenter's stream: a palette of more than 16
/// colours (a byte an index anyway) in a rectangle of a few glyphs' width keeps the
/// stream's order ([`StickyPalette`]).
pub fn encode_rect_in_stream(
    fb: &Framebuffer,
    r: PixelRect,
    out: &mut Vec<u8>,
    sticky: Option<&mut StickyPalette>,
) -> RectEncoding {
    match palette::colours(fb, r, MAX_PALETTE) {
        Some(c) if c.len() == 1 => {
            out.extend_from_slice(&[(c[0] >> 16) as u8, (c[0] >> 8) as u8, c[0] as u8]);
            RectEncoding::Solid
        }
        Some(c) => {
            let kept = match sticky {
                Some(s) if c.len() > 16 => s.palette_for(&c, r.width >= STICKY_WIDTH),
                _ => None,
            };
            palette::encode(fb, r, kept.unwrap_or(&c), out);
            RectEncoding::Palette
        }
        None => {
            let start = out.len();
            qoi::encode((0..r.height).flat_map(|y| fb.span(r, y).iter().copied()), out);
            let raw_len = r.area() as usize * 3;
            if out.len() - start <= raw_len {
                return RectEncoding::Qoi;
            }
            out.truncate(start);
            for y in 0..r.height {
                for &p in fb.span(r, y) {
                    out.extend_from_slice(&[(p >> 16) as u8, (p >> 8) as u8, p as u8]);
                }
            }
            RectEncoding::Raw
        }
    }
}

/// Decodes a payload for a `width`×`height` rectangle into `out`, row by row.
pub fn decode_rect(
    encoding: RectEncoding,
    data: &[u8],
    width: u16,
    height: u16,
    out: &mut Vec<u32>,
) -> Result<(), RectError> {
    let pixels = usize::from(width) * usize::from(height);
    let size = || RectError::Size { encoding, len: data.len(), width, height };
    out.clear();
    match encoding {
        RectEncoding::Solid => {
            let [r, g, b] = data.try_into().map_err(|_| size())?;
            out.resize(pixels, rgb_word(r, g, b));
        }
        RectEncoding::Raw => {
            if data.len() != pixels * 3 {
                return Err(size());
            }
            out.extend(data.chunks_exact(3).map(|c| rgb_word(c[0], c[1], c[2])));
        }
        RectEncoding::Qoi => {
            if data.is_empty() || data.len() > pixels * 4 {
                return Err(size());
            }
            out.resize(pixels, 0);
            qoi::decode(data, out)?;
        }
        RectEncoding::Palette => palette::decode(data, width, height, out)?,
    }
    Ok(())
}
