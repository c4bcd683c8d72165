//! The part of libvpx's C API deskshare uses, loaded with `dlopen` at run time.
//!
//! Why not link (as `env-libvpx-sys` does): linking needs libvpx's development files on
//! every machine that builds deskshare, and a binary built with them fails to start
//! where the library is missing. Loaded at run time, one binary builds anywhere, uses
//! video where the runtime library is installed (it comes with ffmpeg, browsers and
//! desktop environments), and falls back to JPEG where it is not.
//!
//! Layouts are libvpx's public structs (vpx_image.h, vpx_codec.h, vpx_encoder.h), the
//! same from 1.8 to 1.13; the encoder configuration is used only through its leading
//! fields, which have not moved in those versions, and is filled by the library itself.
//! The encoder ABI version changed between releases; [`ENCODER_ABIS`] lists the known
//! ones and the library refuses any that is not its own, so the right one is found by
//! trying.

use std::ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void};

pub const IMG_FMT_I420: c_uint = 0x102;
pub const IMG_FMT_I444: c_uint = 0x106;
/// `vpx_color_range_t`: VPX_CR_FULL_RANGE.
pub const CR_FULL_RANGE: c_uint = 1;
/// `vpx_color_space_t`: VPX_CS_BT_601.
pub const CS_BT_601: c_int = 1;
pub const DL_REALTIME: c_ulong = 1;
pub const EFLAG_FORCE_KF: c_long = 1;
pub const FRAME_IS_KEY: u32 = 1;
pub const CX_FRAME_PKT: c_uint = 0;
pub const CODEC_OK: c_int = 0;
pub const RC_CBR: c_uint = 1;
pub const KF_AUTO: c_uint = 1;
pub const VP8E_SET_CPUUSED: c_int = 13;
pub const VP8E_SET_STATIC_THRESHOLD: c_int = 17;
pub const VP9E_SET_TILE_COLUMNS: c_int = 33;
pub const VP9E_SET_AQ_MODE: c_int = 36;
pub const VP9E_SET_COLOR_SPACE: c_int = 46;
pub const VP9E_SET_COLOR_RANGE: c_int = 51;

/// `VPX_ENCODER_ABI_VERSION` of libvpx 1.13 (30), 1.11–1.12 (25), 1.10 (24), 1.8–1.9 (23).
pub const ENCODER_ABIS: [c_int; 4] = [30, 25, 24, 23];
/// `VPX_DECODER_ABI_VERSION`, 12 in all of them.
pub const DECODER_ABI: c_int = 12;

/// `vpx_codec_ctx_t`: only the library touches it; its size is what matters.
#[repr(C)]
pub struct CodecCtx {
    pub name: *const c_char,
    pub iface: *mut c_void,
    pub err: c_int,
    pub err_detail: *const c_char,
    pub init_flags: c_long,
    pub config: *const c_void,
    pub priv_: *mut c_void,
}

impl CodecCtx {
    pub fn zeroed() -> Self {
        CodecCtx {
            name: std::ptr::null(),
            iface: std::ptr::null_mut(),
            err: 0,
            err_detail: std::ptr::null(),
            init_flags: 0,
            config: std::ptr::null(),
            priv_: std::ptr::null_mut(),
        }
    }
}

