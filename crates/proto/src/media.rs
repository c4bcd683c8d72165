//! Binary media messages: screen frames, cursor shape, cursor position.
//!
//! The first byte of every binary WebSocket message is its kind. A frame's numbers are
//! LEB128 varints (a keystroke's whole frame is a few dozen bytes, so fixed 4- and 8-byte
//! fields would be a third of it); cursor messages keep fixed little-endian fields. A
//! frame is a list of ops (RECT, COPY, IMAGE), one deflate segment holding every RECT's
//! pixels and, for lossy areas, a few JPEG images IMAGE ops cut from; the data stays a
//! [`Bytes`] slice of the received buffer, so the server can keep and forward it without
//! copying.

use bytes::{BufMut, Bytes};

use crate::error::{ErrorCode, WireError};
use crate::{MAX_CURSOR_EDGE, MAX_MESSAGE_BYTES, MAX_SCREEN_EDGE};

mod parts;
mod rect;
mod wire;
pub use parts::{FrameImage, ImageFormat, VideoChunk, VideoCodec, encode_images, encode_videos};
use parts::{check_image_ops, check_video_ops, images_len, read_images, read_videos, videos_len};
pub use rect::{PixelRect, RectEncoding, grid_dims, palette_bits, palette_len, tile_dims};
use wire::Reader;
pub use wire::{put_varint, varint_len};

/// Kind byte of a frame message.
pub const KIND_FRAME: u8 = 0x01;
/// Kind byte of a cursor shape message.
pub const KIND_CURSOR_SHAPE: u8 = 0x02;
/// Kind byte of a cursor position message.
pub const KIND_CURSOR_POSITION: u8 = 0x03;

/// Frame flag: start from a black screen of the frame's size; drop what you had.
pub const FLAG_KEYFRAME: u8 = 0x01;
/// Frame flag: reset the stream decompressor before this frame's data: the data starts a
/// new deflate stream (a presenter's first frame, a server's catch-up).
pub const FLAG_RESTART: u8 = 0x02;

/// Frame flag: images follow the data (IMAGE ops paint from them).
pub const FLAG_IMAGES: u8 = 0x04;
/// Frame flag: video chunks follow (after the images): VIDEO ops paint from them.
pub const FLAG_VIDEO: u8 = 0x08;

/// Op tag of a COPY (rect tags are their encoding, 0..=3).
pub const OP_COPY: u8 = 0x10;
/// Op tag of an IMAGE op: paint a rectangle from one of the frame's lossy images.
pub const OP_IMAGE: u8 = 0x20;
/// Op tag of a VIDEO op: paint a rectangle with the next frame of a video stream.
pub const OP_VIDEO: u8 = 0x30;

/// Most video chunks in one frame.
pub const MAX_VIDEO_CHUNKS: u64 = 64;
/// Largest edge of a video region (VP8 allows 16383; this bounds a decoder's memory).
pub const MAX_VIDEO_EDGE: u16 = 4096;
/// Largest video stream id.
pub const MAX_VIDEO_STREAM: u64 = u32::MAX as u64;

/// Most images in one frame (a replay of several presenter frames carries one each).
pub const MAX_IMAGES: u64 = 64;
/// Largest edge of an image.
pub const MAX_IMAGE_EDGE: u64 = 16384;

/// Most ops in one frame.
pub const MAX_OPS: u64 = 1 << 20;
/// Largest deflate window: a frame's history part is at most this long.
pub const MAX_HISTORY: u32 = 32 * 1024;

/// The four bytes of an empty stored block that end every sync-flushed deflate segment.
/// Senders leave them off the end of a frame's data and receivers put them back, as
/// permessage-deflate (RFC 7692) does: four bytes a frame is 10 % of a keystroke.
pub const SYNC_TRAILER: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

const CURSOR_SHAPE_HEADER_LEN: usize = 14;
const CURSOR_POSITION_LEN: usize = 10;

