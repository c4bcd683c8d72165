//! Change detection: which tiles differ between two frames.

use deskshare_proto::TILE_SIZE;

use crate::{Framebuffer, Rect};

const TILE: usize = TILE_SIZE as usize;

/// Tiles (col, row) whose pixels differ between `prev` and `cur`, in row-major order.
/// With no previous frame, or a previous frame of another size, every tile counts as
/// changed: the caller then sends a keyframe.
///
/// XDamage tells the agent *that* something changed; this full comparison is the truth
/// of *what* changed (damage can be coarse, late or missing for some drawing paths).
pub fn changed_tiles(prev: Option<&Framebuffer>, cur: &Framebuffer) -> Vec<(u32, u32)> {
    let (cols, rows) = cur.grid();
    let all = || (0..rows).flat_map(move |r| (0..cols).map(move |c| (c, r))).collect();
    let Some(prev) = prev else { return all() };
    if prev.width() != cur.width() || prev.height() != cur.height() {
        return all();
    }
    let mut out = Vec::new();
    for row in 0..rows {
        // Compare one band of tiles row by row, so memory is read in order.
        let band = cur.tile_rect(0, row);
        let mut dirty = vec![false; cols as usize];
        for y in 0..band.height {
            let full = Rect { x: 0, y: band.y, width: cur.width(), height: band.height };
            let (a, b) = (prev.row(full, y), cur.row(full, y));
            if a == b {
                continue;
            }
            for (col, flag) in dirty.iter_mut().enumerate() {
                if *flag {
                    continue;
                }
                let x0 = col * TILE;
                let x1 = (x0 + TILE).min(a.len());
                if a[x0..x1] != b[x0..x1] {
                    *flag = true;
                }
            }
        }
        out.extend(dirty.iter().enumerate().filter(|(_, d)| **d).map(|(c, _)| (c as u32, row)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_exactly_the_changed_tiles() {
        let a = Framebuffer::new(200, 130);
        let mut b = a.clone();
        assert!(changed_tiles(Some(&a), &b).is_empty());
        b.pixels_mut()[(129 * 200 + 199) as usize] = 1; // bottom-right edge tile (3,2)
        b.pixels_mut()[(70 * 200 + 64) as usize] = 1; // tile (1,1)
        assert_eq!(changed_tiles(Some(&a), &b), vec![(1, 1), (3, 2)]);
        assert_eq!(changed_tiles(None, &b).len(), 4 * 3);
        assert_eq!(changed_tiles(Some(&Framebuffer::new(10, 10)), &b).len(), 12);
    }
}
