//! RGB ↔ Y′CbCr for the two stream layouts deskshare uses, BT.601 both:
//!
//! - [`Layout::VP8`]: 4:2:0, limited range, which is all VP8 can signal and what a
//!   browser's `VideoDecoder` assumes for it. Chroma is the mean of each 2×2 block.
//! - [`Layout::VP9`]: 4:4:4 (profile 1), full range, signalled in the bitstream.
//!   Subsampled chroma is what caps saturated, detailed content (a fractal, a chart,
//!   coloured UI in a video) at about 24 dB whatever the bitrate; 4:4:4 and full range
//!   remove that ceiling (docs/PERFORMANCE.md).

/// How the planes are laid out and scaled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Chroma at half resolution both ways (4:2:0) rather than full (4:4:4).
    pub subsampled: bool,
    /// Y and chroma use 0..=255 rather than 16..=235 / 16..=240.
    pub full_range: bool,
}

impl Layout {
    pub const VP8: Layout = Layout { subsampled: true, full_range: false };
    pub const VP9: Layout = Layout { subsampled: false, full_range: true };

    /// Rows and columns of a chroma plane for a `w`×`h` picture.
    pub fn chroma_size(self, w: usize, h: usize) -> (usize, usize) {
        if self.subsampled { (w.div_ceil(2), h.div_ceil(2)) } else { (w, h) }
    }
}

fn rgb(p: u32) -> (i32, i32, i32) {
    (((p >> 16) & 0xff) as i32, ((p >> 8) & 0xff) as i32, (p & 0xff) as i32)
}

fn luma(layout: Layout, (r, g, b): (i32, i32, i32)) -> u8 {
    if layout.full_range {
        ((77 * r + 150 * g + 29 * b + 128) >> 8) as u8
    } else {
        (((66 * r + 129 * g + 25 * b + 128) >> 8) + 16) as u8
    }
}

fn chroma(layout: Layout, (r, g, b): (i32, i32, i32)) -> (u8, u8) {
    let clamp = |x: i32| x.clamp(0, 255) as u8;
    if layout.full_range {
        (clamp(((-43 * r - 85 * g + 128 * b + 128) >> 8) + 128), clamp(((128 * r - 107 * g - 21 * b + 128) >> 8) + 128))
    } else {
        (clamp(((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128), clamp(((112 * r - 94 * g - 18 * b + 128) >> 8) + 128))
    }
}

/// `0x00RRGGBB` pixels (`stride` a row) of a `w`×`h` area into Y, U and V planes with
/// the given strides; `w` and `h` are even.
#[allow(clippy::too_many_arguments)]
pub fn rgb_to_yuv(
    layout: Layout,
    pixels: &[u32],
    stride: usize,
    w: usize,
    h: usize,
    y: &mut [u8],
    u: &mut [u8],
    v: &mut [u8],
    strides: [usize; 3],
) {
    for row in 0..h {
        let src = &pixels[row * stride..row * stride + w];
        for (d, &p) in y[row * strides[0]..row * strides[0] + w].iter_mut().zip(src) {
            *d = luma(layout, rgb(p));
        }
    }
    let (cw, ch) = layout.chroma_size(w, h);
    for row in 0..ch {
        for col in 0..cw {
            let c = if layout.subsampled {
                let (mut r, mut g, mut b) = (0, 0, 0);
                for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    let (pr, pg, pb) = rgb(pixels[(2 * row + dy) * stride + 2 * col + dx]);
                    (r, g, b) = (r + pr, g + pg, b + pb);
                }
                ((r + 2) / 4, (g + 2) / 4, (b + 2) / 4)
            } else {
                rgb(pixels[row * stride + col])
            };
            let (cb, cr) = chroma(layout, c);
            u[row * strides[1] + col] = cb;
            v[row * strides[2] + col] = cr;
        }
    }
}

/// Y, U and V planes of a `w`×`h` picture to `0x00RRGGBB` pixels, `w` a row.
#[allow(clippy::too_many_arguments)]
pub fn yuv_to_rgb(
    layout: Layout,
    y: &[u8],
    u: &[u8],
    v: &[u8],
    strides: [usize; 3],
    w: usize,
    h: usize,
    out: &mut [u32],
) {
    let clamp = |x: i32| x.clamp(0, 255) as u32;
    let shift = usize::from(layout.subsampled);
    for row in 0..h {
        for col in 0..w {
            let luma = i32::from(y[row * strides[0] + col]);
            let d = i32::from(u[(row >> shift) * strides[1] + (col >> shift)]) - 128;
            let e = i32::from(v[(row >> shift) * strides[2] + (col >> shift)]) - 128;
            let (r, g, b) = if layout.full_range {
                let c = luma << 8;
                (c + 359 * e + 128, c - 88 * d - 183 * e + 128, c + 454 * d + 128)
            } else {
                let c = 298 * (luma - 16);
                (c + 409 * e + 128, c - 100 * d - 208 * e + 128, c + 516 * d + 128)
            };
            out[row * w + col] = (clamp(r >> 8) << 16) | (clamp(g >> 8) << 8) | clamp(b >> 8);
        }
    }
}
