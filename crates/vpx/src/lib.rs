//! VP8 and VP9 for deskshare's video mode: one encoder per moving region on the
//! presenter, one decoder per region wherever the picture is kept (server, CLI viewer).
//! libvpx is loaded at run time (see `ffi`): where it is missing, [`available`] says why
//! and callers stay with JPEG. Both codecs are royalty-free and libvpx BSD-licensed, so
//! any organisation can ship them.
//!
//! Pixels are the codec crate's `0x00RRGGBB` words. VP8 streams are 4:2:0 limited range
//! (all VP8 can say); VP9 streams are profile 1, 4:4:4 full range, signalled in the
//! bitstream, because subsampled chroma is what limits saturated moving content
//! (`yuv`).

mod ffi;
mod yuv;

use std::ffi::{CStr, c_int, c_uint, c_void};
use std::sync::OnceLock;

pub use yuv::{Layout, rgb_to_yuv, yuv_to_rgb};

/// The codecs of libvpx that deskshare uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Codec {
    /// VP8 (RFC 6386), 4:2:0: every WebCodecs implementation decodes it.
    Vp8,
    /// VP9 profile 1, 4:4:4 full range: sharper colour at the same bytes.
    Vp9,
}

impl Codec {
    pub fn name(self) -> &'static str {
        match self {
            Codec::Vp8 => "VP8",
            Codec::Vp9 => "VP9",
        }
    }

    /// How this crate lays out pictures for the codec.
    pub fn layout(self) -> Layout {
        match self {
            Codec::Vp8 => Layout::VP8,
            Codec::Vp9 => Layout::VP9,
        }
    }
}

/// Why video could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VpxError {
    #[error("libvpx is not available: {0}")]
    Unavailable(String),
    #[error("libvpx: {0}")]
    Codec(String),
    #[error("a video frame of {got_w}x{got_h} where {width}x{height} was expected")]
    SizeMismatch { width: u32, height: u32, got_w: u32, got_h: u32 },
    #[error("a video frame in pixel format {0:#x}, which deskshare does not send")]
    Format(u32),
    #[error("a video region must be 2..=4096 pixels a side with even sizes, not {0}x{1}")]
    BadSize(u32, u32),
    #[error("a video frame of {0} bytes is larger than one update may carry")]
    TooLarge(usize),
}

/// Largest edge of a video region.
pub const MAX_EDGE: u32 = 4096;
/// Largest encoded frame accepted by a decoder.
pub const MAX_FRAME_BYTES: usize = 8 << 20;

fn api() -> Result<&'static ffi::Api, VpxError> {
    static API: OnceLock<Result<ffi::Api, String>> = OnceLock::new();
    API.get_or_init(ffi::Api::load).as_ref().map_err(|e| VpxError::Unavailable(e.clone()))
}

/// Whether libvpx can be used here, and if not why (for logs and `doctor`).
pub fn available() -> Result<&'static str, VpxError> {
    api().map(|a| a.soname)
}

fn check_size(width: u32, height: u32) -> Result<(), VpxError> {
    if !(2..=MAX_EDGE).contains(&width)
        || !(2..=MAX_EDGE).contains(&height)
        || !width.is_multiple_of(2)
        || !height.is_multiple_of(2)
    {
        return Err(VpxError::BadSize(width, height));
    }
    Ok(())
}

fn codec_error(api: &ffi::Api, ctx: &ffi::CodecCtx, code: c_int, what: &str) -> VpxError {
    // SAFETY: both return static or context-owned C strings (or null).
    let text = unsafe { CStr::from_ptr((api.err_to_string)(code)) }.to_string_lossy().into_owned();
    let detail = unsafe { (api.error_detail)(ctx) };
    let detail = if detail.is_null() {
        String::new()
    } else {
        format!(" ({})", unsafe { CStr::from_ptr(detail) }.to_string_lossy())
    };
    VpxError::Codec(format!("{what}: {text}{detail}"))
}

/// One encoded frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoded {
    pub data: Vec<u8>,
    /// Decodable on its own: a viewer can start here.
    pub keyframe: bool,
}

