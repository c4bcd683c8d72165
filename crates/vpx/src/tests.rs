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

#[test]
fn colour_conversion_round_trips_closely() {
    let (w, h) = (64, 32);
    let px = frame(w, h, 0);
    let (mut y, mut u, mut v) = (vec![0; w * h], vec![0; w * h / 4], vec![0; w * h / 4]);
    rgb_to_i420(&px, w, w, h, &mut y, &mut u, &mut v, [w, w / 2, w / 2]);
    let mut back = vec![0; w * h];
    i420_to_rgb(&y, &u, &v, [w, w / 2, w / 2], w, h, &mut back);
    assert!(psnr(&px, &back) > 35.0, "{:.1} dB", psnr(&px, &back));
}

#[test]
fn a_sequence_round_trips_with_keyframes_where_asked() {
    if let Err(e) = available() {
        panic!("libvpx is installed on test machines (scripts/test.sh): {e}");
    }
    let (w, h) = (320, 240);
    let mut enc = Vp8Encoder::new(w, h, 1500, 25).unwrap();
    let mut dec = Vp8Decoder::new().unwrap();
    let mut out = Vec::new();
    let mut total = 0;
    for t in 0..30u32 {
        let src = frame(w as usize, h as usize, t);
        let f = enc.encode(&src, w as usize, i64::from(t) * 40, t == 20).unwrap();
        assert!(!f.data.is_empty(), "frame {t} encoded");
        assert_eq!(f.keyframe, t == 0 || t == 20, "frame {t}: keyframe only first and when forced");
        total += f.data.len();
        dec.decode(&f.data, w, h, &mut out).unwrap();
        if t > 3 {
            let db = psnr(&src, &out);
            assert!(db > 28.0, "frame {t}: {db:.1} dB");
        }
    }
    // Inter frames make a moving picture far smaller than 30 JPEGs of it would be.
    assert!(total < 30 * 12_000, "{total} bytes for 30 frames");
}

#[test]
fn a_fresh_decoder_starts_at_a_keyframe_and_refuses_garbage() {
    let (w, h) = (64, 48);
    let mut enc = Vp8Encoder::new(w, h, 300, 25).unwrap();
    let key = enc.encode(&frame(64, 48, 0), 64, 0, false).unwrap();
    let inter = enc.encode(&frame(64, 48, 1), 64, 40, false).unwrap();
    assert!(key.keyframe && !inter.keyframe);
    let mut out = Vec::new();
    // An inter frame first: nothing to predict from.
    assert!(Vp8Decoder::new().unwrap().decode(&inter.data, w, h, &mut out).is_err());
    // Garbage, truncations, a wrong size: errors, never a crash.
    let mut dec = Vp8Decoder::new().unwrap();
    assert!(dec.decode(&[0xff; 100], w, h, &mut out).is_err());
    for cut in [0, 1, 3, 10, key.data.len() / 2] {
        let _ = Vp8Decoder::new().unwrap().decode(&key.data[..cut], w, h, &mut out);
    }
    assert!(matches!(
        Vp8Decoder::new().unwrap().decode(&key.data, 32, 48, &mut out),
        Err(VpxError::SizeMismatch { .. })
    ));
    assert!(matches!(Vp8Decoder::new().unwrap().decode(&key.data, 63, 48, &mut out), Err(VpxError::BadSize(..))));
    let mut dec = Vp8Decoder::new().unwrap();
    dec.decode(&key.data, w, h, &mut out).unwrap();
    dec.decode(&inter.data, w, h, &mut out).unwrap();
    assert_eq!(out.len(), 64 * 48);
}

mod corrupt {
    use super::*;
    use proptest::prelude::*;

    /// A keyframe and two inter frames of a small moving picture, encoded once.
    fn stream() -> &'static [Encoded] {
        static S: std::sync::OnceLock<Vec<Encoded>> = std::sync::OnceLock::new();
        S.get_or_init(|| {
            let mut enc = Vp8Encoder::new(96, 64, 400, 25).unwrap();
            (0..3).map(|t| enc.encode(&frame(96, 64, t), 96, i64::from(t) * 40, false).unwrap()).collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Corrupt chunks, in any order, are an error or a picture of the declared size:
        /// never a crash, never another size.
        #[test]
        fn corrupt_chunks_never_crash(
            edits in proptest::collection::vec((0usize..3, any::<usize>(), any::<u8>()), 0..12),
            cuts in proptest::collection::vec(0usize..2000, 3),
            order in Just([0usize, 1, 2]).prop_shuffle(),
        ) {
            let mut chunks: Vec<Vec<u8>> = stream().iter().map(|e| e.data.clone()).collect();
            for (c, at, v) in edits {
                let n = chunks[c].len();
                chunks[c][at % n] ^= v;
            }
            for (c, cut) in cuts.into_iter().enumerate() {
                let n = chunks[c].len();
                chunks[c].truncate(n - cut.min(n / 2));
            }
            let mut dec = Vp8Decoder::new().unwrap();
            let mut out = Vec::new();
            for i in order {
                if dec.decode(&chunks[i], 96, 64, &mut out).is_ok() {
                    prop_assert_eq!(out.len(), 96 * 64);
                }
            }
        }
    }
}
