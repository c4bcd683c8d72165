//! Video mode: a large area that keeps moving (a video playing, a 3D view) is coded as a
//! VP9 (or VP8) stream instead of a JPEG a frame: inter frames predict from the ones
//! before, so a playing video costs a fraction of the bytes.
//!
//! Sans-IO like the rest of the encoder: frames and time in, chunks out. The region is
//! found from the lossy path's own decisions: once the lossy areas of [`VIDEO_AFTER`]
//! frames in a row have the same bounding box, at least [`MIN_VIDEO_AREA`] pixels, that
//! box becomes a stream (a keyframe first); it ends once nothing in it changed for
//! [`crate::lossy::SETTLE`], and the lossy mask has its tiles refined like any lossy
//! area.

use std::time::Instant;

use bytes::Bytes;
use deskshare_proto::{Op, PixelRect, VideoChunk, VideoCodec};
use deskshare_vpx::VideoEncoder;

use crate::Framebuffer;
use crate::lossy::SETTLE;

/// Frames in a row whose lossy areas share one bounding box before it becomes video.
pub const VIDEO_AFTER: u32 = 8;
/// Smallest video region (a 256×144 player).
pub const MIN_VIDEO_AREA: u64 = 256 * 144;
/// Bits a pixel a frame the stream is given (about 0.7 Mbit/s for 640×360 at 25 fps).
pub const BITS_PER_PIXEL: f64 = 0.12;
const FPS: u32 = 25;

struct Stream {
    rect: PixelRect,
    id: u32,
    encoder: VideoEncoder,
    last_change: Instant,
}

/// The presenter's video region, if any, and the candidate for one.
#[derive(Default)]
pub struct VideoMode {
    /// The codec streams are started in; none: video mode is off.
    codec: Option<VideoCodec>,
    /// The bitrate a stream is given, if not [`BITS_PER_PIXEL`] of its area.
    kbps: Option<u32>,
    stream: Option<Stream>,
    candidate: Option<(PixelRect, u32)>,
    next_id: u32,
    keyframe_asked: bool,
    /// Presentation times are milliseconds since the first chunk.
    epoch: Option<Instant>,
    /// Why video is off although enabled (the encoder failed to start), said once.
    pub failure: Option<String>,
}

impl VideoMode {
    /// The codec streams are started in, or none (no libvpx here, or the server does not
    /// decode any codec this machine codes). A change ends the stream.
    pub fn set_codec(&mut self, codec: Option<VideoCodec>) {
        if codec != self.codec {
            self.codec = codec;
            self.stream = None;
            self.candidate = None;
        }
    }

    pub fn codec(&self) -> Option<VideoCodec> {
        self.codec
    }

    /// Gives streams `kbps` kbit/s whatever their size (`share --video-kbps`), or, with
    /// `None`, [`BITS_PER_PIXEL`] of their area. Takes effect with the next stream.
    pub fn set_kbps(&mut self, kbps: Option<u32>) {
        self.kbps = kbps;
    }

    /// The next chunk of the stream is a keyframe (a viewer joined or fell behind).
    pub fn ask_keyframe(&mut self) {
        self.keyframe_asked = true;
    }

    /// The region being coded as video, if any.
    pub fn region(&self) -> Option<PixelRect> {
        self.stream.as_ref().map(|s| s.rect)
    }

    /// Ends the stream (a keyframe of the whole screen, a resize).
    pub fn reset(&mut self) {
        self.stream = None;
        self.candidate = None;
    }