/// Why a binary message was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("empty message")]
    Empty,
    #[error("message of {0} bytes exceeds the limit of {MAX_MESSAGE_BYTES}")]
    TooLarge(usize),
    #[error("unknown message kind 0x{0:02x}")]
    UnknownKind(u8),
    #[error("message truncated: needed {needed} bytes at offset {offset}, have {len}")]
    Truncated { offset: usize, needed: usize, len: usize },
    #[error("{0} trailing bytes after the last field")]
    Trailing(usize),
    #[error("unknown flags 0x{0:02x}")]
    UnknownFlags(u8),
    #[error("malformed varint at offset {offset}")]
    BadVarint { offset: usize },
    #[error("value {value} at offset {offset} exceeds {max}")]
    OutOfRange { offset: usize, value: u64, max: u64 },
    #[error("screen {width}x{height} is outside 1..={MAX_SCREEN_EDGE}")]
    ScreenSize { width: u64, height: u64 },
    #[error("{kind} {rect:?} lies outside the {width}x{height} screen or is empty")]
    OutOfScreen { kind: &'static str, rect: PixelRect, width: u16, height: u16 },
    #[error("unknown op 0x{0:02x}")]
    UnknownOp(u8),
    #[error("{encoding:?} payload of {len} bytes cannot encode a {width}x{height} rectangle")]
    PayloadSize { encoding: RectEncoding, len: u64, width: u16, height: u16 },
    #[error("the frame's pixel data would inflate to {total} bytes, more than {max}")]
    InflatedTooLarge { total: u64, max: u64 },
    #[error("a frame with {expected} bytes of pixel data carries {len} compressed bytes")]
    DataMismatch { expected: u64, len: usize },
    #[error("cursor {width}x{height} is outside 1..={MAX_CURSOR_EDGE} or hotspot outside it")]
    CursorSize { width: u16, height: u16 },
    #[error("the images flag is set but the frame has no images")]
    NoImages,
    #[error("unknown image format {0}")]
    UnknownImageFormat(u8),
    #[error("image {index} of {width}x{height} is empty or larger than {MAX_IMAGE_EDGE} a side")]
    ImageSize { index: usize, width: u64, height: u64 },
    #[error("the frame's images hold {total} pixels, more than {max}")]
    ImagesTooLarge { total: u64, max: u64 },
    #[error("IMAGE op {op} names image {image}, but the frame has {count}")]
    NoSuchImage { op: usize, image: u64, count: usize },
    #[error("IMAGE op {op} reads {rect:?}, outside its {width}x{height} image")]
    OutOfImage { op: usize, rect: PixelRect, width: u16, height: u16 },
    #[error("image {0} is not used by any op")]
    UnusedImage(usize),
    #[error("the video flag is set but the frame has no video chunks")]
    NoVideo,
    #[error("unknown video codec {0}")]
    UnknownVideoCodec(u8),
    #[error("VIDEO op {op} names chunk {chunk}, but the frame has {count}")]
    NoSuchChunk { op: usize, chunk: u64, count: usize },
    #[error("video chunk {0} is used by no op, or by more than one")]
    ChunkUse(usize),
    #[error("VIDEO op {op} paints {rect:?}: a video region is 2..={MAX_VIDEO_EDGE} pixels a side, even sizes")]
    VideoSize { op: usize, rect: PixelRect },
}

impl DecodeError {
    /// The stable code users see for this rejection.
    pub fn code(&self) -> ErrorCode {
        match self {
            DecodeError::TooLarge(_) => ErrorCode::MessageTooLarge,
            DecodeError::UnknownKind(_) => ErrorCode::MessageUnknownType,
            DecodeError::ScreenSize { .. } | DecodeError::CursorSize { .. } => ErrorCode::ScreenTooLarge,
            DecodeError::PayloadSize { .. }
            | DecodeError::InflatedTooLarge { .. }
            | DecodeError::DataMismatch { .. }
            | DecodeError::ImageSize { .. }
            | DecodeError::ImagesTooLarge { .. }
            | DecodeError::NoSuchImage { .. }
            | DecodeError::OutOfImage { .. }
            | DecodeError::UnusedImage(_)
            | DecodeError::NoSuchChunk { .. }
            | DecodeError::ChunkUse(_)
            | DecodeError::VideoSize { .. } => ErrorCode::TileCorrupt,
            _ => ErrorCode::MessageMalformed,
        }
    }
}

