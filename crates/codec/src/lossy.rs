//! Which parts of the screen go lossy, and which parts viewers hold lossy pixels in.
//!
//! Text and UI stay lossless whatever they do: blurry text is what users of screen
//! sharing complain about most. An area goes lossy only while it keeps changing (every
//! [`MAX_GAP`] or faster for [`HOT_AFTER`]), is large enough and has many colours: a
//! video, an animation, a photo being dragged. Once it has been still for [`SETTLE`],
//! the encoder sends it again losslessly ("refinement"), so every viewer ends exact.
//!
//! Both the presenter's encoder and every decoder keep a [`LossyMask`] by the same rules
//! from the same ops, so the server knows exactly which tiles will still be refined.

use std::time::{Duration, Instant};

use deskshare_proto::{Op, PixelRect, TILE_SIZE, grid_dims};

/// A tile is hot once it has changed with gaps of at most [`MAX_GAP`] for this long.
pub const HOT_AFTER: Duration = Duration::from_millis(1000);
/// Longest pause between two changes of a hot tile (about three updates a second).
pub const MAX_GAP: Duration = Duration::from_millis(350);
/// A lossy tile is refined once it has not changed for this long.
pub const SETTLE: Duration = Duration::from_millis(300);
/// Smallest changed area of a tile worth coding lossy (a blinking cursor is not).
pub const MIN_LOSSY_AREA: u64 = 1024;
/// More distinct colours than this in a changed area make it continuous-tone content.
pub const COMPLEX_COLOURS: usize = 96;

/// The tiles whose pixels are lossy on every viewer's screen, following the ops of the
/// stream:
///
/// * IMAGE and VIDEO make every tile they touch lossy;
/// * RECT makes every tile it covers whole exact;
/// * COPY makes a destination tile lossy when the part of the source copied into it
///   touches a lossy tile, else exact if it covers the tile whole (decided on the mask
///   as it was before the copy, which reads before it writes).
///
/// Coarse on purpose (a tile partly refined stays lossy): the only cost of a tile
/// marked lossy is one more lossless tile later, and the rules are simple enough for the
/// encoder, the server and every viewer to agree on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LossyMask {
    width: u16,
    height: u16,
    cols: usize,
    lossy: Vec<bool>,
    count: usize,
}

impl LossyMask {
    /// Nothing lossy on a `width`×`height` screen (a keyframe).
    pub fn new(width: u16, height: u16) -> Self {
        let (cols, rows) = grid_dims(width.into(), height.into());
        LossyMask { width, height, cols: cols as usize, lossy: vec![false; (cols * rows) as usize], count: 0 }
    }

    /// Number of lossy tiles.
    pub fn count(&self) -> usize {
        self.count
    }

    pub fn is_lossy(&self, tile: usize) -> bool {
        self.lossy.get(tile).copied().unwrap_or(false)
    }

    /// Indices of the lossy tiles, in screen order.
    pub fn tiles(&self) -> impl Iterator<Item = usize> + '_ {
        self.lossy.iter().enumerate().filter(|(_, l)| **l).map(|(i, _)| i)
    }

    /// The screen rectangle of tile `i`.
    pub fn tile_rect(&self, i: usize) -> PixelRect {
        tile_rect(self.width, self.height, self.cols, i)
    }

    pub fn apply(&mut self, op: &Op) {
        match *op {
            Op::Image { to, .. } | Op::Video { to, .. } => self.set(touched(to, self.cols), true),
            Op::Rect { rect, .. } => self.set(covered(rect, self.cols, self.width, self.height), false),
            Op::Copy { from_x, from_y, to } => {
                let mut next = Vec::new();
                for i in touched(to, self.cols) {
                    let tile = self.tile_rect(i);
                    let part = intersection(&tile, &to);
                    let source = PixelRect { x: part.x - to.x + from_x, y: part.y - to.y + from_y, ..part };
                    if touched(source, self.cols).any(|j| self.lossy[j]) {
                        next.push((i, true));
                    } else if part == tile {
                        next.push((i, false));
                    }
                }
                for (i, lossy) in next {
                    self.set(std::iter::once(i), lossy);
                }
            }
        }
    }

    fn set(&mut self, tiles: impl Iterator<Item = usize>, lossy: bool) {
        for i in tiles {
            if self.lossy[i] != lossy {
                self.lossy[i] = lossy;
                if lossy {
                    self.count += 1;
                } else {
                    self.count -= 1;
                }
            }
        }
    }
}

