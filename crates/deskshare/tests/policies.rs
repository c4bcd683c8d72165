//! Policies enforced by the server: join, sharing, control, capacity, and live changes.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;

const SETTLE: Duration = Duration::from_secs(30);

/// `deskshare admin policy set NAME VALUE [--meeting ID | --user NAME]` with the admin token.
fn set_policy(cfg: &Path, server: &Server, name: &str, value: &str, scope: &[&str]) {
    let token = server.token();
    let mut args = vec!["admin", "policy", "set", name, value, "--server", &server.url, "--token", &token];
    args.extend_from_slice(scope);
    ok(cli(cfg, server, &args, None));
}

fn view_once(cfg: &Path, server: &Server, join: &str, extra: &[&str]) -> (bool, String, String) {
    let mut args = vec!["view", join, "--snapshot", "/dev/null", "--timeout", "2"];
    args.extend_from_slice(extra);
    cli(cfg, server, &args, None)
}

#[test]
fn join_sharing_and_capacity_follow_policy() {
    let dir = workdir("policy_join");
    let (admin, alice, guest) = (dir.join("cfg-admin"), dir.join("cfg-alice"), dir.join("cfg-guest"));
    let x = Xvfb::start(640, 400).unwrap();
    let _picture = PictureWindow::show(&x.display, 10, 10, 300, 200, 1).unwrap();
    let server = Server::start(&dir);
    add_user(&admin, &server, "alice", "alice-password", &[]);
    ok(login(&alice, &server, "alice", "alice-password"));
    let m = meeting_json(&ok(cli(&alice, &server, &["meeting", "create", "--json"], None)));
    let (id, join) = (m["id"].as_str().unwrap(), m["join_url"].as_str().unwrap());

    // Anonymous participants: allowed by default, refused when the global policy says
    // no, and a meeting cannot allow them back.
    fails_with(view_once(&guest, &server, join, &[]), "NO_FRAME_TIMEOUT");
    set_policy(&admin, &server, "allow-anonymous", "off", &[]);
    fails_with(view_once(&guest, &server, join, &[]), "ANONYMOUS_NOT_ALLOWED");
    set_policy(&admin, &server, "allow-anonymous", "on", &["--meeting", id]);
    fails_with(view_once(&guest, &server, join, &[]), "ANONYMOUS_NOT_ALLOWED");
    fails_with(view_once(&alice, &server, join, &[]), "NO_FRAME_TIMEOUT"); // signed in: fine
    let shown = ok(cli(
        &admin,
        &server,
        &["admin", "policy", "show", "--meeting", id, "--json", "--server", &server.url, "--token", &server.token()],
        None,
    ));
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    let line = shown["policies"].as_array().unwrap().iter().find(|p| p["name"] == "allow-anonymous").unwrap().clone();
    assert_eq!((line["set"].as_str(), line["effective"].as_str()), (Some("on"), Some("off")));
    set_policy(&admin, &server, "allow-anonymous", "unset", &[]);
    fails_with(view_once(&guest, &server, join, &[]), "NO_FRAME_TIMEOUT");

    // Sharing: the desktop can be forbidden while a single program stays allowed.
    set_policy(&admin, &server, "enable-desktop-sharing", "off", &["--user", "alice"]);
    let presenter = m["presenter_url"].as_str().unwrap();
    let share = |extra: &[&str]| {
        let mut args: Vec<String> =
            ["share", presenter, "--display", &x.display, "--allow-control", "never"].map(String::from).to_vec();
        args.extend(extra.iter().map(|a| a.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cli(&alice, &server, &args, None)
    };
    fails_with(share(&[]), "SHARING_DISABLED");
    let window = format!("0x{:08x}", _picture.window);
    let program = server.share(presenter, &x.display, &["--window", &window]);
    // A policy change while sharing ends the share with its code.
    set_policy(&admin, &server, "enable-program-sharing", "off", &["--meeting", id]);
    let mut program = program;
    let status = program.child.wait().unwrap();
    assert!(!status.success(), "the program share ends when program sharing is turned off");
    fails_with(share(&["--window", &window]), "PROGRAM_SHARING_DISABLED");

    // Capacity: with room for one, a second participant is refused.
    set_policy(&admin, &server, "max-participants", "1", &["--meeting", id]);
    let mut first = Proc::spawn(
        "viewer",
        std::process::Command::new(BIN)
            .args(["view", join, "--stats", "--ca"])
            .arg(server.ca())
            .env("DESKSHARE_CONFIG", &guest),
    );
    first.wait_for("a stats line", SETTLE, |l| l.starts_with("stats ").then_some(()));
    fails_with(view_once(&guest, &server, join, &[]), "MEETING_FULL");
    assert!(first.terminate());
}

#[test]
fn control_policy_applies_to_guests_and_changes_take_effect_live() {
    let dir = workdir("policy_control");
    let out = dir.join("typed.txt");
    let (admin, bob, guest) = (dir.join("cfg-admin"), dir.join("cfg-bob"), dir.join("cfg-guest"));
    let x = Xvfb::start(800, 500).unwrap();
    let _term = typing_target(&x.display, &out);
    let server = Server::start(&dir);
    add_user(&admin, &server, "bob", "bob-password", &[]);
    ok(login(&bob, &server, "bob", "bob-password"));
    let (join, presenter) = server.create_meeting("control policy");
    let id = join.rsplit('/').next().unwrap().to_string();
    let _share = server.share(&presenter, &x.display, &["--allow-control", "auto"]);
    xdotool(&x.display, &["mousemove", "100", "60"]);

    let script = |cfg: &Path, name: &str, text: &str| {
        let path = dir.join(format!("{name}.script"));
        std::fs::write(&path, text).unwrap();
        cli(cfg, &server, &["view", &join, "--request-control", "--input-script", path.to_str().unwrap()], None)
    };
    // With allow-external-control off, guests may not control; users still may.
    set_policy(&admin, &server, "allow-external-control", "off", &[]);
    fails_with(script(&guest, "guest", "type guest\nkey Return\n"), "CONTROL_DISABLED");
    ok(script(&bob, "bob", "move 100 60\ntype bob typed\nkey Return\nwait 300\n"));
    eventually("bob's line", SETTLE, || std::fs::read_to_string(&out).unwrap_or_default().contains("bob typed"));

    // Turning allow-control off while Bob is in control revokes his grant at once.
    let cfg = admin.clone();
    let server_url = server.url.clone();
    let token = server.token();
    let ca = server.ca();
    let out2 = out.clone();
    let id2 = id.clone();
    let switch = std::thread::spawn(move || {
        eventually("the first line", SETTLE, || std::fs::read_to_string(&out2).unwrap_or_default().contains("before"));
        let st = std::process::Command::new(BIN)
            .args([
                "admin",
                "policy",
                "set",
                "allow-control",
                "off",
                "--meeting",
                &id2,
                "--server",
                &server_url,
                "--token",
                &token,
                "--ca",
            ])
            .arg(&ca)
            .env("DESKSHARE_CONFIG", &cfg)
            .status()
            .unwrap();
        assert!(st.success());
    });
    let r = script(&bob, "bob2", "move 100 60\ntype before\nkey Return\nwait 3000\ntype after\nkey Return\nwait 300\n");
    switch.join().unwrap();
    fails_with(r, "CONTROL_DISABLED");
    type_marker(&x.display, &out, "local");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("before") && !text.contains("after"), "{text:?}");
    // And new requests are refused while it is off.
    fails_with(script(&bob, "bob3", "type again\n"), "CONTROL_DISABLED");
    drop(id);
}

/// Organisers set their meetings' policies, stricter than their own and never looser;
/// the meeting then enforces them like any other level.
#[test]
fn organisers_tighten_their_meetings_policies() {
    let dir = workdir("policy_organiser");
    let (admin, bob, guest) = (dir.join("cfg-admin"), dir.join("cfg-bob"), dir.join("cfg-guest"));
    let server = Server::start(&dir);
    add_user(&admin, &server, "bob", "bob-password", &[]);
    ok(login(&bob, &server, "bob", "bob-password"));
    let create = |extra: &[&str]| {
        let mut args = vec!["meeting", "create", "--json"];
        args.extend_from_slice(extra);
        cli(&bob, &server, &args, None)
    };
    let m = meeting_json(&ok(create(&["--policy", "allow-anonymous=off", "--policy", "max-participants=5"])));
    let id = m["id"].as_str().unwrap();
    let shown = meeting_json(&ok(cli(&bob, &server, &["meeting", "show", id, "--json"], None)));
    assert_eq!(shown["policies"]["allow-anonymous"], "off");
    assert_eq!(shown["policies"]["max-participants"], "5");
    assert_eq!(shown["policies"]["allow-control"], "on", "untouched policies keep their defaults");
    fails_with(view_once(&guest, &server, m["join_url"].as_str().unwrap(), &[]), "ANONYMOUS_NOT_ALLOWED");

    // Looser than the organiser's own: refused, and nothing is created.
    set_policy(&admin, &server, "allow-control", "off", &["--user", "bob"]);
    fails_with(create(&["--title", "Loose", "--policy", "allow-control=on"]), "POLICY_NOT_ALLOWED");
    fails_with(create(&["--policy", "max-participants=100000"]), "POLICY_NOT_ALLOWED");
    fails_with(create(&["--policy", "no-such-policy=on"]), "ARGUMENT_INVALID");
    let listed = ok(cli(&bob, &server, &["meeting", "list", "--json"], None));
    assert!(!listed.contains("Loose"), "{listed}");
    // Updating works the same way, and "unset" hands the decision back to the levels above.
    ok(cli(&bob, &server, &["meeting", "update", id, "--policy", "allow-anonymous=unset"], None));
    let shown = meeting_json(&ok(cli(&bob, &server, &["meeting", "show", id, "--json"], None)));
    assert_eq!(
        (shown["policies"]["allow-anonymous"].as_str(), shown["policies"]["allow-control"].as_str()),
        (Some("on"), Some("off"))
    );
}
