//! Sharing as a person and consent where the presenter is: the agent started with a
//! share link from "Share my desktop" appears as its person (one line, presenting),
//! control requests are asked on the shared screen and on that person's meeting page,
//! the first answer wins, the person (or an organiser) takes control back or stops the
//! share from the page. Real Xvfb, real xterm, real agent, real sessions.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::viewing::refusal;
use common::*;
use deskshare_client::api::Api;
use deskshare_client::session::{Incoming, Join, Session};
use deskshare_client::{MeetingLink, TlsOptions};
use deskshare_proto::api::CreateMeeting;
use deskshare_proto::{ClientMessage, ErrorCode, GrantId, RevokeReason, Role, ServerMessage};

const WAIT: Duration = Duration::from_secs(30);

/// The next control message `pick` accepts (others are skipped), within [`WAIT`].
async fn next<T>(s: &mut Session, what: &str, mut pick: impl FnMut(&ServerMessage) -> Option<T>) -> T {
    let end = tokio::time::Instant::now() + WAIT;
    loop {
        let msg = tokio::time::timeout_at(end, s.recv()).await.unwrap_or_else(|_| panic!("no {what} within 30 s"));
        if let Incoming::Control(m) = msg.expect("the session goes on")
            && let Some(t) = pick(&m)
        {
            return t;
        }
    }
}

async fn asked(s: &mut Session, requester: &str) -> GrantId {
    next(s, "consent_ask", |m| match m {
        ServerMessage::ConsentAsk { grant, requester: r } if r.name == requester => Some(*grant),
        _ => None,
    })
    .await
}

async fn withdrawn(s: &mut Session, grant: GrantId) {
    next(s, "consent_done", |m| matches!(m, ServerMessage::ConsentDone { grant: g } if *g == grant).then_some(())).await
}

async fn controller_is(s: &mut Session, name: Option<&str>) -> Option<RevokeReason> {
    next(s, "control", |m| match m {
        ServerMessage::Control { controller, ended, .. } if controller.as_ref().map(|c| c.name.as_str()) == name => {
            Some(*ended)
        }
        _ => None,
    })
    .await
}

/// Waits until the agent's question window is open and has the keyboard.
fn question_has_keyboard(display: &str) {
    eventually("the question window with the keyboard", WAIT, || {
        let Some(window) = question_window(display) else { return false };
        let out = Command::new("xdotool").arg("getwindowfocus").env("DISPLAY", display).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim() == window
    });
}

/// Receives until `s`'s roster has exactly one line named `name`, and it is presenting.
async fn one_presenting(s: &mut Session, name: &str) {
    let end = tokio::time::Instant::now() + WAIT;
    loop {
        let lines: Vec<_> = s.roster.entries().filter(|e| e.name == name).cloned().collect();
        if lines.len() == 1 && lines[0].presenting {
            return;
        }
        let msg =
            tokio::time::timeout_at(end, s.recv()).await.unwrap_or_else(|_| panic!("{name} presenting: {lines:?}"));
        msg.expect("the session goes on");
    }
}