fn tile_rect(width: u16, height: u16, cols: usize, i: usize) -> PixelRect {
    let t = TILE_SIZE as u16;
    let (x, y) = ((i % cols) as u16 * t, (i / cols) as u16 * t);
    PixelRect::new(x, y, t.min(width - x), t.min(height - y))
}

/// The part of `a` inside `b` (both non-empty and overlapping).
fn intersection(a: &PixelRect, b: &PixelRect) -> PixelRect {
    let (x0, y0) = (a.x.max(b.x), a.y.max(b.y));
    let (x1, y1) = ((a.x + a.width).min(b.x + b.width), (a.y + a.height).min(b.y + b.height));
    PixelRect::new(x0, y0, x1 - x0, y1 - y0)
}

/// Tiles `r` touches.
pub fn touched(r: PixelRect, cols: usize) -> impl Iterator<Item = usize> {
    let t = TILE_SIZE as usize;
    let (c0, c1) = (usize::from(r.x) / t, (usize::from(r.x) + usize::from(r.width) - 1) / t);
    let (r0, r1) = (usize::from(r.y) / t, (usize::from(r.y) + usize::from(r.height) - 1) / t);
    (r0..=r1).flat_map(move |row| (c0..=c1).map(move |col| row * cols + col))
}

/// Tiles `r` covers whole (edge tiles are as large as the screen lets them be).
fn covered(r: PixelRect, cols: usize, width: u16, height: u16) -> impl Iterator<Item = usize> {
    touched(r, cols).filter(move |&i| {
        let t = tile_rect(width, height, cols, i);
        r.overlap_area(&t) == t.area()
    })
}

/// Whether `r` of `fb` looks like antialiased text or line art: nearly every pixel lies
/// on a ray in colour space from the background (the most common colour) through one of
/// a few ink colours. Greyscale antialiasing gives a text area hundreds of grey levels, so
/// a colour count alone would call scrolling text a photo.
pub fn looks_like_text(fb: &crate::Framebuffer, r: PixelRect) -> bool {
    /// More distinct colours than this is never text.
    const MAX_DISTINCT: usize = 2048;
    /// A colour this close (per channel) to a background–ink line is on it.
    const TOLERANCE: i32 = 4;
    let mut counts: std::collections::HashMap<u32, u32> = std::collections::HashMap::new();
    for y in 0..r.height {
        for &p in fb.span(r, y) {
            *counts.entry(p).or_insert(0) += 1;
            if counts.len() > MAX_DISTINCT {
                return false;
            }
        }
    }
    let mut by_count: Vec<(u32, u32)> = counts.iter().map(|(&c, &n)| (n, c)).collect();
    by_count.sort_unstable_by(|a, b| b.cmp(a));
    let bg = by_count[0].1;
    let rgb = |c: u32| [((c >> 16) & 0xff) as i32, ((c >> 8) & 0xff) as i32, (c & 0xff) as i32];
    let b = rgb(bg);
    // A ray from the background through an ink: the most common colour of an ink may be
    // a blend, and the full ink lies further on.
    let on_ray = |ink: u32, c: u32| {
        let (k, p) = (rgb(ink), rgb(c));
        let d = [k[0] - b[0], k[1] - b[1], k[2] - b[2]];
        let len2 = d.iter().map(|v| v * v).sum::<i32>().max(1);
        let t = ((p[0] - b[0]) * d[0] + (p[1] - b[1]) * d[1] + (p[2] - b[2]) * d[2]).max(0);
        (0..3).all(|i| (b[i] + d[i] * t / len2 - p[i]).abs() <= TOLERANCE)
    };
    // Inks, most common first: each colour on no ray so far starts one (up to 8).
    let mut inks: Vec<u32> = Vec::new();
    let mut on = u64::from(by_count[0].0);
    for &(n, c) in &by_count[1..] {
        if inks.iter().any(|&ink| on_ray(ink, c)) {
            on += u64::from(n);
        } else if inks.len() < 8 {
            inks.push(c);
            on += u64::from(n);
        }
    }
    on * 100 >= r.area() * 95
}

