//! The receiving side of a presenter's stream: a framebuffer kept exact by applying
//! frames whole. The server runs one per meeting (it is the screen the cache serves),
//! every viewer runs one.

use deskshare_proto::{FrameMessage, Op, PixelRect, RectEncoding, VideoChunk};

use crate::image::{ImageError, decode_image};
use crate::lossy::LossyMask;
use crate::stream::{Inflater, StreamError, WINDOW};
use crate::{Framebuffer, RectError, decode_rect};

/// Why a frame could not be applied. Nothing of it was: the screen is as before.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("a {width}x{height} delta frame does not match the {have_w}x{have_h} screen; a keyframe is needed")]
    NeedKeyframe { width: u16, height: u16, have_w: u32, have_h: u32 },
    #[error("op {index} does not fit the {width}x{height} screen")]
    OutOfScreen { index: usize, width: u16, height: u16 },
    #[error(transparent)]
    Stream(#[from] StreamError),
    #[error("a broken stream can only go on after a restart")]
    Broken,
    #[error("rect {index} ({encoding:?}): {source}")]
    Rect { index: usize, encoding: RectEncoding, source: RectError },
    #[error("image {index}: {source}")]
    Image { index: usize, source: ImageError },
    #[error("video chunk {index} (stream {stream}): {why}")]
    Video { index: usize, stream: u32, why: String },
}

/// What applying a frame changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Every area an op wrote, in op order.
    pub changed: Vec<PixelRect>,
    pub keyframe: bool,
    /// Bytes the data inflated to.
    pub inflated: usize,
}

/// A decoded image of a frame, for IMAGE ops.
struct Decoded {
    width: usize,
    pixels: Vec<u32>,
}

#[derive(Default)]
pub struct Decoder {
    fb: Option<Framebuffer>,
    inflater: Inflater,
    broken: bool,
    /// The stream's last [`WINDOW`] inflated bytes (at most twice that is held).
    history: Vec<u8>,
    /// Tiles this screen holds lossy (the encoder will refine them).
    mask: LossyMask,
    /// One decoder per video stream seen since its keyframe, and the stream's codec.
    videos: std::collections::HashMap<u32, (deskshare_proto::VideoCodec, deskshare_vpx::VideoDecoder)>,
}

impl Decoder {
    pub fn new() -> Self {
        Decoder::default()
    }

    pub fn screen(&self) -> Option<&Framebuffer> {
        self.fb.as_ref()
    }

    /// The tiles that hold lossy pixels: the presenter will send them again exact.
    pub fn lossy_mask(&self) -> &LossyMask {
        &self.mask
    }

    /// Whether the stream ended (its sender restarts it every frame): no history needed.
    pub fn stream_ended(&self) -> bool {
        self.inflater.ended()
    }

    /// The last 32 KiB of the stream (less if it is younger): all a fresh inflater needs
    /// to decode what comes next.
    pub fn history(&self) -> &[u8] {
        &self.history[self.history.len().saturating_sub(WINDOW)..]
    }

