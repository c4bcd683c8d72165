//! Scroll and move detection: regions of the new frame that are a shifted copy of the
//! old one, found from the frames alone and confirmed pixel by pixel.
//!
//! A scraper does not see the X server's CopyArea, so it has to find the shift. Like
//! KasmVNC's `ComparingUpdateTracker`, rows are hashed and the last good offset is tried
//! first; candidates come from the offset that worked last time, from hints the caller has
//! (a window that moved, as the X server reports it), from sampled rows of the changed
//! area looked up among the old frame's rows over the same columns (a vertical scroll),
//! and — when none of those explains half of a large change — from short runs of varied
//! pixels looked up in the old frame around where they are now (a moved region, like
//! guacamole's `display-plan-search.c`). Each candidate is scored by the changed pixels
//! its copies explain; a hint is only a candidate, and every copy is confirmed with a full
//! compare, so a wrong guess costs a compare, never a wrong picture.

use std::collections::HashMap;

use deskshare_proto::PixelRect;

use crate::Framebuffer;

/// Below this many changed pixels no copy is looked for (a keystroke never scrolls).
const MIN_DIRTY_AREA: u64 = 4096;
/// A copy must cover at least this many rows and pixels to be worth its op.
const MIN_ROWS: usize = 2;
const MIN_AREA: u64 = 512;
/// Rows sampled in each changed rectangle to find vertical offsets.
const SAMPLES: usize = 24;
/// Offsets tried per frame, best voted first.
const MAX_CANDIDATES: usize = 4;
const SEGMENT: usize = 64;
/// A change this large that no tried offset explains is searched for moved content.
const MOTION_MIN_AREA: u64 = 64 * 64 * 4;
/// How far (in x and y) a moved region is looked for, and how long its anchors are.
const MOTION_RANGE: i32 = 256;
const ANCHOR: usize = 24;
/// Anchors taken from the largest changed rectangle.
const ANCHORS: u32 = 6;

/// A region to copy: the pixels at (`from_x`, `from_y`) of `to`'s size go to `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CopyRect {
    pub from_x: u16,
    pub from_y: u16,
    pub to: PixelRect,
}

impl CopyRect {
    pub fn source(&self) -> PixelRect {
        PixelRect { x: self.from_x, y: self.from_y, ..self.to }
    }
}

/// Remembers the offset that worked last, since scrolling goes on at one speed.
#[derive(Debug, Default)]
pub struct CopyFinder {
    last: Option<(i32, i32)>,
}

fn row_hash(px: &[u32]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &p in px {
        h = (h.rotate_left(5) ^ u64::from(p)).wrapping_mul(0x5851_f42d_4c95_7f2d);
    }
    h
}

fn uniform(px: &[u32]) -> bool {
    px.iter().all(|&p| p == px[0])
}

impl CopyFinder {
    pub fn new() -> Self {
        CopyFinder::default()
    }

