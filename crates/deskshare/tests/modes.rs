//! Sharing one monitor or one program, with input mapped into that area.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use deskshare_testkit::picture;

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
    let right_picture = PictureWindow::show(&x.display, 850, 40, 500, 400, 5).unwrap();
    let server = Server::start(&dir);
    let (join, presenter) = server.create_meeting("one monitor");
    let _share = server.share(&presenter, &x.display, &["--allow-control", "auto", "--monitor", &right]);

    // The picture is exactly the right monitor.
    server.snapshot_matching(&join, &dir.join("monitor.png"), || grab(&x.display).unwrap().crop(800, 0, 800, 600));

    // Coordinates are the monitor's: (123, 45) is root (923, 45), which is (73, 5) in the
    // picture window there; the click lands on exactly that pixel.
    right_picture.clicks();
    control(&server, &join, &dir.join("in.script"), "move 123 45\nclick\nwait 200\n");
    assert_eq!(pointer(&x.display), (923, 45));
    assert_eq!(right_picture.clicks(), vec![(73, 5, 1)]);
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

    // A name or number that matches nothing is named as such.
    for (args, code) in [
        (vec!["--window-name", "no such program"], "error WINDOW_NOT_FOUND"),
        (vec!["--window", "0x7fffff0"], "error WINDOW_NOT_FOUND"),
        (vec!["--monitor", "7"], "error MONITOR_NOT_FOUND"),
    ] {
        let out = Command::new(BIN)
            .args(["share", &presenter, "--display", &x.display, "--ca"])
            .arg(server.ca())
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(code), "{args:?}: {stderr}");
    }

    // --list-windows shows it; share it by id.
    let out = Command::new(BIN).args(["share", "--list-windows", "--display", &x.display]).output().unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    let id = format!("0x{:08x}", shared.window);
    assert!(listing.contains(&id), "{id} in {listing}");
    let mut share = server.share(&presenter, &x.display, &["--allow-control", "auto", "--window", &id]);

    // A window on top of it does not leak into the picture.
    let _cover = PictureWindow::show(&x.display, 250, 200, 400, 300, 2).unwrap();
    let truth = Image::from_pixels(400, 300, &picture(400, 300, 9));
    server.snapshot_matching(&join, &dir.join("window.png"), || truth.clone());

    // After the window moves, input coordinates follow it; input outside it is dropped.
    xdotool(&x.display, &["windowmove", &shared.window.to_string(), "500", "300"]);
    // The agent learns of the move from X when it comes: until then a move lands where
    // the window was.
    eventually("the agent to follow the window", Duration::from_secs(30), || {
        control(&server, &join, &dir.join("follow.script"), "move 10 20\nwait 100\n");
        pointer(&x.display) == (510, 320)
    });
    shared.clicks();
    control(&server, &join, &dir.join("in.script"), "move 10 20\nclick right\nwait 200\n");
    assert_eq!(pointer(&x.display), (510, 320));
    assert_eq!(shared.clicks(), vec![(10, 20, 3)], "the click lands on the window's own pixel (10, 20)");
    control(&server, &join, &dir.join("out.script"), "move 450 20\nwait 200\n");
    assert_eq!(pointer(&x.display), (510, 320), "input outside the window is dropped");

    // Closing the window ends the share with its code.
    drop(shared);
    let status = share.child.wait().unwrap();
    assert!(!status.success(), "share ends when the window closes");
}
