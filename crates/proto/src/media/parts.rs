//! The parts of a frame after its deflate data: the lossy images IMAGE ops paint from
//! and the video chunks VIDEO ops decode, with their bounds.

use bytes::{BufMut, Bytes};

use super::wire::Reader;
use super::{
    DecodeError, FrameMessage, MAX_IMAGE_EDGE, MAX_IMAGES, MAX_VIDEO_CHUNKS, MAX_VIDEO_EDGE, MAX_VIDEO_STREAM, Op,
    PixelRect, put_varint, varint_len,
};
use crate::MAX_MESSAGE_BYTES;

/// How an image is coded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ImageFormat {
    /// A baseline JPEG (JFIF) file whose size is the image's.
    Jpeg = 1,
}

impl ImageFormat {
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(ImageFormat::Jpeg),
            _ => None,
        }
    }
}

/// A lossy image of a frame: several lossy areas packed into one picture, so a browser
/// decodes a frame's lossy pixels with one call. IMAGE ops cut them out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameImage {
    pub format: ImageFormat,
    pub width: u16,
    pub height: u16,
    pub data: Bytes,
}

impl FrameImage {
    pub fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }
}

/// How a video stream is coded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum VideoCodec {
    /// VP8 (RFC 6386), one frame per chunk, as libvpx and WebCodecs' "vp8" exchange it.
    Vp8 = 1,
    /// VP9 profile 1 (8-bit 4:4:4), full range, one frame per chunk: what deskshare
    /// prefers, because VP8's 4:2:0 blurs saturated detail whatever the bitrate.
    Vp9 = 2,
}

impl VideoCodec {
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(VideoCodec::Vp8),
            2 => Some(VideoCodec::Vp9),
            _ => None,
        }
    }

    /// The name in `hello.video`, the welcome's `video` and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            VideoCodec::Vp8 => "vp8",
            VideoCodec::Vp9 => "vp9",
        }
    }

    /// The codec of a name, as [`VideoCodec::name`] gives it.
    pub fn from_name(name: &str) -> Option<Self> {
        [VideoCodec::Vp9, VideoCodec::Vp8].into_iter().find(|c| c.name() == name)
    }
}

/// One frame of a video stream: a large area that keeps moving, coded with a video
/// codec (inter frames predict from the ones before, so it costs a fraction of JPEG).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VideoChunk {
    pub codec: VideoCodec,
    /// Which stream: a presenter numbers its streams; a new region or size is a new one.
    pub stream: u32,
    /// Decodable on its own (a stream starts with one).
    pub keyframe: bool,
    pub data: Bytes,
}

/// The image part: a count, then each image's format, size, length and bytes.
pub(super) fn read_images(
    r: &mut Reader<'_>,
    buf: &Bytes,
    width: u16,
    height: u16,
) -> Result<Vec<FrameImage>, DecodeError> {
    let count = r.varint(MAX_IMAGES)? as usize;
    if count == 0 {
        return Err(DecodeError::NoImages);
    }
    let max = FrameMessage::max_image_pixels(width, height);
    let mut total = 0u64;
    let mut images = Vec::with_capacity(count);
    for index in 0..count {
        let tag = r.u8()?;
        let format = ImageFormat::from_u8(tag).ok_or(DecodeError::UnknownImageFormat(tag))?;
        let (w, h) = (r.varint(u64::from(u16::MAX))?, r.varint(u64::from(u16::MAX))?);
        if !(1..=MAX_IMAGE_EDGE).contains(&w) || !(1..=MAX_IMAGE_EDGE).contains(&h) {
            return Err(DecodeError::ImageSize { index, width: w, height: h });
        }
        total += w * h;
        if total > max {
            return Err(DecodeError::ImagesTooLarge { total, max });
        }
        let len = r.varint(MAX_MESSAGE_BYTES as u64)? as usize;
        let start = r.pos;
        r.take(len)?;
        images.push(FrameImage { format, width: w as u16, height: h as u16, data: buf.slice(start..start + len) });
    }
    Ok(images)
}

/// Every IMAGE op reads inside an image the frame has, and every image is used.
pub(super) fn check_image_ops(ops: &[Op], images: &[FrameImage]) -> Result<(), DecodeError> {
    let mut used = vec![false; images.len()];
    for (op, o) in ops.iter().enumerate() {
        if let Op::Image { image, from_x, from_y, to } = *o {
            let img = images.get(usize::from(image)).ok_or(DecodeError::NoSuchImage {
                op,
                image: u64::from(image),
                count: images.len(),
            })?;
            let rect = PixelRect { x: from_x, y: from_y, ..to };
            if !rect.fits(img.width, img.height) {
                return Err(DecodeError::OutOfImage { op, rect, width: img.width, height: img.height });
            }
            used[usize::from(image)] = true;
        }
    }
    match used.iter().position(|u| !u) {
        Some(i) => Err(DecodeError::UnusedImage(i)),
        None => Ok(()),
    }
}

