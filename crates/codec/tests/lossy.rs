//! The lossy path, on a simulated clock: what keeps changing with many colours goes
//! lossy, text beside it stays exact in every frame, and once still everything is
//! refined to exact within a second.

use std::time::{Duration, Instant};

use deskshare_codec::image::psnr;
use deskshare_codec::lossy::{HOT_AFTER, SETTLE};
use deskshare_codec::synthetic::{Change, apply_change, paint};
use deskshare_codec::{Decoder, Encoder, Framebuffer};
use deskshare_proto::{FrameImage, FrameMessage, ImageFormat, MediaMessage, Op, PixelRect, VideoCodec};
use proptest::prelude::*;

const FRAME: Duration = Duration::from_millis(40);
const VIDEO: (u16, u16, u16, u16) = (64, 64, 320, 192);
const TEXT: PixelRect = PixelRect { x: 400, y: 300, width: 200, height: 60 };

fn desktop() -> Framebuffer {
    let mut fb = Framebuffer::new(640, 400);
    paint(&mut fb, PixelRect::new(0, 0, 640, 400), 5, 6);
    fb
}

/// Sends `fb` through the wire format into `dec`.
fn deliver(dec: &mut Decoder, f: &FrameMessage) {
    let MediaMessage::Frame(wire) = MediaMessage::decode(f.encode().into()).unwrap() else { panic!("a frame") };
    dec.apply(&wire).unwrap();
}

fn video_rect() -> PixelRect {
    PixelRect::new(VIDEO.0, VIDEO.1, VIDEO.2, VIDEO.3)
}

#[test]
fn a_playing_video_goes_lossy_text_beside_it_stays_exact_and_all_ends_exact() {
    let t0 = Instant::now();
    let mut screen = desktop();
    let mut enc = Encoder::new(6);
    let mut lossless = Encoder::new(6);
    lossless.set_lossy_quality(None);
    let mut dec = Decoder::new();
    let (mut lossy_bytes, mut lossless_bytes, mut lossy_frames) = (0usize, 0usize, 0);
    let mut now = t0;
    for i in 0..60u32 {
        now = t0 + FRAME * i;
        apply_change(&mut screen, &Change::Video { rect: VIDEO, seed: i });
        // Someone types beside the video: a new antialiased glyph cell every frame.
        let cell = (TEXT.x + (i as u16 % 20) * 10, TEXT.y + (i as u16 / 20) * 20, 9, 18);
        apply_change(&mut screen, &Change::Text { rect: cell, seed: 2 * i });
        let f = enc.encode(screen.clone(), &[], now).expect("the screen changed");
        let plain = lossless.encode(screen.clone(), &[], now).expect("the screen changed");
        deliver(&mut dec, &f);
        let got = dec.screen().unwrap();
        // The text area is exact in every frame, and no IMAGE op touches it.
        assert_eq!(psnr(got, &screen, TEXT), f64::INFINITY, "text not exact in frame {i}");
        for op in &f.ops {
            if let Op::Image { to, .. } = op {
                assert!(!to.overlaps(&TEXT), "lossy area {to:?} over the text");
                assert!(to.overlaps(&video_rect()), "lossy area {to:?} outside the video");
            }
        }
        if now.duration_since(t0) < HOT_AFTER {
            assert!(f.images.is_empty(), "lossy before the video played for a second (frame {i})");
        } else if now.duration_since(t0) >= HOT_AFTER + FRAME {
            assert_eq!(f.images.len(), 1, "one image a frame once hot (frame {i})");
            lossy_frames += 1;
            lossy_bytes += f.encoded_len();
            lossless_bytes += plain.encoded_len();
            let db = psnr(got, &screen, video_rect());
            assert!(db > 30.0, "video at {db:.1} dB in frame {i}");
        }
    }
    assert!(lossy_frames >= 30);
    // Far fewer bytes than exact coding of the same frames.
    assert!(lossy_bytes * 4 < lossless_bytes, "lossy {lossy_bytes} B vs lossless {lossless_bytes} B");
    assert!(enc.lossy_mask().count() > 0);

    // The video stops: within a second every viewer is exact again.
    let stopped = now;
    let mut refined = 0;
    while dec.lossy_mask().count() > 0 {
        now += FRAME;
        assert!(now.duration_since(stopped) <= Duration::from_secs(1), "not refined within a second");
        let due = enc.refine_due().expect("lossy tiles are due for refinement");
        if let Some(f) = enc.encode(screen.clone(), &[], now) {
            assert!(f.images.is_empty(), "refinement is exact");
            assert!(due <= now);
            refined += enc.last.refined_tiles;
            deliver(&mut dec, &f);
        } else {
            assert!(due > now, "a refinement was due but nothing was sent");
        }
    }
    assert!(now.duration_since(stopped) >= SETTLE);
    assert_eq!(dec.screen(), Some(&screen));
    assert_eq!(enc.refine_due(), None);
    // The video covers 5x3 tiles, each refined once.
    assert_eq!(refined, 15);
    // Nothing more to send once exact.
    assert!(enc.encode(screen.clone(), &[], now + Duration::from_secs(5)).is_none());
}

