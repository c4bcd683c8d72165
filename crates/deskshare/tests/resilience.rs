//! The share follows screen size changes and survives network cuts; viewers stay.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use deskshare_testkit::CuttableProxy;

const SETTLE: Duration = Duration::from_secs(30);

fn xrandr(display: &str, args: &[&str]) {
    let st = Command::new("xrandr").args(args).env("DISPLAY", display).status().expect("xrandr runs");
    assert!(st.success(), "xrandr {args:?}");
}

#[test]
fn screen_size_change_is_followed_without_restart() {
    let scene = Scene::build("resize").size(1000, 700).picture(100, 80, 700, 500, 3).share(&[]).start();
    let (x, server, join, dir, share) = (&scene.x, &scene.server, &scene.join, &scene.dir, &scene.share);

    assert_eq!(server.snapshot_matching(join, &dir.join("big.png"), || grab(&x.display).unwrap()).width, 1000);
    xrandr(&x.display, &["--newmode", "640x480_t", "25.175", "640", "656", "752", "800", "480", "490", "492", "525"]);
    xrandr(&x.display, &["--addmode", "screen", "640x480_t"]);
    xrandr(&x.display, &["--output", "screen", "--mode", "640x480_t"]);
    let small = server.snapshot_matching(join, &dir.join("small.png"), || grab(&x.display).unwrap());
    assert_eq!((small.width, small.height), (640, 480));
    xrandr(&x.display, &["--output", "screen", "--mode", "1000x700"]);
    let big = server.snapshot_matching(join, &dir.join("big-again.png"), || grab(&x.display).unwrap());
    assert_eq!((big.width, big.height), (1000, 700));
    assert!(
        share.lines().iter().all(|l| field(l, "reconnects") == Some(0)),
        "the same share process and connection throughout"
    );
}

#[test]
fn network_cut_reconnects_and_viewers_resume_without_rejoining() {
    let dir = workdir("network_cut");
    let x = Xvfb::start(800, 500).unwrap();
    let _term = xterm(&x.display, "60x15+0+0", "echo before the cut; exec cat");
    let server = Server::start(&dir);
    let (join, presenter) = server.create_meeting("network cut");

    // The presenter reaches the server through a relay we can cut.
    let addr: std::net::SocketAddr = server.url.trim_start_matches("https://").trim_end_matches('/').parse().unwrap();
    let proxy = CuttableProxy::start(addr).unwrap();
    let via_proxy = presenter.replace(&format!(":{}/", addr.port()), &format!(":{}/", proxy.port));
    let share = server.share(&via_proxy, &x.display, &[]);

    let mut viewer = Proc::spawn("viewer", Command::new(BIN).args(["view", &join, "--stats", "--ca"]).arg(server.ca()));
    let before = viewer.wait_for("with a frame", SETTLE, |l| field(l, "last_frame").filter(|&f| f >= 1));

    proxy.cut();
    share.wait_for("showing the reconnect", SETTLE, |l| field(l, "reconnects").filter(|&r| r >= 1));
    assert!(proxy.accepted.load(std::sync::atomic::Ordering::Relaxed) >= 2, "the agent dialled again");

    xdotool(&x.display, &["mousemove", "100", "60"]);
    xdotool(&x.display, &["type", "--delay", "30", "after the cut"]);
    xdotool(&x.display, &["mousemove", "790", "490"]);
    viewer.wait_for("with a newer frame", SETTLE, |l| field(l, "last_frame").filter(|&f| f > before));
    server.snapshot_matching(&join, &dir.join("after-cut.png"), || grab(&x.display).unwrap());

    assert!(viewer.terminate());
    let last = viewer.lines().into_iter().rev().find(|l| l.starts_with("stats ")).unwrap();
    assert_eq!(field(&last, "reconnects"), Some(0), "the viewer never had to rejoin: {last}");
}

/// A share started while the server is down (not started yet, restarting) waits for it,
/// saying so, and shares once it is up; a wrong link still ends it at once.
#[test]
fn a_share_started_before_its_server_waits_for_it() {
    let dir = workdir("server_later");
    let x = Xvfb::start(640, 400).unwrap();
    let _term = xterm(&x.display, "40x10+0+0", "echo waiting for the server; exec cat");
    let server = Server::start(&dir);
    let (join, presenter) = server.create_meeting("server later");
    let ca = server.ca();
    let listen = server.url.trim_start_matches("https://").trim_end_matches('/').to_string();
    drop(server);

    let mut cmd = Command::new(BIN);
    cmd.args(["share", &presenter, "--display", &x.display, "--allow-control", "never", "--ca"]).arg(&ca);
    let share = Proc::spawn_logged("share", &mut cmd);
    // It says why and when it tries again (the code's line, then the remedy's).
    eventually("the share to say it retries", SETTLE, || {
        let said = share.stderr_lines();
        said.iter().any(|l| l.starts_with("error CONNECTION_REFUSED"))
            && said.iter().filter(|l| l.contains("(retrying in")).count() >= 2
    });
    assert!(share.lines().iter().all(|l| !l.starts_with("status sharing")), "nothing shared without a server");

    let server = Server::start_on(&dir, &listen);
    share.wait_for("sharing", SETTLE, |l| l.starts_with("status sharing").then_some(()));
    server.snapshot_matching(&join, &dir.join("shared.png"), || grab(&x.display).unwrap());
    assert!(share.lines().iter().all(|l| field(l, "reconnects") == Some(0)), "its first connection, not a reconnect");

    // A link with a wrong secret is not waited on: it is a mistake to name, not an outage.
    let wrong = presenter.replace("#presenter=", "#presenter=0");
    let out = Command::new(BIN)
        .args(["share", &wrong, "--display", &x.display, "--allow-control", "never", "--ca"])
        .arg(server.ca())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("error PRESENTER_SECRET_INVALID"));
}
