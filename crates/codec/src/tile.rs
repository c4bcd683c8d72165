//! Encoding and decoding one tile, choosing the smallest lossless form.

use bytes::Bytes;
use deskshare_proto::{TileEncoding, TilePayload};

use crate::Framebuffer;
use crate::qoi::{self, QoiError};

/// Why a tile could not be decoded into a framebuffer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    #[error("tile ({col},{row}) lies outside the {width}x{height} screen")]
    OutOfScreen { col: u16, row: u16, width: u32, height: u32 },
    #[error("tile ({col},{row}): {encoding:?} payload of {len} bytes does not fit a {pixels}-pixel tile")]
    Size { col: u16, row: u16, encoding: TileEncoding, len: usize, pixels: usize },
    #[error("tile ({col},{row}): {source}")]
    Qoi { col: u16, row: u16, source: QoiError },
}

/// Encodes tile (`col`, `row`) of `fb`: one colour as [`TileEncoding::Solid`], else QOI,
/// unless raw RGB happens to be smaller (noise).
pub fn encode_tile(fb: &Framebuffer, col: u32, row: u32) -> TilePayload {
    let rect = fb.tile_rect(col, row);
    let first = fb.row(rect, 0)[0];
    let solid = (0..rect.height).all(|y| fb.row(rect, y).iter().all(|&p| p == first));
    let (encoding, data) = if solid {
        (TileEncoding::Solid, vec![(first >> 16) as u8, (first >> 8) as u8, first as u8])
    } else {
        let mut data = Vec::with_capacity((rect.width * rect.height) as usize);
        qoi::encode((0..rect.height).flat_map(|y| fb.row(rect, y).iter().copied()), &mut data);
        let raw_len = (rect.width * rect.height * 3) as usize;
        if data.len() <= raw_len {
            (TileEncoding::Qoi, data)
        } else {
            let mut raw = Vec::with_capacity(raw_len);
            for y in 0..rect.height {
                for &p in fb.row(rect, y) {
                    raw.extend_from_slice(&[(p >> 16) as u8, (p >> 8) as u8, p as u8]);
                }
            }
            (TileEncoding::Raw, raw)
        }
    };
    TilePayload { col: col as u16, row: row as u16, encoding, data: Bytes::from(data) }
}

/// Encodes the listed tiles of `fb`.
pub fn encode_tiles(fb: &Framebuffer, tiles: &[(u32, u32)]) -> Vec<TilePayload> {
    tiles.iter().map(|&(c, r)| encode_tile(fb, c, r)).collect()
}

