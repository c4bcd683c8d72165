//! Sharing one monitor or one program, with input mapped into that area.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use deskshare_testkit::picture;

const SETTLE: Duration = Duration::from_secs(30);

fn xrandr(display: &str, args: &[&str]) -> String {
    let out = Command::new("xrandr").args(args).env("DISPLAY", display).output().expect("xrandr runs");
    assert!(out.status.success(), "xrandr {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The pointer's root position, as the X server reports it.
fn pointer(display: &str) -> (i32, i32) {
    let out = Command::new("xdotool").args(["getmouselocation", "--shell"]).env("DISPLAY", display).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let get = |k: &str| text.lines().find_map(|l| l.strip_prefix(&format!("{k}="))).unwrap().parse().unwrap();
    (get("X"), get("Y"))
}

fn share(server: &Server, presenter: &str, display: &str, extra: &[&str]) -> Proc {
    let mut cmd = Command::new(BIN);
    cmd.args(["share", presenter, "--display", display, "--allow-control", "auto", "--ca"])
        .arg(server.ca())
        .args(extra);
    let p = Proc::spawn("share", &mut cmd);
    p.wait_for("sharing", SETTLE, |l| l.starts_with("status sharing").then_some(()));
    p
}

fn control(server: &Server, join: &str, path: &std::path::Path, script: &str) {
    std::fs::write(path, script).unwrap();
    let out = Command::new(BIN)
        .args(["view", join, "--request-control", "--input-script"])
        .arg(path)
        .arg("--ca")
        .arg(server.ca())
        .output()
        .unwrap();
    assert!(out.status.success(), "controller: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn monitor_mode_shares_one_monitor_and_maps_input_into_it() {
    let dir = workdir("monitor_mode");
    let x = Xvfb::start(1600, 600).unwrap();
    xrandr(&x.display, &["--setmonitor", "LEFT", "800/200x600/150+0+0", "screen"]);
    xrandr(&x.display, &["--setmonitor", "RIGHT", "800/200x600/150+800+0", "none"]);
    let list = xrandr(&x.display, &["--listmonitors"]);
    let right: String =
        list.lines().find(|l| l.contains("RIGHT")).unwrap().trim().split(':').next().unwrap().to_string();
    let _left_picture = PictureWindow::show(&x.display, 60, 50, 600, 400, 4).unwrap();
    let _right_picture = PictureWindow::show(&x.display, 850, 40, 500, 400, 5).unwrap();
    let server = Server::start(&dir);
    let (join, presenter) = server.create_meeting("one monitor");
    let _share = share(&server, &presenter, &x.display, &["--monitor", &right]);

    // The picture is exactly the right monitor.
    let mut diff = usize::MAX;
    eventually("the monitor's picture", SETTLE, || {
        let snap = server.snapshot(&join, &dir.join("monitor.png"));
        diff = snap.diff_count(&grab(&x.display).unwrap().crop(800, 0, 800, 600));
        diff == 0
    });

    // Coordinates are the monitor's: (123, 45) is root (923, 45); outside it nothing moves.
    control(&server, &join, &dir.join("in.script"), "move 123 45\nwait 200\n");
    assert_eq!(pointer(&x.display), (923, 45));
    control(&server, &join, &dir.join("out.script"), "move 850 45\nwait 200\n");
    assert_eq!(pointer(&x.display), (923, 45), "input outside the monitor is dropped");
}

#[test]
fn program_mode_shares_only_the_window_follows_it_and_ends_when_it_closes() {
    let dir = workdir("program_mode");
    let x = Xvfb::start(1000, 700).unwrap();
    let shared = PictureWindow::show(&x.display, 100, 100, 400, 300, 9).unwrap();
    let server = Server::start(&dir);
    let (join, presenter) = server.create_meeting("one program");

    // --list-windows shows it; share it by id.
    let out = Command::new(BIN).args(["share", "--list-windows", "--display", &x.display]).output().unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    let id = format!("0x{:08x}", shared.window);
    assert!(listing.contains(&id), "{id} in {listing}");
    let mut share = share(&server, &presenter, &x.display, &["--window", &id]);

    // A window on top of it does not leak into the picture.
    let _cover = PictureWindow::show(&x.display, 250, 200, 400, 300, 2).unwrap();
    let truth = Image::from_pixels(400, 300, &picture(400, 300, 9));
    let mut diff = usize::MAX;
    eventually("the window's own pixels", SETTLE, || {
        diff = server.snapshot(&join, &dir.join("window.png")).diff_count(&truth);
        diff == 0
    });

    // After the window moves, input coordinates follow it; input outside it is dropped.
    xdotool(&x.display, &["windowmove", &shared.window.to_string(), "500", "300"]);
    std::thread::sleep(Duration::from_millis(300));
    control(&server, &join, &dir.join("in.script"), "move 10 20\nwait 200\n");
    assert_eq!(pointer(&x.display), (510, 320));
    control(&server, &join, &dir.join("out.script"), "move 450 20\nwait 200\n");
    assert_eq!(pointer(&x.display), (510, 320), "input outside the window is dropped");

    // Closing the window ends the share with its code.
    drop(shared);
    let status = share.child.wait().unwrap();
    assert!(!status.success(), "share ends when the window closes");
}
