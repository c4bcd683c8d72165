//! The screen cache of one meeting: the presenter's current screen, how each part of it
//! got there recently, and the cursor.
//!
//! The server decodes every presenter frame into one framebuffer (the same
//! [`deskshare_codec::Decoder`] a viewer runs) and keeps:
//!
//! * a **log** of the latest frames as they came (ops and deflate segment, a few MiB): a
//!   viewer a few versions behind gets them again, merged into one message, byte for
//!   byte what the presenter encoded — copies included, nothing re-encoded;
//! * per 64×64 tile, the version that last changed it, and lazily a **standalone unit**
//!   (the tile encoded and deflated on its own, once per tile version): a viewer that
//!   joined late, or fell further behind than the log reaches, or for whom the log would
//!   cost more, gets a **catch-up** of the tiles changed since its version plus the
//!   presenter stream's last 32 KiB as history, which puts its inflater in step with the
//!   stream, so it follows the live frames from there.
//!
//! Lossy tiles (a video playing, see `deskshare_codec::lossy`) are not made into units:
//! a catch-up carries them as one JPEG of the server's picture at the viewer's
//! [`Quality`], made once per version and quality and shared. The presenter refines them
//! later through the stream, which every viewer follows.
//!
//! Either way the viewer ends exact, and the cost of compression grows with the
//! presenter's changes, never with the number of viewers: a unit is made once per tile
//! version and shared by everyone who needs it.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;
use deskshare_codec::{
    ApplyError as CodecError, Decoder, encode_rect,
    image::{encode_atlas, push_area},
    stream,
};
use deskshare_proto::media::{
    FrameParts, MAX_IMAGES, MAX_VIDEO_CHUNKS, SYNC_TRAILER, encode_frame_body, encode_frame_head, encode_images,
    encode_op, encode_videos,
};
use deskshare_proto::{
    CursorPosition, CursorShape, ErrorCode, FrameHeader, FrameImage, FrameMessage, Op, PixelRect, TILE_SIZE,
    VideoChunk, VideoCodec, WireError, grid_dims, tile_dims,
};

/// What a viewer can do with video streams, and which ones it can go on with (it got
/// their keyframe and every chunk since).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VideoSync {
    /// The codecs it decodes (its hello said so).
    pub codecs: Vec<VideoCodec>,
    streams: std::collections::BTreeSet<u32>,
}

impl VideoSync {
    fn decodes(&self, codec: VideoCodec) -> bool {
        self.codecs.contains(&codec)
    }
}

/// Most bytes of frames the log keeps, and most frames.
const LOG_BYTES: usize = 4 << 20;
const LOG_FRAMES: usize = 1024;
/// A replay is chosen while it costs at most this plus [`REPLAY_PER_TILE`] for each tile
/// it changes: a catch-up sends every such tile whole.
const REPLAY_BASE: usize = 64 << 10;
const REPLAY_PER_TILE: usize = 2 << 10;
/// Deflate level of catch-up units (made once each, so a good level is cheap).
const UNIT_LEVEL: u32 = 6;

/// How good the lossy parts of a viewer's catch-ups are: a small fixed set, so each is
/// encoded at most once per version whatever the number of viewers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Quality {
    /// As the presenter sends them; replays pass its images through.
    Full,
    /// For a viewer that falls behind or is far away: lossy areas come only in
    /// catch-ups, at a lower JPEG quality.
    Reduced,
}

impl Quality {
    /// JPEG quality of a catch-up's image.
    pub fn jpeg_quality(self) -> u8 {
        match self {
            Quality::Full => deskshare_codec::DEFAULT_QUALITY,
            Quality::Reduced => 40,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Why a presenter's frame could not be applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Codec(#[from] CodecError),
}

impl ApplyError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ApplyError::Codec(CodecError::NeedKeyframe { .. } | CodecError::OutOfScreen { .. }) => {
                ErrorCode::ProtocolViolation
            }
            ApplyError::Codec(_) => ErrorCode::TileCorrupt,
        }
    }
}