    /// Learns from this frame's lossy areas (and the changes around them: a player's
    /// flat-coloured edges change too but stay lossless) whether a stream should start.
    pub fn observe(&mut self, lossy: &[PixelRect], changed: &[PixelRect], width: u16, height: u16, now: Instant) {
        let Some(codec) = self.codec else { return };
        if self.stream.is_some() || lossy.is_empty() {
            self.candidate = None;
            return;
        }
        let mut bbox = lossy.iter().skip(1).fold(lossy[0], |a, b| a.union(b));
        for r in changed {
            if r.overlaps(&bbox) {
                bbox = bbox.union(r);
            }
        }
        let same = |a: &PixelRect| {
            a.x.abs_diff(bbox.x) <= 16
                && a.y.abs_diff(bbox.y) <= 16
                && a.width.abs_diff(bbox.width) <= 16
                && a.height.abs_diff(bbox.height) <= 16
        };
        let frames = match self.candidate {
            Some((r, n)) if same(&r) => n + 1,
            _ => 1,
        };
        self.candidate = Some((bbox, frames));
        if frames < VIDEO_AFTER || bbox.area() < MIN_VIDEO_AREA {
            return;
        }
        // Even sizes for 4:2:0, inside the screen.
        let rect = PixelRect::new(bbox.x & !1, bbox.y & !1, bbox.width + (bbox.x & 1), bbox.height + (bbox.y & 1));
        let rect = PixelRect {
            width: (rect.width + (rect.width & 1)).min(width - rect.x) & !1,
            height: (rect.height + (rect.height & 1)).min(height - rect.y) & !1,
            ..rect
        };
        let kbps = self.kbps.unwrap_or((rect.area() as f64 * f64::from(FPS) * BITS_PER_PIXEL / 1000.0) as u32);
        match VideoEncoder::new(crate::vpx_codec(codec), rect.width.into(), rect.height.into(), kbps, FPS) {
            Ok(encoder) => {
                self.next_id = self.next_id.wrapping_add(1);
                self.stream = Some(Stream { rect, id: self.next_id, encoder, last_change: now });
                self.keyframe_asked = true;
                self.candidate = None;
            }
            Err(e) => {
                self.failure = Some(e.to_string());
                self.codec = None;
            }
        }
    }

    /// If the stream's region changed in this frame (`changed` overlaps it), its next
    /// chunk and the op that paints it; ends the stream once it has been still for
    /// [`SETTLE`]. Returns `None` when there is nothing to send.
    pub fn encode(&mut self, cur: &Framebuffer, changed: &[PixelRect], now: Instant) -> Option<(Op, VideoChunk)> {
        let epoch = *self.epoch.get_or_insert(now);
        let codec = self.codec?;
        let s = self.stream.as_mut()?;
        if !changed.iter().any(|r| r.overlaps(&s.rect)) {
            if now.saturating_duration_since(s.last_change) >= SETTLE {
                self.stream = None;
            }
            return None;
        }
        s.last_change = now;
        let r = s.rect;
        let start = usize::from(r.y) * cur.width() as usize + usize::from(r.x);
        let millis = i64::try_from(now.saturating_duration_since(epoch).as_millis()).unwrap_or(i64::MAX);
        let keyframe = std::mem::take(&mut self.keyframe_asked);
        match s.encoder.encode(&cur.pixels()[start..], cur.width() as usize, millis, keyframe) {
            Ok(e) if !e.data.is_empty() => {
                let chunk = VideoChunk { codec, stream: s.id, keyframe: e.keyframe, data: Bytes::from(e.data) };
                Some((Op::Video { chunk: 0, to: r }, chunk))
            }
            Ok(_) => None,
            Err(e) => {
                self.failure = Some(e.to_string());
                self.codec = None;
                self.stream = None;
                None
            }
        }
    }
}

/// `r` without the part inside `hole`: up to four rectangles.
pub fn subtract(r: PixelRect, hole: PixelRect) -> Vec<PixelRect> {
    if !r.overlaps(&hole) {
        return vec![r];
    }
    let (x0, y0, x1, y1) = (r.x, r.y, r.x + r.width, r.y + r.height);
    let (hx0, hy0, hx1, hy1) =
        (hole.x.max(x0), hole.y.max(y0), (hole.x + hole.width).min(x1), (hole.y + hole.height).min(y1));
    let mut out = Vec::new();
    if hy0 > y0 {
        out.push(PixelRect::new(x0, y0, r.width, hy0 - y0));
    }
    if y1 > hy1 {
        out.push(PixelRect::new(x0, hy1, r.width, y1 - hy1));
    }
    if hx0 > x0 {
        out.push(PixelRect::new(x0, hy0, hx0 - x0, hy1 - hy0));
    }
    if x1 > hx1 {
        out.push(PixelRect::new(hx1, hy0, x1 - hx1, hy1 - hy0));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtract_leaves_the_frame_around_a_hole() {
        let r = PixelRect::new(0, 0, 100, 80);
        let parts = subtract(r, PixelRect::new(20, 10, 30, 40));
        let area: u64 = parts.iter().map(|p| p.area()).sum();
        assert_eq!(area, 100 * 80 - 30 * 40);
        for (i, p) in parts.iter().enumerate() {
            assert!(!p.overlaps(&PixelRect::new(20, 10, 30, 40)));
            for q in &parts[i + 1..] {
                assert!(!p.overlaps(q));
            }
        }
        assert_eq!(subtract(r, PixelRect::new(200, 0, 5, 5)), vec![r]);
        assert!(subtract(r, PixelRect::new(0, 0, 100, 80)).is_empty());
    }
}
