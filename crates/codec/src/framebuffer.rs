//! A screen image in memory.

use deskshare_proto::{PixelRect, TILE_SIZE, grid_dims, tile_dims};

/// A rectangle in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// A screen image: one `u32` a pixel as `0x00RRGGBB`, rows top to bottom, no padding.
///
/// This is the X server's 24-bit TrueColor layout read as little-endian words, so a
/// capture only has to mask the padding byte; comparing two frames is a `memcmp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Framebuffer {
    width: u32,
    height: u32,
    pixels: Vec<u32>,
}

impl Framebuffer {
    /// A black image.
    pub fn new(width: u32, height: u32) -> Self {
        Framebuffer { width, height, pixels: vec![0; (width * height) as usize] }
    }

    /// Wraps pixels already in `0x00RRGGBB` form. Panics if the length does not match,
    /// which is a programming error, not bad input.
    pub fn from_pixels(width: u32, height: u32, pixels: Vec<u32>) -> Self {
        assert_eq!(pixels.len(), (width * height) as usize, "pixel count must match size");
        Framebuffer { width, height, pixels }
    }

    pub fn width(&self) -> u32 {
        self.width
    }
    pub fn height(&self) -> u32 {
        self.height
    }
    pub fn pixels(&self) -> &[u32] {
        &self.pixels
    }
    pub fn pixels_mut(&mut self) -> &mut [u32] {
        &mut self.pixels
    }

    /// Tile columns and rows of this image.
    pub fn grid(&self) -> (u32, u32) {
        grid_dims(self.width, self.height)
    }

    /// The pixel rectangle of tile (`col`, `row`).
    pub fn tile_rect(&self, col: u32, row: u32) -> Rect {
        let (width, height) = tile_dims(self.width, self.height, col, row);
        Rect { x: col * TILE_SIZE, y: row * TILE_SIZE, width, height }
    }

    /// Row `y` of `rect` as a slice.
    pub fn row(&self, rect: Rect, y: u32) -> &[u32] {
        let start = ((rect.y + y) * self.width + rect.x) as usize;
        &self.pixels[start..start + rect.width as usize]
    }

    pub fn row_mut(&mut self, rect: Rect, y: u32) -> &mut [u32] {
        let start = ((rect.y + y) * self.width + rect.x) as usize;
        &mut self.pixels[start..start + rect.width as usize]
    }

    /// Copies pixels of `rect` into a new contiguous buffer, row by row.
    pub fn copy_rect(&self, rect: Rect) -> Vec<u32> {
        let mut out = Vec::with_capacity((rect.width * rect.height) as usize);
        for y in 0..rect.height {
            out.extend_from_slice(self.row(rect, y));
        }
        out
    }

    /// Row `y` (relative to the rectangle) of a protocol rectangle.
    pub fn span(&self, r: PixelRect, y: u16) -> &[u32] {
        let start = (u32::from(r.y + y) * self.width + u32::from(r.x)) as usize;
        &self.pixels[start..start + usize::from(r.width)]
    }

    pub fn span_mut(&mut self, r: PixelRect, y: u16) -> &mut [u32] {
        let start = (u32::from(r.y + y) * self.width + u32::from(r.x)) as usize;
        &mut self.pixels[start..start + usize::from(r.width)]
    }

    /// Whether `r` lies inside this image.
    pub fn contains(&self, r: PixelRect) -> bool {
        r.width > 0
            && r.height > 0
            && u32::from(r.x) + u32::from(r.width) <= self.width
            && u32::from(r.y) + u32::from(r.height) <= self.height
    }

    /// Fills `r` with one colour.
    pub fn fill(&mut self, r: PixelRect, p: u32) {
        for y in 0..r.height {
            self.span_mut(r, y).fill(p);
        }
    }

    /// Writes `pixels` (row by row, `r.width` a row) into `r`.
    pub fn put(&mut self, r: PixelRect, pixels: &[u32]) {
        for (y, src) in pixels.chunks_exact(usize::from(r.width)).take(usize::from(r.height)).enumerate() {
            self.span_mut(r, y as u16).copy_from_slice(src);
        }
    }

    /// Copies the pixels at (`from_x`, `from_y`) of `to`'s size to `to`, as if the source
    /// were read whole before anything is written (overlap is the common case: a scroll).
    pub fn copy_within(&mut self, from_x: u16, from_y: u16, to: PixelRect) {
        let w = self.width as usize;
        let row = |y: usize, x: u16| y * w + usize::from(x);
        let copy_row = |px: &mut Vec<u32>, y: u16| {
            let src = row(usize::from(from_y + y), from_x);
            px.copy_within(src..src + usize::from(to.width), row(usize::from(to.y + y), to.x));
        };
        // Moving down: copy the bottom row first, so no source row is overwritten before
        // it is read; moving up or sideways: top first (`copy_within` handles a row's own
        // overlap).
        if to.y > from_y {
            for y in (0..to.height).rev() {
                copy_row(&mut self.pixels, y);
            }
        } else {
            for y in 0..to.height {
                copy_row(&mut self.pixels, y);
            }
        }
    }

    /// Packed RGB bytes of the whole image (for PNG output).
    pub fn to_rgb(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.pixels.len() * 3);
        for &p in &self.pixels {
            out.extend_from_slice(&[(p >> 16) as u8, (p >> 8) as u8, p as u8]);
        }
        out
    }

    /// Builds an image from packed RGB bytes.
    pub fn from_rgb(width: u32, height: u32, rgb: &[u8]) -> Self {
        let pixels = rgb.chunks_exact(3).map(|c| rgb_word(c[0], c[1], c[2])).collect();
        Framebuffer::from_pixels(width, height, pixels)
    }
}

/// `0x00RRGGBB` from components.
#[inline]
pub fn rgb_word(r: u8, g: u8, b: u8) -> u32 {
    (u32::from(r) << 16) | (u32::from(g) << 8) | u32::from(b)
}