/// An encoder for one region of a fixed size, tuned for real time.
pub struct VideoEncoder {
    api: &'static ffi::Api,
    codec: Codec,
    ctx: Box<ffi::CodecCtx>,
    image: *mut ffi::Image,
    width: u32,
    height: u32,
    pts: i64,
}

// SAFETY: the context and image are owned by this value and used from one thread at a
// time (`&mut self`); libvpx keeps no thread-local state for them.
unsafe impl Send for VideoEncoder {}

impl VideoEncoder {
    /// A `codec` encoder for `width`×`height` (even) at about `kbps` kbit/s and `fps`
    /// frames a second (rate control only; frames come when they come).
    pub fn new(codec: Codec, width: u32, height: u32, kbps: u32, fps: u32) -> Result<Self, VpxError> {
        check_size(width, height)?;
        let api = api()?;
        let mut cfg = Box::new(ffi::EncCfgStorage([0; 4096]));
        // SAFETY: cfg has room for any version's vpx_codec_enc_cfg_t.
        let iface = unsafe {
            match codec {
                Codec::Vp8 => (api.vp8_cx)(),
                Codec::Vp9 => (api.vp9_cx)(),
            }
        };
        let mut ctx = Box::new(ffi::CodecCtx::zeroed());
        let res = unsafe { (api.enc_config_default)(iface, &mut *cfg, 0) };
        if res != ffi::CODEC_OK {
            return Err(codec_error(api, &ctx, res, "default encoder configuration"));
        }
        {
            // SAFETY: the leading fields of the configuration are laid out as EncCfg.
            let c = unsafe { &mut *(cfg.0.as_mut_ptr() as *mut ffi::EncCfg) };
            // Profile 1 is VP9's 8-bit 4:4:4.
            c.g_profile = u32::from(codec == Codec::Vp9);
            c.g_w = width;
            c.g_h = height;
            c.g_threads = 1;
            c.g_timebase = ffi::Rational { num: 1, den: 1000 };
            c.g_lag_in_frames = 0;
            c.g_error_resilient = 0;
            c.rc_end_usage = ffi::RC_CBR;
            c.rc_target_bitrate = kbps.max(50);
            c.rc_min_quantizer = 4;
            // VP9 may use its whole range: capped at 56 it overshot 0.7 Mbit/s asked by
            // 80 % on a fractal zoom; at 63 it keeps to the bitrate asked.
            c.rc_max_quantizer = if codec == Codec::Vp9 { 63 } else { 56 };
            c.rc_dropframe_thresh = 0;
            c.rc_resize_allowed = 0;
            c.rc_undershoot_pct = 50;
            c.rc_overshoot_pct = 50;
            c.rc_buf_sz = 1000;
            c.rc_buf_initial_sz = 500;
            c.rc_buf_optimal_sz = 600;
            // A keyframe at least every 10 s; more when the server asks (a join).
            c.kf_mode = ffi::KF_AUTO;
            c.kf_min_dist = 0;
            c.kf_max_dist = fps.max(1) * 10;
        }
        let mut last = 0;
        for abi in ffi::ENCODER_ABIS {
            // SAFETY: ctx and cfg outlive the call; the library checks `abi`.
            last = unsafe { (api.enc_init_ver)(&mut *ctx, iface, &*cfg, 0, abi) };
            if last == ffi::CODEC_OK {
                break;
            }
        }
        if last != ffi::CODEC_OK {
            return Err(codec_error(api, &ctx, last, &format!("starting the {} encoder", codec.name())));
        }
        // SAFETY: ctx was initialised above; each control takes the type given.
        let fmt = unsafe {
            match codec {
                Codec::Vp8 => {
                    // Real time, fast: speed 10 of 16 (docs/PERFORMANCE.md); skip static macroblocks.
                    (api.control)(&mut *ctx, ffi::VP8E_SET_CPUUSED, 10 as c_int);
                    (api.control)(&mut *ctx, ffi::VP8E_SET_STATIC_THRESHOLD, 100 as c_uint);
                    ffi::IMG_FMT_I420
                }
                Codec::Vp9 => {
                    // Real-time speed 8 of 9; one tile column (one thread); cyclic
                    // refresh, libvpx's adaptive quantisation for real time.
                    (api.control)(&mut *ctx, ffi::VP8E_SET_CPUUSED, 8 as c_int);
                    (api.control)(&mut *ctx, ffi::VP9E_SET_TILE_COLUMNS, 0 as c_int);
                    (api.control)(&mut *ctx, ffi::VP9E_SET_AQ_MODE, 3 as c_uint);
                    (api.control)(&mut *ctx, ffi::VP9E_SET_COLOR_SPACE, ffi::CS_BT_601);
                    (api.control)(&mut *ctx, ffi::VP9E_SET_COLOR_RANGE, ffi::CR_FULL_RANGE as c_int);
                    ffi::IMG_FMT_I444
                }
            }
        };
        // SAFETY: a fresh image of the region's size, freed in Drop.
        let image = unsafe { (api.img_alloc)(std::ptr::null_mut(), fmt, width, height, 16) };
        if image.is_null() {
            unsafe { (api.destroy)(&mut *ctx) };
            return Err(VpxError::Codec("no memory for a frame".into()));
        }
        // The range is also a property of each image libvpx is given.
        unsafe {
            (*image).range = if codec.layout().full_range { ffi::CR_FULL_RANGE } else { 0 };
            (*image).cs = if codec == Codec::Vp9 { ffi::CS_BT_601 as c_uint } else { 0 };
        }
        Ok(VideoEncoder { api, codec, ctx, image, width, height, pts: 0 })
    }

    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Encodes one frame of `0x00RRGGBB` pixels (`stride` pixels a row) taken at
    /// `millis`; `keyframe` forces a frame a new viewer can start from.
    pub fn encode(&mut self, pixels: &[u32], stride: usize, millis: i64, keyframe: bool) -> Result<Encoded, VpxError> {
        assert!(
            stride >= self.width as usize && pixels.len() >= stride * (self.height as usize - 1) + self.width as usize
        );
        // SAFETY: the image was allocated for width×height in the codec's layout and
        // stays valid.
        let img = unsafe { &mut *self.image };
        let layout = self.codec.layout();
        let (w, h) = (self.width as usize, self.height as usize);
        let (_, ch) = layout.chroma_size(w, h);
        let planes = unsafe {
            [
                std::slice::from_raw_parts_mut(img.planes[0], img.stride[0] as usize * h),
                std::slice::from_raw_parts_mut(img.planes[1], img.stride[1] as usize * ch),
                std::slice::from_raw_parts_mut(img.planes[2], img.stride[2] as usize * ch),
            ]
        };
        let strides = [img.stride[0] as usize, img.stride[1] as usize, img.stride[2] as usize];
        let [y, u, v] = planes;
        rgb_to_yuv(layout, pixels, stride, w, h, y, u, v, strides);
        let pts = millis.max(self.pts + 1);
        self.pts = pts;
        let flags = if keyframe { ffi::EFLAG_FORCE_KF } else { 0 };
        // SAFETY: ctx and image are valid; libvpx copies what it needs.
        let res = unsafe { (self.api.encode)(&mut *self.ctx, self.image, pts, 1, flags, ffi::DL_REALTIME) };
        if res != ffi::CODEC_OK {
            return Err(codec_error(self.api, &self.ctx, res, "encoding"));
        }
        let mut out = Encoded { data: Vec::new(), keyframe: false };
        let mut iter: *const c_void = std::ptr::null();
        loop {
            // SAFETY: packets stay valid until the next encode call.
            let pkt = unsafe { (self.api.get_cx_data)(&mut *self.ctx, &mut iter) };
            if pkt.is_null() {
                break;
            }
            let pkt = unsafe { &*pkt };
            if pkt.kind == ffi::CX_FRAME_PKT {
                out.data.extend_from_slice(unsafe { std::slice::from_raw_parts(pkt.buf as *const u8, pkt.sz) });
                out.keyframe |= pkt.flags & ffi::FRAME_IS_KEY != 0;
            }
        }
        Ok(out)
    }
}