impl From<ApplyError> for WireError {
    fn from(e: ApplyError) -> Self {
        WireError::new(e.code(), e.to_string())
    }
}

/// What applying a frame did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApplyOutcome {
    /// Tiles whose content changed.
    pub changed_tiles: usize,
    /// The screen's version after the frame.
    pub version: u64,
    /// The screen size changed, so every viewer will get a keyframe.
    pub resized: bool,
}

/// One presenter frame as it came, for replay.
#[derive(Debug)]
struct Entry {
    version: u64,
    restart: bool,
    op_count: usize,
    ops: Vec<u8>,
    /// Without the sync trailer.
    data: Bytes,
    /// The frame's images and video chunks and, when it has any, its ops (a replay
    /// renumbers them).
    images: Vec<FrameImage>,
    videos: Vec<VideoChunk>,
    op_list: Vec<Op>,
    /// Bytes its data inflates to.
    inflated: u64,
}

impl Entry {
    fn bytes(&self) -> usize {
        self.ops.len()
            + self.data.len()
            + self.images.iter().map(|i| i.data.len() + 8).sum::<usize>()
            + self.videos.iter().map(|v| v.data.len() + 8).sum::<usize>()
            + 8
    }
}

/// The lossy tiles of one version as one image, for catch-ups.
#[derive(Clone, Debug)]
struct LossyPart {
    version: u64,
    op_count: usize,
    ops: Vec<u8>,
    /// Encoded with [`encode_images`].
    images: Vec<u8>,
}

#[derive(Clone, Debug)]
struct Unit {
    version: u64,
    op: Op,
    /// Standalone deflate, sync trailer kept.
    data: Bytes,
}

/// How an update brings a viewer to the newest version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateKind {
    /// The frames since the viewer's version, as the presenter encoded them.
    Replay,
    /// Whole tiles from the cache, and the stream's history.
    CatchUp,
}

/// A viewer's next screen update, ready to be written: its own header, and a body (ops,
/// data, images, chunks) made once and shared by every viewer sent the same update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    pub header: FrameHeader,
    pub kind: UpdateKind,
    pub op_count: usize,
    body: Bytes,
}

impl Update {
    fn new(header: FrameHeader, kind: UpdateKind, op_count: usize, parts: &FrameParts<'_>) -> Update {
        let mut body =
            Vec::with_capacity(8 + parts.ops.len() + parts.data.len() + parts.images.len() + parts.videos.len());
        encode_frame_body(&mut body, parts);
        Update { header, kind, op_count, body: body.into() }
    }

    /// The message: this update's head, then the shared body.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(48 + self.body.len());
        encode_frame_head(&mut out, &self.header, self.op_count);
        out.extend_from_slice(&self.body);
        out
    }

    /// The body after the head, shared between viewers (the same allocation).
    pub fn body(&self) -> &Bytes {
        &self.body
    }
}

/// Updates kept per version: viewers that keep up share one, late joiners one keyframe;
/// a viewer somewhere else gets its own, made for it.
const MADE_KEEP: usize = 8;

/// An update made for viewers at `have` (0 for every viewer that needs a keyframe).
#[derive(Clone, Debug)]
struct Made {
    have: u64,
    quality: Quality,
    update: Update,
}