impl From<DecodeError> for WireError {
    fn from(e: DecodeError) -> Self {
        WireError::new(e.code(), e.to_string())
    }
}

/// One drawing operation of a frame. Ops apply in order, each to the result of the
/// ones before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Paint `rect` with the next `len` bytes of the frame's pixel data.
    Rect { rect: PixelRect, encoding: RectEncoding, len: u32 },
    /// Copy the pixels at (`from_x`, `from_y`) of `to`'s size to `to` (a scroll, a moved
    /// window). Source and destination may overlap: the copy reads before it writes.
    Copy { from_x: u16, from_y: u16, to: PixelRect },
    /// Paint `to` with the pixels at (`from_x`, `from_y`) of `to`'s size in the frame's
    /// image number `image`: a lossy area (a video, a photo being dragged).
    Image { image: u8, from_x: u16, from_y: u16, to: PixelRect },
    /// Decode the frame's video chunk number `chunk` (the next frame of its stream, whose
    /// pictures are `to`'s size) and paint it at `to`.
    Video { chunk: u8, to: PixelRect },
}

impl Op {
    /// The screen area this op writes.
    pub fn target(&self) -> PixelRect {
        match self {
            Op::Rect { rect, .. } => *rect,
            Op::Copy { to, .. } | Op::Image { to, .. } | Op::Video { to, .. } => *to,
        }
    }
}

/// The fixed part of a frame message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameHeader {
    /// Start from a black screen of this size; drop what you had.
    pub keyframe: bool,
    /// Reset the stream decompressor before this frame's data.
    pub restart: bool,
    /// Images follow the data. [`FrameMessage::encode`] sets it from the images it has.
    pub images: bool,
    /// Video chunks follow the images. [`FrameMessage::encode`] sets it likewise.
    pub video: bool,
    /// Frame number. From a presenter: its own counter. To a viewer: the version of the
    /// server's screen this update brings the viewer up to; acks name it.
    pub frame: u64,
    pub width: u16,
    pub height: u16,
    /// To a viewer: tile versions that were superseded before this viewer could get them.
    pub skipped_tiles: u32,
    /// To a viewer: how long the newest change waited in the server before this send.
    pub server_delay_ms: u32,
    /// To a viewer: its last round-trip time (send to ack) as the server measured it.
    pub rtt_ms: u32,
    /// Inflated bytes after the last rectangle's payload that only fill the decompressor's
    /// window (a catch-up puts the presenter's stream history there), then are dropped.
    pub history_len: u32,
    /// When the presenter grabbed the picture: the low 32 bits of its clock in
    /// microseconds since the Unix epoch (it wraps every 71 minutes; a latency is
    /// `now.wrapping_sub(captured)` in the same bits). To a viewer, that of the newest
    /// frame the update carries. 0: not known. With clocks in step (one machine, or NTP)
    /// it gives the latency from capture to screen, for five bytes a frame.
    pub captured_us: u32,
}

/// The capture clock of [`FrameHeader::captured_us`] at `t`: the low 32 bits of
/// microseconds since the Unix epoch.
pub fn capture_clock(t: std::time::SystemTime) -> u32 {
    t.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros() as u32)
}

/// A screen update: the header, the ops, and the compressed pixel data of the rects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameMessage {
    pub header: FrameHeader,
    pub ops: Vec<Op>,
    /// Raw deflate (RFC 1951): inflates to every RECT's payload in op order, then
    /// `history_len` bytes. Sync-flushed, without the final [`SYNC_TRAILER`]; or ending
    /// in a final block. Empty when nothing is to be inflated.
    pub data: Bytes,
    /// The images IMAGE ops paint from (none for a lossless frame).
    pub images: Vec<FrameImage>,
    /// The video chunks VIDEO ops decode, in order.
    pub videos: Vec<VideoChunk>,
}

