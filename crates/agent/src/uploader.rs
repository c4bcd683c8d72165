//! Sends captured items to the server over one presenter session, reconnecting with
//! backoff. After each reconnect the capture thread is asked for a keyframe, so the
//! server's cache is whole again whatever it lost. The same loop carries control:
//! questions in, decisions and take-backs out, admitted input to the injector.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use deskshare_client::session::{Incoming, Session};
use deskshare_proto::{
    ClientMessage, CursorShape, ErrorCode, MAX_MESSAGE_BYTES, RevokeReason, ServerMessage, WireError,
};
use tokio::sync::mpsc;

use crate::ShareOptions;
use crate::capture::{CaptureControl, Captured};
use crate::control::ControlSide;
use crate::status::{ShareStats, StatusLine};

/// Codes after which trying again cannot help.
pub(crate) fn is_fatal(code: ErrorCode) -> bool {
    !code.is_transient()
}

/// Delays between connection attempts: 200 ms, doubling, at most 5 s.
pub(crate) struct Backoff(Duration);

impl Backoff {
    pub(crate) fn new() -> Self {
        Backoff(Duration::from_millis(200))
    }

    /// The delay before the next attempt (and the one after it doubles).
    pub(crate) fn next(&mut self) -> Duration {
        let now = self.0;
        self.0 = (self.0 * 2).min(Duration::from_secs(5));
        now
    }
}

/// Everything the uploader loop owns besides the session.
pub struct Uploader<'a> {
    pub opts: &'a ShareOptions,
    pub rx: mpsc::Receiver<Captured>,
    pub capture: Arc<CaptureControl>,
    pub control: ControlSide,
    pub takebacks: mpsc::UnboundedReceiver<RevokeReason>,
    pub stats: ShareStats,
    status: StatusLine,
    cursor: Option<CursorShape>,
}

/// How a session ended.
enum Ended {
    CaptureStopped,
    Shutdown,
    Lost(WireError),
}

impl<'a> Uploader<'a> {
    pub fn new(
        opts: &'a ShareOptions,
        rx: mpsc::Receiver<Captured>,
        capture: Arc<CaptureControl>,
        control: ControlSide,
        takebacks: mpsc::UnboundedReceiver<RevokeReason>,
    ) -> Self {
        Uploader {
            opts,
            rx,
            capture,
            control,
            takebacks,
            stats: ShareStats::default(),
            status: StatusLine::new(),
            cursor: None,
        }
    }

