//! The presenter's encoder: a frame in, the smallest update out.

use deskshare_proto::{FrameHeader, FrameMessage, Op, PixelRect, TILE_SIZE};

use crate::copies::{CopyFinder, CopyRect};
use crate::palette::StickyPalette;
use crate::stream::Deflater;
use crate::{Framebuffer, dirty_rects, encode_rect_in_stream};

/// Deflate level of the presenter's stream. 6 is zlib's default; docs/PERFORMANCE.md has
/// bytes and time for others.
pub const DEFAULT_LEVEL: u32 = 6;

/// A rectangle larger than this many tiles is encoded tile by tile, so text and a photo
/// in one change each get their own encoding.
const SPLIT_AREA: u64 = 4 * (TILE_SIZE as u64) * (TILE_SIZE as u64);

/// What the last [`Encoder::encode`] did, for statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EncodeStats {
    pub rects: usize,
    pub copies: usize,
    pub copied_pixels: u64,
    /// Bytes of rectangle payloads before deflate.
    pub payload_bytes: usize,
    pub data_bytes: usize,
}

/// Keeps what viewers have (the last frame sent) and one deflate stream, and turns each
/// new frame into copies and exact rectangles.
pub struct Encoder {
    level: u32,
    prev: Option<Framebuffer>,
    deflater: Deflater,
    /// The next frame starts a new stream and a new picture.
    restart: bool,
    frame: u64,
    finder: CopyFinder,
    palette: StickyPalette,
    pub last: EncodeStats,
}

impl Encoder {
    pub fn new(level: u32) -> Self {
        Encoder {
            level,
            prev: None,
            deflater: Deflater::new(level),
            restart: true,
            frame: 0,
            finder: CopyFinder::new(),
            palette: StickyPalette::default(),
            last: EncodeStats::default(),
        }
    }

    /// The next frame is a keyframe that starts a new stream: after a reconnect the
    /// server has nothing of this session.
    pub fn force_keyframe(&mut self) {
        self.restart = true;
    }

    /// What viewers hold once the last frame is applied.
    pub fn sent(&self) -> Option<&Framebuffer> {
        self.prev.as_ref()
    }

    /// Encodes what changed from the last frame to `cur`; `None` if nothing did.
    /// `hints` are offsets (dx, dy) at which part of the screen may have moved.
    pub fn encode(&mut self, cur: Framebuffer, hints: &[(i32, i32)]) -> Option<FrameMessage> {
        let same_size = self.prev.as_ref().is_some_and(|p| p.width() == cur.width() && p.height() == cur.height());
        let keyframe = self.restart || !same_size;
        let mut stats = EncodeStats::default();
        let mut ops = Vec::new();
        let rects = if keyframe {
            let (cols, rows) = cur.grid();
            (0..rows)
                .flat_map(|r| (0..cols).map(move |c| (c, r)))
                .map(|(c, r)| {
                    let t = cur.tile_rect(c, r);
                    PixelRect::new(t.x as u16, t.y as u16, t.width as u16, t.height as u16)
                })
                .collect()
        } else {
            let prev = self.prev.as_ref().expect("a delta has a previous frame");
            let dirty = dirty_rects(prev, &cur);
            if dirty.is_empty() {
                return None;
            }
            let copies = self.finder.find(prev, &cur, &dirty, hints);
            if copies.is_empty() {
                dirty
            } else {
                let mut predicted = prev.clone();
                for CopyRect { from_x, from_y, to } in &copies {
                    predicted.copy_within(*from_x, *from_y, *to);
                    ops.push(Op::Copy { from_x: *from_x, from_y: *from_y, to: *to });
                    stats.copied_pixels += to.area();
                }
                stats.copies = copies.len();
                dirty_rects(&predicted, &cur)
            }
        };
        // A new stream: its deflate window and its palette order start empty. (A restart
        // is always a keyframe, so this frame has ops and is sent.)
        let restart = std::mem::take(&mut self.restart);
        if restart {
            self.deflater = Deflater::new(self.level);
            self.palette = StickyPalette::default();
        }
        let mut payload = Vec::new();
        for r in rects.iter().flat_map(|r| split(*r)) {
            let start = payload.len();
            let encoding = encode_rect_in_stream(&cur, r, &mut payload, Some(&mut self.palette));
            ops.push(Op::Rect { rect: r, encoding, len: (payload.len() - start) as u32 });
            stats.rects += 1;
        }
        if ops.is_empty() {
            // Only possible if copies explained everything and nothing is left.
            self.prev = Some(cur);
            return None;
        }
        let data = self.deflater.segment(&payload);
        stats.payload_bytes = payload.len();
        stats.data_bytes = data.len();
        self.last = stats;
        self.frame += 1;
        let header = FrameHeader {
            keyframe,
            restart,
            frame: self.frame,
            width: cur.width() as u16,
            height: cur.height() as u16,
            ..Default::default()
        };
        self.prev = Some(cur);
        Some(FrameMessage { header, ops, data: data.into() })
    }
}

/// `r` cut along the tile grid when it is large, else `r` itself.
pub fn split(r: PixelRect) -> Vec<PixelRect> {
    if r.area() <= SPLIT_AREA {
        return vec![r];
    }
    let t = TILE_SIZE as u16;
    let mut out = Vec::new();
    let mut y = r.y;
    while y < r.y + r.height {
        let y1 = ((y / t + 1) * t).min(r.y + r.height);
        let mut x = r.x;
        while x < r.x + r.width {
            let x1 = ((x / t + 1) * t).min(r.x + r.width);
            out.push(PixelRect::new(x, y, x1 - x, y1 - y));
            x = x1;
        }
        y = y1;
    }
    out
}
