//! The capture loop: wait for change, grab, and let the encoder turn the difference from
//! the last frame sent into copies and exact rectangles. Runs on its own thread; backends
//! implement [`Capturer`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use deskshare_codec::{DEFAULT_LEVEL, Encoder, Framebuffer};
use deskshare_proto::{CursorPosition, CursorShape, ErrorCode, FrameMessage, MAX_SCREEN_EDGE, VideoCodec, WireError};
use tokio::sync::mpsc;

/// What changed since the last call to [`Capturer::wait`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Changes {
    pub damaged: bool,
    pub resized: bool,
    /// The shared area moved on the screen (a shared window was dragged).
    pub moved: bool,
    pub cursor_shape: bool,
}

/// The shared area in root-window coordinates: input coordinates are relative to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Area {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
}

impl Changes {
    pub fn any(&self) -> bool {
        self.damaged || self.resized || self.cursor_shape
    }
}

/// Why capture could not start or go on, each with its code (one mapping, here): the
/// backend says what failed where it knows, and the code follows from that.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot open display '{display}': {detail}")]
    Unreachable { display: String, detail: String },
    #[error("display '{display}' lacks the {extension} extension")]
    ExtensionMissing { display: String, extension: &'static str },
    #[error("the display's pixels are not 24-bit true colour in 32 bits: {0}")]
    FormatUnsupported(String),
    #[error("monitor {asked} asked for; the display has {have} (0..{})", have.max(&1) - 1)]
    MonitorNotFound { asked: usize, have: usize },
    #[error("window 0x{window:x} not found: {detail}")]
    WindowNotFound { window: u32, detail: String },
    #[error("no window title contains '{0}'")]
    NoWindowNamed(String),
    #[error("window 0x{window:x} is gone: {detail}")]
    WindowGone { window: u32, detail: String },
    #[error("the shared area is {width}x{height}; at most {MAX_SCREEN_EDGE} a side")]
    TooLarge { width: u32, height: u32 },
    #[error("the X connection failed: {0}")]
    Lost(String),
}

impl CaptureError {
    pub fn code(&self) -> ErrorCode {
        match self {
            CaptureError::Unreachable { .. } => ErrorCode::DisplayUnreachable,
            CaptureError::ExtensionMissing { .. } => ErrorCode::DisplayExtensionMissing,
            CaptureError::FormatUnsupported(_) => ErrorCode::DisplayFormatUnsupported,
            CaptureError::MonitorNotFound { .. } => ErrorCode::MonitorNotFound,
            CaptureError::WindowNotFound { .. } | CaptureError::NoWindowNamed(_) => ErrorCode::WindowNotFound,
            CaptureError::WindowGone { .. } => ErrorCode::WindowGone,
            CaptureError::TooLarge { .. } => ErrorCode::ScreenTooLarge,
            CaptureError::Lost(_) => ErrorCode::DisplayLost,
        }
    }

    /// A failed X request or reply: the connection is the problem.
    pub fn lost(e: impl std::fmt::Display) -> CaptureError {
        CaptureError::Lost(e.to_string())
    }
}

impl From<CaptureError> for WireError {
    fn from(e: CaptureError) -> Self {
        WireError::new(e.code(), e.to_string())
    }
}

/// A screen source. X11 today; other platforms implement the same calls.
pub trait Capturer: Send {
    /// Where the shared area is, in root coordinates.
    fn area(&self) -> Area;
    /// Blocks until something changed or `timeout` passed.
    fn wait(&mut self, timeout: Duration) -> Result<Changes, CaptureError>;
    /// The whole shared area, now.
    fn grab(&mut self) -> Result<Framebuffer, CaptureError>;
    fn cursor_shape(&mut self) -> Result<Option<CursorShape>, CaptureError>;
    fn pointer(&mut self) -> Result<CursorPosition, CaptureError>;
    /// Offsets (dx, dy) by which windows moved since the last call: hints for the copy
    /// search, which confirms every copy against the pixels.
    fn move_hints(&mut self) -> Vec<(i32, i32)> {
        Vec::new()
    }
}

/// One item for the uploader.
#[derive(Debug)]
pub enum Captured {
    Frame(FrameMessage),
    CursorShape(CursorShape),
    CursorPosition(CursorPosition),
    /// The shared area moved or changed size.
    Area(Area),
}

