//! Bytes and PSNR of the VP8 and VP9 encoders at several bitrates on a clip, for
//! docs/PERFORMANCE.md:
//!
//! ```sh
//! ffmpeg -f lavfi -i mandelbrot=size=640x360:rate=25 -frames:v 100 -f rawvideo -pix_fmt rgb24 /tmp/clip.rgb
//! cargo run --release -p deskshare-vpx --example rate -- /tmp/clip.rgb 640 360
//! ```
//!
//! Frames after the first second are counted (the encoder has settled by then).

use deskshare_vpx::{Codec, VideoDecoder, VideoEncoder};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    assert!(args.len() == 4, "usage: rate CLIP.rgb WIDTH HEIGHT");
    let (w, h): (usize, usize) = (args[2].parse().expect("WIDTH"), args[3].parse().expect("HEIGHT"));
    let raw = std::fs::read(&args[1]).expect("the clip");
    let frames: Vec<Vec<u32>> = raw
        .chunks_exact(w * h * 3)
        .map(|f| {
            f.chunks_exact(3).map(|c| (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2])).collect()
        })
        .collect();
    for (codec, kbps) in [Codec::Vp8, Codec::Vp9].into_iter().flat_map(|c| [700u32, 2000, 6000, 12000].map(|k| (c, k)))
    {
        let mut enc = VideoEncoder::new(codec, w as u32, h as u32, kbps, 25).expect("libvpx");
        let mut dec = VideoDecoder::new(codec).expect("libvpx");
        let started = std::time::Instant::now();
        let (mut bytes, mut db, mut n) = (0usize, 0f64, 0usize);
        let mut out = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            let e = enc.encode(f, w, i as i64 * 40, i == 0).expect("encodes");
            dec.decode(&e.data, w as u32, h as u32, &mut out).expect("decodes");
            if i >= 25 {
                bytes += e.data.len();
                n += 1;
                let mut se = 0f64;
                for (&p, &q) in f.iter().zip(&out) {
                    for s in [16, 8, 0] {
                        let d = f64::from((p >> s) as u8) - f64::from((q >> s) as u8);
                        se += d * d;
                    }
                }
                db += 10.0 * (255.0f64 * 255.0 * (w * h * 3) as f64 / se.max(1.0)).log10();
            }
        }
        let per = bytes / n.max(1);
        println!(
            "{} {kbps} kbit/s asked: {per} B a frame ({:.0} kB/s at 25 fps), PSNR {:.1} dB, {:.1} ms a frame encoded and decoded",
            codec.name(),
            per as f64 * 0.025,
            db / n.max(1) as f64,
            started.elapsed().as_secs_f64() * 1000.0 / frames.len() as f64
        );
    }
}
