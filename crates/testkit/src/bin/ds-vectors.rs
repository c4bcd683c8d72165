//! `ds-vectors OUT_DIR [SEED]`: writes test vectors for the browser's decoders, made by the Rust
//! encoder and the server's screen cache, so both sides are checked against one another.
//!
//! Each scenario is a folder of frame messages (`0001.bin`, …, in the order a viewer gets
//! them) and `final.rgb` (the screen they must end at, RGB) with `size` (`WxH`):
//! `live` is the presenter's own stream (rectangles, copies for scrolls and moved
//! windows); `lagging` is what a viewer that acks late gets from the server (merged
//! replays and catch-ups); `late` is a late joiner's catch-up, then the live frames;
//! `lossy` is a video playing beside typed text on a simulated clock, as a viewer that
//! joined while it played gets it (a catch-up with the server's JPEG of the lossy
//! tiles, then the presenter's frames with theirs), until refinement makes it exact.
//! A frame's images come decoded by the Rust decoder as `NNNN.imgK` (RGB) beside it, so
//! the browser's op handling is checked bit for bit without a JPEG decoder in node.
//! `video-vp9` and `video-vp8` are the same video in video mode, as a viewer that
//! decodes the codec gets it: after each frame with video chunks, `NNNN.screen` (RGB) is
//! the Rust decoder's picture, which the browser's WebCodecs pictures must come close
//! to (the same bitstream, decoded by another libvpx: colour conversion is where they
//! can differ).
use std::path::Path;
use std::time::{Duration, Instant};

use deskshare_codec::synthetic::{Change, apply_change, paint};
use deskshare_codec::{Decoder, Encoder, Framebuffer};
use deskshare_fanout::{PumpOutput, Screen, ViewerPump};
use deskshare_proto::{MediaMessage, PixelRect, VideoCodec};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 16) as u32
    }
}

fn change(rng: &mut Rng) -> Change {
    let rect = (rng.next() as u16, rng.next() as u16, 1 + (rng.next() % 200) as u16, 1 + (rng.next() % 150) as u16);
    match rng.next() % 9 {
        0..=2 => Change::Text { rect, seed: rng.next() },
        3 => Change::Photo { rect, seed: rng.next() },
        4..=6 => Change::Scroll { rect, dy: (rng.next() % 80) as i16 - 40, seed: rng.next() },
        _ => Change::Move { rect, dx: (rng.next() % 100) as i16 - 50, dy: (rng.next() % 100) as i16 - 50 },
    }
}

struct Out {
    dir: std::path::PathBuf,
    n: usize,
    check: Decoder,
}