#[test]
fn lossy_pixels_moved_by_a_scroll_are_refined_too() {
    let t0 = Instant::now();
    let mut screen = desktop();
    let mut enc = Encoder::new(6);
    let mut dec = Decoder::new();
    let mut now = t0;
    for i in 0..40u32 {
        now = t0 + FRAME * i;
        apply_change(&mut screen, &Change::Video { rect: VIDEO, seed: i });
        deliver(&mut dec, &enc.encode(screen.clone(), &[], now).unwrap());
    }
    assert!(dec.lossy_mask().count() > 0);
    // The video's page scrolls down by 96 rows at once: its (lossy) pixels are copied to
    // tiles that were exact, and the new rows above are text.
    now += FRAME;
    apply_change(&mut screen, &Change::Scroll { rect: (0, 0, 640, 400), dy: 96, seed: 3 });
    let f = enc.encode(screen.clone(), &[], now).unwrap();
    assert!(f.ops.iter().any(|op| matches!(op, Op::Copy { .. })), "the scroll is a copy");
    deliver(&mut dec, &f);
    // Rows 256..352 were below the video; they now hold its lower part, copied lossy.
    let below = PixelRect::new(64, 64 + 192 + 64, 320, 32);
    let mask = dec.lossy_mask();
    let row5: Vec<usize> = mask.tiles().filter(|&i| mask.tile_rect(i).y == 320).collect();
    assert_eq!(row5.len(), 5, "the copy's destination tiles are marked lossy");
    assert_ne!(psnr(dec.screen().unwrap(), &screen, below), f64::INFINITY, "copied lossy pixels are not exact yet");
    for _ in 0..40 {
        now += FRAME;
        if let Some(f) = enc.encode(screen.clone(), &[], now) {
            deliver(&mut dec, &f);
        }
    }
    assert_eq!(dec.lossy_mask().count(), 0);
    assert_eq!(dec.screen(), Some(&screen), "the copied lossy area was refined");
}

#[test]
fn lossless_mode_never_sends_images() {
    let t0 = Instant::now();
    let mut screen = desktop();
    let mut enc = Encoder::new(6);
    enc.set_lossy_quality(None);
    let mut dec = Decoder::new();
    for i in 0..50u32 {
        apply_change(&mut screen, &Change::Video { rect: VIDEO, seed: i });
        let f = enc.encode(screen.clone(), &[], t0 + FRAME * i).unwrap();
        assert!(f.images.is_empty());
        deliver(&mut dec, &f);
        assert_eq!(dec.screen(), Some(&screen));
    }
}