/// One meeting's current screen and the cursor.
#[derive(Default)]
pub struct Screen {
    decoder: Decoder,
    width: u16,
    height: u16,
    cols: u32,
    tile_versions: Vec<u64>,
    units: Vec<Option<Unit>>,
    /// Newest version; 0 means nothing was ever shown.
    version: u64,
    /// Version at which the current size began; viewers older than this need a keyframe.
    size_version: u64,
    /// The log holds every frame after this version.
    log_start: u64,
    log: VecDeque<Entry>,
    log_bytes: usize,
    /// Tile versions applied so far, to count what each viewer skipped.
    tile_updates: u64,
    history_unit: Option<(u64, u32, Bytes)>,
    /// Per [`Quality`], the last lossy part made.
    lossy_parts: [Option<LossyPart>; 2],
    /// A viewer needs a video keyframe: ask the presenter (the shell takes this).
    keyframe_wanted: bool,
    /// When `version` last changed.
    updated_at: Option<Instant>,
    /// Updates made at this version, by where the viewer was and its quality: every
    /// viewer in the same place is sent the same body. Cleared with each new version.
    made: Vec<Made>,
    /// The presenter's capture time of the newest frame (see `FrameHeader::captured_us`).
    captured_us: u32,
    cursor_shape: Option<(u64, Bytes)>,
    cursor_position: Option<(u64, CursorPosition)>,
    cursor_serial: u64,
}

