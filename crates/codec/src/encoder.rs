//! The presenter's encoder: a frame in, the smallest update out.

use std::time::Instant;

use deskshare_proto::{FrameHeader, FrameMessage, Op, PixelRect, TILE_SIZE};

use crate::copies::{CopyFinder, CopyRect};
use crate::image::{encode_atlas, push_area};
use crate::lossy::{COMPLEX_COLOURS, LossyMask, MIN_LOSSY_AREA, Motion, looks_like_text};
use crate::palette::{StickyPalette, colours};
use crate::stream::Deflater;
use crate::video::{VideoMode, subtract};
use crate::{Framebuffer, dirty_rects, encode_rect_in_stream};

/// Deflate level of the presenter's stream. 6 is zlib's default; docs/PERFORMANCE.md has
/// bytes and time for others.
pub const DEFAULT_LEVEL: u32 = 6;

/// A rectangle larger than this many tiles is encoded tile by tile, so text and a photo
/// in one change each get their own encoding.
const SPLIT_AREA: u64 = 4 * (TILE_SIZE as u64) * (TILE_SIZE as u64);

/// JPEG quality of lossy areas (4:4:4). TigerVNC's default (Tight, JPEG level 6) is 79
/// at 4:4:4; docs/PERFORMANCE.md has bytes and PSNR for others.
pub const DEFAULT_QUALITY: u8 = 70;

/// Most lossy tiles refined in one frame: a full 1080p screen of them is refined in about
/// a dozen frames, and one frame of refinement stays a few hundred KB.
pub const REFINE_TILES_PER_FRAME: usize = 48;