impl Out {
    fn new(root: &Path, name: &str) -> Self {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        Out { dir, n: 0, check: Decoder::new() }
    }
    fn frame(&mut self, bytes: Vec<u8>) {
        let MediaMessage::Frame(f) = MediaMessage::decode(bytes.clone().into()).unwrap() else { panic!() };
        self.check.apply(&f).expect("the vector decodes in Rust");
        self.n += 1;
        std::fs::write(self.dir.join(format!("{:04}.bin", self.n)), bytes).unwrap();
        if !f.videos.is_empty() {
            let rgb = self.check.screen().expect("a screen").to_rgb();
            std::fs::write(self.dir.join(format!("{:04}.screen", self.n)), rgb).unwrap();
        }
        for (k, image) in f.images.iter().enumerate() {
            let pixels = deskshare_codec::image::decode_image(image).expect("the image decodes");
            let rgb = Framebuffer::from_pixels(image.width.into(), image.height.into(), pixels).to_rgb();
            std::fs::write(self.dir.join(format!("{:04}.img{k}", self.n)), rgb).unwrap();
        }
    }
    fn finish(self, screen: &Framebuffer) {
        assert_eq!(self.check.screen(), Some(screen), "{}: the Rust decoder ends exact", self.dir.display());
        std::fs::write(self.dir.join("final.rgb"), screen.to_rgb()).unwrap();
        std::fs::write(self.dir.join("size"), format!("{}x{}", screen.width(), screen.height())).unwrap();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    assert!(matches!(args.len(), 2 | 3), "usage: ds-vectors OUT_DIR [SEED]");
    let root = Path::new(&args[1]);
    let seed: u64 = args.get(2).map_or(0, |s| s.parse().expect("SEED is a number"));
    // Each seed is another random sequence of changes on another screen size.
    let (width, height) = (333u32 + (seed % 7) as u32 * 41, 250u32 + (seed % 5) as u32 * 37);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
    let mut screen = Framebuffer::new(width, height);
    paint(&mut screen, PixelRect::new(0, 0, width as u16, height as u16), 11, 6);
    let mut encoder = Encoder::new(6);
    let mut frames = Vec::new();
    for step in 0..60 {
        let mut hints = Vec::new();
        for _ in 0..1 + rng.next() % 3 {
            let c = change(&mut rng);
            if let Change::Move { dx, dy, .. } = c {
                hints.push((i32::from(dx), i32::from(dy)));
            }
            apply_change(&mut screen, &c);
        }
        // Scrolls of the whole screen too, the terminal's case.
        if step % 5 == 0 {
            apply_change(
                &mut screen,
                &Change::Scroll { rect: (0, 0, width as u16, height as u16), dy: -19, seed: step },
            );
        }
        if let Some(f) = encoder.encode(screen.clone(), &hints, std::time::Instant::now()) {
            frames.push(f);
        }
    }
    assert!(frames.iter().any(|f| f.ops.iter().any(|o| matches!(o, deskshare_proto::Op::Copy { .. }))));

    let mut live = Out::new(root, "live");
    for f in &frames {
        live.frame(f.encode());
    }
    live.finish(&screen);

    let t0 = Instant::now();
    let mut cache = Screen::new();
    let mut lagging = Out::new(root, "lagging");
    let mut slow = ViewerPump::new(2);
    let mut late: Option<(Out, ViewerPump)> = None;
    for (i, f) in frames.iter().enumerate() {
        cache.apply(f, t0).unwrap();
        while let Some(out) = slow.poll(&mut cache, t0) {
            if let PumpOutput::Frame(u) = out {
                lagging.frame(u.encode());
            }
        }
        if i % 4 == 3 {
            slow.on_ack(slow.sent(), t0).unwrap();
        }
        if i == 20 + (seed as usize % 20) {
            late = Some((Out::new(root, "late"), ViewerPump::new(2)));
        }
        if let Some((out, pump)) = &mut late {
            while let Some(o) = pump.poll(&mut cache, t0) {
                if let PumpOutput::Frame(u) = o {
                    out.frame(u.encode());
                    pump.on_ack(u.header.frame, t0).unwrap();
                }
            }
        }
    }
    slow.on_ack(slow.sent(), t0).unwrap();
    while let Some(out) = slow.poll(&mut cache, t0) {
        if let PumpOutput::Frame(u) = out {
            lagging.frame(u.encode());
            slow.on_ack(u.header.frame, t0).unwrap();
        }
    }
    lagging.finish(&screen);
    late.expect("a late joiner").0.finish(&screen);
    lossy(root, width, height, seed, None);
    lossy(root, width, height, seed, Some(VideoCodec::Vp9));
    lossy(root, width, height, seed, Some(VideoCodec::Vp8));
    println!("{}", root.display());
}

/// A video plays for two seconds beside typing, 25 frames a second; a viewer joins
/// after 1.5 s; then the screen is still until every lossy tile is refined. With a
/// codec, the video becomes a stream in it (`video-vp9`, `video-vp8`), and the viewer
/// decodes that codec.
fn lossy(root: &Path, width: u32, height: u32, seed: u64, codec: Option<VideoCodec>) {
    let mut screen = Framebuffer::new(width, height);
    paint(&mut screen, PixelRect::new(0, 0, width as u16, height as u16), 11, 6);
    // Large enough for video mode (256x144) when it is on.
    let video = (10 + seed as u16 * 3, 20, if codec.is_some() { 260 } else { 200 }, 150);
    let mut encoder = Encoder::new(6);
    encoder.video.set_codec(codec);
    let mut cache = Screen::new();
    let name = codec.map_or("lossy".to_string(), |c| format!("video-{}", c.name()));
    let mut out = Out::new(root, &name);
    let mut viewer: Option<ViewerPump> = None;
    let t0 = Instant::now();
    let mut images = 0;
    for step in 0..120u32 {
        let now = t0 + Duration::from_millis(40) * step;
        if step < 50 {
            apply_change(&mut screen, &Change::Video { rect: video, seed: step });
            let cell = (220 + (step as u16 % 10) * 10, 200, 9, 18);
            apply_change(&mut screen, &Change::Text { rect: cell, seed: 2 * step });
        }
        if let Some(f) = encoder.encode(screen.clone(), &[], now) {
            images += f.images.len();
            cache.apply(&f, now).unwrap();
        }
        if cache.take_keyframe_request() {
            encoder.video.ask_keyframe();
        }
        if step == 38 {
            let mut pump = ViewerPump::new(2);
            pump.set_video_codecs(&codec.into_iter().collect::<Vec<_>>());
            viewer = Some(pump);
        }
        if let Some(pump) = &mut viewer {
            while let Some(o) = pump.poll(&mut cache, now) {
                if let PumpOutput::Frame(u) = o {
                    out.frame(u.encode());
                    pump.on_ack(u.header.frame, now).unwrap();
                }
            }
        }
    }
    assert!(images > 0, "the video went lossy");
    if codec.is_some() {
        assert!(
            std::fs::read_dir(&out.dir).unwrap().flatten().any(|e| e.path().extension() == Some("screen".as_ref()))
        );
    }
    assert_eq!(encoder.lossy_mask().count(), 0, "refined within the 2.8 s of stillness");
    out.finish(&screen);
}