impl Drop for VideoEncoder {
    fn drop(&mut self) {
        // SAFETY: both were created in `new` and are released once.
        unsafe {
            (self.api.img_free)(self.image);
            (self.api.destroy)(&mut *self.ctx);
        }
    }
}

/// A decoder for one region's stream: frames must come in order from a keyframe on.
pub struct VideoDecoder {
    api: &'static ffi::Api,
    ctx: Box<ffi::CodecCtx>,
}

// SAFETY: as for the encoder.
unsafe impl Send for VideoDecoder {}

impl VideoDecoder {
    pub fn new(codec: Codec) -> Result<Self, VpxError> {
        let api = api()?;
        let mut ctx = Box::new(ffi::CodecCtx::zeroed());
        let cfg = ffi::DecCfg { threads: 1, w: 0, h: 0 };
        // SAFETY: ctx and cfg outlive the call.
        let res = unsafe {
            let iface = match codec {
                Codec::Vp8 => (api.vp8_dx)(),
                Codec::Vp9 => (api.vp9_dx)(),
            };
            (api.dec_init_ver)(&mut *ctx, iface, &cfg, 0, ffi::DECODER_ABI)
        };
        if res != ffi::CODEC_OK {
            return Err(codec_error(api, &ctx, res, &format!("starting the {} decoder", codec.name())));
        }
        Ok(VideoDecoder { api, ctx })
    }

