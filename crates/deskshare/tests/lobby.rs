//! Lobby, admission rules, roles and the organiser's actions, against a running server.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;

const SETTLE: Duration = Duration::from_secs(30);

/// A long-running `view --stats` as the person whose sign-ins live in `cfg`.
fn viewer(cfg: &Path, server: &Server, join: &str, name: &str) -> Proc {
    let mut cmd = Command::new(BIN);
    cmd.args(["view", join, "--stats", "--name", name, "--ca"])
        .arg(server.ca())
        .env("DESKSHARE_CONFIG", cfg)
        .stderr(std::process::Stdio::piped());
    let mut p = Proc::spawn_raw(name, &mut cmd);
    // Keep stderr readable for "waiting in the lobby" and error codes.
    let err = p.child.stderr.take().unwrap();
    let sink = p.stderr_sink();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    p
}

fn roster(cfg: &Path, server: &Server, id: &str) -> Vec<serde_json::Value> {
    serde_json::from_str(&ok(cli(cfg, server, &["meeting", "roster", id, "--json"], None))).unwrap()
}

fn participant(cfg: &Path, server: &Server, id: &str, name: &str) -> serde_json::Value {
    let mut found = None;
    eventually(&format!("{name} in the roster"), SETTLE, || {
        found = roster(cfg, server, id).into_iter().find(|p| p["name"] == name);
        found.is_some()
    });
    found.unwrap()
}

