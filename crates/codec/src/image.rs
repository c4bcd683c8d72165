//! Lossy images: the areas of one update that go lossy, packed into one JPEG (an atlas),
//! and its decoding.
//!
//! One image per update, not one per area, because a browser pays about a millisecond
//! per decode call whatever the size (docs/PERFORMANCE.md). Every area starts on a
//! 16-pixel boundary of the atlas and is padded to a multiple of 16 by repeating its last
//! column and row, so no 8×8 block or 4:2:0 chroma sample mixes two areas: an area
//! decodes the same wherever it was packed.

use bytes::Bytes;
use deskshare_proto::{FrameImage, ImageFormat, MAX_IMAGE_EDGE, Op, PixelRect};
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use crate::Framebuffer;
use crate::framebuffer::rgb_word;

/// Areas are placed and padded to this many pixels.
pub const BLOCK: u16 = 16;

/// From this JPEG quality on, colour is kept at full resolution (4:4:4); below, 4:2:0.
pub const FULL_CHROMA_FROM: u8 = 50;

/// Why an image could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("the JPEG does not decode: {0}")]
    Jpeg(String),
    #[error("the JPEG is {got_w}x{got_h}, the frame says {width}x{height}")]
    SizeMismatch { width: u16, height: u16, got_w: usize, got_h: usize },
}

/// Where each area goes in the atlas, and the atlas size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub width: u16,
    pub height: u16,
    /// Top-left corner of each area in the atlas, in the order given.
    pub places: Vec<(u16, u16)>,
}

fn padded(v: u16) -> u16 {
    v.div_ceil(BLOCK) * BLOCK
}

/// Packs `areas` on shelves: tallest first, left to right, in an atlas about as wide as
/// it is tall (never narrower than the widest area).
pub fn layout(areas: &[PixelRect]) -> Layout {
    let total: u64 = areas.iter().map(|a| u64::from(padded(a.width)) * u64::from(padded(a.height))).sum();
    let widest = areas.iter().map(|a| padded(a.width)).max().unwrap_or(BLOCK);
    let side = ((total as f64).sqrt().ceil() as u64).min(MAX_IMAGE_EDGE) as u16;
    let width = padded(side).max(widest);
    let mut order: Vec<usize> = (0..areas.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse((padded(areas[i].height), padded(areas[i].width))));
    let mut places = vec![(0, 0); areas.len()];
    let (mut x, mut y, mut shelf) = (0u16, 0u16, 0u16);
    for i in order {
        let (w, h) = (padded(areas[i].width), padded(areas[i].height));
        if x + w > width {
            (x, y, shelf) = (0, y + shelf, 0);
        }
        places[i] = (x, y);
        x += w;
        shelf = shelf.max(h);
    }
    Layout { width, height: (y + shelf).max(BLOCK), places }
}

/// Adds `r` to `areas`, widening the last one instead when `r` continues it to the
/// right (pieces of one tile row come left to right): fewer, larger JPEG areas.
pub fn push_area(areas: &mut Vec<PixelRect>, r: PixelRect) {
    if let Some(last) = areas.last_mut()
        && last.y == r.y
        && last.height == r.height
        && last.x + last.width == r.x
    {
        last.width += r.width;
        return;
    }
    areas.push(r);
}

/// `areas` of `fb` as one JPEG of `quality` (1..=100), and the IMAGE ops (naming image
/// number `image`) that paint them back.
pub fn encode_atlas(fb: &Framebuffer, areas: &[PixelRect], quality: u8, image: u8) -> (FrameImage, Vec<Op>) {
    let l = layout(areas);
    let stride = usize::from(l.width) * 3;
    let mut rgb = vec![0u8; stride * usize::from(l.height)];
    for (a, &(px, py)) in areas.iter().zip(&l.places) {
        let (pw, ph) = (padded(a.width), padded(a.height));
        for dy in 0..ph {
            let src = fb.span(*a, dy.min(a.height - 1));
            let row = &mut rgb[(usize::from(py + dy)) * stride + usize::from(px) * 3..][..usize::from(pw) * 3];
            for (dx, out) in row.chunks_exact_mut(3).enumerate() {
                let p = src[dx.min(src.len() - 1)];
                out.copy_from_slice(&[(p >> 16) as u8, (p >> 8) as u8, p as u8]);
            }
        }
    }
    let mut jpeg = Vec::with_capacity(rgb.len() / 8);
    let quality = quality.clamp(1, 100);
    let mut enc = jpeg_encoder::Encoder::new(&mut jpeg, quality);
    // Screen motion (charts, 3D, UI animation, fractals) has sharp colour edges that 4:2:0
    // smears whatever the quality (on a mandelbrot frame: 21-22 dB from quality 50 to 85,
    // against 28.5 dB at 4:4:4 and quality 70); TigerVNC's default level is 4:4:4 too. Below
    // [`FULL_CHROMA_FROM`] bytes matter more than colour edges.
    enc.set_sampling_factor(if quality >= FULL_CHROMA_FROM {
        jpeg_encoder::SamplingFactor::F_1_1
    } else {
        jpeg_encoder::SamplingFactor::F_2_2
    });
    enc.set_chroma_subsampling_method(jpeg_encoder::ChromaSubsamplingMethod::Average);
    enc.encode(&rgb, l.width, l.height, jpeg_encoder::ColorType::Rgb)
        .expect("an RGB buffer of the layout's size always encodes");
    let ops =
        areas.iter().zip(&l.places).map(|(a, &(from_x, from_y))| Op::Image { image, from_x, from_y, to: *a }).collect();
    (FrameImage { format: ImageFormat::Jpeg, width: l.width, height: l.height, data: Bytes::from(jpeg) }, ops)
}