    /// Decodes one frame, which must be `width`×`height`, into `out` (`0x00RRGGBB`,
    /// `width` pixels a row). Corrupt data, or an inter frame with no keyframe before
    /// it, is an error; the decoder may then need a keyframe.
    pub fn decode(&mut self, data: &[u8], width: u32, height: u32, out: &mut Vec<u32>) -> Result<(), VpxError> {
        check_size(width, height)?;
        if data.len() > MAX_FRAME_BYTES {
            return Err(VpxError::TooLarge(data.len()));
        }
        // SAFETY: data outlives the call; libvpx bounds-checks the bitstream.
        let res =
            unsafe { (self.api.decode)(&mut *self.ctx, data.as_ptr(), data.len() as c_uint, std::ptr::null_mut(), 0) };
        if res != ffi::CODEC_OK {
            return Err(codec_error(self.api, &self.ctx, res, "decoding"));
        }
        let mut iter: *const c_void = std::ptr::null();
        let mut got = None;
        loop {
            // SAFETY: the image stays valid until the next decode call.
            let img = unsafe { (self.api.get_frame)(&mut *self.ctx, &mut iter) };
            if img.is_null() {
                break;
            }
            got = Some(img);
        }
        let Some(img) = got else { return Err(VpxError::Codec("the data held no frame".into())) };
        let img = unsafe { &*img };
        if (img.d_w, img.d_h) != (width, height) {
            return Err(VpxError::SizeMismatch { width, height, got_w: img.d_w, got_h: img.d_h });
        }
        // The stream says its layout (a VP9 stream could be 4:2:0 or limited range too).
        let subsampled = match img.fmt {
            ffi::IMG_FMT_I420 => true,
            ffi::IMG_FMT_I444 => false,
            other => return Err(VpxError::Format(other)),
        };
        let layout = Layout { subsampled, full_range: img.range == ffi::CR_FULL_RANGE };
        let (w, h) = (width as usize, height as usize);
        let (cw, ch) = layout.chroma_size(w, h);
        let strides = [img.stride[0] as usize, img.stride[1] as usize, img.stride[2] as usize];
        // SAFETY: an image of d_w×d_h in this layout with these strides.
        let (y, u, v) = unsafe {
            (
                std::slice::from_raw_parts(img.planes[0], strides[0] * (h - 1) + w),
                std::slice::from_raw_parts(img.planes[1], strides[1] * (ch - 1) + cw),
                std::slice::from_raw_parts(img.planes[2], strides[2] * (ch - 1) + cw),
            )
        };
        out.clear();
        out.resize(w * h, 0);
        yuv_to_rgb(layout, y, u, v, strides, w, h, out);
        Ok(())
    }
}

impl Drop for VideoDecoder {
    fn drop(&mut self) {
        // SAFETY: created in `new`, released once.
        unsafe { (self.api.destroy)(&mut *self.ctx) };
    }
}

#[cfg(test)]
mod tests;
