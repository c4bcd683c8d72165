//! End to end with real parts: Xvfb + xterm + `deskshare serve | share | view`.

mod common;

use std::time::Duration;

use common::*;

const SETTLE: Duration = Duration::from_secs(30);

#[test]
fn pixel_exact_then_changes_then_late_joiner() {
    // 1000x700 is not a multiple of the 64-pixel tile in either direction.
    let scene = Scene::build("pixel_exact")
        .size(1000, 700)
        .picture(420, 230, 555, 437, 7)
        .xterm("60x12+0+0", "echo 'deskshare pixel test: text, gradients, noise'; seq 1 5; exec cat")
        .share(&[])
        .start();
    let (x, server, join, dir, share) = (&scene.x, &scene.server, &scene.join, &scene.dir, &scene.share);

    // Pixel-exact: the viewer's picture equals the display.
    let first = server.snapshot_matching(join, &dir.join("1-initial.png"), || grab(&x.display).unwrap());
    assert_eq!((first.width, first.height), (1000, 700));

    // Change propagation: type into the xterm (pointer over it gives it focus without a
    // window manager); the text appears in the next snapshot.
    xdotool(&x.display, &["mousemove", "100", "60"]);
    xdotool(&x.display, &["type", "--delay", "20", "hello from xdotool"]);
    xdotool(&x.display, &["mousemove", "990", "690"]);
    eventually("the typed text on the display", SETTLE, || grab(&x.display).unwrap().diff_count(&first) > 50);
    let second = server.snapshot_matching(join, &dir.join("2-typed.png"), || grab(&x.display).unwrap());
    assert!(second.diff_count(&first) > 50, "typed text changed the picture");

    // Late joiner: with nothing changing, a new viewer gets the complete, exact screen,
    // and the presenter sends no frame for it.
    let frames_before = settled_frames(share);
    let late = server.snapshot(join, &dir.join("3-late.png"));
    assert_eq!(late.diff_count(&grab(&x.display).unwrap()), 0, "late joiner sees the exact screen");
    let frames_after = frames_in_status_after(share, status_lines(share).len());
    assert_eq!(frames_before, frames_after, "a late joiner costs the presenter no new frame");
}

/// The agent's status lines so far (one a second).
fn status_lines(share: &Proc) -> Vec<u64> {
    share.lines().iter().filter(|l| l.starts_with("status sharing")).filter_map(|l| field(l, "frames")).collect()
}

/// The frames count once two status lines in a row, both new, show the same: nothing is
/// being sent any more.
fn settled_frames(share: &Proc) -> u64 {
    let start = status_lines(share).len();
    let mut last = 0;
    eventually("the share to settle", SETTLE, || {
        let lines = status_lines(share);
        match lines.as_slice() {
            [.., a, b] if lines.len() >= start + 2 && a == b => {
                last = *b;
                true
            }
            _ => false,
        }
    });
    last
}

/// The frames count in the second status line after the first `seen` (so it was
/// printed after whatever the test just did).
fn frames_in_status_after(share: &Proc, seen: usize) -> u64 {
    eventually("two more status lines", SETTLE, || status_lines(share).len() >= seen + 2);
    status_lines(share)[seen + 1]
}

#[test]
fn slow_viewer_skips_while_normal_viewer_gets_every_frame() {
    let dir = workdir("slow_viewer");
    let x = Xvfb::start(640, 400).unwrap();
    let _term = xterm(&x.display, "70x20+0+0", "exec cat");
    let server = Server::start(&dir);
    let (join, presenter) = server.create_meeting("slow viewer");
    let mut share = server.share(&presenter, &x.display, &[]);

    let view = |name: &str, extra: &[&str]| {
        let mut cmd = std::process::Command::new(BIN);
        cmd.args(["view", &join, "--stats", "--name", name, "--settle", "4000", "--timeout", "60", "--snapshot"])
            .arg(dir.join(format!("{name}.png")))
            .arg("--ca")
            .arg(server.ca())
            .args(extra);
        Proc::spawn(name, &mut cmd)
    };
    let mut normal = view("normal", &[]);
    let mut slow = view("slow", &["--throttle-ms", "600"]);
    for v in [&normal, &slow] {
        v.wait_for("with a first frame", SETTLE, |l| field(l, "frames").filter(|&f| f >= 1));
    }
    xdotool(&x.display, &["mousemove", "100", "60"]);
    xdotool(&x.display, &["type", "--delay", "150", "abcdefghijklmnopqrst"]);
    xdotool(&x.display, &["mousemove", "630", "390"]);

    // Both write their snapshot once no update came for 4 s, and print final stats.
    let wait_exit = |p: &mut Proc| {
        let status = p.wait_exit();
        assert!(status.success(), "{} viewer failed", p.name);
        p.lines().iter().rev().find(|l| l.starts_with("stats ")).cloned().unwrap()
    };
    let normal_stats = wait_exit(&mut normal);
    let slow_stats = wait_exit(&mut slow);
    assert!(share.terminate(), "share exits cleanly on SIGTERM");
    let sent =
        share.wait_for("with the final count", SETTLE, |l| l.strip_prefix("shared ").and_then(|r| field(r, "frames")));

    let truth = grab(&x.display).unwrap();
    for name in ["normal", "slow"] {
        let snap = Image::read_png(&dir.join(format!("{name}.png"))).unwrap();
        assert_eq!(snap.diff_count(&truth), 0, "{name} viewer ends on the exact final screen");
    }
    let f = |line: &str, k: &str| field(line, k).unwrap();
    // Every presenter frame became one screen version (one presenter, each frame changes
    // at least one tile), so the last version number equals the frames sent.
    assert_eq!(f(&normal_stats, "last_frame"), sent, "normal viewer reached the last version: {normal_stats}");
    assert_eq!(f(&normal_stats, "skipped_frames"), 0, "normal viewer skipped nothing: {normal_stats}");
    assert_eq!(f(&normal_stats, "skipped_tiles"), 0, "{normal_stats}");
    assert!(sent >= 10, "typing 20 characters made many frames, got {sent}");
    assert_eq!(f(&slow_stats, "last_frame"), sent, "slow viewer reached the last version: {slow_stats}");
    assert!(f(&slow_stats, "skipped_frames") > 0, "slow viewer skipped versions: {slow_stats}");
    assert!(f(&slow_stats, "frames") < f(&normal_stats, "frames"), "slow {slow_stats} vs normal {normal_stats}");
}
