//! The tile cache and cursor of one meeting's shared screen.

use std::time::Instant;

use bytes::Bytes;
use deskshare_proto::{CursorPosition, CursorShape, FrameHeader, FrameMessage, TilePayload, grid_dims};

/// Why a presenter's frame could not be applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("a {width}x{height} delta frame does not match the {cur_w}x{cur_h} screen; a keyframe is needed")]
    NeedKeyframe { width: u16, height: u16, cur_w: u16, cur_h: u16 },
}

/// What applying a frame did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApplyOutcome {
    /// Tiles whose content changed (identical re-sent tiles are not counted).
    pub changed_tiles: usize,
    /// The screen's version after the frame (unchanged if nothing changed).
    pub version: u64,
    /// The screen size changed, so every viewer will get a keyframe.
    pub resized: bool,
}

#[derive(Clone, Debug)]
struct CachedTile {
    version: u64,
    payload: TilePayload,
}

/// One meeting's current screen: newest version of every tile, and the cursor.
#[derive(Debug, Default)]
pub struct Screen {
    width: u16,
    height: u16,
    cols: u32,
    tiles: Vec<Option<CachedTile>>,
    /// Newest version; 0 means nothing was ever shown.
    version: u64,
    /// Version at which the current size began; viewers older than this need a keyframe.
    size_version: u64,
    /// Tile versions applied so far, to count what each viewer skipped.
    tile_updates: u64,
    /// When `version` last changed.
    updated_at: Option<Instant>,
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

    /// Applies a presenter frame atomically: either all its tiles become the new version,
    /// or (on error) nothing changes.
    pub fn apply(&mut self, frame: &FrameMessage, now: Instant) -> Result<ApplyOutcome, ApplyError> {
        let h = &frame.header;
        let resized = (h.width, h.height) != (self.width, self.height);
        if resized && !h.keyframe {
            return Err(ApplyError::NeedKeyframe {
                width: h.width,
                height: h.height,
                cur_w: self.width,
                cur_h: self.height,
            });
        }
        let next = self.version + 1;
        if resized {
            let (cols, rows) = grid_dims(h.width.into(), h.height.into());
            self.width = h.width;
            self.height = h.height;
            self.cols = cols;
            self.tiles = vec![None; (cols * rows) as usize];
            self.size_version = next;
        }
        let mut changed = 0;
        for t in &frame.tiles {
            let slot = &mut self.tiles[t.row as usize * self.cols as usize + t.col as usize];
            // A presenter that reconnects re-sends everything; tiles whose bytes did not
            // change keep their version so viewers are not sent them again.
            if let Some(c) = slot
                && c.payload.encoding == t.encoding
                && c.payload.data == t.data
            {
                continue;
            }
            *slot = Some(CachedTile { version: next, payload: t.clone() });
            changed += 1;
        }
        if changed > 0 || resized {
            self.version = next;
            self.tile_updates += changed as u64;
            self.updated_at = Some(now);
        }
        Ok(ApplyOutcome { changed_tiles: changed, version: self.version, resized })
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
    pub(crate) fn update_since(&self, have: u64, now: Instant) -> Option<FrameMessage> {
        if self.version == 0 || have >= self.version {
            return None;
        }
        let keyframe = have < self.size_version;
        let tiles: Vec<TilePayload> =
            self.tiles.iter().flatten().filter(|t| keyframe || t.version > have).map(|t| t.payload.clone()).collect();
        let delay = self.updated_at.map_or(0, |at| now.saturating_duration_since(at).as_millis());
        Some(FrameMessage {
            header: FrameHeader {
                keyframe,
                frame: self.version,
                width: self.width,
                height: self.height,
                skipped_tiles: 0,
                server_delay_ms: delay.min(u128::from(u32::MAX)) as u32,
                rtt_ms: 0,
            },
            tiles,
        })
    }
}