impl FrameMessage {
    /// Bytes the data inflates to: the RECT payloads plus the history.
    pub fn inflated_len(&self) -> u64 {
        self.payload_len() + u64::from(self.header.history_len)
    }

    /// Bytes of the RECT payloads.
    pub fn payload_len(&self) -> u64 {
        self.ops
            .iter()
            .map(|op| match op {
                Op::Rect { len, .. } => u64::from(*len),
                Op::Copy { .. } | Op::Image { .. } | Op::Video { .. } => 0,
            })
            .sum()
    }

    /// Most pixels a frame of this size may carry in images: twice the screen (images
    /// pad areas to 16-pixel blocks, a replay carries several), plus a margin for small
    /// screens. Bounds what a receiver allocates to decode them.
    pub fn max_image_pixels(width: u16, height: u16) -> u64 {
        2 * u64::from(width) * u64::from(height) + (1 << 20)
    }

    /// Most inflated bytes a frame of this size may declare: four bytes a pixel of the
    /// screen, plus a window of history. Bounds what a small message can make a receiver
    /// allocate (a deflate stream can expand 1000-fold).
    pub fn max_inflated(width: u16, height: u16) -> u64 {
        u64::from(width) * u64::from(height) * 4 + u64::from(MAX_HISTORY)
    }
}

/// Any binary message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaMessage {
    Frame(FrameMessage),
    CursorShape(CursorShape),
    CursorPosition(CursorPosition),
}

impl MediaMessage {
    /// Decodes one binary WebSocket message, checking every length and limit.
    pub fn decode(buf: Bytes) -> Result<MediaMessage, DecodeError> {
        if buf.len() > MAX_MESSAGE_BYTES {
            return Err(DecodeError::TooLarge(buf.len()));
        }
        match buf.first() {
            None => Err(DecodeError::Empty),
            Some(&KIND_FRAME) => FrameMessage::decode(buf).map(MediaMessage::Frame),
            Some(&KIND_CURSOR_SHAPE) => CursorShape::decode(buf).map(MediaMessage::CursorShape),
            Some(&KIND_CURSOR_POSITION) => CursorPosition::decode(&buf).map(MediaMessage::CursorPosition),
            Some(&k) => Err(DecodeError::UnknownKind(k)),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        match self {
            MediaMessage::Frame(f) => f.encode(),
            MediaMessage::CursorShape(c) => c.encode(),
            MediaMessage::CursorPosition(p) => p.encode().to_vec(),
        }
    }
}

/// The cursor image, sent when it changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CursorShape {
    /// Changes whenever the image changes.
    pub serial: u32,
    pub width: u16,
    pub height: u16,
    pub hot_x: u16,
    pub hot_y: u16,
    /// Straight-alpha RGBA, 4 bytes a pixel, rows top to bottom.
    pub rgba: Bytes,
}

/// Where the presenter's cursor is, relative to the shared area's top-left corner.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CursorPosition {
    pub x: i32,
    pub y: i32,
    /// False when the cursor is hidden or outside the shared area.
    pub visible: bool,
}

impl FrameMessage {
    /// Bytes [`FrameMessage::encode`] writes, without writing them (a viewer counts what
    /// it received this way).
    pub fn encoded_len(&self) -> usize {
        let head: usize = header_fields(&self.header, self.ops.len()).into_iter().map(varint_len).sum::<usize>()
            + varint_len(self.data.len() as u64);
        let ops: usize = self
            .ops
            .iter()
            .map(|op| match op {
                Op::Rect { rect, len, .. } => 1 + rect_len(rect) + varint_len(u64::from(*len)),
                Op::Copy { from_x, from_y, to } => {
                    1 + varint_len(u64::from(*from_x)) + varint_len(u64::from(*from_y)) + rect_len(to)
                }
                Op::Image { image, from_x, from_y, to } => {
                    1 + varint_len(u64::from(*image))
                        + varint_len(u64::from(*from_x))
                        + varint_len(u64::from(*from_y))
                        + rect_len(to)
                }
                Op::Video { chunk, to } => 1 + varint_len(u64::from(*chunk)) + rect_len(to),
            })
            .sum();
        2 + head + ops + self.data.len() + images_len(&self.images) + videos_len(&self.videos)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        let header = FrameHeader { images: !self.images.is_empty(), video: !self.videos.is_empty(), ..self.header };
        encode_frame_head(&mut out, &header, self.ops.len());
        for op in &self.ops {
            encode_op(&mut out, op);
        }
        put_varint(&mut out, self.data.len() as u64);
        out.put_slice(&self.data);
        encode_images(&mut out, &self.images);
        encode_videos(&mut out, &self.videos);
        out
    }

