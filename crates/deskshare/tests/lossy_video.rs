//! A real animation (ffplay of lavfi's mandelbrot) on a real Xvfb beside a real
//! terminal being typed in: the animation goes lossy at a fraction of the lossless
//! bytes, the text stays exact while it plays, and once the animation stops every
//! viewer's picture equals the display.

mod common;

use std::time::Duration;

use common::viewing::*;
use common::*;
use deskshare_client::session::Session;
use deskshare_client::{MeetingLink, TlsOptions};
use deskshare_codec::Decoder;
use deskshare_proto::{PixelRect, Role};
use deskshare_testkit::{Xvfb, grab};

/// Where ffplay's borderless window is: 320x240 at (440, 40).
const VIDEO: PixelRect = PixelRect { x: 440, y: 40, width: 320, height: 240 };

fn ffplay(display: &str) -> Proc {
    Proc::spawn(
        "ffplay",
        std::process::Command::new("ffplay")
            .env("DISPLAY", display)
            .env("SDL_AUDIODRIVER", "dummy")
            .args(["-loglevel", "error", "-an", "-noborder", "-left", "440", "-top", "40"])
            .args(["-f", "lavfi", "-i", "mandelbrot=size=320x240:rate=25"]),
    )
}

async fn viewer(join: &str) -> Session {
    let link = MeetingLink::parse(join).unwrap();
    Session::connect(&link, &TlsOptions { ca: None, insecure: true }, Role::Viewer, None).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn animation_goes_lossy_text_stays_exact_and_all_ends_exact_once_still() {
    let dir = workdir("lossy_video");
    let x = Xvfb::start(800, 600).unwrap();
    let _term = aa_xterm(&x.display, "40x20+0+0", "exec cat");
    let terminal_window = wait_for_window(&x.display, "xterm");
    let video = ffplay(&x.display);
    wait_for_window(&x.display, "ffplay");
    let server = Server::start(&dir);
    // Two meetings share the same display at once: one as by default, one --lossless,
    // so both encode the same animation and their bytes compare side by side.
    let (join, presenter) = server.create_meeting("lossy");
    let (join_exact, presenter_exact) = server.create_meeting("lossless");
    let _share = server.share(&presenter, &x.display, &["--allow-control", "never"]);
    let _share_exact = server.share(
        &presenter_exact,
        &x.display,
        &["--lossless", "--takeback-key", "ctrl+alt+f12", "--allow-control", "never"],
    );
    let mut lossy_viewer = viewer(&join).await;
    let mut exact_viewer = viewer(&join_exact).await;
    let (mut lossy_dec, mut exact_dec) = (Decoder::new(), Decoder::new());

    // Someone types in the terminal while the animation plays.
    let display = x.display.clone();
    let typist = tokio::task::spawn_blocking(move || {
        // ffplay took the keyboard focus when it mapped (and quits on "q"): give it back.
        focus_window(&display, &terminal_window);
        xdotool(&display, &["mousemove", "100", "100"]);
        xdotool(&display, &["type", "--delay", "150", "the quick brown fox jumps over the lazy dog"]);
    });
    let watch_both = async {
        let q = Duration::from_secs(2);
        let limit = Duration::from_secs(6);
        tokio::join!(
            watch(&mut lossy_viewer, &mut lossy_dec, q, limit),
            watch(&mut exact_viewer, &mut exact_dec, q, limit)
        )
    };
    let (lossy, exact) = watch_both.await;
    typist.await.unwrap();

    // The animation went lossy (JPEG first, then a VP8 stream once it is known to be a
    // steady region), and only the animation: no lossy area touches the terminal (its
    // pixels only ever come exact), every one overlaps the video.
    let brief = |s: &Seen| {
        format!("{} frames, {} B, {} with images, {} video frames", s.frames, s.bytes, s.lossy_frames, s.video.len())
    };
    assert!(lossy.lossy_frames >= 3, "JPEG updates first: {} (lossless share: {})", brief(&lossy), brief(&exact));
    if deskshare_codec::video_codecs().is_empty() {
        assert!(lossy.lossy_frames >= 20, "no libvpx: JPEG all along: {}", brief(&lossy));
    } else {
        assert!(lossy.video.len() >= 20, "then video: {}", brief(&lossy));
        // VP9 (4:4:4) where the server, the presenter and the viewer all decode it.
        assert_eq!(lossy.video_codecs, ["vp9"].into(), "the stream's codec");
    }
    let terminal = PixelRect::new(0, 0, 420, 400);
    for r in lossy.lossy.iter().chain(&lossy.video) {
        assert!(!r.overlaps(&terminal), "lossy area {r:?} over the terminal");
        assert!(r.overlaps(&VIDEO), "lossy area {r:?} outside the video");
    }
    assert!(exact.lossy.is_empty() && exact.video.is_empty(), "--lossless sent lossy areas");
    // Bytes per update far below the lossless share of the same animation.
    let per_lossy = lossy.bytes / lossy.frames.max(1);
    let per_exact = exact.bytes / exact.frames.max(1);
    assert!(per_lossy * 3 < per_exact, "lossy {per_lossy} B an update vs lossless {per_exact} B");

    // While the animation still plays, the terminal's text in the viewer equals the display.
    let term_now = grab(&x.display).unwrap().crop(0, 0, 420, 400);
    let fb = lossy_dec.screen().unwrap();
    let mine = deskshare_testkit::Image::from_pixels(fb.width(), fb.height(), fb.pixels()).crop(0, 0, 420, 400);
    assert_eq!(mine.diff_count(&term_now), 0, "typed text is exact while the video plays");
    assert!(lossy_dec.lossy_mask().count() > 0, "the video is lossy on the viewer");

    // The animation stops (ffplay frozen: its last frame stays on the screen). The
    // presenter refines the lossy tiles; the viewer ends exact, with nothing lossy left.
    let pid = video.child.id();
    assert!(std::process::Command::new("kill").args(["-STOP", &pid.to_string()]).status().unwrap().success());
    let settle = watch(&mut lossy_viewer, &mut lossy_dec, Duration::from_secs(2), Duration::from_secs(20)).await;
    assert!(settle.frames >= 1, "refinement came");
    assert_eq!(lossy_dec.lossy_mask().count(), 0, "every lossy tile was refined");
    assert_eq!(matches_display(&lossy_dec, &x.display), 0, "the viewer is exact once the animation stopped");
    // A late joiner, via the server's cache, too (the CLI viewer's snapshot).
    let snap = server.snapshot(&join, &dir.join("late.png"));
    assert_eq!(snap.diff_count(&grab(&x.display).unwrap()), 0, "a late joiner's snapshot is exact");
    let _ = std::process::Command::new("kill").args(["-CONT", &pid.to_string()]).status();
}
