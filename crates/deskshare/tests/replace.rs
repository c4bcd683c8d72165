//! One presenter at a time, by choice: a second `share` while one runs is refused with
//! PRESENTER_ACTIVE naming who presents (the running share goes on), `--replace` takes
//! over, and the replaced agent says who took over.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

#[test]
fn a_second_share_does_not_replace_the_first_unless_asked_to() {
    let dir = workdir("replace_share");
    let x = Xvfb::start(640, 400).unwrap();
    let server = Server::start(&dir);
    let (join, presenter) = server.create_meeting("one presenter");
    let mut cmd = Command::new(BIN);
    cmd.args(["share", &presenter, "--display", &x.display, "--name", "Ana's laptop", "--ca"]).arg(server.ca());
    let mut first = Proc::spawn_logged("first share", &mut cmd);
    first.wait_for("sharing", Duration::from_secs(30), |l| l.starts_with("status sharing").then_some(()));

    // Not on a terminal, nobody can be asked: refused, naming who presents.
    let out = Command::new(BIN)
        .args(["share", &presenter, "--display", &x.display, "--name", "Bo's desktop", "--ca"])
        .arg(server.ca())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("error PRESENTER_ACTIVE: Ana's laptop is presenting"), "{stderr}");
    assert!(stderr.contains("--replace"), "the remedy names the flag: {stderr}");
    // The first share went on: a viewer still gets its picture.
    server.snapshot_matching(&join, &dir.join("still-ana.png"), || grab(&x.display).unwrap());
    assert!(first.child.try_wait().unwrap().is_none(), "the first share is still running");

    // With --replace the second takes over; the first stops and says who took over.
    let _second = server.share(&presenter, &x.display, &["--name", "Bo's desktop", "--replace"]);
    let status = first.wait_exit();
    assert!(!status.success());
    let said = first.stderr_lines().join("\n");
    assert!(said.contains("PRESENTER_REPLACED") && said.contains("Bo's desktop took over presenting"), "{said}");
}
