//! Synthetic screen changes (text, photos, scrolls, moved windows) for property tests and
//! benchmarks: deterministic for a seed, so a failing case replays.

use deskshare_proto::PixelRect;

use crate::Framebuffer;

/// One thing that happens to a screen.
#[derive(Clone, Debug)]
pub enum Change {
    /// Text-like strokes in a rectangle: few colours, or antialiased grey levels (~40)
    /// for an even seed.
    Text { rect: (u16, u16, u16, u16), seed: u32 },
    /// Many colours (a photo) in a rectangle.
    Photo { rect: (u16, u16, u16, u16), seed: u32 },
    /// A region scrolls: its content moves by `dy` and the uncovered rows get new text.
    Scroll { rect: (u16, u16, u16, u16), dy: i16, seed: u32 },
    /// A rectangle moves by (`dx`, `dy`) over a flat background (a dragged window).
    Move { rect: (u16, u16, u16, u16), dx: i16, dy: i16 },
    /// Frame `seed` of a video playing in a rectangle ([`paint_photo`]).
    Video { rect: (u16, u16, u16, u16), seed: u32 },
}

fn clip(fb: &Framebuffer, (x, y, w, h): (u16, u16, u16, u16)) -> Option<PixelRect> {
    let (fw, fh) = (fb.width() as u16, fb.height() as u16);
    let x = x % fw;
    let y = y % fh;
    let r = PixelRect::new(x, y, w.clamp(1, fw - x), h.clamp(1, fh - y));
    Some(r)
}

pub fn paint(fb: &mut Framebuffer, r: PixelRect, seed: u32, colours: u32) {
    let mut s = seed | 1;
    for y in 0..r.height {
        for (x, p) in fb.span_mut(r, y).iter_mut().enumerate() {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let stroke = (x as u32 / 3 + u32::from(y) / 5 + seed).is_multiple_of(4);
            *p = if colours <= 64 {
                if stroke { 0x00d0_d0d0 - (s % colours) * 0x0003_0303 } else { 0x0020_2428 }
            } else {
                s & 0x00ff_ffff
            };
        }
    }
}

pub fn apply_change(fb: &mut Framebuffer, c: &Change) {
    match *c {
        Change::Text { rect, seed } => {
            if let Some(r) = clip(fb, rect) {
                paint(fb, r, seed, if seed % 2 == 0 { 24 + seed % 24 } else { 6 });
            }
        }
        Change::Photo { rect, seed } => {
            if let Some(r) = clip(fb, rect) {
                paint(fb, r, seed, 1 << 24);
            }
        }
        Change::Video { rect, seed } => {
            if let Some(r) = clip(fb, rect) {
                paint_photo(fb, r, seed);
            }
        }
        Change::Scroll { rect, dy, seed } => {
            let Some(r) = clip(fb, rect) else { return };
            let d = (dy.unsigned_abs()) % r.height.max(1);
            if d == 0 || d >= r.height {
                return;
            }
            let kept = r.height - d;
            if dy > 0 {
                fb.copy_within(r.x, r.y, PixelRect { y: r.y + d, height: kept, ..r });
                paint(fb, PixelRect { height: d, ..r }, seed, 6);
            } else {
                fb.copy_within(r.x, r.y + d, PixelRect { height: kept, ..r });
                paint(fb, PixelRect { y: r.y + kept, height: d, ..r }, seed, 6);
            }
        }
        Change::Move { rect, dx, dy } => {
            let Some(r) = clip(fb, rect) else { return };
            let (fw, fh) = (fb.width() as i32, fb.height() as i32);
            let nx = (i32::from(r.x) + i32::from(dx)).clamp(0, fw - i32::from(r.width)) as u16;
            let ny = (i32::from(r.y) + i32::from(dy)).clamp(0, fh - i32::from(r.height)) as u16;
            let content = fb.copy_rect(crate::Rect {
                x: r.x.into(),
                y: r.y.into(),
                width: r.width.into(),
                height: r.height.into(),
            });
            fb.fill(r, 0x0033_6699);
            fb.put(PixelRect::new(nx, ny, r.width, r.height), &content);
        }
    }
}

/// Continuous-tone content like a photo or a video frame: smooth colour gradients with
/// ripples, different for each `seed` (a video's frame number), so it has thousands of
/// colours but compresses as a photo does.
pub fn paint_photo(fb: &mut Framebuffer, r: PixelRect, seed: u32) {
    let t = seed as f32 * 0.21;
    for y in 0..r.height {
        for (x, p) in fb.span_mut(r, y).iter_mut().enumerate() {
            let (fx, fy) = (x as f32, f32::from(y));
            // Each channel its own waves, as in a photo, where colour does not move along
            // one line (antialiased text does: see `lossy::looks_like_text`).
            let red = (fx * 0.045 + t).sin() * 50.0 + (fy * 0.021 - t * 0.3).cos() * 30.0 + fx * 0.2;
            let green = (fy * 0.06 - t * 0.7).cos() * 50.0 + ((fx - fy) * 0.033).sin() * 30.0;
            let blue = ((fx + fy) * 0.02 + t).sin() * 50.0 + (fx * 0.071 - fy * 0.05 + t * 0.5).cos() * 25.0 - fy * 0.1;
            let c = |base: f32, v: f32| (base + v).clamp(0.0, 255.0) as u8;
            *p = crate::rgb_word(c(120.0, red), c(110.0, green), c(140.0, blue));
        }
    }
}

/// A `width`×`height` image of [`paint_photo`] content.
pub fn photo(width: u32, height: u32, seed: u32) -> Framebuffer {
    let mut fb = Framebuffer::new(width, height);
    paint_photo(&mut fb, PixelRect::new(0, 0, width as u16, height as u16), seed);
    fb
}