#[test]
fn lobby_rules_roles_and_organiser_actions() {
    let dir = workdir("lobby");
    let cfg = |n: &str| dir.join(format!("cfg-{n}"));
    let server = Server::start(&dir);
    for (name, pw) in [
        ("alice@example.org", "alice-password"),
        ("dana@example.org", "dana-password"),
        ("erin@other.net", "erin-password"),
    ] {
        add_user(&cfg("admin"), &server, name, pw, &[]);
    }
    ok(login(&cfg("alice"), &server, "alice@example.org", "alice-password"));
    ok(login(&cfg("dana"), &server, "dana@example.org", "dana-password"));
    ok(login(&cfg("erin"), &server, "erin@other.net", "erin-password"));
    let m = meeting_json(&ok(cli(
        &cfg("alice"),
        &server,
        &["meeting", "create", "--title", "Review", "--lobby", "everyone", "--admit", "domain:example.org", "--json"],
        None,
    )));
    let (id, join) = (m["id"].as_str().unwrap().to_string(), m["join_url"].as_str().unwrap().to_string());

    // The organiser has not joined; the rule still lets her organisation in.
    let mut dana = viewer(&cfg("dana"), &server, &join, "Dana");
    dana.wait_for("stats (admitted)", SETTLE, |l| l.starts_with("stats ").then_some(()));
    let mut erin = viewer(&cfg("erin"), &server, &join, "Erin");
    let mut guest = viewer(&cfg("guest"), &server, &join, "Visitor");
    let e = participant(&cfg("alice"), &server, &id, "Erin");
    let g = participant(&cfg("alice"), &server, &id, "Visitor");
    assert_eq!((e["in_lobby"].as_bool(), e["guest"].as_bool()), (Some(true), Some(false)));
    assert_eq!((g["in_lobby"].as_bool(), g["guest"].as_bool()), (Some(true), Some(true)), "guests are marked");
    assert!(erin.stderr_lines().iter().any(|l| l.contains("waiting in the lobby")));
    assert!(erin.lines().iter().all(|l| !l.starts_with("stats ")), "nothing is shown from the lobby");
    // Attendees may not manage the lobby.
    fails_with(cli(&cfg("dana"), &server, &["meeting", "roster", &id], None), "NOT_ORGANISER");
    fails_with(
        cli(&cfg("dana"), &server, &["meeting", "admit", &id, &e["participant"].to_string()], None),
        "NOT_ORGANISER",
    );

    // Admit Erin, turn the guest away.
    ok(cli(&cfg("alice"), &server, &["meeting", "admit", &id, &e["participant"].to_string()], None));
    erin.wait_for("stats (admitted)", SETTLE, |l| l.starts_with("stats ").then_some(()));
    ok(cli(&cfg("alice"), &server, &["meeting", "deny", &id, &g["participant"].to_string()], None));
    let status = guest.child.wait().unwrap();
    assert!(!status.success());
    eventually("the guest's code", SETTLE, || guest.stderr_lines().iter().any(|l| l.contains("error LOBBY_DENIED")));

    // Presenting is authorised by role: Erin, promoted, presents with the plain join URL.
    let share_as_erin = || {
        let x = Xvfb::start(320, 200).unwrap();
        let out = Command::new(BIN)
            .args(["share", &join, "--display", &x.display, "--allow-control", "never", "--ca"])
            .arg(server.ca())
            .env("DESKSHARE_CONFIG", cfg("erin"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(share_as_erin().contains("error PRESENTER_SECRET_INVALID"), "attendees cannot present");
    ok(cli(&cfg("alice"), &server, &["meeting", "promote", &id, &e["participant"].to_string()], None));
    assert_eq!(participant(&cfg("alice"), &server, &id, "Erin")["role"], "presenter");
    let x = Xvfb::start(320, 200).unwrap();
    let mut erin_share = Proc::spawn(
        "erin-share",
        Command::new(BIN)
            .args(["share", &join, "--display", &x.display, "--allow-control", "never", "--ca"])
            .arg(server.ca())
            .env("DESKSHARE_CONFIG", cfg("erin")),
    );
    erin_share.wait_for("sharing", SETTLE, |l| l.starts_with("status sharing").then_some(()));
    eventually("Erin presenting in the roster", SETTLE, || {
        roster(&cfg("alice"), &server, &id).iter().any(|p| p["presenting"] == true)
    });
    assert!(erin_share.terminate());

    // Remove Dana; then end the meeting for everyone still in it.
    let d = participant(&cfg("alice"), &server, &id, "Dana");
    ok(cli(&cfg("alice"), &server, &["meeting", "remove", &id, &d["participant"].to_string()], None));
    assert!(!dana.child.wait().unwrap().success());
    eventually("Dana's code", SETTLE, || dana.stderr_lines().iter().any(|l| l.contains("error REMOVED_BY_ORGANISER")));
    ok(cli(&cfg("alice"), &server, &["meeting", "end", &id], None));
    assert!(!erin.child.wait().unwrap().success());
    eventually("Erin's code", SETTLE, || erin.stderr_lines().iter().any(|l| l.contains("error MEETING_ENDED")));

    // Rules, roles, policies and the lobby setting survive a restart.
    let token = server.token();
    let set = [
        "admin",
        "policy",
        "set",
        "max-participants",
        "42",
        "--meeting",
        &id,
        "--server",
        &server.url,
        "--token",
        &token,
    ];
    ok(cli(&cfg("admin"), &server, &set, None));
    let server = Server::restart(&dir, server);
    let token = server.token();
    let show = ["admin", "policy", "show", "--meeting", &id, "--json", "--server", &server.url, "--token", &token];
    let shown: serde_json::Value = serde_json::from_str(&ok(cli(&cfg("admin"), &server, &show, None))).unwrap();
    let max = shown["policies"].as_array().unwrap().iter().find(|p| p["name"] == "max-participants").unwrap().clone();
    assert_eq!((max["set"].as_str(), max["effective"].as_str()), (Some("42"), Some("42")));
    let summary: serde_json::Value =
        serde_json::from_str(&ok(cli(&cfg("alice"), &server, &["meeting", "show", &id, "--json"], None))).unwrap();
    assert_eq!(
        (summary["lobby"].as_str(), summary["admit"][0].as_str()),
        (Some("everyone"), Some("domain:example.org"))
    );
    let mut dana = viewer(&cfg("dana"), &server, &join, "Dana");
    dana.wait_for("stats (admitted)", SETTLE, |l| l.starts_with("stats ").then_some(()));
    assert!(share_as_erin_after_restart(&server, &join, &cfg("erin")), "Erin is still a presenter");
    assert!(dana.terminate());
}

/// Erin can present after a restart: her promotion was stored.
fn share_as_erin_after_restart(server: &Server, join: &str, cfg: &Path) -> bool {
    let x = Xvfb::start(320, 200).unwrap();
    let mut p = Proc::spawn(
        "erin-share-2",
        Command::new(BIN)
            .args(["share", join, "--display", &x.display, "--allow-control", "never", "--ca"])
            .arg(server.ca())
            .env("DESKSHARE_CONFIG", cfg),
    );
    p.wait_for("sharing", SETTLE, |l| l.starts_with("status sharing").then_some(()));
    p.terminate()
}