/// A decoder holding a playing video, and the first frame whose image ops read a real
/// JPEG, for corrupting. (Encoded once; each case decodes the frames again.)
fn image_frame() -> (Decoder, FrameMessage) {
    static FRAMES: std::sync::OnceLock<Vec<FrameMessage>> = std::sync::OnceLock::new();
    let frames = FRAMES.get_or_init(|| {
        let t0 = Instant::now();
        let mut screen = desktop();
        let mut enc = Encoder::new(6);
        let mut frames = Vec::new();
        for i in 0..40u32 {
            apply_change(&mut screen, &Change::Video { rect: VIDEO, seed: i });
            let f = enc.encode(screen.clone(), &[], t0 + FRAME * i).unwrap();
            let lossy = !f.images.is_empty();
            frames.push(f);
            if lossy {
                return frames;
            }
        }
        panic!("the video never went lossy");
    });
    let mut dec = Decoder::new();
    for f in &frames[..frames.len() - 1] {
        deliver(&mut dec, f);
    }
    (dec, frames.last().unwrap().clone())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Corrupt, truncated or resized images are refused whole: an error, never a panic,
    /// and the screen stays as it was.
    #[test]
    fn bad_images_are_refused_whole(
        cut in 0usize..4000, flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
        dw in -40i32..40, dh in -40i32..40,
    ) {
        let (mut dec, good) = image_frame();
        let before = dec.screen().cloned();
        let image = &good.images[0];
        let mut data = image.data.to_vec();
        for (at, v) in &flips {
            let i = at % data.len();
            data[i] ^= v;
        }
        data.truncate(data.len().saturating_sub(cut % data.len().max(1)));
        let width = (i32::from(image.width) + dw).clamp(1, 4000) as u16;
        let height = (i32::from(image.height) + dh).clamp(1, 4000) as u16;
        let bad = FrameMessage {
            images: vec![FrameImage { format: ImageFormat::Jpeg, width, height, data: data.into() }],
            ..good.clone()
        };
        let untouched = flips.is_empty() && cut % image.data.len() == 0 && dw == 0 && dh == 0;
        // Through the wire: the message may already be refused (an op outside a smaller
        // image); else the decoder refuses it whole or (bytes flipped inside the
        // entropy-coded data still decode) paints it.
        match MediaMessage::decode(bad.encode().into()) {
            Ok(MediaMessage::Frame(wire)) => match dec.apply(&wire) {
                Ok(_) => {}
                Err(e) => {
                    prop_assert!(!untouched, "the good frame was refused: {e}");
                    prop_assert_eq!(dec.screen().cloned(), before);
                }
            },
            Ok(_) => prop_assert!(false, "not a frame"),
            Err(e) => prop_assert!(!untouched, "the good frame was refused: {e}"),
        }
    }
}

#[test]
fn a_large_moving_area_becomes_a_vp9_stream_and_ends_exact() {
    moving_area_becomes_a_stream(VideoCodec::Vp9);
}

#[test]
fn a_large_moving_area_becomes_a_vp8_stream_and_ends_exact() {
    moving_area_becomes_a_stream(VideoCodec::Vp8);
}