/// Shared between the capture thread and the uploader.
#[derive(Default)]
pub struct CaptureControl {
    /// Set by the uploader after (re)connecting: the next frame must be a keyframe.
    pub keyframe: AtomicBool,
    /// Set to stop the capture thread.
    pub stop: AtomicBool,
    /// The codec video streams go in (`VideoCodec as u8`), 0 for none: set by the
    /// uploader from what the server decodes, this machine codes and the share allows.
    pub video: AtomicU8,
    /// Set by the uploader when the server asks for a video keyframe.
    pub video_keyframe: AtomicBool,
}

/// Frames are grabbed at most this often; damage in between is merged.
const MIN_FRAME_INTERVAL: Duration = Duration::from_millis(33);
/// Even without damage, compare the screen this often: damage is a hint, not the truth.
const SAFETY_INTERVAL: Duration = Duration::from_secs(1);
/// The pointer is polled this often while idle.
const POINTER_INTERVAL: Duration = Duration::from_millis(40);

/// How the capture thread codes what changes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Coding {
    /// JPEG quality of areas that keep changing; `None`: everything exact.
    pub lossy_quality: Option<u8>,
    /// Bitrate of a video stream; `None`: by its area.
    pub video_kbps: Option<u32>,
}

/// Runs until the receiver is gone, `stop` is set, or capture fails.
pub fn run(
    mut cap: impl Capturer,
    tx: mpsc::Sender<Captured>,
    control: Arc<CaptureControl>,
    coding: Coding,
) -> Result<(), CaptureError> {
    let mut area = cap.area();
    if area.width > MAX_SCREEN_EDGE || area.height > MAX_SCREEN_EDGE {
        return Err(CaptureError::TooLarge { width: area.width, height: area.height });
    }
    let mut encoder = Encoder::new(DEFAULT_LEVEL);
    encoder.set_lossy_quality(coding.lossy_quality);
    encoder.video.set_kbps(coding.video_kbps);
    // The codec last asked for: an encoder that failed to start is not retried while
    // the same codec is asked, so the warning comes once.
    let mut video_asked = 0;
    let mut pending = true; // capture once at start
    let mut last_grab = Instant::now() - SAFETY_INTERVAL;
    let mut last_pointer = None;
    let send = |item: Captured| tx.blocking_send(item).is_ok();
    if !send(Captured::Area(area)) {
        return Ok(());
    }
    if let Some(shape) = cap.cursor_shape()?
        && !send(Captured::CursorShape(shape))
    {
        return Ok(());
    }
    while !control.stop.load(Ordering::Relaxed) {
        let since = last_grab.elapsed();
        // Lossy tiles that have settled are refined even if nothing else changes.
        let refine_in = encoder.refine_due().map(|at| at.saturating_duration_since(Instant::now()));
        let timeout = if pending { MIN_FRAME_INTERVAL.saturating_sub(since) } else { POINTER_INTERVAL };
        let timeout = refine_in.map_or(timeout, |r| timeout.min(r.max(MIN_FRAME_INTERVAL.saturating_sub(since))));
        let changes = cap.wait(timeout)?;
        pending |= changes.damaged || changes.resized;
        if cap.area() != area {
            area = cap.area();
            if !send(Captured::Area(area)) {
                return Ok(());
            }
        }
        if changes.cursor_shape
            && let Some(shape) = cap.cursor_shape()?
            && !send(Captured::CursorShape(shape))
        {
            return Ok(());
        }
        let pos = cap.pointer()?;
        if last_pointer != Some(pos) {
            last_pointer = Some(pos);
            if !send(Captured::CursorPosition(pos)) {
                return Ok(());
            }
        }
        let keyframe = control.keyframe.swap(false, Ordering::Relaxed);
        if keyframe {
            encoder.force_keyframe();
        }
        let video = control.video.load(Ordering::Relaxed);
        if video != video_asked {
            video_asked = video;
            encoder.video.set_codec(VideoCodec::from_u8(video));
        }
        if control.video_keyframe.swap(false, Ordering::Relaxed) {
            encoder.video.ask_keyframe();
        }
        if let Some(why) = encoder.video.failure.take() {
            tracing::warn!("video mode is off, areas that keep moving go as JPEG: {why}");
        }
        let refine = encoder.refine_due().is_some_and(|at| at <= Instant::now());
        let due = ((pending || refine) && last_grab.elapsed() >= MIN_FRAME_INTERVAL)
            || last_grab.elapsed() >= SAFETY_INTERVAL
            || keyframe;
        if !due {
            continue;
        }
        let grabbed_at = std::time::SystemTime::now();
        let fb = cap.grab()?;
        last_grab = Instant::now();
        pending = false;
        let hints = cap.move_hints();
        let Some(mut frame) = encoder.encode(fb, &hints, last_grab) else { continue };
        frame.header.captured_us = deskshare_proto::media::capture_clock(grabbed_at);
        let st = encoder.last;
        tracing::debug!(
            frame = frame.header.frame,
            rects = st.rects,
            copies = st.copies,
            copied_pixels = st.copied_pixels,
            payload = st.payload_bytes,
            data = st.data_bytes,
            lossy = st.lossy_areas,
            image = st.image_bytes,
            refined = st.refined_tiles,
            video = st.video_bytes,
            ?hints,
            "encoded"
        );
        if !send(Captured::Frame(frame)) {
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A capturer with a fixed area whose `wait` fails with the given error.
    struct Failing {
        area: Area,
        error: CaptureError,
    }

    impl Capturer for Failing {
        fn area(&self) -> Area {
            self.area
        }
        fn wait(&mut self, _: Duration) -> Result<Changes, CaptureError> {
            Err(self.error.clone())
        }
        fn grab(&mut self) -> Result<Framebuffer, CaptureError> {
            unreachable!("wait fails first")
        }
        fn cursor_shape(&mut self) -> Result<Option<CursorShape>, CaptureError> {
            Ok(None)
        }
        fn pointer(&mut self) -> Result<CursorPosition, CaptureError> {
            Ok(CursorPosition { x: 0, y: 0, visible: false })
        }
    }

    fn run_failing(area: Area, error: CaptureError) -> WireError {
        let (tx, _rx) = mpsc::channel(8);
        let err = run(Failing { area, error }, tx, Arc::default(), Coding::default()).unwrap_err();
        WireError::from(err)
    }

    #[test]
    fn an_area_over_the_limit_is_refused_before_anything_is_sent() {
        let area = Area { x: 0, y: 0, width: MAX_SCREEN_EDGE + 1, height: 10 };
        let e = run_failing(area, CaptureError::Lost("not reached".into()));
        assert_eq!(e.code, ErrorCode::ScreenTooLarge);
        assert!(e.message.contains(&format!("{}x10", MAX_SCREEN_EDGE + 1)), "{}", e.message);
    }

    #[test]
    fn a_closed_window_ends_the_capture_with_window_gone() {
        let area = Area { x: 0, y: 0, width: 64, height: 64 };
        let e = run_failing(area, CaptureError::WindowGone { window: 0x1200007, detail: "closed".into() });
        assert_eq!(e.code, ErrorCode::WindowGone);
        assert!(e.message.contains("0x1200007"), "{}", e.message);
    }

    #[test]
    fn every_capture_failure_has_its_own_code() {
        let cases = [
            (
                CaptureError::Unreachable { display: ":9".into(), detail: "refused".into() },
                ErrorCode::DisplayUnreachable,
            ),
            (
                CaptureError::ExtensionMissing { display: ":9".into(), extension: "DAMAGE" },
                ErrorCode::DisplayExtensionMissing,
            ),
            (CaptureError::FormatUnsupported("depth 16".into()), ErrorCode::DisplayFormatUnsupported),
            (CaptureError::MonitorNotFound { asked: 2, have: 1 }, ErrorCode::MonitorNotFound),
            (CaptureError::WindowNotFound { window: 5, detail: "BadWindow".into() }, ErrorCode::WindowNotFound),
            (CaptureError::NoWindowNamed("Firefox".into()), ErrorCode::WindowNotFound),
            (CaptureError::Lost("broken pipe".into()), ErrorCode::DisplayLost),
        ];
        for (error, code) in cases {
            assert_eq!(WireError::from(error.clone()).code, code, "{error}");
        }
        assert_eq!(
            CaptureError::MonitorNotFound { asked: 2, have: 1 }.to_string(),
            "monitor 2 asked for; the display has 1 (0..0)"
        );
    }
}
