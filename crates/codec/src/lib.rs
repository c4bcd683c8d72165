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

use deskshare_proto::VideoCodec;

/// The video codecs this machine can encode and decode, preferred first (VP9, then VP8,
/// where libvpx loads; none where it does not): for `hello.video` and the welcome.
pub fn video_codecs() -> Vec<String> {
    match deskshare_vpx::available() {
        Ok(_) => [VideoCodec::Vp9, VideoCodec::Vp8].map(|c| c.name().to_string()).to_vec(),
        Err(_) => Vec::new(),
    }
}

/// The libvpx codec behind a protocol codec.
pub(crate) fn vpx_codec(codec: VideoCodec) -> deskshare_vpx::Codec {
    match codec {
        VideoCodec::Vp8 => deskshare_vpx::Codec::Vp8,
        VideoCodec::Vp9 => deskshare_vpx::Codec::Vp9,
    }
}