    pub fn decode(buf: Bytes) -> Result<FrameMessage, DecodeError> {
        let mut r = Reader::new(&buf);
        let kind = r.u8()?;
        debug_assert_eq!(kind, KIND_FRAME);
        let flags = r.u8()?;
        if flags & !(FLAG_KEYFRAME | FLAG_RESTART | FLAG_IMAGES | FLAG_VIDEO) != 0 {
            return Err(DecodeError::UnknownFlags(flags));
        }
        let frame = r.varint(u64::MAX)?;
        let (width, height) = (r.varint(u64::from(u16::MAX))?, r.varint(u64::from(u16::MAX))?);
        let edge = u64::from(MAX_SCREEN_EDGE);
        if !(1..=edge).contains(&width) || !(1..=edge).contains(&height) {
            return Err(DecodeError::ScreenSize { width, height });
        }
        let (width, height) = (width as u16, height as u16);
        let u32max = u64::from(u32::MAX);
        let header = FrameHeader {
            keyframe: flags & FLAG_KEYFRAME != 0,
            restart: flags & FLAG_RESTART != 0,
            images: flags & FLAG_IMAGES != 0,
            video: flags & FLAG_VIDEO != 0,
            frame,
            width,
            height,
            skipped_tiles: r.varint(u32max)? as u32,
            server_delay_ms: r.varint(u32max)? as u32,
            rtt_ms: r.varint(u32max)? as u32,
            history_len: r.varint(u64::from(MAX_HISTORY))? as u32,
            captured_us: r.varint(u32max)? as u32,
        };
        let count = r.varint(MAX_OPS)?;
        // Every op takes at least 6 bytes, so the count cannot make us reserve more than
        // the message could hold.
        let mut ops = Vec::with_capacity((count as usize).min((buf.len() - r.pos) / 6));
        let max_inflated = FrameMessage::max_inflated(width, height);
        let mut total = u64::from(header.history_len);
        let u16max = u64::from(u16::MAX);
        for _ in 0..count {
            let tag = r.u8()?;
            let op = if tag == OP_VIDEO {
                let chunk = r.varint(MAX_VIDEO_CHUNKS - 1)? as u8;
                let to = read_rect(&mut r)?;
                if !to.fits(width, height) {
                    return Err(DecodeError::OutOfScreen { kind: "video op", rect: to, width, height });
                }
                Op::Video { chunk, to }
            } else if tag == OP_IMAGE {
                let image = r.varint(MAX_IMAGES - 1)? as u8;
                let (from_x, from_y) = (r.varint(u16max)? as u16, r.varint(u16max)? as u16);
                let to = read_rect(&mut r)?;
                if !to.fits(width, height) {
                    return Err(DecodeError::OutOfScreen { kind: "image op", rect: to, width, height });
                }
                Op::Image { image, from_x, from_y, to }
            } else if tag == OP_COPY {
                let (from_x, from_y) = (r.varint(u16max)? as u16, r.varint(u16max)? as u16);
                let to = read_rect(&mut r)?;
                let from = PixelRect { x: from_x, y: from_y, ..to };
                for (kind, rect) in [("copy source", from), ("copy", to)] {
                    if !rect.fits(width, height) {
                        return Err(DecodeError::OutOfScreen { kind, rect, width, height });
                    }
                }
                Op::Copy { from_x, from_y, to }
            } else {
                let encoding = RectEncoding::from_u8(tag).ok_or(DecodeError::UnknownOp(tag))?;
                let rect = read_rect(&mut r)?;
                if !rect.fits(width, height) {
                    return Err(DecodeError::OutOfScreen { kind: "rect", rect, width, height });
                }
                let len = r.varint(u32max)?;
                if !encoding.payload_len_ok(len, rect.width, rect.height) {
                    return Err(DecodeError::PayloadSize { encoding, len, width: rect.width, height: rect.height });
                }
                total += len;
                if total > max_inflated {
                    return Err(DecodeError::InflatedTooLarge { total, max: max_inflated });
                }
                Op::Rect { rect, encoding, len: len as u32 }
            };
            ops.push(op);
        }
        let data_len = r.varint(MAX_MESSAGE_BYTES as u64)? as usize;
        let start = r.pos;
        r.take(data_len)?;
        if (total == 0) != (data_len == 0) {
            return Err(DecodeError::DataMismatch { expected: total, len: data_len });
        }
        let images = if flags & FLAG_IMAGES != 0 { read_images(&mut r, &buf, width, height)? } else { Vec::new() };
        let videos = if flags & FLAG_VIDEO != 0 { read_videos(&mut r, &buf)? } else { Vec::new() };
        r.finish()?;
        check_image_ops(&ops, &images)?;
        check_video_ops(&ops, &videos)?;
        Ok(FrameMessage { header, ops, data: buf.slice(start..start + data_len), images, videos })
    }
}

