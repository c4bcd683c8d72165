//! Change detection: the exact rectangles in which two frames differ.
//!
//! XDamage tells the agent *that* something changed; this comparison is the truth of
//! *what* changed (damage can be coarse, late or missing for some drawing paths). Within
//! each 64×64 tile the changed pixels' bounding box is found, then boxes that line up are
//! merged across tiles, so a keystroke is its glyph cell and a new line of text one
//! rectangle, not a row of tiles.

use deskshare_proto::{PixelRect, TILE_SIZE};

use crate::Framebuffer;

const TILE: usize = TILE_SIZE as usize;

/// Merging two boxes may add at most this share of their area in unchanged pixels (and
/// a little more for small ones): each rectangle costs ~8 header bytes, unchanged pixels
/// next to changed ones cost far less after deflate.
const MERGE_WASTE: f64 = 0.3;
const MERGE_SLACK: u64 = 256;

/// The rectangles where `cur` differs from `prev` (same size), each inside the screen,
/// none overlapping, in top-to-bottom order.
pub fn dirty_rects(prev: &Framebuffer, cur: &Framebuffer) -> Vec<PixelRect> {
    assert_eq!((prev.width(), prev.height()), (cur.width(), cur.height()), "frames of one size");
    let (width, height) = (cur.width() as usize, cur.height() as usize);
    let cols = width.div_ceil(TILE);
    let mut out: Vec<PixelRect> = Vec::new();
    // Per tile column of the current band: (min x, max x, min y, max y), inclusive.
    let mut boxes: Vec<Option<(usize, usize, usize, usize)>> = vec![None; cols];
    let mut band_rects = Vec::new();
    for band_y in (0..height).step_by(TILE) {
        boxes.iter_mut().for_each(|b| *b = None);
        for y in band_y..(band_y + TILE).min(height) {
            let (a, b) = (&prev.pixels()[y * width..][..width], &cur.pixels()[y * width..][..width]);
            if a == b {
                continue;
            }
            for (col, bx) in boxes.iter_mut().enumerate() {
                let (x0, x1) = (col * TILE, ((col + 1) * TILE).min(width));
                let (sa, sb) = (&a[x0..x1], &b[x0..x1]);
                let Some(first) = sa.iter().zip(sb).position(|(p, q)| p != q) else { continue };
                let last = sa.iter().zip(sb).rposition(|(p, q)| p != q).unwrap_or(first);
                let (fx, lx) = (x0 + first, x0 + last);
                *bx = Some(match *bx {
                    None => (fx, lx, y, y),
                    Some((mx, nx, my, _)) => (mx.min(fx), nx.max(lx), my, y),
                });
            }
        }
        band_rects.clear();
        for &(x0, x1, y0, y1) in boxes.iter().flatten() {
            let r = rect(x0, y0, x1 - x0 + 1, y1 - y0 + 1);
            match band_rects.last_mut() {
                Some(prev_r) if worth_merging(prev_r, &r) => *prev_r = prev_r.union(&r),
                _ => band_rects.push(r),
            }
        }
        // Stack this band's rectangles on the ones ending just above with the same columns.
        for r in band_rects.drain(..) {
            let above =
                out.iter_mut().rev().take(cols).find(|a| {
                    a.x == r.x && a.width == r.width && u32::from(a.y) + u32::from(a.height) == u32::from(r.y)
                });
            match above {
                Some(a) => a.height += r.height,
                None => out.push(r),
            }
        }
    }
    out
}

fn rect(x: usize, y: usize, w: usize, h: usize) -> PixelRect {
    PixelRect::new(x as u16, y as u16, w as u16, h as u16)
}

fn worth_merging(a: &PixelRect, b: &PixelRect) -> bool {
    let u = a.union(b);
    let sum = a.area() + b.area();
    u.area() as f64 <= sum as f64 * (1.0 + MERGE_WASTE) + MERGE_SLACK as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_exact_boxes_and_merges_lines() {
        let a = Framebuffer::new(300, 200);
        assert!(dirty_rects(&a, &a).is_empty());
        // A glyph-sized change inside one tile is its own box.
        let mut b = a.clone();
        b.fill(PixelRect::new(70, 10, 9, 19), 5);
        assert_eq!(dirty_rects(&a, &b), vec![PixelRect::new(70, 10, 9, 19)]);
        // A line across tiles and a band boundary becomes one rectangle.
        let mut c = a.clone();
        c.fill(PixelRect::new(3, 60, 290, 10), 7);
        assert_eq!(dirty_rects(&a, &c), vec![PixelRect::new(3, 60, 290, 10)]);
        // Two far apart changes stay two.
        let mut d = a.clone();
        d.fill(PixelRect::new(0, 0, 2, 2), 1);
        d.fill(PixelRect::new(290, 190, 10, 10), 1);
        assert_eq!(dirty_rects(&a, &d), vec![PixelRect::new(0, 0, 2, 2), PixelRect::new(290, 190, 10, 10)]);
    }
}
