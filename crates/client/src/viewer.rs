//! The headless viewer behind `deskshare view`: keeps the screen in a framebuffer,
//! acknowledges every frame it has drawn, writes snapshots and prints statistics.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use deskshare_codec::{Decoder, Framebuffer};
use deskshare_proto::{
    ClientMessage, ErrorCode, FrameMessage, MediaMessage, ParticipantId, Role, ServerMessage, WireError,
};

use crate::controller::Controller;
use crate::session::{Incoming, Join, Session};
use crate::{MeetingLink, TlsOptions};

/// `deskshare view` options.
#[derive(Clone, Debug)]
pub struct ViewOptions {
    pub link: MeetingLink,
    pub tls: TlsOptions,
    pub name: Option<String>,
    /// Write the screen here once it has been still for `settle`, then stop.
    pub snapshot: Option<PathBuf>,
    pub settle: Duration,
    /// Give up if no complete frame arrived by then.
    pub timeout: Duration,
    /// Print a statistics line every second.
    pub stats: bool,
    /// On SIGUSR1, write the picture as it is now here (PNG) and go on.
    pub dump: Option<PathBuf>,
    /// Test aid: pause this long after each frame before reading on, like a slow link.
    pub throttle: Option<Duration>,
    /// Request control and play these input steps once granted.
    pub control: Option<Vec<crate::script::Step>>,
    /// Sign-in token, so the viewer joins as its user rather than as a guest.
    pub token: Option<String>,
    /// The meeting's passcode, if it has one.
    pub passcode: Option<String>,
}

/// What the viewer has received so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ViewStats {
    pub frames: u64,
    pub bytes: u64,
    /// Rectangles received (a tile of a catch-up is one).
    pub tiles: u64,
    pub skipped_tiles: u64,
    /// Copy ops (scrolls, moved windows) received.
    pub copies: u64,
    /// Screen versions the server merged away before this viewer could get them.
    pub skipped_frames: u64,
    pub last_frame: u64,
    pub rtt_ms: u32,
    pub latency_ms: u32,
    /// Times the viewer lost its connection and dialled again.
    pub reconnects: u64,
    /// Lossy areas (IMAGE ops) received, and the bytes of their images.
    pub lossy: u64,
    /// Video frames (VIDEO ops) received.
    pub video: u64,
    pub image_bytes: u64,
    /// Tiles of the screen that hold lossy pixels now (the presenter will refine them).
    pub lossy_tiles: usize,
}

impl ViewStats {
    /// The machine-readable line `--stats` prints.
    pub fn line(&self) -> String {
        format!(
            "stats frames={} bytes={} tiles={} copies={} skipped_tiles={} skipped_frames={} last_frame={} latency_ms={} rtt_ms={} reconnects={} lossy={} image_bytes={} lossy_tiles={} video={}",
            self.frames,
            self.bytes,
            self.tiles,
            self.copies,
            self.skipped_tiles,
            self.skipped_frames,
            self.last_frame,
            self.latency_ms,
            self.rtt_ms,
            self.reconnects,
            self.lossy,
            self.image_bytes,
            self.lossy_tiles,
            self.video
        )
    }
}

/// Viewer state: a framebuffer kept exact by applying whole frames.
#[derive(Default)]
pub struct ViewerState {
    decoder: Decoder,
    pub stats: ViewStats,
    pub presenter_online: bool,
}

impl ViewerState {
    /// The screen as drawn so far.
    pub fn screen(&self) -> Option<&Framebuffer> {
        self.decoder.screen()
    }

    /// Applies a frame. A frame that fails to decode is refused whole: the framebuffer
    /// stays as it was.
    pub fn apply(&mut self, frame: &FrameMessage, wire_len: usize) -> Result<(), WireError> {
        let h = &frame.header;
        self.decoder.apply(frame).map_err(|e| {
            let code = match e {
                deskshare_codec::ApplyError::NeedKeyframe { .. } | deskshare_codec::ApplyError::OutOfScreen { .. } => {
                    ErrorCode::ProtocolViolation
                }
                _ => ErrorCode::TileCorrupt,
            };
            WireError::new(code, e.to_string())
        })?;
        let s = &mut self.stats;
        if s.last_frame != 0 && h.frame > s.last_frame + 1 && !h.keyframe {
            s.skipped_frames += h.frame - s.last_frame - 1;
        }
        s.frames += 1;
        s.bytes += wire_len as u64;
        for op in &frame.ops {
            match op {
                deskshare_proto::Op::Rect { .. } => s.tiles += 1,
                deskshare_proto::Op::Copy { .. } => s.copies += 1,
                deskshare_proto::Op::Image { .. } => s.lossy += 1,
                deskshare_proto::Op::Video { .. } => s.video += 1,
            }
        }
        s.image_bytes += frame.images.iter().map(|i| i.data.len() as u64).sum::<u64>();
        s.lossy_tiles = self.decoder.lossy_mask().count();
        s.skipped_tiles += u64::from(h.skipped_tiles);
        s.last_frame = h.frame;
        s.rtt_ms = h.rtt_ms;
        s.latency_ms = h.server_delay_ms + h.rtt_ms / 2;
        Ok(())
    }
}