    /// Copies that turn `prev` into `cur` over parts of the `dirty` rectangles, in an order
    /// where no copy reads what an earlier one wrote. `hints` are offsets (dx, dy) worth
    /// trying, destination minus source.
    pub fn find(
        &mut self,
        prev: &Framebuffer,
        cur: &Framebuffer,
        dirty: &[PixelRect],
        hints: &[(i32, i32)],
    ) -> Vec<CopyRect> {
        if dirty.iter().map(PixelRect::area).sum::<u64>() < MIN_DIRTY_AREA {
            return Vec::new();
        }
        let mut candidates: Vec<(i32, i32)> = Vec::new();
        let push = |c: (i32, i32), list: &mut Vec<(i32, i32)>| {
            if c != (0, 0) && !list.contains(&c) {
                list.push(c);
            }
        };
        if let Some(last) = self.last {
            push(last, &mut candidates);
        }
        for &h in hints {
            push(h, &mut candidates);
        }
        // Matched over the changed area's bounding box, not rectangle by rectangle: a scroll
        // changes lines of different lengths, and one copy should move them all.
        let bounds = dirty.iter().skip(1).fold(dirty[0], |a, b| a.union(b));
        for c in vertical_votes(prev, cur, bounds) {
            push(c, &mut candidates);
        }
        candidates.truncate(MAX_CANDIDATES);

        let score = |off: (i32, i32)| {
            let copies: Vec<CopyRect> = matches_at(prev, cur, bounds, off)
                .into_iter()
                .filter(|c| dirty.iter().any(|d| d.overlaps(&c.to)))
                .collect();
            // Scored by the changed pixels they explain: copying what did not change
            // (blank rows, a column of words every line repeats) matches at many offsets
            // and would let a wrong one win.
            let explained: u64 = copies.iter().flat_map(|c| dirty.iter().map(move |d| c.to.overlap_area(d))).sum();
            (explained, off, copies)
        };
        let mut found: Vec<(u64, (i32, i32), Vec<CopyRect>)> = candidates.iter().map(|&off| score(off)).collect();
        // Nothing tried explains half of a large change: look for a moved region by its
        // content (a window dragged without a hint, an image moved inside a program).
        let dirty_area: u64 = dirty.iter().map(PixelRect::area).sum();
        let best = found.iter().map(|f| f.0).max().unwrap_or(0);
        if dirty_area >= MOTION_MIN_AREA && best * 2 < dirty_area {
            for off in motion_votes(prev, cur, dirty) {
                if !candidates.contains(&off) {
                    found.push(score(off));
                }
            }
        }
        found.retain(|f| f.0 > 0);
        found.sort_by_key(|f| std::cmp::Reverse(f.0));
        // Choose: the best offset's copies first, the largest first, none writing where a
        // chosen one writes.
        let mut chosen: Vec<CopyRect> = Vec::new();
        for (_, _, copies) in &found {
            let mut by_area = copies.clone();
            by_area.sort_by_key(|c| std::cmp::Reverse(c.to.area()));
            for c in by_area {
                if !chosen.iter().any(|a| a.to.overlaps(&c.to)) {
                    chosen.push(c);
                }
            }
        }
        // Order: content moving down (right) is copied bottom (right) first, so a copy does
        // not read rows another of its shift has written; one that still would is dropped.
        chosen.sort_by_key(|c| {
            let (dx, dy) = (i32::from(c.to.x) - i32::from(c.from_x), i32::from(c.to.y) - i32::from(c.from_y));
            let (x, y) = (i32::from(c.to.x), i32::from(c.to.y));
            (if dy > 0 { -y } else { y }, if dx > 0 { -x } else { x })
        });
        let mut accepted: Vec<CopyRect> = Vec::new();
        for c in chosen {
            if !accepted.iter().any(|a| a.to.overlaps(&c.source())) {
                accepted.push(c);
            }
        }
        self.last = found.first().map(|f| f.1).or(self.last);
        accepted
    }
}

/// Vertical offsets, most voted first: sampled rows of the changed area looked up among
/// the old frame's rows over the same columns. The rows span the whole changed area, so
/// a terminal line is hashed with its line number and text together: lines that repeat
/// part of their neighbours still have one place in the old frame.
fn vertical_votes(prev: &Framebuffer, cur: &Framebuffer, bounds: PixelRect) -> Vec<(i32, i32)> {
    if bounds.height < 4 || bounds.area() < MIN_AREA {
        return Vec::new();
    }
    let cols = PixelRect { y: 0, height: cur.height() as u16, ..bounds };
    let mut rows: HashMap<u64, Vec<u16>> = HashMap::new();
    for y in 0..cols.height {
        let px = prev.span(cols, y);
        if !uniform(px) {
            rows.entry(row_hash(px)).or_default().push(y);
        }
    }
    let mut votes: HashMap<i32, u32> = HashMap::new();
    let step = (usize::from(bounds.height) / (SAMPLES * 4)).max(1);
    for y in (0..bounds.height).step_by(step) {
        let px = cur.span(bounds, y);
        if uniform(px) {
            continue;
        }
        let Some(ys) = rows.get(&row_hash(px)) else { continue };
        // A row that appears many times (a rule, a repeated line) says little.
        if ys.len() > 4 {
            continue;
        }
        for &src in ys {
            let dy = i32::from(bounds.y + y) - i32::from(src);
            if dy != 0 {
                *votes.entry(dy).or_default() += 1;
            }
        }
    }
    let mut ranked: Vec<(i32, u32)> = votes.into_iter().filter(|(_, n)| *n >= 2).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.abs().cmp(&b.0.abs())));
    ranked.into_iter().map(|(dy, _)| (0, dy)).collect()
}