/// How recently each tile changed: decides which tiles are hot (keep changing) and which
/// lossy tiles have settled. Time comes in from the caller.
#[derive(Clone, Debug, Default)]
pub struct Motion {
    cols: usize,
    /// Frames seen so far ([`Motion::next_frame`]).
    frame: u64,
    /// Per tile: when its current run of changes began, its last change, and the frame
    /// of that change.
    tiles: Vec<Option<(Instant, Instant, u64)>>,
}

impl Motion {
    pub fn new(width: u16, height: u16) -> Self {
        let (cols, rows) = grid_dims(width.into(), height.into());
        Motion { cols: cols as usize, frame: 0, tiles: vec![None; (cols * rows) as usize] }
    }

    /// A new frame begins: changes noted from now on belong to it.
    pub fn next_frame(&mut self) {
        self.frame += 1;
    }

    /// Notes that `r` changed at `now`. A run of changes goes on while the gaps are at
    /// most [`MAX_GAP`] or the tile changed in every frame: a machine that grabs slowly
    /// (a loaded presenter) still sees its video as moving, which is when it needs
    /// lossy coding most.
    pub fn changed(&mut self, r: PixelRect, now: Instant) {
        for i in touched(r, self.cols) {
            let run = match self.tiles[i] {
                Some((start, last, frame))
                    if now.saturating_duration_since(last) <= MAX_GAP || frame + 1 >= self.frame =>
                {
                    start
                }
                _ => now,
            };
            self.tiles[i] = Some((run, now, self.frame));
        }
    }

    /// Tile `i` has kept changing for [`HOT_AFTER`] and still does.
    pub fn is_hot(&self, i: usize, now: Instant) -> bool {
        self.tiles[i].is_some_and(|(start, last, frame)| {
            (now.saturating_duration_since(last) <= MAX_GAP || frame == self.frame)
                && last.saturating_duration_since(start) >= HOT_AFTER
        })
    }

    /// Any tile `r` touches is hot.
    pub fn any_hot(&self, r: PixelRect, now: Instant) -> bool {
        touched(r, self.cols).any(|i| self.is_hot(i, now))
    }