    /// Applies `f` whole, or returns why not and changes nothing on the screen.
    pub fn apply(&mut self, f: &FrameMessage) -> Result<Applied, ApplyError> {
        let h = &f.header;
        let (width, height) = (u32::from(h.width), u32::from(h.height));
        if !h.keyframe {
            match &self.fb {
                Some(fb) if fb.width() == width && fb.height() == height => {}
                other => {
                    let (have_w, have_h) = other.as_ref().map_or((0, 0), |fb| (fb.width(), fb.height()));
                    return Err(ApplyError::NeedKeyframe { width: h.width, height: h.height, have_w, have_h });
                }
            }
        }
        for (index, op) in f.ops.iter().enumerate() {
            // (Image bounds were checked when the message was decoded, and are again
            // when the image is.)
            let fits = match op {
                Op::Rect { rect, .. } => rect.fits(h.width, h.height),
                Op::Copy { from_x, from_y, to } => {
                    to.fits(h.width, h.height) && PixelRect { x: *from_x, y: *from_y, ..*to }.fits(h.width, h.height)
                }
                Op::Image { image, to, .. } => to.fits(h.width, h.height) && usize::from(*image) < f.images.len(),
                Op::Video { chunk, to } => to.fits(h.width, h.height) && usize::from(*chunk) < f.videos.len(),
            };
            if !fits {
                return Err(ApplyError::OutOfScreen { index, width: h.width, height: h.height });
            }
        }
        if h.restart {
            self.inflater.restart();
            self.history.clear();
            self.broken = false;
        } else if self.broken {
            return Err(ApplyError::Broken);
        }
        let expected = usize::try_from(f.inflated_len()).unwrap_or(usize::MAX);
        let bytes = self.inflater.inflate(&f.data, expected).inspect_err(|_| self.broken = true)?;
        // Decode every rectangle before touching the screen.
        let mut decoded = Vec::new();
        let mut at = 0usize;
        for (index, op) in f.ops.iter().enumerate() {
            if let Op::Rect { rect, encoding, len } = op {
                let payload = &bytes[at..at + *len as usize];
                at += *len as usize;
                let mut px = Vec::new();
                decode_rect(*encoding, payload, rect.width, rect.height, &mut px)
                    .map_err(|source| ApplyError::Rect { index, encoding: *encoding, source })?;
                decoded.push(px);
            }
        }
        let mut images = Vec::with_capacity(f.images.len());
        for (index, image) in f.images.iter().enumerate() {
            let pixels = decode_image(image).map_err(|source| ApplyError::Image { index, source })?;
            images.push(Decoded { width: usize::from(image.width), pixels });
        }
        for (index, op) in f.ops.iter().enumerate() {
            if let Op::Image { image, from_x, from_y, to } = op {
                let img = &images[usize::from(*image)];
                let fits = usize::from(*from_x) + usize::from(to.width) <= img.width
                    && (usize::from(*from_y) + usize::from(to.height)) * img.width <= img.pixels.len();
                if !fits {
                    return Err(ApplyError::OutOfScreen { index, width: h.width, height: h.height });
                }
            }
        }
        // Video last: a decoder's state moves on with each chunk, so nothing may fail
        // after it.
        let mut frames = Vec::new();
        for op in &f.ops {
            if let Op::Video { chunk, to } = op {
                let index = usize::from(*chunk);
                let c = &f.videos[index];
                frames.push(self.decode_video(index, c, *to)?);
            }
        }
        if h.keyframe {
            self.fb = Some(Framebuffer::new(width, height));
            self.mask = LossyMask::new(h.width, h.height);
        }
        let fb = self.fb.as_mut().expect("checked above");
        let mut pixels = decoded.into_iter();
        let mut frames = frames.into_iter();
        let mut changed = Vec::with_capacity(f.ops.len());
        for op in &f.ops {
            match op {
                Op::Rect { rect, .. } => fb.put(*rect, &pixels.next().expect("one per rect")),
                Op::Copy { from_x, from_y, to } => fb.copy_within(*from_x, *from_y, *to),
                Op::Image { image, from_x, from_y, to } => {
                    let img = &images[usize::from(*image)];
                    for y in 0..to.height {
                        let at = (usize::from(*from_y) + usize::from(y)) * img.width + usize::from(*from_x);
                        fb.span_mut(*to, y).copy_from_slice(&img.pixels[at..at + usize::from(to.width)]);
                    }
                }
                Op::Video { to, .. } => fb.put(*to, &frames.next().expect("one per video op")),
            }
            self.mask.apply(op);
            changed.push(op.target());
        }
        self.remember(&bytes);
        Ok(Applied { changed, keyframe: h.keyframe, inflated: bytes.len() })
    }

    /// Decodes one chunk of a stream: a keyframe (re)starts the stream's decoder; any
    /// other chunk needs the decoder its keyframe started.
    fn decode_video(&mut self, index: usize, c: &VideoChunk, to: PixelRect) -> Result<Vec<u32>, ApplyError> {
        let fail = |why: String| ApplyError::Video { index, stream: c.stream, why };
        if c.keyframe {
            let dec = deskshare_vpx::VideoDecoder::new(crate::vpx_codec(c.codec)).map_err(|e| fail(e.to_string()))?;
            self.videos.insert(c.stream, (c.codec, dec));
            // Streams end and new ones start; only a few are alive at once.
            if self.videos.len() > 8 {
                let keep = c.stream;
                self.videos.retain(|&s, _| s == keep);
            }
        }
        let (codec, dec) =
            self.videos.get_mut(&c.stream).ok_or_else(|| fail("no keyframe of this stream came".into()))?;
        if *codec != c.codec {
            let why = format!("a {} chunk in a {} stream", c.codec.name(), codec.name());
            self.videos.remove(&c.stream);
            return Err(fail(why));
        }
        let mut out = Vec::new();
        if let Err(e) = dec.decode(&c.data, to.width.into(), to.height.into(), &mut out) {
            // Its state is unknown now: it waits for the next keyframe.
            self.videos.remove(&c.stream);
            return Err(fail(e.to_string()));
        }
        Ok(out)
    }

    /// Whether this decoder can go on with video stream `stream` (it has its keyframe).
    pub fn has_video_stream(&self, stream: u32) -> bool {
        self.videos.contains_key(&stream)
    }

    fn remember(&mut self, bytes: &[u8]) {
        if bytes.len() >= WINDOW {
            self.history.clear();
            self.history.extend_from_slice(&bytes[bytes.len() - WINDOW..]);
            return;
        }
        if self.history.len() + bytes.len() > 2 * WINDOW {
            let drop = self.history.len() + bytes.len() - WINDOW;
            self.history.drain(..drop.min(self.history.len()));
        }
        self.history.extend_from_slice(bytes);
    }
}
