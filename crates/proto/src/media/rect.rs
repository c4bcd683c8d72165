//! Rectangles: their geometry, the tile grid, and the lossless encodings of their pixels.

use crate::TILE_SIZE;

/// How a rectangle's pixels are written in the frame's (inflated) pixel data. All are
/// lossless; see docs/PROTOCOL.md, "Rectangle encodings".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RectEncoding {
    /// One RGB colour (3 bytes) fills the rectangle.
    Solid = 0,
    /// Uncompressed RGB, 3 bytes a pixel, rows top to bottom.
    Raw = 1,
    /// A QOI op stream (RGB ops only, no header or end marker) of the rectangle's pixels.
    Qoi = 2,
    /// `n - 1` (u8), `n` RGB colours, then each row's colour indices packed at 1, 2, 4
    /// or 8 bits (by `n`), rows padded to a byte.
    Palette = 3,
}

impl RectEncoding {
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(RectEncoding::Solid),
            1 => Some(RectEncoding::Raw),
            2 => Some(RectEncoding::Qoi),
            3 => Some(RectEncoding::Palette),
            _ => None,
        }
    }

    /// Whether `len` bytes can be a payload for a `width`×`height` rectangle. Exact for
    /// SOLID and RAW; bounds for QOI (an RGB op of 4 bytes a pixel at most) and PALETTE
    /// (whose exact length depends on its colour count, checked once inflated).
    pub fn payload_len_ok(self, len: u64, width: u16, height: u16) -> bool {
        let pixels = u64::from(width) * u64::from(height);
        match self {
            RectEncoding::Solid => len == 3,
            RectEncoding::Raw => len == pixels * 3,
            RectEncoding::Qoi => len >= 1 && len <= pixels * 4,
            RectEncoding::Palette => {
                let (lo, _) = palette_len_bounds(width, height);
                len >= lo && len <= palette_len(256, width, height)
            }
        }
    }
}

/// Bits a palette index takes with `colours` colours: 1, 2, 4 or 8.
pub fn palette_bits(colours: usize) -> u32 {
    match colours {
        0..=2 => 1,
        3..=4 => 2,
        5..=16 => 4,
        _ => 8,
    }
}

/// Exact payload length of a PALETTE rectangle with `colours` colours.
pub fn palette_len(colours: usize, width: u16, height: u16) -> u64 {
    let row = (u64::from(width) * u64::from(palette_bits(colours))).div_ceil(8);
    1 + 3 * colours as u64 + row * u64::from(height)
}

fn palette_len_bounds(width: u16, height: u16) -> (u64, u64) {
    (palette_len(1, width, height), palette_len(256, width, height))
}

/// Number of tile columns and rows for a screen (the server's cache grid).
pub fn grid_dims(width: u32, height: u32) -> (u32, u32) {
    (width.div_ceil(TILE_SIZE), height.div_ceil(TILE_SIZE))
}

/// Pixel size of tile (`col`, `row`): edge tiles are cut by the screen's edge.
pub fn tile_dims(width: u32, height: u32, col: u32, row: u32) -> (u32, u32) {
    let w = (width - col * TILE_SIZE).min(TILE_SIZE);
    let h = (height - row * TILE_SIZE).min(TILE_SIZE);
    (w, h)
}

/// A rectangle of the screen, in pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PixelRect {
    pub x: u16,
    pub y: u16,
    pub width: u16,
    pub height: u16,
}

impl PixelRect {
    pub fn new(x: u16, y: u16, width: u16, height: u16) -> Self {
        PixelRect { x, y, width, height }
    }

    /// Non-empty and inside a `width`×`height` screen.
    pub fn fits(&self, width: u16, height: u16) -> bool {
        self.width > 0
            && self.height > 0
            && u32::from(self.x) + u32::from(self.width) <= u32::from(width)
            && u32::from(self.y) + u32::from(self.height) <= u32::from(height)
    }

    pub fn area(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// The smallest rectangle holding both.
    pub fn union(&self, other: &PixelRect) -> PixelRect {
        let (x0, y0) = (self.x.min(other.x), self.y.min(other.y));
        let x1 = (self.x + self.width).max(other.x + other.width);
        let y1 = (self.y + self.height).max(other.y + other.height);
        PixelRect::new(x0, y0, x1 - x0, y1 - y0)
    }

    /// Pixels both cover.
    pub fn overlap_area(&self, other: &PixelRect) -> u64 {
        let w = (self.x + self.width).min(other.x + other.width).saturating_sub(self.x.max(other.x));
        let h = (self.y + self.height).min(other.y + other.height).saturating_sub(self.y.max(other.y));
        u64::from(w) * u64::from(h)
    }

    pub fn overlaps(&self, other: &PixelRect) -> bool {
        self.overlap_area(other) > 0
    }
}