fn read_rect(r: &mut Reader<'_>) -> Result<PixelRect, DecodeError> {
    let m = u64::from(u16::MAX);
    Ok(PixelRect {
        x: r.varint(m)? as u16,
        y: r.varint(m)? as u16,
        width: r.varint(m)? as u16,
        height: r.varint(m)? as u16,
    })
}

fn rect_len(rect: &PixelRect) -> usize {
    [rect.x, rect.y, rect.width, rect.height].into_iter().map(|v| varint_len(u64::from(v))).sum()
}

fn put_rect(out: &mut Vec<u8>, rect: &PixelRect) {
    for v in [rect.x, rect.y, rect.width, rect.height] {
        put_varint(out, u64::from(v));
    }
}

/// Writes a frame from parts already encoded: `ops` holds `op_count` ops written with
/// [`encode_op`], `images` the image part written with [`encode_images`] (empty when
/// the header does not say [`FrameHeader::images`]). The server builds a viewer's update
/// this way from the segments it keeps, without decoding them again.
pub fn encode_frame_parts(out: &mut Vec<u8>, header: &FrameHeader, op_count: usize, parts: &FrameParts<'_>) {
    debug_assert_eq!(header.images, !parts.images.is_empty());
    debug_assert_eq!(header.video, !parts.videos.is_empty());
    out.reserve(24 + parts.ops.len() + parts.data.len() + parts.images.len() + parts.videos.len());
    encode_frame_head(out, header, op_count);
    encode_frame_body(out, parts);
}

/// Writes what follows a frame's head: the ops, the data with its length, the image and
/// video parts. A server sends one body to many viewers, each with its own head.
pub fn encode_frame_body(out: &mut Vec<u8>, parts: &FrameParts<'_>) {
    out.put_slice(parts.ops);
    put_varint(out, parts.data.len() as u64);
    out.put_slice(parts.data);
    out.put_slice(parts.images);
    out.put_slice(parts.videos);
}

/// A frame's parts after its head, each already encoded: ops ([`encode_op`]), the
/// deflate data, the image part ([`encode_images`]) and the video part
/// ([`encode_videos`]), the last two empty when the header does not announce them.
#[derive(Clone, Copy, Debug, Default)]
pub struct FrameParts<'a> {
    pub ops: &'a [u8],
    pub data: &'a [u8],
    pub images: &'a [u8],
    pub videos: &'a [u8],
}

/// Writes a frame's kind, flags, header fields and op count; the ops and data follow.
pub fn encode_frame_head(out: &mut Vec<u8>, header: &FrameHeader, op_count: usize) {
    let flags = if header.keyframe { FLAG_KEYFRAME } else { 0 }
        | if header.restart { FLAG_RESTART } else { 0 }
        | if header.images { FLAG_IMAGES } else { 0 }
        | if header.video { FLAG_VIDEO } else { 0 };
    out.put_u8(KIND_FRAME);
    out.put_u8(flags);
    for v in header_fields(header, op_count) {
        put_varint(out, v);
    }
}