/// The video part: a count, then each chunk's codec, stream, keyframe flag, length, bytes.
pub(super) fn read_videos(r: &mut Reader<'_>, buf: &Bytes) -> Result<Vec<VideoChunk>, DecodeError> {
    let count = r.varint(MAX_VIDEO_CHUNKS)? as usize;
    if count == 0 {
        return Err(DecodeError::NoVideo);
    }
    let mut videos = Vec::with_capacity(count);
    for _ in 0..count {
        let tag = r.u8()?;
        let codec = VideoCodec::from_u8(tag).ok_or(DecodeError::UnknownVideoCodec(tag))?;
        let stream = r.varint(MAX_VIDEO_STREAM)? as u32;
        let at = r.pos;
        let keyframe = match r.u8()? {
            0 => false,
            1 => true,
            v => return Err(DecodeError::OutOfRange { offset: at, value: u64::from(v), max: 1 }),
        };
        let len = r.varint(MAX_MESSAGE_BYTES as u64)? as usize;
        let start = r.pos;
        r.take(len)?;
        videos.push(VideoChunk { codec, stream, keyframe, data: buf.slice(start..start + len) });
    }
    Ok(videos)
}

/// Every VIDEO op names a chunk the frame has, each chunk is decoded by exactly one op,
/// and a region has the even size of 2..=4096 a side that video codecs need.
pub(super) fn check_video_ops(ops: &[Op], videos: &[VideoChunk]) -> Result<(), DecodeError> {
    let mut used = vec![0u8; videos.len()];
    for (op, o) in ops.iter().enumerate() {
        if let Op::Video { chunk, to } = *o {
            let i = usize::from(chunk);
            if i >= videos.len() {
                return Err(DecodeError::NoSuchChunk { op, chunk: u64::from(chunk), count: videos.len() });
            }
            let edge_ok = |v: u16| (2..=MAX_VIDEO_EDGE).contains(&v) && v.is_multiple_of(2);
            if !edge_ok(to.width) || !edge_ok(to.height) {
                return Err(DecodeError::VideoSize { op, rect: to });
            }
            used[i] = used[i].saturating_add(1);
        }
    }
    match used.iter().position(|&u| u != 1) {
        Some(i) => Err(DecodeError::ChunkUse(i)),
        None => Ok(()),
    }
}

pub(super) fn videos_len(videos: &[VideoChunk]) -> usize {
    if videos.is_empty() {
        return 0;
    }
    varint_len(videos.len() as u64)
        + videos
            .iter()
            .map(|v| 2 + varint_len(u64::from(v.stream)) + varint_len(v.data.len() as u64) + v.data.len())
            .sum::<usize>()
}

/// Appends the video part (nothing for a frame without video; its flag says so).
pub fn encode_videos(out: &mut Vec<u8>, videos: &[VideoChunk]) {
    if videos.is_empty() {
        return;
    }
    put_varint(out, videos.len() as u64);
    for v in videos {
        out.put_u8(v.codec as u8);
        put_varint(out, u64::from(v.stream));
        out.put_u8(u8::from(v.keyframe));
        put_varint(out, v.data.len() as u64);
        out.put_slice(&v.data);
    }
}

pub(super) fn images_len(images: &[FrameImage]) -> usize {
    if images.is_empty() {
        return 0;
    }
    varint_len(images.len() as u64)
        + images
            .iter()
            .map(|i| {
                1 + varint_len(u64::from(i.width))
                    + varint_len(u64::from(i.height))
                    + varint_len(i.data.len() as u64)
                    + i.data.len()
            })
            .sum::<usize>()
}

/// Appends the image part (nothing for a frame without images; its flag says so).
pub fn encode_images(out: &mut Vec<u8>, images: &[FrameImage]) {
    if images.is_empty() {
        return;
    }
    put_varint(out, images.len() as u64);
    for i in images {
        out.put_u8(i.format as u8);
        put_varint(out, u64::from(i.width));
        put_varint(out, u64::from(i.height));
        put_varint(out, i.data.len() as u64);
        out.put_slice(&i.data);
    }
}