    /// Runs until shutdown, the capture ends, or a fatal error.
    pub async fn run(
        mut self,
        first: Session,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<ShareStats, WireError> {
        tokio::pin!(shutdown);
        let mut backoff = Backoff::new();
        let mut proof = first.proof();
        let mut next = Some(first);
        eprintln!("sharing; viewers join at {}", self.opts.link.join_url());
        loop {
            let session = match next.take() {
                Some(s) => s,
                None => {
                    // Back after a drop: the presenter the server may still hold is this
                    // agent's own lost connection; the proof of it lets this one take
                    // over from it (and from nobody else).
                    let join = deskshare_client::session::Join { rejoin: proof.clone(), ..self.opts.join() };
                    let connect = Session::open(&self.opts.link, &self.opts.tls, &join);
                    let result = tokio::select! {
                        s = connect => s,
                        _ = &mut shutdown => break,
                    };
                    match result {
                        Ok(s) => {
                            proof = s.proof();
                            self.stats.reconnects += 1;
                            eprintln!("reconnected");
                            // The server may have lost its cache: start it over.
                            self.capture.keyframe.store(true, Ordering::Relaxed);
                            s
                        }
                        Err(e) if is_fatal(e.code) => return Err(e),
                        Err(e) => {
                            let wait = backoff.next();
                            eprintln!("{} (retrying in {} ms)", e.explain(), wait.as_millis());
                            tokio::select! {
                                _ = tokio::time::sleep(wait) => {}
                                _ = &mut shutdown => break,
                            }
                            continue;
                        }
                    }
                }
            };
            backoff = Backoff::new();
            let need_keyframe = self.stats.reconnects > 0;
            match self.session(session, need_keyframe, &mut shutdown).await {
                Ended::CaptureStopped => break,
                Ended::Shutdown => {
                    self.status.finish(&self.stats);
                    return Ok(self.stats);
                }
                Ended::Lost(e) if is_fatal(e.code) => return Err(e),
                Ended::Lost(e) => {
                    // No grant outlives the connection it was given on.
                    self.control.reset();
                    eprintln!("{} (reconnecting)", e.explain());
                    self.status.print(&self.stats, false);
                }
            }
        }
        self.status.finish(&self.stats);
        Ok(self.stats)
    }

    async fn session(
        &mut self,
        mut session: Session,
        mut need_keyframe: bool,
        shutdown: &mut std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
    ) -> Ended {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        // Video streams only in a codec the server decodes, libvpx here codes and the
        // share allows, in the share's order of preference.
        let server_video = match &session.welcome {
            ServerMessage::Welcome { video, .. } => video.as_slice(),
            _ => &[],
        };
        let here = deskshare_codec::video_codecs();
        let codes = |list: &[String], c: &deskshare_proto::VideoCodec| list.iter().any(|n| n == c.name());
        let codec = self.opts.video.iter().find(|c| codes(server_video, c) && codes(&here, c));
        self.capture.video.store(codec.map_or(0, |&c| c as u8), Ordering::Relaxed);
        if let Some(shape) = &self.cursor
            && let Err(e) = session.send_binary(shape.encode()).await
        {
            return Ended::Lost(e);
        }
        loop {
            let reply: Option<ClientMessage> = tokio::select! {
                item = self.rx.recv() => {
                    let Some(item) = item else { return Ended::CaptureStopped };
                    let bytes = match item {
                        Captured::Frame(f) => {
                            // Frames captured before the keyframe request are stale deltas.
                            if need_keyframe && !f.header.keyframe {
                                continue;
                            }
                            need_keyframe = false;
                            self.stats.frames += 1;
                            f.encode()
                        }
                        Captured::CursorShape(s) => {
                            let b = s.encode();
                            self.cursor = Some(s);
                            b
                        }
                        Captured::CursorPosition(p) => p.encode().to_vec(),
                        Captured::Area(area) => {
                            self.control.set_area(area);
                            continue;
                        }
                    };
                    if bytes.len() > MAX_MESSAGE_BYTES {
                        return Ended::Lost(WireError::new(
                            ErrorCode::MessageTooLarge,
                            format!("one screen update encoded to {} bytes; the limit is {MAX_MESSAGE_BYTES}", bytes.len()),
                        ));
                    }
                    self.stats.bytes += bytes.len() as u64;
                    if let Err(e) = session.send_binary(bytes).await {
                        return Ended::Lost(e);
                    }
                    None
                }
                incoming = session.recv() => match incoming {
                    Ok(Incoming::Control(ServerMessage::Viewers { count })) => {
                        self.stats.viewers = count;
                        None
                    }
                    Ok(Incoming::Control(ServerMessage::VideoKeyframe)) => {
                        self.capture.video_keyframe.store(true, Ordering::Relaxed);
                        None
                    }
                    Ok(Incoming::Control(msg)) => self.control.on_server(msg),
                    Ok(Incoming::Media(_)) => None,
                    Err(e) => return Ended::Lost(e),
                },
                Some(reason) = self.takebacks.recv() => self.control.on_takeback(reason),
                Some(answer) = self.control.next_answer() => Some(answer),
                _ = tick.tick() => {
                    self.status.print(&self.stats, true);
                    None
                }
                _ = shutdown.as_mut() => {
                    session.close().await;
                    return Ended::Shutdown;
                }
            };
            if let Some(msg) = reply
                && let Err(e) = session.send_control(&msg).await
            {
                return Ended::Lost(e);
            }
        }
    }
}
