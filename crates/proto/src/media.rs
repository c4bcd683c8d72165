//! Binary media messages: screen frames, cursor shape, cursor position.
//!
//! All integers are little-endian. The first byte of every binary WebSocket message is
//! its kind. Tile payloads are kept as [`Bytes`] slices of the received buffer, so the
//! server can cache and forward them without copying.

use bytes::{BufMut, Bytes};

use crate::error::{ErrorCode, WireError};
use crate::{MAX_CURSOR_EDGE, MAX_MESSAGE_BYTES, MAX_SCREEN_EDGE, TILE_SIZE};

/// Kind byte of a frame message.
pub const KIND_FRAME: u8 = 0x01;
/// Kind byte of a cursor shape message.
pub const KIND_CURSOR_SHAPE: u8 = 0x02;
/// Kind byte of a cursor position message.
pub const KIND_CURSOR_POSITION: u8 = 0x03;

/// Frame flag: the frame carries every tile of the screen; drop what you had.
pub const FLAG_KEYFRAME: u8 = 0x01;

/// Size of the fixed frame header, before the first tile.
pub const FRAME_HEADER_LEN: usize = 32;
/// Size of a tile's header (col, row, encoding, length), before its payload.
pub const TILE_HEADER_LEN: usize = 9;
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
    #[error("tile size {0} is not the protocol's {TILE_SIZE}")]
    TileSize(u16),
    #[error("screen {width}x{height} is outside 1..={MAX_SCREEN_EDGE}")]
    ScreenSize { width: u16, height: u16 },
    #[error("{count} tiles exceed the {max} tiles of the screen")]
    TooManyTiles { count: u32, max: u32 },
    #[error("tile ({col},{row}) lies outside the {cols}x{rows} grid")]
    TileOutOfGrid { col: u16, row: u16, cols: u32, rows: u32 },
    #[error("tile ({col},{row}) appears twice in one frame")]
    DuplicateTile { col: u16, row: u16 },
    #[error("keyframe carries {count} of the screen's {expected} tiles")]
    IncompleteKeyframe { count: u32, expected: u32 },
    #[error("unknown tile encoding {0}")]
    UnknownEncoding(u8),
    #[error("tile ({col},{row}) payload of {len} bytes is invalid for encoding {encoding:?}")]
    PayloadSize { col: u16, row: u16, encoding: TileEncoding, len: usize },
    #[error("cursor {width}x{height} is outside 1..={MAX_CURSOR_EDGE} or hotspot outside it")]
    CursorSize { width: u16, height: u16 },
}

impl DecodeError {
    /// The stable code users see for this rejection.
    pub fn code(&self) -> ErrorCode {
        match self {
            DecodeError::TooLarge(_) => ErrorCode::MessageTooLarge,
            DecodeError::UnknownKind(_) => ErrorCode::MessageUnknownType,
            DecodeError::ScreenSize { .. } | DecodeError::CursorSize { .. } => ErrorCode::ScreenTooLarge,
            DecodeError::PayloadSize { .. } => ErrorCode::TileCorrupt,
            _ => ErrorCode::MessageMalformed,
        }
    }
}

impl From<DecodeError> for WireError {
    fn from(e: DecodeError) -> Self {
        WireError::new(e.code(), e.to_string())
    }
}

/// How a tile's pixels are encoded. Every encoding is lossless; see docs/PROTOCOL.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TileEncoding {
    /// One RGB colour (3 bytes) fills the tile.
    Solid = 0,
    /// Uncompressed RGB, 3 bytes a pixel, rows top to bottom.
    Raw = 1,
    /// A QOI op stream (RGB ops only, no header or end marker) of the tile's pixels.
    Qoi = 2,
}

impl TileEncoding {
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(TileEncoding::Solid),
            1 => Some(TileEncoding::Raw),
            2 => Some(TileEncoding::Qoi),
            _ => None,
        }
    }

    /// Whether `len` bytes can be a valid payload for a tile of `pixels` pixels. Exact for
    /// fixed-size encodings; an upper bound for QOI (4 bytes for an RGB op per pixel).
    pub fn payload_len_ok(self, len: usize, pixels: usize) -> bool {
        match self {
            TileEncoding::Solid => len == 3,
            TileEncoding::Raw => len == pixels * 3,
            TileEncoding::Qoi => len >= 1 && len <= pixels * 4,
        }
    }
}

/// Number of tile columns and rows for a screen.
pub fn grid_dims(width: u32, height: u32) -> (u32, u32) {
    (width.div_ceil(TILE_SIZE), height.div_ceil(TILE_SIZE))
}

/// Pixel size of tile (`col`, `row`): edge tiles are cut by the screen's edge.
pub fn tile_dims(width: u32, height: u32, col: u32, row: u32) -> (u32, u32) {
    let w = (width - col * TILE_SIZE).min(TILE_SIZE);
    let h = (height - row * TILE_SIZE).min(TILE_SIZE);
    (w, h)
}

/// One encoded tile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TilePayload {
    pub col: u16,
    pub row: u16,
    pub encoding: TileEncoding,
    pub data: Bytes,
}