/// Writes `fb` as an RGB PNG.
pub fn write_png(fb: &Framebuffer, path: &std::path::Path) -> Result<(), WireError> {
    let fail = |e: String| WireError::new(ErrorCode::FileWriteFailed, format!("{}: {e}", path.display()));
    let file = std::fs::File::create(path).map_err(|e| fail(e.to_string()))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), fb.width(), fb.height());
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().map_err(|e| fail(e.to_string()))?;
    w.write_image_data(&fb.to_rgb()).map_err(|e| fail(e.to_string()))?;
    w.finish().map_err(|e| fail(e.to_string()))
}

/// Runs the viewer until the snapshot is written, an error ends it, or `shutdown`
/// resolves, reconnecting after connection losses. Returns what it received.
pub async fn run(opts: ViewOptions, shutdown: impl std::future::Future<Output = ()>) -> Result<ViewStats, WireError> {
    let mut shutdown = std::pin::pin!(shutdown);
    let started = Instant::now();
    let deadline = started + opts.timeout;
    let mut state = ViewerState::default();
    let mut backoff = Duration::from_millis(200);
    let mut join = Join {
        name: opts.name.clone(),
        token: opts.token.clone(),
        passcode: opts.passcode.clone(),
        ..Join::as_role(Role::Viewer)
    };
    loop {
        // A snapshot has a deadline, also while waiting in the lobby; a person watching
        // waits as long as it takes.
        let opened = match opts.snapshot {
            Some(_) => tokio::time::timeout_at(deadline.into(), Session::open(&opts.link, &opts.tls, &join))
                .await
                .unwrap_or_else(|_| {
                    Err(WireError::new(
                        ErrorCode::NoFrameTimeout,
                        format!("not let in (or no answer) within {} s", opts.timeout.as_secs_f32()),
                    ))
                }),
            None => Session::open(&opts.link, &opts.tls, &join).await,
        };
        let result = match opened {
            Ok(session) => {
                backoff = Duration::from_millis(200);
                // After a drop, back as the same person: no second wait in the lobby.
                join.rejoin = session.proof();
                join.pass = session.pass();
                if let ServerMessage::Welcome { presenter_online, .. } = session.welcome {
                    state.presenter_online = presenter_online;
                }
                receive(session, &opts, &mut state, deadline, shutdown.as_mut()).await
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => return Ok(state.stats),
            // Worth retrying: the path or the server went away for a moment.
            Err(e) if e.code.is_transient() => {
                // `receive` returns Ok when shutdown resolves, so it is still pending here.
                if shutdown_requested(shutdown.as_mut()) {
                    return Ok(state.stats);
                }
                if opts.snapshot.is_some() && Instant::now() >= deadline {
                    return Err(e);
                }
                eprintln!("{} (reconnecting in {} ms)", e.explain(), backoff.as_millis());
                state.stats.reconnects += 1;
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.as_mut() => return Ok(state.stats),
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Whether `shutdown` has already resolved.
fn shutdown_requested(shutdown: std::pin::Pin<&mut impl std::future::Future<Output = ()>>) -> bool {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    shutdown.poll(&mut cx).is_ready()
}

async fn receive(
    mut session: Session,
    opts: &ViewOptions,
    state: &mut ViewerState,
    deadline: Instant,
    mut shutdown: std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
) -> Result<(), WireError> {
    let mut last_update = Instant::now();
    let mut next_stats = Instant::now() + Duration::from_secs(1);
    let mut dump_signal = match &opts.dump {
        Some(_) => Some(
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1())
                .map_err(|e| WireError::new(ErrorCode::ArgumentInvalid, format!("--dump listens for SIGUSR1: {e}")))?,
        ),
        None => None,
    };
    let me = match &session.welcome {
        ServerMessage::Welcome { participant, .. } => *participant,
        _ => ParticipantId::default(),
    };
    let mut controller = opts.control.clone().map(|steps| Controller::new(steps, me));
    if controller.is_some() {
        session.send_control(&ClientMessage::RequestControl).await?;
    }
    loop {
        if let Some(outcome) = controller.as_ref().and_then(Controller::outcome)
            && opts.snapshot.is_none()
        {
            session.close().await;
            return outcome;
        }
        // Wake for whichever comes first: a message, the snapshot settling, the timeout,
        // or the next stats line.
        let settle_at = state.screen().map(|_| last_update + opts.settle);
        let mut wake = next_stats;
        if opts.snapshot.is_some() {
            wake = wake.min(deadline);
            if let Some(s) = settle_at {
                wake = wake.min(s);
            }
        }
        let script_step = async {
            match controller.as_mut() {
                Some(c) => c.next().await,
                None => std::future::pending().await,
            }
        };
        let dump_asked = async {
            match dump_signal.as_mut() {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        };
        let msg = tokio::select! {
            m = tokio::time::timeout_at(wake.into(), session.recv()) => m,
            _ = dump_asked => {
                if let (Some(path), Some(fb)) = (&opts.dump, state.screen()) {
                    write_png(fb, path)?;
                    eprintln!("dumped the picture to {}", path.display());
                }
                continue;
            }
            step = script_step => {
                session.send_control(&step).await?;
                continue;
            }
            _ = shutdown.as_mut() => {
                session.close().await;
                return Ok(());
            }
        };
        let now = Instant::now();
        if opts.stats && now >= next_stats {
            println!("{}", state.stats.line());
            next_stats = now + Duration::from_secs(1);
        }
        match msg {
            Err(_elapsed) => {
                if let Some(path) = &opts.snapshot {
                    let settled = settle_at.is_some_and(|s| now >= s);
                    if settled || now >= deadline {
                        let Some(fb) = state.screen() else {
                            return Err(WireError::new(
                                ErrorCode::NoFrameTimeout,
                                format!("no complete frame within {} s", opts.timeout.as_secs_f32()),
                            ));
                        };
                        write_png(fb, path)?;
                        session.close().await;
                        return Ok(());
                    }
                }
            }
            Ok(Err(e)) => return Err(e),
            Ok(Ok(Incoming::Control(ServerMessage::Presenter { online }))) => {
                state.presenter_online = online;
                if !online {
                    eprintln!("presenter left; waiting for them to come back");
                }
            }
            Ok(Ok(Incoming::Control(msg))) => {
                if let ServerMessage::Control { controller: Some(c), .. } = &msg
                    && c.participant != me
                {
                    eprintln!("{} is in control", c.name);
                }
                if let Some(ctl) = controller.as_mut() {
                    ctl.on_message(&msg)?;
                }
            }
            Ok(Ok(Incoming::Media(MediaMessage::Frame(frame)))) => {
                let len = frame.encoded_len();
                let was_lossy = state.stats.lossy_tiles > 0;
                state.apply(&frame, len)?;
                last_update = Instant::now();
                if opts.stats && was_lossy && state.stats.lossy_tiles == 0 {
                    // The moment the picture became exact again, for scripts that time it.
                    println!("{}", state.stats.line());
                }
                if let Some(t) = opts.throttle {
                    tokio::time::sleep(t).await;
                }
                session.send_control(&ClientMessage::Ack { frame: frame.header.frame }).await?;
            }
            Ok(Ok(Incoming::Media(_cursor))) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deskshare_codec::Encoder;
    use deskshare_proto::PixelRect;

    #[test]
    fn applies_whole_frames_and_counts_skips() {
        let mut enc = Encoder::new(6);
        let mut fb = Framebuffer::new(100, 64);
        let first = enc.encode(fb.clone(), &[], std::time::Instant::now()).unwrap();
        fb.fill(PixelRect::new(10, 10, 5, 5), 0x030303);
        let mut second = enc.encode(fb.clone(), &[], std::time::Instant::now()).unwrap();
        let mut s = ViewerState::default();
        assert_eq!(s.apply(&second, 10).unwrap_err().code, ErrorCode::ProtocolViolation);
        s.apply(&first, 10).unwrap();
        second.header.frame = 4;
        // A corrupt frame leaves the previous screen untouched.
        let mut bad = second.clone();
        bad.data = bytes::Bytes::from_static(&[0xff, 0xff]);
        assert_eq!(s.apply(&bad, 10).unwrap_err().code, ErrorCode::TileCorrupt);
        assert_eq!(s.screen(), Some(&Framebuffer::new(100, 64)));
        // ... and the stream it broke needs a restart; a fresh viewer takes the good one.
        let mut s = ViewerState::default();
        s.apply(&first, 10).unwrap();
        s.apply(&second, 10).unwrap();
        assert_eq!(s.stats.skipped_frames, 2);
        assert_eq!(s.screen(), Some(&fb));
        assert_eq!((s.stats.frames, s.stats.tiles), (2, 2 + 1));
    }
}
