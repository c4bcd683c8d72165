//! Remote control with host consent, on real Xvfb with a real xterm.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::viewing::refusal;
use common::*;
use deskshare_client::session::Session;
use deskshare_client::{MeetingLink, TlsOptions};
use deskshare_proto::{ClientMessage, ErrorCode, Role};

const SETTLE: Duration = Duration::from_secs(30);

fn read(out: &Path) -> String {
    std::fs::read_to_string(out).unwrap_or_default()
}

/// Runs `view --request-control --input-script`; returns (success, stderr).
fn control_script(server: &Server, join: &str, dir: &Path, name: &str, script: &str) -> (bool, String) {
    let path = dir.join(format!("{name}.script"));
    std::fs::write(&path, script).unwrap();
    let out = Command::new(BIN)
        .args(["view", join, "--name", name, "--request-control", "--input-script"])
        .arg(&path)
        .arg("--ca")
        .arg(server.ca())
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn injection_needs_a_grant() {
    let scene = Scene::build("control_grant").typing().start();
    let (server, join, dir, out) = (&scene.server, &scene.join, &scene.dir, &scene.typed);

    // Input before any grant, from a viewer that never asked: refused, nothing typed.
    let tls = TlsOptions { ca: Some(server.ca()), insecure: false };
    let link = MeetingLink::parse(join).unwrap();
    let mut intruder = Session::connect(&link, &tls, Role::Viewer, Some("intruder".into())).await.unwrap();
    intruder.send_control(&ClientMessage::Input { events: typed("sneaky\n") }).await.unwrap();
    assert_eq!(refusal(&mut intruder).await, ErrorCode::NotController);

    // A granted controller types; the text reaches the xterm.
    let (ok, stderr) =
        control_script(server, join, dir, "helper", "move 100 60\ntype granted input\nkey Return\nwait 300\n");
    assert!(ok, "controller script failed: {stderr}");
    eventually("typed text in the xterm", SETTLE, || read(out).contains("granted input"));

    // While another holds no grant, the intruder's keys still go nowhere: the server
    // refuses them (the reply says so), and a line typed on the presenter's own keyboard
    // after them arrives alone.
    intruder.send_control(&ClientMessage::Input { events: typed("sneaky again\n") }).await.unwrap();
    assert_eq!(refusal(&mut intruder).await, ErrorCode::NotController);
    type_marker(&scene.x.display, out, "local");
    assert_eq!(scene.typed_text(), "granted input\nlocal\n", "only the granted controller's keys arrived");
}

#[test]
fn control_refused_when_the_presenter_does_not_allow_it() {
    let scene = Scene::build("control_never").size(640, 400).share(&["--allow-control", "never"]).start();
    let (ok, stderr) = control_script(&scene.server, &scene.join, &scene.dir, "hopeful", "type nope\n");
    assert!(!ok);
    assert!(stderr.contains("error CONTROL_DISABLED"), "{stderr}");
}

#[test]
fn takeback_hotkey_revokes_and_later_input_is_dropped() {
    let scene = Scene::build("control_takeback").typing().start();
    let display = scene.x.display.clone();
    let out2 = scene.typed.clone();
    // The presenter presses the take-back hotkey once the first line has arrived.
    let presser = std::thread::spawn(move || {
        eventually("the first line", SETTLE, || read(&out2).contains("before"));
        xdotool(&display, &["key", "ctrl+alt+space"]);
    });
    let (ok, stderr) = control_script(
        &scene.server,
        &scene.join,
        &scene.dir,
        "helper",
        "move 100 60\ntype before\nkey Return\nwait 3000\ntype after\nkey Return\nwait 500\n",
    );
    presser.join().unwrap();
    assert!(!ok, "the controller learns control was taken back");
    assert!(stderr.contains("error CONTROL_REVOKED_HOTKEY"), "{stderr}");
    type_marker(&scene.x.display, &scene.typed, "local");
    assert_eq!(scene.typed_text(), "before\nlocal\n", "input after the take-back was dropped");
}

#[test]
fn ask_policy_prompts_on_the_terminal_and_session_ending_keys_are_blocked() {
    use std::io::Write;
    let dir = workdir("control_ask");
    let out = dir.join("typed.txt");
    let x = Xvfb::start(800, 500).unwrap();
    let _term = typing_target(&x.display, &out);
    let server = Server::start(&dir);
    let (join, presenter) = server.create_meeting("ask");
    let mut cmd = Command::new(BIN);
    cmd.args(["share", &presenter, "--display", &x.display, "--allow-control", "ask", "--ca"])
        .arg(server.ca())
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut share = Proc::spawn_raw("share", &mut cmd);
    let mut answers = share.child.stdin.take().unwrap();
    // Read the agent's prompts from its stderr.
    let prompts = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = prompts.clone();
    let mut stderr = share.child.stderr.take().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok(n) = std::io::Read::read(&mut stderr, &mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    share.wait_for("sharing", SETTLE, |l| l.starts_with("status sharing").then_some(()));
    xdotool(&x.display, &["mousemove", "100", "60"]);

    // The presenter says no: the controller is told CONTROL_DENIED.
    let asked = |n: usize| {
        let p = prompts.clone();
        move || p.lock().unwrap().matches("asks to control this screen").count() >= n
    };
    let answer = |w: &mut std::process::ChildStdin, a: &str| w.write_all(a.as_bytes()).and_then(|_| w.flush()).unwrap();
    let s2 = std::thread::scope(|scope| {
        let denied = scope.spawn(|| control_script(&server, &join, &dir, "declined", "type no\nkey Return\n"));
        eventually("the first prompt", SETTLE, asked(1));
        answer(&mut answers, "n\n");
        let (ok, stderr) = denied.join().unwrap();
        assert!(!ok && stderr.contains("error CONTROL_DENIED"), "{stderr}");

        // The presenter says yes. Ctrl+Alt+F1 and Ctrl+Alt+BackSpace never reach the
        // machine; the plain text does.
        let granted = scope.spawn(|| {
            control_script(
                &server,
                &join,
                &dir,
                "allowed",
                "key ctrl+alt+F1\nkey ctrl+alt+BackSpace\ntype ok\nkey Return\nwait 300\n",
            )
        });
        eventually("the second prompt", SETTLE, asked(2));
        answer(&mut answers, "y\n");
        granted.join().unwrap()
    });
    assert!(s2.0, "granted controller: {}", s2.1);
    eventually("typed text", SETTLE, || read(&out).contains("ok"));
    assert_eq!(read(&out), "ok\n", "no escape sequence from a blocked key reached the xterm");
}

#[test]
fn local_input_takes_control_back_unless_turned_off() {
    let dir = workdir("control_local");
    let out = dir.join("typed.txt");
    let x = Xvfb::start(800, 500).unwrap();
    let _term = typing_target(&x.display, &out);
    let server = Server::start(&dir);
    let script = "move 100 60\ntype one\nkey Return\nwait 2500\ntype two\nkey Return\nwait 300\n";

    // The presenter's own key press while someone is in control takes control back.
    let (join, presenter) = server.create_meeting("local input");
    let share = server.share(&presenter, &x.display, &["--allow-control", "auto"]);
    let press_local_key = |display: String, out: std::path::PathBuf, marker: &'static str| {
        std::thread::spawn(move || {
            eventually("the first line", SETTLE, || read(&out).contains(marker));
            xdotool(&display, &["key", "x"]);
        })
    };
    let presser = press_local_key(x.display.clone(), out.clone(), "one");
    let (ok, stderr) = control_script(&server, &join, &dir, "helper", script);
    presser.join().unwrap();
    assert!(!ok && stderr.contains("error CONTROL_REVOKED_LOCAL_INPUT"), "{stderr}");
    drop(share);
    // The agent is gone; a line typed locally after it lands after anything it injected.
    type_marker(&x.display, &out, "marker");
    assert!(!read(&out).contains("two"), "input after the take-back was dropped: {:?}", read(&out));

    // With --no-local-takeback the same key press leaves the controller in control.
    let (join, presenter) = server.create_meeting("no local take-back");
    let _share = server.share(&presenter, &x.display, &["--allow-control", "auto", "--no-local-takeback"]);
    let before = read(&out);
    // (The "x" pressed above went before the marker's line: "xmarker".)
    let presser = press_local_key(x.display.clone(), out.clone(), "marker\none");
    let (ok, stderr) = control_script(&server, &join, &dir, "helper", script);
    presser.join().unwrap();
    assert!(ok, "control kept: {stderr}");
    eventually("the second line", SETTLE, || read(&out).len() > before.len() && read(&out).contains("two"));
}

/// A take-back hotkey that cannot work is refused before sharing starts, each with its
/// own code: a key the keyboard lacks, and a combination another share holds.
#[test]
fn an_unusable_takeback_hotkey_is_refused_with_its_code() {
    let dir = workdir("control_hotkey_codes");
    let x = Xvfb::start(640, 400).unwrap();
    let server = Server::start(&dir);
    let (_join, presenter) = server.create_meeting("hotkeys");
    let share = |key: &str| {
        Command::new(BIN)
            .args(["share", &presenter, "--display", &x.display, "--allow-control", "auto", "--takeback-key", key])
            .arg("--ca")
            .arg(server.ca())
            .output()
            .unwrap()
    };
    // "€" is a keysym, but not on Xvfb's keyboard map.
    let out = share("ctrl+alt+€");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("error HOTKEY_UNAVAILABLE"), "{stderr}");
    // A first share holds ctrl+alt+space; a second one on the same display cannot.
    let (_join2, presenter2) = server.create_meeting("hotkeys 2");
    let _first = server.share(&presenter2, &x.display, &["--allow-control", "auto"]);
    let out = share("ctrl+alt+space");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("error HOTKEY_TAKEN"), "{stderr}");
}

#[test]
fn characters_of_any_language_arrive_as_typed() {
    // Latin-1 letters, a symbol, Cyrillic and CJK: none of them on the US keymap of the
    // display, each mapped to a spare keycode in turn as it is typed.
    let scene = Scene::build("control_unicode").typing().start();
    let text = "Grüße € café жук 中文 ñ ÄÖß";
    let script = format!("move 100 60\ntype {text}\nkey Return\nwait 300\n");
    let (ok, stderr) = control_script(&scene.server, &scene.join, &scene.dir, "polyglot", &script);
    assert!(ok, "controller script failed: {stderr}");
    eventually("the line in the xterm", SETTLE, || scene.typed_text().contains('\n'));
    assert_eq!(scene.typed_text(), format!("{text}\n"));
}