/// Offsets (dx, dy) of moved content, most voted first: short runs of varied pixels
/// (anchors) from rows of the largest changed rectangle, looked up in the old frame within
/// [`MOTION_RANGE`] of where they are now. A first-pixel test rejects almost every place,
/// so a search costs about a million compares; the candidates it yields are then scored
/// and confirmed like any other.
fn motion_votes(prev: &Framebuffer, cur: &Framebuffer, dirty: &[PixelRect]) -> Vec<(i32, i32)> {
    let Some(big) = dirty.iter().max_by_key(|r| r.area()) else { return Vec::new() };
    if usize::from(big.width) < ANCHOR * 2 || big.height < 8 {
        return Vec::new();
    }
    let (w, h) = (cur.width() as i32, cur.height() as i32);
    let mut votes: HashMap<(i32, i32), u32> = HashMap::new();
    for k in 0..ANCHORS {
        let y = i32::from(big.y) + (i32::from(big.height) * (2 * k as i32 + 1)) / (2 * ANCHORS as i32);
        let row = &cur.pixels()[(y * w) as usize..][..w as usize];
        // An anchor: ANCHOR pixels with at least four changes of colour (text, edges).
        let span = usize::from(big.x)..usize::from(big.x + big.width) - ANCHOR;
        let Some(ax) = span.step_by(4).find(|&x| row[x..x + ANCHOR].windows(2).filter(|p| p[0] != p[1]).count() >= 4)
        else {
            continue;
        };
        let anchor = &row[ax..ax + ANCHOR];
        let ax = ax as i32;
        for sy in (y - MOTION_RANGE).max(0)..(y + MOTION_RANGE).min(h) {
            let prow = &prev.pixels()[(sy * w) as usize..][..w as usize];
            for sx in (ax - MOTION_RANGE).max(0)..(ax + MOTION_RANGE).min(w - ANCHOR as i32) {
                let sx = sx as usize;
                if prow[sx] == anchor[0] && prow[sx..sx + ANCHOR] == *anchor {
                    let off = (ax - sx as i32, y - sy);
                    if off != (0, 0) {
                        *votes.entry(off).or_default() += 1;
                    }
                }
            }
        }
    }
    let mut ranked: Vec<((i32, i32), u32)> = votes.into_iter().filter(|(_, n)| *n >= 2).collect();
    ranked.sort_by_key(|r| std::cmp::Reverse(r.1));
    ranked.into_iter().take(2).map(|(off, _)| off).collect()
}

