//! Screen coding: the framebuffer, change detection per tile, and the lossless tile
//! encoders and decoders named in the protocol ([`deskshare_proto::TileEncoding`]).
//!
//! Pure functions over pixel buffers, no I/O; the agent, the CLI viewer and the
//! benchmarks all use the same code.

mod diff;
mod framebuffer;
pub mod qoi;
mod tile;

pub use diff::changed_tiles;
pub use framebuffer::{Framebuffer, Rect};
pub use tile::{TileError, decode_tile, encode_tile, encode_tiles};