/// The fixed part of a frame message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameHeader {
    /// Every tile of the screen is present: the receiver replaces what it had.
    pub keyframe: bool,
    /// Frame number. From a presenter: its own counter. To a viewer: the version of the
    /// server's tile cache this update brings the viewer up to; acks name it.
    pub frame: u64,
    pub width: u16,
    pub height: u16,
    /// To a viewer: tile versions that were superseded before this viewer could get them.
    pub skipped_tiles: u32,
    /// To a viewer: how long the newest tile waited in the server before this send.
    pub server_delay_ms: u32,
    /// To a viewer: its last round-trip time (send to ack) as the server measured it.
    pub rtt_ms: u32,
}

/// A screen update: the header and the tiles that changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameMessage {
    pub header: FrameHeader,
    pub tiles: Vec<TilePayload>,
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

/// Bounds-checked little-endian reader over a message.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len()).ok_or(DecodeError::Truncated {
            offset: self.pos,
            needed: n,
            len: self.buf.len(),
        })?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().unwrap()))
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn i32(&mut self) -> Result<i32, DecodeError> {
        Ok(i32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn finish(&self) -> Result<(), DecodeError> {
        match self.buf.len() - self.pos {
            0 => Ok(()),
            n => Err(DecodeError::Trailing(n)),
        }
    }
}

impl FrameMessage {
    /// Encoded size, to size the output buffer once.
    pub fn encoded_len(&self) -> usize {
        FRAME_HEADER_LEN + self.tiles.iter().map(|t| TILE_HEADER_LEN + t.data.len()).sum::<usize>()
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        encode_frame_into(&mut out, &self.header, self.tiles.iter());
        out
    }

    pub fn decode(buf: Bytes) -> Result<FrameMessage, DecodeError> {
        let mut r = Reader::new(&buf);
        let kind = r.u8()?;
        debug_assert_eq!(kind, KIND_FRAME);
        let flags = r.u8()?;
        if flags & !FLAG_KEYFRAME != 0 {
            return Err(DecodeError::UnknownFlags(flags));
        }
        let tile_size = r.u16()?;
        if u32::from(tile_size) != TILE_SIZE {
            return Err(DecodeError::TileSize(tile_size));
        }
        let header = FrameHeader {
            keyframe: flags & FLAG_KEYFRAME != 0,
            frame: r.u64()?,
            width: r.u16()?,
            height: r.u16()?,
            skipped_tiles: r.u32()?,
            server_delay_ms: r.u32()?,
            rtt_ms: r.u32()?,
        };
        let (width, height) = (u32::from(header.width), u32::from(header.height));
        if !(1..=MAX_SCREEN_EDGE).contains(&width) || !(1..=MAX_SCREEN_EDGE).contains(&height) {
            return Err(DecodeError::ScreenSize { width: header.width, height: header.height });
        }
        let (cols, rows) = grid_dims(width, height);
        let count = r.u32()?;
        if count > cols * rows {
            return Err(DecodeError::TooManyTiles { count, max: cols * rows });
        }
        if header.keyframe && count != cols * rows {
            return Err(DecodeError::IncompleteKeyframe { count, expected: cols * rows });
        }
        let mut seen = vec![false; (cols * rows) as usize];
        let mut tiles = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let col = r.u16()?;
            let row = r.u16()?;
            let enc = r.u8()?;
            let len = r.u32()? as usize;
            let (c, rw) = (u32::from(col), u32::from(row));
            if c >= cols || rw >= rows {
                return Err(DecodeError::TileOutOfGrid { col, row, cols, rows });
            }
            let idx = (rw * cols + c) as usize;
            if std::mem::replace(&mut seen[idx], true) {
                return Err(DecodeError::DuplicateTile { col, row });
            }
            let encoding = TileEncoding::from_u8(enc).ok_or(DecodeError::UnknownEncoding(enc))?;
            let (tw, th) = tile_dims(width, height, c, rw);
            if !encoding.payload_len_ok(len, (tw * th) as usize) {
                return Err(DecodeError::PayloadSize { col, row, encoding, len });
            }
            let start = r.pos;
            r.take(len)?;
            tiles.push(TilePayload { col, row, encoding, data: buf.slice(start..start + len) });
        }
        r.finish()?;
        Ok(FrameMessage { header, tiles })
    }
}

/// Writes a frame message from borrowed tiles. The server uses this to build each viewer's
/// update straight from its tile cache.
pub fn encode_frame_into<'a>(
    out: &mut Vec<u8>,
    header: &FrameHeader,
    tiles: impl ExactSizeIterator<Item = &'a TilePayload>,
) {
    out.put_u8(KIND_FRAME);
    out.put_u8(if header.keyframe { FLAG_KEYFRAME } else { 0 });
    out.put_u16_le(TILE_SIZE as u16);
    out.put_u64_le(header.frame);
    out.put_u16_le(header.width);
    out.put_u16_le(header.height);
    out.put_u32_le(header.skipped_tiles);
    out.put_u32_le(header.server_delay_ms);
    out.put_u32_le(header.rtt_ms);
    out.put_u32_le(tiles.len() as u32);
    for t in tiles {
        out.put_u16_le(t.col);
        out.put_u16_le(t.row);
        out.put_u8(t.encoding as u8);
        out.put_u32_le(t.data.len() as u32);
        out.put_slice(&t.data);
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