impl Screen {
    pub fn new() -> Self {
        Screen::default()
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn size(&self) -> (u16, u16) {
        (self.width, self.height)
    }

    /// The current picture, as every viewer will end up seeing it.
    pub fn picture(&self) -> Option<&deskshare_codec::Framebuffer> {
        self.decoder.screen()
    }

    /// Applies a presenter frame atomically: either it all becomes the new version, or
    /// (on error) nothing changes.
    pub fn apply(&mut self, frame: &FrameMessage, now: Instant) -> Result<ApplyOutcome, ApplyError> {
        let h = &frame.header;
        let resized = (h.width, h.height) != (self.width, self.height);
        // A keyframe of the same size (a presenter that reconnected) changes only the
        // tiles whose pixels differ; the old picture tells which.
        let before = (h.keyframe && !resized).then(|| self.decoder.screen().cloned()).flatten();
        let applied = self.decoder.apply(frame)?;
        let next = self.version + 1;
        if resized {
            let (cols, rows) = grid_dims(h.width.into(), h.height.into());
            (self.width, self.height, self.cols) = (h.width, h.height, cols);
            self.tile_versions = vec![next; (cols * rows) as usize];
            self.units = vec![None; (cols * rows) as usize];
            self.size_version = next;
        }
        let mut changed = vec![false; self.tile_versions.len()];
        if let Some(before) = before {
            let now_fb = self.decoder.screen().expect("just applied");
            for (i, c) in changed.iter_mut().enumerate() {
                let (col, row) = (i as u32 % self.cols, i as u32 / self.cols);
                let t = now_fb.tile_rect(col, row);
                *c = (0..t.height).any(|y| before.row(t, y) != now_fb.row(t, y));
            }
        } else if resized {
            changed.iter_mut().for_each(|c| *c = true);
        } else {
            for r in &applied.changed {
                self.mark(&mut changed, *r);
            }
        }
        let mut count = 0;
        for (i, _) in changed.iter().enumerate().filter(|(_, c)| **c) {
            self.tile_versions[i] = next;
            count += 1;
        }
        // Every frame is a version, even one that changed no pixel: it moved the stream,
        // and viewers must follow the stream to read what comes next.
        self.version = next;
        self.tile_updates += count as u64;
        self.updated_at = Some(now);
        self.made.clear();
        self.captured_us = frame.header.captured_us;
        if h.keyframe {
            // A keyframe is never replayed (a catch-up is smaller): the log starts after it.
            self.log.clear();
            self.log_bytes = 0;
            self.log_start = next;
        } else {
            let mut ops = Vec::with_capacity(frame.ops.len() * 10);
            for op in &frame.ops {
                encode_op(&mut ops, op);
            }
            let numbered = !frame.images.is_empty() || !frame.videos.is_empty();
            let op_list = if numbered { frame.ops.clone() } else { Vec::new() };
            let entry = Entry {
                version: next,
                restart: h.restart,
                op_count: frame.ops.len(),
                ops,
                data: frame.data.clone(),
                images: frame.images.clone(),
                videos: frame.videos.clone(),
                op_list,
                inflated: frame.inflated_len(),
            };
            self.log_bytes += entry.bytes();
            self.log.push_back(entry);
            while self.log_bytes > LOG_BYTES || self.log.len() > LOG_FRAMES {
                let old = self.log.pop_front().expect("non-empty");
                self.log_bytes -= old.bytes();
                self.log_start = old.version;
            }
        }
        Ok(ApplyOutcome { changed_tiles: count, version: next, resized })
    }

    fn mark(&self, changed: &mut [bool], r: PixelRect) {
        let t = TILE_SIZE as u16;
        for row in r.y / t..=(r.y + r.height - 1) / t {
            for col in r.x / t..=(r.x + r.width - 1) / t {
                changed[usize::from(row) * self.cols as usize + usize::from(col)] = true;
            }
        }
    }

    /// Stores a new cursor image.
    pub fn set_cursor_shape(&mut self, shape: &CursorShape) {
        self.cursor_serial += 1;
        self.cursor_shape = Some((self.cursor_serial, Bytes::from(shape.encode())));
    }

    /// Stores a new cursor position.
    pub fn set_cursor_position(&mut self, pos: CursorPosition) {
        if self.cursor_position.map(|(_, p)| p) == Some(pos) {
            return;
        }
        self.cursor_serial += 1;
        self.cursor_position = Some((self.cursor_serial, pos));
    }

    pub(crate) fn cursor_shape(&self) -> Option<&(u64, Bytes)> {
        self.cursor_shape.as_ref()
    }

    pub(crate) fn cursor_position(&self) -> Option<(u64, CursorPosition)> {
        self.cursor_position
    }

    pub(crate) fn tile_updates(&self) -> u64 {
        self.tile_updates
    }

    /// The update that brings a viewer holding version `have` to the newest version, or
    /// `None` if it is current. A viewer from before the last resize gets a keyframe.
    /// Takes `&mut self` to fill the unit cache.
    pub fn update_since(&mut self, have: u64, now: Instant, quality: Quality, video: &mut VideoSync) -> Option<Update> {
        if self.version == 0 || have >= self.version {
            return None;
        }
        let delay = self.updated_at.map_or(0, |at| now.saturating_duration_since(at).as_millis());
        let header = FrameHeader {
            frame: self.version,
            width: self.width,
            height: self.height,
            server_delay_ms: delay.min(u128::from(u32::MAX)) as u32,
            captured_us: self.captured_us,
            ..Default::default()
        };
        // With video in the log an update depends on the viewer's streams: made for each.
        let shareable = self.log.iter().all(|e| e.videos.is_empty());
        let place = if have < self.size_version { 0 } else { have };
        if shareable && let Some(m) = self.made.iter().find(|m| m.have == place && m.quality == quality) {
            if m.update.kind == UpdateKind::CatchUp {
                video.streams.clear();
            }
            return Some(Update {
                header: FrameHeader { server_delay_ms: header.server_delay_ms, ..m.update.header },
                ..m.update.clone()
            });
        }
        let update = self.make_update(have, header, quality, video);
        if shareable && self.made.len() < MADE_KEEP {
            self.made.push(Made { have: place, quality, update: update.clone() });
        }
        Some(update)
    }

    /// [`Screen::update_since`] when no viewer in the same place had one made.
    fn make_update(&mut self, have: u64, header: FrameHeader, quality: Quality, video: &mut VideoSync) -> Update {
        if let Some(u) = self.replay(have, header, quality, video) {
            return u;
        }
        // A catch-up skips video chunks: the viewer's streams wait for a keyframe, which
        // the presenter is asked for when a stream is playing.
        video.streams.clear();
        // (A viewer at reduced quality gets no chunks anyway: no keyframe for it, or a
        // slow viewer would make the presenter send keyframes all the time.)
        if quality == Quality::Full && self.log.iter().flat_map(|e| &e.videos).any(|c| video.decodes(c.codec)) {
            self.keyframe_wanted = true;
        }
        self.catch_up(have, header, quality)
    }

    /// Whether a viewer waits for a video keyframe since the last call.
    pub fn take_keyframe_request(&mut self) -> bool {
        std::mem::take(&mut self.keyframe_wanted)
    }

    /// The log's frames after `have` merged into one, if the log reaches back that far,
    /// no frame but the first restarts the stream, and it costs less than a catch-up.
    fn replay(&self, have: u64, mut header: FrameHeader, quality: Quality, video: &mut VideoSync) -> Option<Update> {
        if have < self.log_start || have < self.size_version {
            return None;
        }
        let entries: Vec<&Entry> = self.log.iter().filter(|e| e.version > have).collect();
        if entries.first()?.version != have + 1 || entries.iter().skip(1).any(|e| e.restart) {
            return None;
        }
        let image_count: usize = entries.iter().map(|e| e.images.len()).sum();
        if image_count > 0 && (quality != Quality::Full || image_count as u64 > MAX_IMAGES) {
            return None;
        }
        // Video chunks go only to a viewer that decodes their codec and has each stream's
        // keyframe (here or before); a reduced-quality viewer gets the JPEG of catch-ups.
        let mut streams = video.streams.clone();
        let chunks: Vec<&VideoChunk> = entries.iter().flat_map(|e| &e.videos).collect();
        if !chunks.is_empty() {
            if quality != Quality::Full || chunks.len() as u64 > MAX_VIDEO_CHUNKS {
                return None;
            }
            for c in &chunks {
                if !video.decodes(c.codec) {
                    return None;
                }
                if c.keyframe {
                    streams.insert(c.stream);
                } else if !streams.contains(&c.stream) {
                    return None;
                }
            }
        }
        // A merged update must stay inside what a viewer accepts of one message.
        let inflated: u64 = entries.iter().map(|e| e.inflated).sum();
        let image_pixels: u64 = entries.iter().flat_map(|e| &e.images).map(FrameImage::pixels).sum();
        if inflated > FrameMessage::max_inflated(self.width, self.height)
            || image_pixels > FrameMessage::max_image_pixels(self.width, self.height)
        {
            return None;
        }
        let bytes: usize = entries.iter().map(|e| e.bytes()).sum();
        let tiles = self.tile_versions.iter().filter(|&&v| v > have).count();
        if bytes > REPLAY_BASE + tiles * REPLAY_PER_TILE {
            return None;
        }
        header.restart = entries[0].restart;
        let mut ops = Vec::with_capacity(bytes);
        let mut data = Vec::with_capacity(bytes);
        let mut op_count = 0;
        let mut images: Vec<FrameImage> = Vec::new();
        let mut videos: Vec<VideoChunk> = Vec::new();
        for e in &entries {
            op_count += e.op_count;
            if e.op_list.is_empty() {
                ops.extend_from_slice(&e.ops);
            } else {
                // This frame's images and chunks come after the ones before it: renumber.
                let (base, chunk_base) = (images.len() as u8, videos.len() as u8);
                for op in &e.op_list {
                    match *op {
                        Op::Image { image, from_x, from_y, to } => {
                            encode_op(&mut ops, &Op::Image { image: image + base, from_x, from_y, to })
                        }
                        Op::Video { chunk, to } => encode_op(&mut ops, &Op::Video { chunk: chunk + chunk_base, to }),
                        other => encode_op(&mut ops, &other),
                    }
                }
                images.extend(e.images.iter().cloned());
                videos.extend(e.videos.iter().cloned());
            }
            if !e.data.is_empty() {
                if !data.is_empty() {
                    // The previous segment's stripped trailer goes back between them.
                    data.extend_from_slice(&SYNC_TRAILER);
                }
                data.extend_from_slice(&e.data);
            }
        }
        let mut image_part = Vec::new();
        encode_images(&mut image_part, &images);
        let mut video_part = Vec::new();
        encode_videos(&mut video_part, &videos);
        header.images = !images.is_empty();
        header.video = !videos.is_empty();
        video.streams = streams;
        let parts = FrameParts { ops: &ops, data: &data, images: &image_part, videos: &video_part };
        Some(Update::new(header, UpdateKind::Replay, op_count, &parts))
    }

    /// Every tile changed after `have` (all of them for a keyframe), from the unit cache,
    /// then the stream's history.
    fn catch_up(&mut self, have: u64, mut header: FrameHeader, quality: Quality) -> Update {
        header.keyframe = have < self.size_version;
        header.restart = true;
        let lossy = self.lossy_part(quality);
        let fb = self.decoder.screen().expect("a version implies a picture");
        let mask = self.decoder.lossy_mask();
        let (mut ops, mut data, mut op_count) = (Vec::new(), Vec::new(), 0);
        for i in 0..self.tile_versions.len() {
            let version = self.tile_versions[i];
            if (!header.keyframe && version <= have) || mask.is_lossy(i) {
                continue;
            }
            let unit = match &self.units[i] {
                Some(u) if u.version == version => u.clone(),
                _ => {
                    let (col, row) = (i as u32 % self.cols, i as u32 / self.cols);
                    let (w, h) = tile_dims(self.width.into(), self.height.into(), col, row);
                    let rect = PixelRect::new((col * TILE_SIZE) as u16, (row * TILE_SIZE) as u16, w as u16, h as u16);
                    let mut payload = Vec::new();
                    let encoding = encode_rect(fb, rect, &mut payload);
                    let op = Op::Rect { rect, encoding, len: payload.len() as u32 };
                    let unit = Unit { version, op, data: stream::standalone_unit(&payload, UNIT_LEVEL).into() };
                    self.units[i] = Some(unit.clone());
                    unit
                }
            };
            encode_op(&mut ops, &unit.op);
            op_count += 1;
            data.extend_from_slice(&unit.data);
        }
        let history = if self.decoder.stream_ended() { &[][..] } else { self.decoder.history() };
        if !history.is_empty() {
            let unit = match &self.history_unit {
                Some((v, len, d)) if *v == self.version => (*len, d.clone()),
                _ => {
                    let d: Bytes = stream::standalone_unit(history, UNIT_LEVEL).into();
                    self.history_unit = Some((self.version, history.len() as u32, d.clone()));
                    (history.len() as u32, d)
                }
            };
            header.history_len = unit.0;
            data.extend_from_slice(&unit.1);
        }
        if data.ends_with(&SYNC_TRAILER) {
            data.truncate(data.len() - SYNC_TRAILER.len());
        }
        let images = match lossy {
            Some(part) => {
                ops.extend_from_slice(&part.ops);
                op_count += part.op_count;
                header.images = true;
                part.images
            }
            None => Vec::new(),
        };
        let parts = FrameParts { ops: &ops, data: &data, images: &images, videos: &[] };
        Update::new(header, UpdateKind::CatchUp, op_count, &parts)
    }

    /// Every lossy tile of the picture as one image at `quality`, made once per version.
    /// (All of them, whatever the viewer has: they are few, keep changing, and the
    /// image is shared by every catch-up of this version.)
    fn lossy_part(&mut self, quality: Quality) -> Option<LossyPart> {
        let mask = self.decoder.lossy_mask();
        if mask.count() == 0 {
            return None;
        }
        if let Some(part) = &self.lossy_parts[quality.index()]
            && part.version == self.version
        {
            return Some(part.clone());
        }
        let fb = self.decoder.screen().expect("a lossy tile implies a picture");
        let mut areas: Vec<PixelRect> = Vec::new();
        for i in mask.tiles() {
            push_area(&mut areas, mask.tile_rect(i));
        }
        let (image, image_ops) = encode_atlas(fb, &areas, quality.jpeg_quality(), 0);
        let mut ops = Vec::new();
        for op in &image_ops {
            encode_op(&mut ops, op);
        }
        let mut images = Vec::new();
        encode_images(&mut images, &[image]);
        let part = LossyPart { version: self.version, op_count: image_ops.len(), ops, images };
        self.lossy_parts[quality.index()] = Some(part.clone());
        Some(part)
    }
}