    /// When tile `i` will have been still for [`SETTLE`] (a time in the past if it has).
    pub fn settles_at(&self, i: usize) -> Option<Instant> {
        self.tiles[i].map(|(_, last, _)| last + SETTLE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deskshare_proto::RectEncoding;

    fn rect(x: u16, y: u16, w: u16, h: u16) -> PixelRect {
        PixelRect::new(x, y, w, h)
    }

    fn image(to: PixelRect) -> Op {
        Op::Image { image: 0, from_x: 0, from_y: 0, to }
    }

    fn raw(r: PixelRect) -> Op {
        Op::Rect { rect: r, encoding: RectEncoding::Raw, len: r.area() as u32 * 3 }
    }

    #[test]
    fn images_mark_rects_clear_copies_carry() {
        // 200x100: 4x2 tiles, the right column 8 wide, the bottom row 36 high.
        let mut m = LossyMask::new(200, 100);
        m.apply(&image(rect(10, 10, 60, 20)));
        assert_eq!(m.tiles().collect::<Vec<_>>(), vec![0, 1]);
        // A rect over part of tile 1 leaves it lossy; one over all of tile 0 clears it.
        m.apply(&raw(rect(64, 0, 10, 10)));
        m.apply(&raw(rect(0, 0, 64, 64)));
        assert_eq!(m.tiles().collect::<Vec<_>>(), vec![1]);
        // A copy out of a lossy tile makes its destination lossy ...
        m.apply(&Op::Copy { from_x: 70, from_y: 5, to: rect(130, 70, 10, 10) });
        assert_eq!(m.tiles().collect::<Vec<_>>(), vec![1, 6]);
        // ... but only where what lands in a tile came from a lossy one: a wide copy whose
        // left part reads tile 1 marks only the tile that part lands in.
        let mut w = LossyMask::new(200, 100);
        w.apply(&image(rect(64, 0, 64, 64)));
        w.apply(&Op::Copy { from_x: 0, from_y: 0, to: rect(0, 64, 200, 36) });
        assert_eq!(w.tiles().collect::<Vec<_>>(), vec![1, 5]);
        // ... a copy of exact pixels over a whole tile makes it exact.
        m.apply(&Op::Copy { from_x: 0, from_y: 0, to: rect(128, 64, 64, 36) });
        assert_eq!(m.tiles().collect::<Vec<_>>(), vec![1]);
        // The edge tile (8x64) is covered whole by an 8-wide rect.
        m.apply(&image(rect(192, 0, 8, 8)));
        assert!(m.is_lossy(3));
        m.apply(&raw(rect(192, 0, 8, 64)));
        assert!(!m.is_lossy(3));
        assert_eq!(m.count(), 1);
        m.apply(&raw(rect(64, 0, 64, 64)));
        assert_eq!(m.count(), 0);
    }

    #[test]
    fn greyscale_and_coloured_text_is_text_photos_are_not() {
        use crate::Framebuffer;
        use crate::synthetic::paint_photo;
        // Black on white with every grey level in between (antialiasing), and coloured
        // ink (syntax highlighting) blended into a dark background.
        let mut fb = Framebuffer::new(128, 64);
        for (i, p) in fb.pixels_mut().iter_mut().enumerate() {
            let g = (i * 7 % 256) as u32;
            *p = if i % 3 == 0 { 0x00ff_ffff } else { g * 0x0001_0101 };
        }
        assert!(looks_like_text(&fb, rect(0, 0, 128, 64)));
        let inks = [0x00ff_5555u32, 0x0055_ff55, 0x005f_87ff];
        for (i, p) in fb.pixels_mut().iter_mut().enumerate() {
            let ink = inks[i / 97 % 3];
            let t = (i * 13 % 17) as u32;
            let mix = |s: u32| (((ink >> s) & 0xff) * t / 16 + 0x20 * (16 - t) / 16) << s;
            *p = if i % 2 == 0 { 0x0020_2020 } else { mix(16) | mix(8) | mix(0) };
        }
        assert!(looks_like_text(&fb, rect(0, 0, 128, 64)));
        let mut photo = Framebuffer::new(128, 64);
        paint_photo(&mut photo, rect(0, 0, 128, 64), 3);
        assert!(!looks_like_text(&photo, rect(0, 0, 128, 64)));
    }

    #[test]
    fn a_tile_is_hot_only_while_it_keeps_changing() {
        let t0 = Instant::now();
        let ms = |v: u64| t0 + Duration::from_millis(v);
        let mut m = Motion::new(128, 64);
        let r = rect(0, 0, 10, 10);
        for t in (0..=900).step_by(100) {
            m.next_frame();
            m.changed(r, ms(t));
            assert!(!m.is_hot(0, ms(t)), "not yet at {t} ms");
        }
        m.next_frame();
        m.changed(r, ms(1000));
        assert!(m.is_hot(0, ms(1000)));
        assert!(!m.is_hot(1, ms(1000)));
        assert!(m.any_hot(rect(60, 0, 10, 10), ms(1100)));
        // Still for longer than the gap (a frame came without it): no longer hot, and
        // settled after SETTLE.
        m.next_frame();
        assert!(!m.is_hot(0, ms(1000) + MAX_GAP + Duration::from_millis(1)));
        assert_eq!(m.settles_at(0), Some(ms(1000) + SETTLE));
        // A pause longer than the gap, with frames between, starts a new run.
        m.next_frame();
        m.next_frame();
        m.changed(r, ms(2000));
        m.next_frame();
        m.changed(r, ms(2300));
        assert!(!m.is_hot(0, ms(2300)));
        assert_eq!(m.settles_at(1), None);
        // Frames 600 ms apart, the tile changed in each: still one run, hot after 1 s.
        let mut slow = Motion::new(64, 64);
        for t in [0, 600, 1200] {
            slow.next_frame();
            slow.changed(r, ms(t));
        }
        assert!(slow.is_hot(0, ms(1200)));
        // A frame without a change of it ends that.
        slow.next_frame();
        assert!(!slow.is_hot(0, ms(1800)));
    }
}