/// The header's varint fields in wire order, then the op count.
fn header_fields(header: &FrameHeader, op_count: usize) -> [u64; 9] {
    [
        header.frame,
        u64::from(header.width),
        u64::from(header.height),
        u64::from(header.skipped_tiles),
        u64::from(header.server_delay_ms),
        u64::from(header.rtt_ms),
        u64::from(header.history_len),
        u64::from(header.captured_us),
        op_count as u64,
    ]
}

/// Appends one op.
pub fn encode_op(out: &mut Vec<u8>, op: &Op) {
    match op {
        Op::Rect { rect, encoding, len } => {
            out.put_u8(*encoding as u8);
            put_rect(out, rect);
            put_varint(out, u64::from(*len));
        }
        Op::Copy { from_x, from_y, to } => {
            out.put_u8(OP_COPY);
            put_varint(out, u64::from(*from_x));
            put_varint(out, u64::from(*from_y));
            put_rect(out, to);
        }
        Op::Image { image, from_x, from_y, to } => {
            out.put_u8(OP_IMAGE);
            put_varint(out, u64::from(*image));
            put_varint(out, u64::from(*from_x));
            put_varint(out, u64::from(*from_y));
            put_rect(out, to);
        }
        Op::Video { chunk, to } => {
            out.put_u8(OP_VIDEO);
            put_varint(out, u64::from(*chunk));
            put_rect(out, to);
        }
    }
}

impl CursorShape {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(CURSOR_SHAPE_HEADER_LEN + self.rgba.len());
        out.put_u8(KIND_CURSOR_SHAPE);
        out.put_u8(0);
        out.put_u16_le(self.width);
        out.put_u16_le(self.height);
        out.put_u16_le(self.hot_x);
        out.put_u16_le(self.hot_y);
        out.put_u32_le(self.serial);
        out.put_slice(&self.rgba);
        out
    }

    pub fn decode(buf: Bytes) -> Result<CursorShape, DecodeError> {
        let mut r = Reader::new(&buf);
        r.u8()?;
        let flags = r.u8()?;
        if flags != 0 {
            return Err(DecodeError::UnknownFlags(flags));
        }
        let (width, height, hot_x, hot_y) = (r.u16()?, r.u16()?, r.u16()?, r.u16()?);
        let serial = r.u32()?;
        let edge_ok = |v: u16| (1..=MAX_CURSOR_EDGE).contains(&u32::from(v));
        if !edge_ok(width) || !edge_ok(height) || hot_x >= width || hot_y >= height {
            return Err(DecodeError::CursorSize { width, height });
        }
        let len = usize::from(width) * usize::from(height) * 4;
        let start = r.pos;
        r.take(len)?;
        r.finish()?;
        Ok(CursorShape { serial, width, height, hot_x, hot_y, rgba: buf.slice(start..start + len) })
    }
}

impl CursorPosition {
    pub fn encode(&self) -> [u8; CURSOR_POSITION_LEN] {
        let mut out = [0u8; CURSOR_POSITION_LEN];
        out[0] = KIND_CURSOR_POSITION;
        out[1] = u8::from(self.visible);
        out[2..6].copy_from_slice(&self.x.to_le_bytes());
        out[6..10].copy_from_slice(&self.y.to_le_bytes());
        out
    }

    pub fn decode(buf: &[u8]) -> Result<CursorPosition, DecodeError> {
        let mut r = Reader::new(buf);
        r.u8()?;
        let flags = r.u8()?;
        if flags & !1 != 0 {
            return Err(DecodeError::UnknownFlags(flags));
        }
        let pos = CursorPosition { visible: flags & 1 != 0, x: r.i32()?, y: r.i32()? };
        r.finish()?;
        Ok(pos)
    }
}

#[cfg(test)]
mod tests;