/// Decodes `image` to `0x00RRGGBB` pixels, rows top to bottom. Its size must be the one
/// the frame declared (which the protocol bounded), so a small JPEG cannot claim a huge
/// picture.
pub fn decode_image(image: &FrameImage) -> Result<Vec<u32>, ImageError> {
    let ImageFormat::Jpeg = image.format;
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::RGB)
        .set_max_width(usize::from(image.width))
        .set_max_height(usize::from(image.height))
        .set_strict_mode(true);
    let mut dec = JpegDecoder::new_with_options(ZCursor::new(&image.data[..]), options);
    dec.decode_headers().map_err(|e| ImageError::Jpeg(format!("{e:?}")))?;
    let info = dec.info().ok_or_else(|| ImageError::Jpeg("no frame header".into()))?;
    let (got_w, got_h) = (usize::from(info.width), usize::from(info.height));
    if (got_w, got_h) != (usize::from(image.width), usize::from(image.height)) {
        return Err(ImageError::SizeMismatch { width: image.width, height: image.height, got_w, got_h });
    }
    let rgb = dec.decode().map_err(|e| ImageError::Jpeg(format!("{e:?}")))?;
    if rgb.len() != got_w * got_h * 3 {
        return Err(ImageError::Jpeg(format!("{} bytes decoded for {got_w}x{got_h}", rgb.len())));
    }
    Ok(rgb.chunks_exact(3).map(|c| rgb_word(c[0], c[1], c[2])).collect())
}

/// Mean squared error per channel between `a` and `b` over `r`, and PSNR in dB (for
/// statistics and tests; infinite when equal).
pub fn psnr(a: &Framebuffer, b: &Framebuffer, r: PixelRect) -> f64 {
    let mut sum = 0u64;
    for y in 0..r.height {
        for (&p, &q) in a.span(r, y).iter().zip(b.span(r, y)) {
            for s in [16, 8, 0] {
                let d = i64::from((p >> s) as u8) - i64::from((q >> s) as u8);
                sum += (d * d) as u64;
            }
        }
    }
    let mse = sum as f64 / (r.area() as f64 * 3.0);
    if mse == 0.0 { f64::INFINITY } else { 10.0 * (255.0 * 255.0 / mse).log10() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::photo;

    #[test]
    fn layout_keeps_areas_apart_and_on_blocks() {
        let areas = [
            PixelRect::new(0, 0, 640, 360),
            PixelRect::new(700, 10, 30, 17),
            PixelRect::new(5, 400, 64, 64),
            PixelRect::new(900, 900, 1, 1),
        ];
        let l = layout(&areas);
        assert_eq!((l.width % BLOCK, l.height % BLOCK), (0, 0));
        let boxes: Vec<PixelRect> = areas
            .iter()
            .zip(&l.places)
            .map(|(a, &(x, y))| PixelRect::new(x, y, padded(a.width), padded(a.height)))
            .collect();
        for (i, b) in boxes.iter().enumerate() {
            assert_eq!((b.x % BLOCK, b.y % BLOCK), (0, 0));
            assert!(b.fits(l.width, l.height), "{b:?} in {}x{}", l.width, l.height);
            for c in &boxes[i + 1..] {
                assert!(!b.overlaps(c), "{b:?} overlaps {c:?}");
            }
        }
        // The atlas wastes little: less than twice the padded areas.
        let used: u64 = boxes.iter().map(|b| b.area()).sum();
        assert!(u64::from(l.width) * u64::from(l.height) < 2 * used);
    }

    #[test]
    fn an_atlas_decodes_close_to_its_areas() {
        let fb = photo(320, 200, 3);
        let areas = [PixelRect::new(0, 0, 100, 70), PixelRect::new(150, 90, 170, 110), PixelRect::new(3, 150, 9, 9)];
        let (image, ops) = encode_atlas(&fb, &areas, 80, 0);
        let pixels = decode_image(&image).unwrap();
        let atlas = Framebuffer::from_pixels(image.width.into(), image.height.into(), pixels);
        let mut back = Framebuffer::new(320, 200);
        for op in &ops {
            let Op::Image { from_x, from_y, to, .. } = *op else { panic!("image ops only") };
            for y in 0..to.height {
                let src = atlas.span(PixelRect { x: from_x, y: from_y + y, height: 1, ..to }, 0).to_vec();
                back.span_mut(to, y).copy_from_slice(&src);
            }
        }
        for a in areas {
            let db = psnr(&fb, &back, a);
            assert!(db > 30.0, "{a:?}: {db:.1} dB");
        }
        // Far smaller than the pixels.
        let pixels: u64 = areas.iter().map(|a| a.area()).sum();
        assert!((image.data.len() as u64) < pixels * 3 / 4, "{} bytes", image.data.len());
    }

    #[test]
    fn bad_jpegs_are_errors_not_panics() {
        let fb = photo(64, 48, 1);
        let (image, _) = encode_atlas(&fb, &[PixelRect::new(0, 0, 64, 48)], 75, 0);
        // A size other than the declared one.
        let lie = FrameImage { width: 32, ..image.clone() };
        assert!(decode_image(&lie).is_err());
        let lie = FrameImage { width: 128, ..image.clone() };
        assert!(matches!(decode_image(&lie), Err(ImageError::SizeMismatch { .. })));
        // Every truncation and some corruptions.
        for cut in [0, 1, 2, 20, image.data.len() / 2] {
            let short = FrameImage { data: image.data.slice(..cut), ..image.clone() };
            assert!(decode_image(&short).is_err(), "cut {cut}");
        }
        let garbage = FrameImage { data: Bytes::from(vec![0xff; 300]), ..image };
        assert!(decode_image(&garbage).is_err());
    }
}
