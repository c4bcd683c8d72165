//! The deskshare wire format: every message that crosses the one TLS port.
//!
//! Two kinds of WebSocket message carry a session:
//!
//! * **text** messages are JSON control messages ([`control`]): hello, welcome, acks,
//!   presence, errors. They are rare, small and easy to read in a browser's dev tools.
//! * **binary** messages are media ([`media`]): screen frames made of drawing ops (exact rectangles,
//!   copies) over one compressed segment of pixels, the
//!   cursor shape and the cursor position. They are frequent and large, so they have a
//!   compact little-endian layout that a browser can parse with a `DataView`.
//!
//! This crate does no I/O. Every decoder checks lengths and limits and returns a
//! [`DecodeError`] that maps to a stable [`ErrorCode`] instead of panicking.
//! docs/PROTOCOL.md is the prose version of this crate.

pub mod api;
pub mod cert;
pub mod control;
pub mod error;
pub mod ids;
pub mod keys;
pub mod media;
pub mod report;
pub mod roster;
pub mod text;

pub use control::{
    CONTROL_QUEUE_SHOWN, ChatLine, ClientMessage, ControlPolicy, InputEvent, MAX_CHAT_CHARS, MAX_INPUT_EVENTS,
    MeetingRole, OnBehalf, Person, RevokeReason, Role, RosterEntry, ServerMessage, ShareKind,
};
pub use error::{ErrorCode, WireError};
pub use ids::{GrantId, ParticipantId};
pub use media::{
    CursorPosition, CursorShape, DecodeError, FrameHeader, FrameImage, FrameMessage, ImageFormat, MAX_IMAGE_EDGE,
    MediaMessage, Op, PixelRect, RectEncoding, VideoChunk, VideoCodec, grid_dims, tile_dims,
};
pub use roster::RosterList;

/// Version of the protocol spoken by this build. A peer whose hello carries another
/// version is refused with [`ErrorCode::ProtocolVersionMismatch`].
pub const PROTOCOL_VERSION: u32 = 4;

/// Edge length of a tile of the server's screen cache in pixels: the unit in which it
/// tracks versions and builds catch-ups. Frames themselves carry exact rectangles.
pub const TILE_SIZE: u32 = 64;

/// Largest WebSocket message either side accepts. A full 8192×8192 keyframe of
/// incompressible pixels would not fit; real screens compress far below this.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024 * 1024;

/// Largest screen edge accepted, in pixels.
pub const MAX_SCREEN_EDGE: u32 = 8192;

/// Largest cursor image edge accepted, in pixels.
pub const MAX_CURSOR_EDGE: u32 = 256;

/// Largest JSON control message accepted.
pub const MAX_CONTROL_BYTES: usize = 64 * 1024;
