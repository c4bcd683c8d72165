//! RGB ↔ I420, BT.601 limited range (the integer forms of ITU-R BT.601), which is what
//! browsers assume for VP8. Chroma is the mean of each 2×2 block, and read back nearest.

/// `0x00RRGGBB` pixels (`stride` a row) of a `w`×`h` area to Y, U and V planes with the
/// given strides. `w` and `h` are even.
#[allow(clippy::too_many_arguments)]
pub fn rgb_to_i420(
    pixels: &[u32],
    stride: usize,
    w: usize,
    h: usize,
    y: &mut [u8],
    u: &mut [u8],
    v: &mut [u8],
    strides: [usize; 3],
) {
    let rgb = |p: u32| (((p >> 16) & 0xff) as i32, ((p >> 8) & 0xff) as i32, (p & 0xff) as i32);
    for row in 0..h {
        let src = &pixels[row * stride..row * stride + w];
        let dst = &mut y[row * strides[0]..row * strides[0] + w];
        for (d, &p) in dst.iter_mut().zip(src) {
            let (r, g, b) = rgb(p);
            *d = (((66 * r + 129 * g + 25 * b + 128) >> 8) + 16) as u8;
        }
    }
    for row in 0..h / 2 {
        for col in 0..w / 2 {
            let (mut r, mut g, mut b) = (0, 0, 0);
            for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                let (pr, pg, pb) = rgb(pixels[(2 * row + dy) * stride + 2 * col + dx]);
                (r, g, b) = (r + pr, g + pg, b + pb);
            }
            let (r, g, b) = ((r + 2) / 4, (g + 2) / 4, (b + 2) / 4);
            u[row * strides[1] + col] = (((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128) as u8;
            v[row * strides[2] + col] = (((112 * r - 94 * g - 18 * b + 128) >> 8) + 128) as u8;
        }
    }
}

/// Y, U and V planes of a `w`×`h` picture to `0x00RRGGBB` pixels, `w` a row.
pub fn i420_to_rgb(y: &[u8], u: &[u8], v: &[u8], strides: [usize; 3], w: usize, h: usize, out: &mut [u32]) {
    let clamp = |x: i32| x.clamp(0, 255) as u32;
    for row in 0..h {
        for col in 0..w {
            let c = i32::from(y[row * strides[0] + col]) - 16;
            let d = i32::from(u[(row / 2) * strides[1] + col / 2]) - 128;
            let e = i32::from(v[(row / 2) * strides[2] + col / 2]) - 128;
            let r = clamp((298 * c + 409 * e + 128) >> 8);
            let g = clamp((298 * c - 100 * d - 208 * e + 128) >> 8);
            let b = clamp((298 * c + 516 * d + 128) >> 8);
            out[row * w + col] = (r << 16) | (g << 8) | b;
        }
    }
}