/// Decodes `tile` into its place in `fb`. On error `fb` may hold part of the tile; the
/// caller drops the whole frame.
pub fn decode_tile(tile: &TilePayload, fb: &mut Framebuffer) -> Result<(), TileError> {
    let (cols, rows) = fb.grid();
    let (col, row) = (tile.col, tile.row);
    if u32::from(col) >= cols || u32::from(row) >= rows {
        return Err(TileError::OutOfScreen { col, row, width: fb.width(), height: fb.height() });
    }
    let rect = fb.tile_rect(col.into(), row.into());
    let pixels = (rect.width * rect.height) as usize;
    let data = &tile.data[..];
    let size_err = || TileError::Size { col, row, encoding: tile.encoding, len: data.len(), pixels };
    if !tile.encoding.payload_len_ok(data.len(), pixels) {
        return Err(size_err());
    }
    match tile.encoding {
        TileEncoding::Solid => {
            let p = crate::framebuffer::rgb_word(data[0], data[1], data[2]);
            for y in 0..rect.height {
                fb.row_mut(rect, y).fill(p);
            }
        }
        TileEncoding::Raw => {
            for y in 0..rect.height {
                let src = &data[(y * rect.width * 3) as usize..][..(rect.width * 3) as usize];
                for (dst, c) in fb.row_mut(rect, y).iter_mut().zip(src.chunks_exact(3)) {
                    *dst = crate::framebuffer::rgb_word(c[0], c[1], c[2]);
                }
            }
        }
        TileEncoding::Qoi => {
            let mut buf = vec![0u32; pixels];
            qoi::decode(data, &mut buf).map_err(|source| TileError::Qoi { col, row, source })?;
            for (y, src) in buf.chunks_exact(rect.width as usize).enumerate() {
                fb.row_mut(rect, y as u32).copy_from_slice(src);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changed_tiles;
    use proptest::prelude::*;

    fn image(width: u32, height: u32, seed: u64, noise_level: u32) -> Framebuffer {
        // Deterministic mix of flat areas, gradients and noise.
        let mut s = seed | 1;
        let pixels = (0..width * height)
            .map(|i| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                let (x, y) = (i % width, i / width);
                match (x / 16 + y / 16) % 3 {
                    0 => 0x00_20_40_60,
                    1 => ((x * 3) & 0xff) << 16 | ((y * 5) & 0xff) << 8 | ((x + y) & 0xff),
                    _ => (s as u32) & 0x00ff_ffff & if (s >> 40) as u32 % 100 < noise_level { !0 } else { 0x00f0_f0f0 },
                }
            })
            .collect();
        Framebuffer::from_pixels(width, height, pixels)
    }

    fn round_trip(fb: &Framebuffer) -> Framebuffer {
        let tiles = changed_tiles(None, fb);
        let mut out = Framebuffer::new(fb.width(), fb.height());
        for t in encode_tiles(fb, &tiles) {
            decode_tile(&t, &mut out).unwrap();
        }
        out
    }

    #[test]
    fn chooses_solid_qoi_and_raw() {
        let flat = Framebuffer::from_pixels(64, 64, vec![0x123456; 64 * 64]);
        let t = encode_tile(&flat, 0, 0);
        assert_eq!((t.encoding, &t.data[..]), (TileEncoding::Solid, &[0x12, 0x34, 0x56][..]));
        let text = image(64, 64, 3, 0);
        assert_eq!(encode_tile(&text, 0, 0).encoding, TileEncoding::Qoi);
        let noise =
            Framebuffer::from_pixels(64, 64, (0..4096u32).map(|i| i.wrapping_mul(2_654_435_761) >> 8).collect());
        assert_eq!(encode_tile(&noise, 0, 0).encoding, TileEncoding::Raw);
        assert_eq!(round_trip(&noise), noise);
    }

    #[test]
    fn corrupt_tiles_are_rejected() {
        let mut fb = Framebuffer::new(100, 100);
        let bad = |encoding, data: Vec<u8>| TilePayload { col: 0, row: 0, encoding, data: Bytes::from(data) };
        assert!(matches!(decode_tile(&bad(TileEncoding::Qoi, vec![0xfe, 1]), &mut fb), Err(TileError::Qoi { .. })));
        assert!(matches!(
            decode_tile(&bad(TileEncoding::Qoi, vec![0xff, 1, 2, 3, 4]), &mut fb),
            Err(TileError::Qoi { .. })
        ));
        // 4096 pixels but a run of 62 * 67 = 4154 overruns.
        assert!(matches!(decode_tile(&bad(TileEncoding::Qoi, vec![0xfd; 67]), &mut fb), Err(TileError::Qoi { .. })));
        assert!(matches!(decode_tile(&bad(TileEncoding::Raw, vec![0; 5]), &mut fb), Err(TileError::Size { .. })));
        let far = TilePayload { col: 2, row: 0, encoding: TileEncoding::Solid, data: Bytes::from_static(&[0, 0, 0]) };
        assert!(matches!(decode_tile(&far, &mut fb), Err(TileError::OutOfScreen { .. })));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_image_round_trips_exactly(width in 1u32..200, height in 1u32..150, seed in any::<u64>(), noise in 0u32..100) {
            let fb = image(width, height, seed, noise);
            prop_assert_eq!(round_trip(&fb), fb);
        }

        #[test]
        fn arbitrary_pixels_round_trip(pixels in proptest::collection::vec(0u32..0x0100_0000, 1..400)) {
            let mut out = Vec::new();
            qoi::encode(pixels.iter().copied(), &mut out);
            let mut back = vec![0; pixels.len()];
            qoi::decode(&out, &mut back).unwrap();
            prop_assert_eq!(back, pixels);
        }

        #[test]
        fn arbitrary_qoi_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300), n in 1usize..300) {
            let mut out = vec![0; n];
            let _ = qoi::decode(&data, &mut out);
        }
    }
}
