//! Screen coding: the framebuffer, change detection (exact rectangles and copies), the
//! lossless rectangle encodings named in the protocol ([`deskshare_proto::RectEncoding`]),
//! and the deflate stream on top of them.
//!
//! Pure, sans-IO: [`Encoder`] turns frames into [`deskshare_proto::FrameMessage`]s,
//! [`Decoder`] applies them to a framebuffer. The agent, the server, the CLI viewer and
//! the benchmarks all use the same code.

pub mod copies;
mod decoder;
mod dirty;
mod encoder;
mod framebuffer;
pub mod image;
pub mod lossy;
pub mod palette;
pub mod qoi;
mod rect;
pub mod stream;
pub mod synthetic;
pub mod video;

pub use copies::{CopyFinder, CopyRect};
pub use decoder::{Applied, ApplyError, Decoder};
pub use dirty::dirty_rects;
pub use encoder::{DEFAULT_LEVEL, DEFAULT_QUALITY, EncodeStats, Encoder, REFINE_TILES_PER_FRAME, split};
pub use framebuffer::{Framebuffer, Rect, rgb_word};
pub use rect::{RectError, decode_rect, encode_rect, encode_rect_in_stream};

/// The video codecs this machine can encode and decode (`"vp8"` where libvpx loads), for
/// `hello.video` and the welcome.
pub fn video_codecs() -> Vec<String> {
    match deskshare_vpx::available() {
        Ok(_) => vec![deskshare_proto::VideoCodec::Vp8.name().to_string()],
        Err(_) => Vec::new(),
    }
}