fn moving_area_becomes_a_stream(codec: VideoCodec) {
    let t0 = Instant::now();
    let mut screen = desktop();
    let mut enc = Encoder::new(6);
    enc.video.set_codec(Some(codec));
    let mut dec = Decoder::new();
    let (mut jpeg_frames, mut jpeg_bytes, mut video_frames, mut video_bytes, mut keyframes) = (0, 0, 0, 0, 0);
    let mut now = t0;
    for i in 0..90u32 {
        now = t0 + FRAME * i;
        apply_change(&mut screen, &Change::Video { rect: VIDEO, seed: i });
        let cell = (TEXT.x + (i as u16 % 20) * 10, TEXT.y, 9, 18);
        apply_change(&mut screen, &Change::Text { rect: cell, seed: 2 * i });
        let f = enc.encode(screen.clone(), &[], now).unwrap();
        deliver(&mut dec, &f);
        assert_eq!(psnr(dec.screen().unwrap(), &screen, TEXT), f64::INFINITY, "text exact in frame {i}");
        if !f.videos.is_empty() {
            assert!(f.images.is_empty(), "the video region is not also JPEG");
            assert_eq!(f.videos[0].codec, codec);
            let Some(Op::Video { to, .. }) = f.ops.iter().find(|o| matches!(o, Op::Video { .. })) else { panic!() };
            assert!(to.overlaps(&video_rect()) && !to.overlaps(&TEXT), "{to:?}");
            video_frames += 1;
            video_bytes += f.encoded_len();
            keyframes += usize::from(f.videos[0].keyframe);
            let db = psnr(dec.screen().unwrap(), &screen, video_rect());
            assert!(db > 25.0, "video at {db:.1} dB in frame {i}");
        } else if !f.images.is_empty() {
            jpeg_frames += 1;
            jpeg_bytes += f.encoded_len();
        }
    }
    assert!(jpeg_frames >= 5, "JPEG first, until the area is known to be steady: {jpeg_frames}");
    assert!(video_frames >= 40, "then video: {video_frames} frames");
    assert_eq!(keyframes, 1, "one keyframe when the stream starts");
    let (per_jpeg, per_video) = (jpeg_bytes / jpeg_frames, video_bytes / video_frames);
    assert!(per_video * 3 < per_jpeg, "video {per_video} B a frame vs JPEG {per_jpeg} B");
    // A viewer asks for a keyframe: the next chunk is one.
    enc.video.ask_keyframe();
    apply_change(&mut screen, &Change::Video { rect: VIDEO, seed: 1000 });
    now += FRAME;
    let f = enc.encode(screen.clone(), &[], now).unwrap();
    assert!(f.videos[0].keyframe);
    let mut fresh = Decoder::new();
    // A decoder that never saw the stream cannot go on with an inter chunk.
    apply_change(&mut screen, &Change::Video { rect: VIDEO, seed: 1001 });
    now += FRAME;
    let inter = enc.encode(screen.clone(), &[], now).unwrap();
    deliver(&mut dec, &f);
    deliver(&mut dec, &inter);
    assert!(!inter.videos[0].keyframe);
    let kf = {
        let mut e = Encoder::new(6);
        e.encode(screen.clone(), &[], now).unwrap()
    };
    deliver(&mut fresh, &kf);
    assert!(matches!(fresh.apply(&inter), Err(deskshare_codec::ApplyError::Video { .. })));
    // The video stops: refined to exact within a second, the stream ends.
    let stopped = now;
    while dec.lossy_mask().count() > 0 {
        now += FRAME;
        assert!(now.duration_since(stopped) <= Duration::from_secs(1), "not refined within a second");
        if let Some(f) = enc.encode(screen.clone(), &[], now) {
            assert!(f.videos.is_empty() && f.images.is_empty());
            deliver(&mut dec, &f);
        }
    }
    assert_eq!(dec.screen(), Some(&screen));
    assert_eq!(enc.video.region(), None, "the stream ended");
}

#[test]
fn scrolling_antialiased_text_keeps_changing_but_stays_exact() {
    // Greyscale antialiasing: every one of 256 grey levels on white, as a terminal in an
    // antialiased font has; it scrolls by a line every frame for three seconds.
    let t0 = Instant::now();
    let mut screen = Framebuffer::new(640, 400);
    let grey = |i: u32| {
        let g = (i.wrapping_mul(2_654_435_761) >> 24) & 0xff;
        if g > 180 { 0x00ff_ffff } else { g * 0x0001_0101 }
    };
    for (i, p) in screen.pixels_mut().iter_mut().enumerate() {
        *p = grey(i as u32);
    }
    let mut enc = Encoder::new(6);
    enc.video.set_codec(Some(VideoCodec::Vp9));
    let mut dec = Decoder::new();
    for i in 0..75u32 {
        screen.copy_within(0, 19, PixelRect::new(0, 0, 640, 381));
        for y in 381..400 {
            for (x, p) in screen.span_mut(PixelRect::new(0, y, 640, 1), 0).iter_mut().enumerate() {
                *p = grey(i * 1_000_003 + u32::from(y) * 640 + x as u32);
            }
        }
        let f = enc.encode(screen.clone(), &[], t0 + FRAME * i).unwrap();
        assert!(f.images.is_empty() && f.videos.is_empty(), "frame {i} went lossy");
        deliver(&mut dec, &f);
        assert_eq!(dec.screen(), Some(&screen), "frame {i} exact");
    }
}