/// What the last [`Encoder::encode`] did, for statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EncodeStats {
    pub rects: usize,
    pub copies: usize,
    pub copied_pixels: u64,
    /// Bytes of rectangle payloads before deflate.
    pub payload_bytes: usize,
    pub data_bytes: usize,
    /// Lossy areas (IMAGE ops) and the bytes of their image.
    pub lossy_areas: usize,
    pub image_bytes: usize,
    /// Lossy tiles sent again losslessly.
    pub refined_tiles: usize,
    /// Bytes of this frame's video chunk (0: none).
    pub video_bytes: usize,
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
    /// JPEG quality of lossy areas; `None` keeps everything lossless.
    quality: Option<u8>,
    motion: Motion,
    /// What viewers hold lossy, by the rules every decoder follows too.
    mask: LossyMask,
    /// A large moving area coded as VP8, when enabled.
    pub video: VideoMode,
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
            quality: Some(DEFAULT_QUALITY),
            motion: Motion::default(),
            mask: LossyMask::default(),
            video: VideoMode::default(),
            last: EncodeStats::default(),
        }
    }

    /// Lossy areas at JPEG `quality`, or (`None`) every pixel exact in every frame.
    pub fn set_lossy_quality(&mut self, quality: Option<u8>) {
        self.quality = quality;
    }

    /// The tiles viewers hold lossy.
    pub fn lossy_mask(&self) -> &LossyMask {
        &self.mask
    }

    /// When the next lossy tile will have settled, so a frame of refinement is due even
    /// if nothing changes on the screen; `None` when every viewer is exact.
    pub fn refine_due(&self) -> Option<Instant> {
        self.mask.tiles().filter_map(|i| self.motion.settles_at(i)).min()
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

    /// Encodes what changed from the last frame to `cur` at `now`, and refines lossy
    /// tiles that have settled; `None` if there is nothing to send. `hints` are offsets
    /// (dx, dy) at which part of the screen may have moved.
    pub fn encode(&mut self, cur: Framebuffer, hints: &[(i32, i32)], now: Instant) -> Option<FrameMessage> {
        let same_size = self.prev.as_ref().is_some_and(|p| p.width() == cur.width() && p.height() == cur.height());
        let keyframe = self.restart || !same_size;
        let (width, height) = (cur.width() as u16, cur.height() as u16);
        let mut stats = EncodeStats::default();
        let mut ops = Vec::new();
        let mut changed = Vec::new();
        let rects = if keyframe {
            self.video.reset();
            self.mask = LossyMask::new(width, height);
            if !same_size {
                self.motion = Motion::new(width, height);
            }
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
            self.motion.next_frame();
            for r in &dirty {
                self.motion.changed(*r, now);
            }
            changed.clone_from(&dirty);
            let copies = if dirty.is_empty() { Vec::new() } else { self.finder.find(prev, &cur, &dirty, hints) };
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
        if ops.is_empty() && rects.is_empty() && self.refine_due().is_none_or(|at| at > now) {
            self.prev = Some(cur);
            return None;
        }
        // A new stream: its deflate window and its palette order start empty. (A restart
        // is always a keyframe, so this frame has ops and is sent.)
        let restart = std::mem::take(&mut self.restart);
        if restart {
            self.deflater = Deflater::new(self.level);
            self.palette = StickyPalette::default();
        }
        for op in &ops {
            self.mask.apply(op);
        }
        // The video region is painted whole by its stream: nothing else inside it.
        let video = self.video.encode(&cur, &changed, now);
        let rects = match (&video, self.video.region()) {
            (Some(_), Some(region)) => rects.into_iter().flat_map(|r| subtract(r, region)).collect(),
            _ => rects,
        };
        let mut payload = Vec::new();
        let mut lossy: Vec<PixelRect> = Vec::new();
        for r in rects {
            // Cut along the tiles (to decide tile by tile) only what may go lossy: text
            // that keeps changing stays in rectangles as large as before.
            let may_go_lossy = !keyframe && self.goes_lossy(&cur, r, now);
            let pieces = split(r, may_go_lossy);
            // A rectangle inside one tile is not cut: it was judged whole already.
            let whole = pieces.len() == 1;
            for piece in pieces {
                if may_go_lossy && (whole || self.goes_lossy(&cur, piece, now)) {
                    push_area(&mut lossy, piece);
                    continue;
                }
                let start = payload.len();
                let encoding = encode_rect_in_stream(&cur, piece, &mut payload, Some(&mut self.palette));
                ops.push(Op::Rect { rect: piece, encoding, len: (payload.len() - start) as u32 });
                stats.rects += 1;
            }
        }
        let mut images = Vec::new();
        if let (Some(q), false) = (self.quality, lossy.is_empty()) {
            let (image, image_ops) = encode_atlas(&cur, &lossy, q, 0);
            stats.lossy_areas = image_ops.len();
            stats.image_bytes = image.data.len();
            images.push(image);
            ops.extend(image_ops);
        }
        self.video.observe(&lossy, &changed, width, height, now);
        let mut videos = Vec::new();
        if let Some((op, chunk)) = video {
            stats.video_bytes = chunk.data.len();
            ops.push(op);
            videos.push(chunk);
        }
        for op in &ops[stats.copies..] {
            self.mask.apply(op);
        }
        // Refinement: settled lossy tiles again, exact, a few a frame.
        let settled: Vec<usize> = self
            .mask
            .tiles()
            .filter(|&i| self.motion.settles_at(i).is_none_or(|at| at <= now))
            .take(REFINE_TILES_PER_FRAME)
            .collect();
        for i in settled {
            let tile = self.mask.tile_rect(i);
            let start = payload.len();
            let encoding = encode_rect_in_stream(&cur, tile, &mut payload, Some(&mut self.palette));
            let op = Op::Rect { rect: tile, encoding, len: (payload.len() - start) as u32 };
            self.mask.apply(&op);
            ops.push(op);
            stats.refined_tiles += 1;
        }
        if ops.is_empty() {
            // Only possible if copies explained everything and nothing is left.
            self.prev = Some(cur);
            return None;
        }
        let data = if payload.is_empty() { Vec::new() } else { self.deflater.segment(&payload) };
        stats.payload_bytes = payload.len();
        stats.data_bytes = data.len();
        self.last = stats;
        self.frame += 1;
        let header = FrameHeader { keyframe, restart, frame: self.frame, width, height, ..Default::default() };
        self.prev = Some(cur);
        Some(FrameMessage { header, ops, data: data.into(), images, videos })
    }

    /// A piece of a hot area goes lossy when it is large and has many colours that are
    /// not antialiased text (scrolling text keeps changing too).
    fn goes_lossy(&self, cur: &Framebuffer, piece: PixelRect, now: Instant) -> bool {
        self.quality.is_some()
            && piece.area() >= MIN_LOSSY_AREA
            && self.motion.any_hot(piece, now)
            && colours(cur, piece, COMPLEX_COLOURS).is_none()
            && !looks_like_text(cur, piece)
    }
}

/// `r` cut along the tile grid when it is large or `always`, else `r` itself.
pub fn split(r: PixelRect, always: bool) -> Vec<PixelRect> {
    if r.area() <= SPLIT_AREA && !always {
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