/// `vpx_image_t`.
#[repr(C)]
pub struct Image {
    pub fmt: c_uint,
    pub cs: c_uint,
    pub range: c_uint,
    pub w: c_uint,
    pub h: c_uint,
    pub bit_depth: c_uint,
    pub d_w: c_uint,
    pub d_h: c_uint,
    pub r_w: c_uint,
    pub r_h: c_uint,
    pub x_chroma_shift: c_uint,
    pub y_chroma_shift: c_uint,
    pub planes: [*mut u8; 4],
    pub stride: [c_int; 4],
    pub bps: c_int,
    pub user_priv: *mut c_void,
    pub img_data: *mut u8,
    pub img_data_owner: c_int,
    pub self_allocd: c_int,
    pub fb_priv: *mut c_void,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Rational {
    pub num: c_int,
    pub den: c_int,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct FixedBuf {
    pub buf: *mut c_void,
    pub sz: usize,
}

/// The leading fields of `vpx_codec_enc_cfg_t`, the ones set here. The whole struct is
/// larger (and grew between versions): it lives in [`EncCfgStorage`].
#[repr(C)]
pub struct EncCfg {
    pub g_usage: c_uint,
    pub g_threads: c_uint,
    pub g_profile: c_uint,
    pub g_w: c_uint,
    pub g_h: c_uint,
    pub g_bit_depth: c_uint,
    pub g_input_bit_depth: c_uint,
    pub g_timebase: Rational,
    pub g_error_resilient: c_uint,
    pub g_pass: c_uint,
    pub g_lag_in_frames: c_uint,
    pub rc_dropframe_thresh: c_uint,
    pub rc_resize_allowed: c_uint,
    pub rc_scaled_width: c_uint,
    pub rc_scaled_height: c_uint,
    pub rc_resize_up_thresh: c_uint,
    pub rc_resize_down_thresh: c_uint,
    pub rc_end_usage: c_uint,
    pub rc_twopass_stats_in: FixedBuf,
    pub rc_firstpass_mb_stats_in: FixedBuf,
    pub rc_target_bitrate: c_uint,
    pub rc_min_quantizer: c_uint,
    pub rc_max_quantizer: c_uint,
    pub rc_undershoot_pct: c_uint,
    pub rc_overshoot_pct: c_uint,
    pub rc_buf_sz: c_uint,
    pub rc_buf_initial_sz: c_uint,
    pub rc_buf_optimal_sz: c_uint,
    pub rc_2pass_vbr_bias_pct: c_uint,
    pub rc_2pass_vbr_minsection_pct: c_uint,
    pub rc_2pass_vbr_maxsection_pct: c_uint,
    pub rc_2pass_vbr_corpus_complexity: c_uint,
    pub kf_mode: c_uint,
    pub kf_min_dist: c_uint,
    pub kf_max_dist: c_uint,
}

/// Room for the whole `vpx_codec_enc_cfg_t` of any version (about 500 bytes in 1.13),
/// aligned for its pointers.
#[repr(C, align(8))]
pub struct EncCfgStorage(pub [u8; 4096]);

/// `vpx_codec_dec_cfg_t`.
#[repr(C)]
pub struct DecCfg {
    pub threads: c_uint,
    pub w: c_uint,
    pub h: c_uint,
}

/// `vpx_codec_cx_pkt_t`, with the frame member of its union.
#[repr(C)]
pub struct CxPkt {
    pub kind: c_uint,
    pub buf: *mut c_void,
    pub sz: usize,
    pub pts: i64,
    pub duration: c_ulong,
    pub flags: u32,
    pub partition_id: c_int,
}

type Iface = unsafe extern "C" fn() -> *mut c_void;

/// The functions, resolved once.
pub struct Api {
    _lib: libloading::Library,
    pub soname: &'static str,
    pub vp8_cx: Iface,
    pub vp8_dx: Iface,
    pub vp9_cx: Iface,
    pub vp9_dx: Iface,
    pub enc_config_default: unsafe extern "C" fn(*mut c_void, *mut EncCfgStorage, c_uint) -> c_int,
    pub enc_init_ver: unsafe extern "C" fn(*mut CodecCtx, *mut c_void, *const EncCfgStorage, c_long, c_int) -> c_int,
    pub encode: unsafe extern "C" fn(*mut CodecCtx, *const Image, i64, c_ulong, c_long, c_ulong) -> c_int,
    pub get_cx_data: unsafe extern "C" fn(*mut CodecCtx, *mut *const c_void) -> *const CxPkt,
    pub control: unsafe extern "C" fn(*mut CodecCtx, c_int, ...) -> c_int,
    pub dec_init_ver: unsafe extern "C" fn(*mut CodecCtx, *mut c_void, *const DecCfg, c_long, c_int) -> c_int,
    pub decode: unsafe extern "C" fn(*mut CodecCtx, *const u8, c_uint, *mut c_void, c_long) -> c_int,
    pub get_frame: unsafe extern "C" fn(*mut CodecCtx, *mut *const c_void) -> *const Image,
    pub destroy: unsafe extern "C" fn(*mut CodecCtx) -> c_int,
    pub img_alloc: unsafe extern "C" fn(*mut Image, c_uint, c_uint, c_uint, c_uint) -> *mut Image,
    pub img_free: unsafe extern "C" fn(*mut Image),
    pub error_detail: unsafe extern "C" fn(*const CodecCtx) -> *const c_char,
    pub err_to_string: unsafe extern "C" fn(c_int) -> *const c_char,
}

/// The sonames tried, newest first.
const SONAMES: [&str; 6] = ["libvpx.so.9", "libvpx.so.8", "libvpx.so.7", "libvpx.so.6", "libvpx.so.5", "libvpx.so"];

impl Api {
    pub fn load() -> Result<Api, String> {
        let mut tried = Vec::new();
        for soname in SONAMES {
            // SAFETY: loading libvpx runs its (trivial) initialisers only.
            match unsafe { libloading::Library::new(soname) } {
                Ok(lib) => return Api::resolve(lib, soname),
                Err(e) => tried.push(format!("{soname}: {e}")),
            }
        }
        Err(tried.join("; "))
    }

    fn resolve(lib: libloading::Library, soname: &'static str) -> Result<Api, String> {
        macro_rules! sym {
            ($name:literal) => {{
                // SAFETY: the symbol has the C signature declared for it in `Api`.
                let s: libloading::Symbol<'_, _> = unsafe { lib.get($name) }.map_err(|e| format!("{soname}: {e}"))?;
                *s
            }};
        }
        Ok(Api {
            soname,
            vp8_cx: sym!(b"vpx_codec_vp8_cx\0"),
            vp8_dx: sym!(b"vpx_codec_vp8_dx\0"),
            vp9_cx: sym!(b"vpx_codec_vp9_cx\0"),
            vp9_dx: sym!(b"vpx_codec_vp9_dx\0"),
            enc_config_default: sym!(b"vpx_codec_enc_config_default\0"),
            enc_init_ver: sym!(b"vpx_codec_enc_init_ver\0"),
            encode: sym!(b"vpx_codec_encode\0"),
            get_cx_data: sym!(b"vpx_codec_get_cx_data\0"),
            control: sym!(b"vpx_codec_control_\0"),
            dec_init_ver: sym!(b"vpx_codec_dec_init_ver\0"),
            decode: sym!(b"vpx_codec_decode\0"),
            get_frame: sym!(b"vpx_codec_get_frame\0"),
            destroy: sym!(b"vpx_codec_destroy\0"),
            img_alloc: sym!(b"vpx_img_alloc\0"),
            img_free: sym!(b"vpx_img_free\0"),
            error_detail: sym!(b"vpx_codec_error_detail\0"),
            err_to_string: sym!(b"vpx_codec_err_to_string\0"),
            _lib: lib,
        })
    }
}
