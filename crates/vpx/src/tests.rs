use super::*;

/// A moving continuous-tone picture, `0x00RRGGBB`.
fn frame(w: usize, h: usize, t: u32) -> Vec<u32> {
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let fx = x as f32 + t as f32 * 3.0;
            let fy = y as f32;
            let r = (128.0 + 100.0 * (fx * 0.05).sin()) as u32;
            let g = (128.0 + 100.0 * (fy * 0.04 + t as f32 * 0.1).cos()) as u32;
            let b = (128.0 + 60.0 * ((fx + fy) * 0.03).sin()) as u32;
            out.push((r << 16) | (g << 8) | b);
        }
    }
    out
}

fn psnr(a: &[u32], b: &[u32]) -> f64 {
    let mut sum = 0f64;
    for (&p, &q) in a.iter().zip(b) {
        for s in [16, 8, 0] {
            let d = f64::from((p >> s) as u8) - f64::from((q >> s) as u8);
            sum += d * d;
        }
    }
    let mse = sum / (a.len() as f64 * 3.0);
    10.0 * (255.0 * 255.0 / mse.max(1e-9)).log10()
}

const BOTH: [Codec; 2] = [Codec::Vp8, Codec::Vp9];

/// Saturated colours changing every pixel: what 4:2:0 cannot carry.
fn stripes(w: usize, h: usize) -> Vec<u32> {
    (0..w * h).map(|i| [0xff0000, 0x00ff00, 0x0000ff, 0xffff00][(i % w + i / w) % 4]).collect()
}

fn convert(layout: Layout, px: &[u32], w: usize, h: usize) -> Vec<u32> {
    let (cw, ch) = layout.chroma_size(w, h);
    let (mut y, mut u, mut v) = (vec![0; w * h], vec![0; cw * ch], vec![0; cw * ch]);
    rgb_to_yuv(layout, px, w, w, h, &mut y, &mut u, &mut v, [w, cw, cw]);
    let mut back = vec![0; w * h];
    yuv_to_rgb(layout, &y, &u, &v, [w, cw, cw], w, h, &mut back);
    back
}

#[test]
fn colour_conversion_round_trips_closely() {
    let (w, h) = (64, 32);
    let px = frame(w, h, 0);
    for layout in [Layout::VP8, Layout::VP9] {
        let back = convert(layout, &px, w, h);
        assert!(psnr(&px, &back) > 35.0, "{layout:?}: {:.1} dB", psnr(&px, &back));
    }
    // Full-range 4:4:4 keeps every pixel's own colour: within rounding of the source,
    // where 4:2:0 mixes each 2×2 block's colours.
    let px = stripes(w, h);
    let full = convert(Layout::VP9, &px, w, h);
    for (&a, &b) in px.iter().zip(&full) {
        for s in [16, 8, 0] {
            assert!(((a >> s) as u8).abs_diff((b >> s) as u8) <= 2, "{a:06x} came back {b:06x}");
        }
    }
    assert!(psnr(&px, &full) > 45.0);
    assert!(psnr(&px, &convert(Layout::VP8, &px, w, h)) < 15.0);
}

#[test]
fn a_sequence_round_trips_with_keyframes_where_asked() {
    for codec in BOTH {
        round_trip(codec);
    }
}

fn round_trip(codec: Codec) {
    if let Err(e) = available() {
        panic!("libvpx is installed on test machines (scripts/test.sh): {e}");
    }
    let (w, h) = (320, 240);
    let mut enc = VideoEncoder::new(codec, w, h, 1500, 25).unwrap();
    let mut dec = VideoDecoder::new(codec).unwrap();
    let mut out = Vec::new();
    let mut total = 0;
    for t in 0..30u32 {
        let src = frame(w as usize, h as usize, t);
        let f = enc.encode(&src, w as usize, i64::from(t) * 40, t == 20).unwrap();
        assert!(!f.data.is_empty(), "{codec:?} frame {t} encoded");
        assert_eq!(f.keyframe, t == 0 || t == 20, "{codec:?} frame {t}: keyframe only first and when forced");
        total += f.data.len();
        dec.decode(&f.data, w, h, &mut out).unwrap();
        if t > 3 {
            let db = psnr(&src, &out);
            assert!(db > 28.0, "{codec:?} frame {t}: {db:.1} dB");
        }
    }
    // Inter frames make a moving picture far smaller than 30 JPEGs of it would be.
    assert!(total < 30 * 12_000, "{codec:?}: {total} bytes for 30 frames");
}