/// The agent's question window on `display`, if one is open.
fn question_window(display: &str) -> Option<String> {
    let out = Command::new("xdotool")
        .args(["search", "--name", "^deskshare: .* asks to control this screen$"])
        .env("DISPLAY", display)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).lines().next().map(str::to_string)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_person_presenting_is_asked_on_the_screen_and_their_page() {
    let dir = workdir("consent");
    let x = Xvfb::start(800, 500).unwrap();
    let typed_file = dir.join("typed.txt");
    let _target = typing_target(&x.display, &typed_file);
    // Focus follows the pointer: over the xterm, keys typed under a grant land there.
    xdotool(&x.display, &["mousemove", "100", "60"]);
    let server = Server::start(&dir);
    let admin = dir.join("admin");
    add_user(&admin, &server, "olga", "olga-password", &["--display-name", "Olga"]);
    add_user(&admin, &server, "ana", "ana-password", &["--display-name", "Ana"]);
    let tls = TlsOptions { ca: Some(server.ca()), insecure: false };
    let anon = Api::new(&server.url, &tls, None).unwrap();
    let olga_token = anon.login("olga", "olga-password").await.unwrap().token;
    let olga_api = Api::new(&server.url, &tls, Some(olga_token.clone())).unwrap();
    let meeting =
        olga_api.create_meeting(&CreateMeeting { title: Some("Board".into()), ..Default::default() }).await.unwrap();

    // Who may ask for a share link: not a guest, not an attendee.
    assert_eq!(anon.share_link(&meeting.id).await.unwrap_err().code, ErrorCode::Unauthorized);
    let ana_token = anon.login("ana", "ana-password").await.unwrap().token;
    let ana_api = Api::new(&server.url, &tls, Some(ana_token)).unwrap();
    assert_eq!(ana_api.share_link(&meeting.id).await.unwrap_err().code, ErrorCode::NotPresenter);
    let share = olga_api.share_link(&meeting.id).await.unwrap();
    assert!(share.link.starts_with(&format!("{}m/{}#share=s1.", server.url, meeting.id)), "{}", share.link);
    let pin = share.ca.clone().expect("a self-made certificate is pinned");
    assert_eq!(share.command, format!("deskshare share '{}' --ca {pin}", share.link));
    assert!(share.open.starts_with("deskshare://share?link="), "{}", share.open);

    // Olga's page is in the meeting; then her agent shares with the link (no terminal:
    // standard input is empty, so it asks on the screen and on her page).
    let link = MeetingLink::parse(&meeting.join_url).unwrap();
    let olga_join = Join { token: Some(olga_token.clone()), ..Join::as_role(Role::Viewer) };
    let mut olga = Session::open(&link, &tls, &olga_join).await.unwrap();
    let mut agent = Proc::spawn_logged(
        "share",
        Command::new(BIN)
            .args(["share", &share.link, "--display", &x.display, "--ca", &pin, "--allow-control", "ask"])
            .stdin(Stdio::null()),
    );
    agent.wait_for("sharing", WAIT, |l| l.starts_with("status sharing").then_some(()));

    // One Olga in everyone's roster, presenting; the REST roster says the same.
    let mut gus = Session::connect(&link, &tls, Role::Viewer, Some("Gus".into())).await.unwrap();
    let mut ana = Session::connect(&link, &tls, Role::Viewer, Some("Ana".into())).await.unwrap();
    one_presenting(&mut gus, "Olga").await;
    one_presenting(&mut olga, "Olga").await;
    let roster = olga_api.roster(&meeting.id).await.unwrap();
    let olgas: Vec<_> = roster.iter().filter(|e| e.name == "Olga").collect();
    assert_eq!(olgas.len(), 1, "one Olga: {roster:?}");
    assert!(olgas[0].presenting && !olgas[0].guest, "{roster:?}");

    // Gus asks. Olga's page is asked; the window is on the shared screen; Ana is not asked.
    gus.send_control(&ClientMessage::RequestControl).await.unwrap();
    let first = asked(&mut olga, "Gus").await;
    eventually("the question window", WAIT, || question_window(&x.display).is_some());
    // Only the person presenting answers: Ana (another user) is refused.
    ana.send_control(&ClientMessage::ConsentAnswer { grant: first, granted: true }).await.unwrap();
    assert_eq!(refusal(&mut ana).await, ErrorCode::ConsentNotYours);
    // Olga denies on her page: Gus is refused, the window closes, the page's question goes.
    olga.send_control(&ClientMessage::ConsentAnswer { grant: first, granted: false }).await.unwrap();
    assert_eq!(refusal(&mut gus).await, ErrorCode::ControlDenied);
    withdrawn(&mut olga, first).await;
    eventually("the window closes", WAIT, || question_window(&x.display).is_none());

    // Asked again: while the question is open, Gus's own keys go nowhere (he cannot
    // answer the window), then Olga allows on her page and his keys arrive.
    gus.send_control(&ClientMessage::RequestControl).await.unwrap();
    let second = asked(&mut olga, "Gus").await;
    eventually("the question window", WAIT, || question_window(&x.display).is_some());
    gus.send_control(&ClientMessage::Input { events: typed("\n") }).await.unwrap();
    assert_eq!(refusal(&mut gus).await, ErrorCode::NotController);
    assert!(question_window(&x.display).is_some(), "the requester's input did not answer the window");
    olga.send_control(&ClientMessage::ConsentAnswer { grant: second, granted: true }).await.unwrap();
    controller_is(&mut gus, Some("Gus")).await;
    eventually("the window closes", WAIT, || question_window(&x.display).is_none());
    gus.send_control(&ClientMessage::Input { events: typed("allowed on the page\n") }).await.unwrap();
    eventually("Gus's line in the xterm", WAIT, || {
        std::fs::read_to_string(&typed_file).unwrap_or_default().contains("allowed on the page")
    });
    // A late answer to the finished question changes nothing.
    olga.send_control(&ClientMessage::ConsentAnswer { grant: second, granted: false }).await.unwrap();

    // Ana may not take control back; Olga may, from her page.
    ana.send_control(&ClientMessage::TakeBack).await.unwrap();
    assert_eq!(refusal(&mut ana).await, ErrorCode::ConsentNotYours);
    olga.send_control(&ClientMessage::TakeBack).await.unwrap();
    assert_eq!(controller_is(&mut gus, None).await, Some(RevokeReason::Presenter));
    gus.send_control(&ClientMessage::Input { events: typed("after take back\n") }).await.unwrap();
    assert_eq!(refusal(&mut gus).await, ErrorCode::NotController);

    // On the screen: Escape in the window denies; Tab then Return allows. The window
    // has the keyboard, so the keys go to it.
    gus.send_control(&ClientMessage::RequestControl).await.unwrap();
    let third = asked(&mut olga, "Gus").await;
    question_has_keyboard(&x.display);
    xdotool(&x.display, &["key", "Escape"]);
    assert_eq!(refusal(&mut gus).await, ErrorCode::ControlDenied);
    withdrawn(&mut olga, third).await;
    gus.send_control(&ClientMessage::RequestControl).await.unwrap();
    let fourth = asked(&mut olga, "Gus").await;
    question_has_keyboard(&x.display);
    xdotool(&x.display, &["key", "Tab", "Return"]);
    controller_is(&mut gus, Some("Gus")).await;
    withdrawn(&mut olga, fourth).await;
    gus.send_control(&ClientMessage::Input { events: typed("allowed on the screen\n") }).await.unwrap();
    eventually("the second line in the xterm", WAIT, || {
        std::fs::read_to_string(&typed_file).unwrap_or_default().contains("allowed on the screen")
    });
    assert_eq!(
        std::fs::read_to_string(&typed_file).unwrap(),
        "allowed on the page\nallowed on the screen\n",
        "only what was typed under a grant arrived"
    );

    // Olga stops the share from her page: the agent ends with PRESENTING_STOPPED.
    ana.send_control(&ClientMessage::StopPresenting).await.unwrap();
    assert_eq!(refusal(&mut ana).await, ErrorCode::ConsentNotYours);
    olga.send_control(&ClientMessage::StopPresenting).await.unwrap();
    let status = agent.wait_exit();
    assert!(!status.success());
    assert!(agent.stderr_lines().iter().any(|l| l.contains("PRESENTING_STOPPED")), "{:?}", agent.stderr_lines());
    next(&mut gus, "presenter offline", |m| matches!(m, ServerMessage::Presenter { online: false }).then_some(()))
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_share_link_works_only_as_issued() {
    let dir = workdir("share_link");
    let x = Xvfb::start(320, 200).unwrap();
    let server = Server::start(&dir);
    let admin = dir.join("admin");
    add_user(&admin, &server, "olga", "olga-password", &["--display-name", "Olga"]);
    let tls = TlsOptions { ca: Some(server.ca()), insecure: false };
    let token = Api::new(&server.url, &tls, None).unwrap().login("olga", "olga-password").await.unwrap().token;
    let api = Api::new(&server.url, &tls, Some(token)).unwrap();
    let one = api.create_meeting(&CreateMeeting { title: Some("One".into()), ..Default::default() }).await.unwrap();
    let two = api.create_meeting(&CreateMeeting { title: Some("Two".into()), ..Default::default() }).await.unwrap();
    let link = api.share_link(&one.id).await.unwrap().link;
    let run = |url: &str, ca: &str| {
        let out = Command::new(BIN)
            .args(["share", url, "--display", &x.display, "--ca", ca])
            .stdin(Stdio::null())
            .env("DESKSHARE_NO_REPORTS", "1")
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let pin = api.share_link(&one.id).await.unwrap().ca.unwrap();
    // One meeting's pass with another meeting, an edited pass, a wrong pin: each named.
    let pass = link.split_once("#share=").unwrap().1;
    let elsewhere = format!("{}#share={pass}", two.join_url);
    let (ok, err) = run(&elsewhere, &pin);
    assert!(!ok && err.contains("error SHARE_PASS_INVALID") && err.contains("another meeting"), "{err}");
    let edited = link.replacen("#share=s1.", "#share=s1.0", 1);
    let (ok, err) = run(&edited, &pin);
    assert!(!ok && err.contains("error SHARE_PASS_INVALID"), "{err}");
    let wrong_pin = format!("sha256:{}", "00".repeat(32));
    let (ok, err) = run(&link, &wrong_pin);
    assert!(!ok && err.contains("error TLS_UNTRUSTED"), "{err}");
    // A disabled account's link stops working.
    ok_cli(&admin, &server, &["admin", "user", "disable", "olga", "--server", &server.url, "--token", &server.token()]);
    let (ok, err) = run(&link, &pin);
    assert!(!ok && err.contains("error ACCOUNT_DISABLED"), "{err}");
}

fn ok_cli(config: &std::path::Path, server: &Server, args: &[&str]) {
    ok(cli(config, server, args, None));
}