/// The parts of `r` that equal `prev` shifted by `off`, as copy rectangles: 64-px column
/// segments matched row by row, runs merged across segments, then widened pixel by pixel.
fn matches_at(prev: &Framebuffer, cur: &Framebuffer, r: PixelRect, (dx, dy): (i32, i32)) -> Vec<CopyRect> {
    let (w, h) = (cur.width() as i32, cur.height() as i32);
    // The destination rows and columns whose source lies on the screen.
    let x0 = i32::from(r.x).max(dx);
    let x1 = (i32::from(r.x) + i32::from(r.width)).min(w + dx);
    let y0 = i32::from(r.y).max(dy);
    let y1 = (i32::from(r.y) + i32::from(r.height)).min(h + dy);
    if x1 - x0 < 1 || y1 - y0 < MIN_ROWS as i32 {
        return Vec::new();
    }
    let matches = |x: i32, y: i32, len: i32| {
        let d = &cur.pixels()[(y * w + x) as usize..][..len as usize];
        let s = &prev.pixels()[((y - dy) * w + x - dx) as usize..][..len as usize];
        d == s
    };
    // Runs of matching rows per segment: (segment x0, x1, y0, y1).
    let mut pieces: Vec<(i32, i32, i32, i32)> = Vec::new();
    let mut sx = x0;
    while sx < x1 {
        let ex = (sx + SEGMENT as i32 - (sx % SEGMENT as i32)).min(x1);
        let mut run_start = None;
        for y in y0..=y1 {
            let ok = y < y1 && matches(sx, y, ex - sx);
            match (ok, run_start) {
                (true, None) => run_start = Some(y),
                (false, Some(s)) => {
                    if y - s >= MIN_ROWS as i32 {
                        pieces.push((sx, ex, s, y));
                    }
                    run_start = None;
                }
                _ => {}
            }
        }
        sx = ex;
    }
    // Merge pieces with the same rows that touch.
    pieces.sort_by_key(|p| (p.2, p.3, p.0));
    let mut merged: Vec<(i32, i32, i32, i32)> = Vec::new();
    for p in pieces {
        match merged.last_mut() {
            Some(m) if m.2 == p.2 && m.3 == p.3 && m.1 == p.0 => m.1 = p.1,
            _ => merged.push(p),
        }
    }
    let mut widened: Vec<CopyRect> = merged
        .into_iter()
        .filter_map(|(mut a, mut b, c, d)| {
            let column_ok = |x: i32| (c..d).all(|y| matches(x, y, 1));
            while a > x0 && column_ok(a - 1) {
                a -= 1;
            }
            while b < x1 && column_ok(b) {
                b += 1;
            }
            let to = PixelRect::new(a as u16, c as u16, (b - a) as u16, (d - c) as u16);
            (to.area() >= MIN_AREA).then(|| CopyRect { from_x: (a - dx) as u16, from_y: (c - dy) as u16, to })
        })
        .collect();
    // Widening can make pieces overlap (rows of blank background match any shift): keep
    // the largest, drop what overlaps them, so the area an offset explains is honest and a
    // wrong offset cannot outscore the right one by counting pixels twice.
    widened.sort_by_key(|c| std::cmp::Reverse(c.to.area()));
    let mut kept: Vec<CopyRect> = Vec::with_capacity(widened.len());
    for c in widened {
        if !kept.iter().any(|k| k.to.overlaps(&c.to)) {
            kept.push(c);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(width: u32, height: u32, seed: u32) -> Framebuffer {
        let px = (0..width * height)
            .map(|i| {
                let (x, y) = (i % width, i / width);
                let line = y / 19 + seed;
                if (x / 9 + line * 7).is_multiple_of(5) || y % 19 > 15 {
                    0x202020
                } else {
                    (x * 31 + line * 977 + (y % 19) * 7919) % 0xffffff
                }
            })
            .collect();
        Framebuffer::from_pixels(width, height, px)
    }

    #[test]
    fn finds_a_vertical_scroll_exactly() {
        let prev = text(640, 400, 0);
        // Scroll up by one 19-px line: row y of cur is row y+19 of prev; a new line at the bottom.
        let mut cur = prev.clone();
        cur.copy_within(0, 19, PixelRect::new(0, 0, 640, 381));
        cur.fill(PixelRect::new(0, 381, 640, 19), 0x123456);
        let dirty = crate::dirty_rects(&prev, &cur);
        let copies = CopyFinder::new().find(&prev, &cur, &dirty, &[]);
        assert!(!copies.is_empty());
        let mut predicted = prev.clone();
        for c in &copies {
            assert_eq!((c.from_x, i32::from(c.from_y) - i32::from(c.to.y)), (c.to.x, 19));
            predicted.copy_within(c.from_x, c.from_y, c.to);
        }
        // What is left to send is (nearly) only the new line.
        let left: u64 = crate::dirty_rects(&predicted, &cur).iter().map(PixelRect::area).sum();
        assert!(left <= 640 * 19 + 640 * 2, "left {left}");
    }

    #[test]
    fn a_hint_finds_a_moved_window_and_a_wrong_hint_finds_nothing() {
        let bg = Framebuffer::from_pixels(500, 400, vec![0x336699; 200_000]);
        let win = text(120, 90, 3);
        let mut prev = bg.clone();
        prev.put(PixelRect::new(50, 60, 120, 90), win.pixels());
        let mut cur = bg.clone();
        cur.put(PixelRect::new(81, 73, 120, 90), win.pixels());
        let dirty = crate::dirty_rects(&prev, &cur);
        let mut finder = CopyFinder::new();
        assert!(finder.find(&prev, &cur, &dirty, &[(3, 3)]).is_empty());
        let copies = finder.find(&prev, &cur, &dirty, &[(31, 13)]);
        let area: u64 = copies.iter().map(|c| c.to.area()).sum();
        assert!(area >= 110 * 80, "copied {area} of the window's 10800 pixels");
        for c in &copies {
            assert_eq!((i32::from(c.to.x) - i32::from(c.from_x), i32::from(c.to.y) - i32::from(c.from_y)), (31, 13));
        }
    }

    /// A 300x200 window of text over `bg` at `from`, then at `to`.
    fn window_moved(bg: &Framebuffer, from: (u16, u16), to: (u16, u16)) -> (Framebuffer, Framebuffer) {
        let win: Vec<u32> = (0..300u32 * 200)
            .map(|i| {
                let (x, y) = (i % 300, i / 300);
                if (x / 9 * 7 + y / 19) % 4 == 0 && y % 19 < 14 { (x * 3 + y * 5) % 200 } else { 0xeeeeee }
            })
            .collect();
        let (mut prev, mut cur) = (bg.clone(), bg.clone());
        prev.put(PixelRect::new(from.0, from.1, 300, 200), &win);
        cur.put(PixelRect::new(to.0, to.1, 300, 200), &win);
        (prev, cur)
    }

    #[test]
    fn a_window_moved_over_text_is_one_copy() {
        // Text behind and in the window: the strips the move uncovers must not break the
        // window's copy into pieces (widened strips of blank rows once did).
        let behind = (0..800u32 * 600)
            .map(|i| {
                let (x, y) = (i % 800, i / 800);
                if (x / 9 + y / 19) % 3 == 0 && y % 19 < 14 { (x * 7 + y * 13) & 0xff } else { 0xffffff }
            })
            .collect();
        let bg = Framebuffer::from_pixels(800, 600, behind);
        let (prev, cur) = window_moved(&bg, (100, 100), (112, 107));
        let dirty = crate::dirty_rects(&prev, &cur);
        let copies = CopyFinder::new().find(&prev, &cur, &dirty, &[(12, 7)]);
        assert_eq!(copies.len(), 1, "{copies:?}");
        assert_eq!(copies[0].to, PixelRect::new(112, 107, 300, 200));
    }

    #[test]
    fn a_wrong_last_offset_does_not_outscore_the_scroll() {
        // Lines that repeat the same words between a changing number and a changing tail:
        // at the opposite offset the blank rows and the repeated words match too. Scored by
        // the changed pixels explained (and pieces never counted twice), the real scroll
        // wins even when the wrong offset is the one tried first. (Real frames of
        // scripts/measure-bandwidth.sh's scroll once chose +19 here: 50 copies, 9 KB.)
        let line = |y: u32, n: u32, x: u32| {
            let (row, l) = (y % 19, y / 19 + n);
            if row > 12 {
                0xffffff
            } else if !(40..360).contains(&x) {
                (l * 7919 + x * 31 + row * 3) & 0xffffff
            } else if (x / 9 + row).is_multiple_of(3) {
                0x202020
            } else {
                0xffffff
            }
        };
        let prev = Framebuffer::from_pixels(400, 380, (0..400 * 380).map(|i| line(i / 400, 0, i % 400)).collect());
        let cur = Framebuffer::from_pixels(400, 380, (0..400 * 380).map(|i| line(i / 400, 1, i % 400)).collect());
        let dirty = crate::dirty_rects(&prev, &cur);
        let mut finder = CopyFinder { last: Some((0, 19)) };
        let copies = finder.find(&prev, &cur, &dirty, &[]);
        let up: u64 =
            copies.iter().filter(|c| i32::from(c.from_y) - i32::from(c.to.y) == 19).map(|c| c.to.area()).sum();
        assert!(up >= 80 * 340, "the scroll up is copied: {copies:?}");
        assert_eq!(finder.last, Some((0, -19)));
    }

    #[test]
    fn a_moved_window_is_found_from_the_frames_without_a_hint() {
        let behind = (0..800u32 * 600)
            .map(|i| if (i % 800 / 9 + i / 800 / 19) % 3 == 0 { 0x808080 } else { 0xffffff })
            .collect();
        let bg = Framebuffer::from_pixels(800, 600, behind);
        let (prev, cur) = window_moved(&bg, (100, 100), (141, 83));
        let dirty = crate::dirty_rects(&prev, &cur);
        let copies = CopyFinder::new().find(&prev, &cur, &dirty, &[]);
        assert_eq!(copies.len(), 1, "{copies:?}");
        assert_eq!((copies[0].from_x, copies[0].from_y, copies[0].to), (100, 100, PixelRect::new(141, 83, 300, 200)));
    }
}