#[test]
fn vp9_keeps_saturated_detail_that_vp8_cannot() {
    // The same stripes through both at the same generous bitrate: VP8's 4:2:0 mixes
    // them into mud, VP9 4:4:4 keeps them.
    let (w, h) = (128, 96);
    let px = stripes(w, h);
    let mut db = Vec::new();
    for codec in BOTH {
        let mut enc = VideoEncoder::new(codec, w as u32, h as u32, 4000, 25).unwrap();
        let mut dec = VideoDecoder::new(codec).unwrap();
        let mut out = Vec::new();
        for t in 0..5 {
            let f = enc.encode(&px, w, t * 40, false).unwrap();
            dec.decode(&f.data, w as u32, h as u32, &mut out).unwrap();
        }
        db.push(psnr(&px, &out));
    }
    assert!(db[0] < 15.0 && db[1] > 25.0, "VP8 {:.1} dB, VP9 {:.1} dB", db[0], db[1]);
}

#[test]
fn a_fresh_decoder_starts_at_a_keyframe_and_refuses_garbage() {
    for codec in BOTH {
        fresh_and_garbage(codec);
    }
}

fn fresh_and_garbage(codec: Codec) {
    let (w, h) = (64, 48);
    let mut enc = VideoEncoder::new(codec, w, h, 300, 25).unwrap();
    let key = enc.encode(&frame(64, 48, 0), 64, 0, false).unwrap();
    let inter = enc.encode(&frame(64, 48, 1), 64, 40, false).unwrap();
    assert!(key.keyframe && !inter.keyframe);
    let mut out = Vec::new();
    // An inter frame first: nothing to predict from.
    assert!(VideoDecoder::new(codec).unwrap().decode(&inter.data, w, h, &mut out).is_err(), "{codec:?}");
    // Garbage, truncations, a wrong size: errors, never a crash.
    let mut dec = VideoDecoder::new(codec).unwrap();
    assert!(dec.decode(&[0xff; 100], w, h, &mut out).is_err());
    for cut in [0, 1, 3, 10, key.data.len() / 2] {
        let _ = VideoDecoder::new(codec).unwrap().decode(&key.data[..cut], w, h, &mut out);
    }
    assert!(matches!(
        VideoDecoder::new(codec).unwrap().decode(&key.data, 32, 48, &mut out),
        Err(VpxError::SizeMismatch { .. })
    ));
    assert!(matches!(
        VideoDecoder::new(codec).unwrap().decode(&key.data, 63, 48, &mut out),
        Err(VpxError::BadSize(..))
    ));
    // The other codec's decoder refuses the stream.
    let other = if codec == Codec::Vp8 { Codec::Vp9 } else { Codec::Vp8 };
    assert!(VideoDecoder::new(other).unwrap().decode(&key.data, w, h, &mut out).is_err(), "{codec:?} as {other:?}");
    let mut dec = VideoDecoder::new(codec).unwrap();
    dec.decode(&key.data, w, h, &mut out).unwrap();
    dec.decode(&inter.data, w, h, &mut out).unwrap();
    assert_eq!(out.len(), 64 * 48);
}

mod corrupt {
    use super::*;
    use proptest::prelude::*;

    /// A keyframe and two inter frames of a small moving picture, encoded once a codec.
    fn stream(codec: Codec) -> &'static [Encoded] {
        static S: std::sync::OnceLock<[Vec<Encoded>; 2]> = std::sync::OnceLock::new();
        let both = S.get_or_init(|| {
            BOTH.map(|codec| {
                let mut enc = VideoEncoder::new(codec, 96, 64, 400, 25).unwrap();
                (0..3).map(|t| enc.encode(&frame(96, 64, t), 96, i64::from(t) * 40, false).unwrap()).collect()
            })
        });
        &both[usize::from(codec == Codec::Vp9)]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Corrupt chunks, in any order, are an error or a picture of the declared size:
        /// never a crash, never another size.
        #[test]
        fn corrupt_chunks_never_crash(
            vp9 in any::<bool>(),
            edits in proptest::collection::vec((0usize..3, any::<usize>(), any::<u8>()), 0..12),
            cuts in proptest::collection::vec(0usize..2000, 3),
            order in Just([0usize, 1, 2]).prop_shuffle(),
        ) {
            let codec = if vp9 { Codec::Vp9 } else { Codec::Vp8 };
            let mut chunks: Vec<Vec<u8>> = stream(codec).iter().map(|e| e.data.clone()).collect();
            for (c, at, v) in edits {
                let n = chunks[c].len();
                chunks[c][at % n] ^= v;
            }
            for (c, cut) in cuts.into_iter().enumerate() {
                let n = chunks[c].len();
                chunks[c].truncate(n - cut.min(n / 2));
            }
            let mut dec = VideoDecoder::new(codec).unwrap();
            let mut out = Vec::new();
            for i in order {
                if dec.decode(&chunks[i], 96, 64, &mut out).is_ok() {
                    prop_assert_eq!(out.len(), 96 * 64);
                }
            }
        }
    }
}
