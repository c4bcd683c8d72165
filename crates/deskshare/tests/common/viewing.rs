//! Watching a share as a viewer does, in the test process: a real session, the real
//! decoder, acks; and what came, counted.

use std::time::{Duration, Instant};

use deskshare_client::session::{Incoming, Session};
use deskshare_codec::Decoder;
use deskshare_proto::{ClientMessage, MediaMessage, Op, PixelRect};
use deskshare_testkit::grab;

use super::Proc;

/// An xterm in DejaVu Sans Mono 11 (antialiased), running `command`.
pub fn aa_xterm(display: &str, geometry: &str, command: &str) -> Proc {
    let p = Proc::spawn(
        "xterm",
        std::process::Command::new("xterm")
            .args(["-display", display, "-fa", "DejaVu Sans Mono", "-fs", "11", "-geometry", geometry])
            .args(["+sb", "-bg", "white", "-fg", "black", "-e", "bash", "-c", command]),
    );
    p.wait_for_window(display);
    p
}

/// What a viewer received between two moments.
#[derive(Default, Debug)]
pub struct Seen {
    pub frames: u64,
    pub bytes: u64,
    pub copies: u64,
    pub rects: Vec<(u16, u16)>,
    /// Where IMAGE ops (lossy areas) painted.
    pub lossy: Vec<PixelRect>,
    /// Where VIDEO ops (video frames) painted.
    pub video: Vec<PixelRect>,
    /// The codecs of the video chunks that came.
    pub video_codecs: std::collections::BTreeSet<&'static str>,
    /// Updates that carried an image, and their bytes.
    pub lossy_frames: u64,
    pub lossy_frame_bytes: u64,
}

/// Receives, decodes and acks frames until none came for `quiet` (or `limit` passed);
/// returns what came.
pub async fn watch(session: &mut Session, decoder: &mut Decoder, quiet: Duration, limit: Duration) -> Seen {
    let mut seen = Seen::default();
    let end = Instant::now() + limit;
    while Instant::now() < end {
        let next = tokio::time::timeout(quiet, session.recv()).await;
        let Ok(msg) = next else { break };
        if let Incoming::Media(MediaMessage::Frame(f)) = msg.expect("the session goes on") {
            decoder.apply(&f).expect("every frame decodes");
            seen.frames += 1;
            seen.bytes += f.encoded_len() as u64;
            seen.video_codecs.extend(f.videos.iter().map(|c| c.codec.name()));
            if !f.images.is_empty() {
                seen.lossy_frames += 1;
                seen.lossy_frame_bytes += f.encoded_len() as u64;
            }
            for op in &f.ops {
                match op {
                    Op::Rect { rect, .. } => seen.rects.push((rect.width, rect.height)),
                    Op::Copy { .. } => seen.copies += 1,
                    Op::Image { to, .. } => seen.lossy.push(*to),
                    Op::Video { to, .. } => seen.video.push(*to),
                }
            }
            session.send_control(&ClientMessage::Ack { frame: f.header.frame }).await.unwrap();
        }
    }
    seen
}

/// Pixels in which the decoder's picture differs from the display now.
pub fn matches_display(decoder: &Decoder, display: &str) -> usize {
    let truth = grab(display).unwrap();
    let fb = decoder.screen().expect("a picture");
    let mine = deskshare_testkit::Image { width: fb.width(), height: fb.height(), rgb: fb.to_rgb() };
    mine.diff_count(&truth)
}

/// The code of the next refusal the server sends this session (other messages are
/// skipped); fails after 30 s without one.
pub async fn refusal(s: &mut Session) -> deskshare_proto::ErrorCode {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), s.recv()).await.expect("an answer");
        if let Incoming::Control(deskshare_proto::ServerMessage::Refused { code, .. }) = msg.expect("the session") {
            return code;
        }
    }
}
