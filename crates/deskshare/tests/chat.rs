//! Chat is kept with the meeting: everyone in sees each message, a joiner (or the same
//! person after a reload, or anyone after a server restart) gets the history, and bad or
//! flooding messages are refused with their codes.

mod common;

use std::time::Duration;

use common::*;
use deskshare_client::session::{Incoming, Session};
use deskshare_client::{MeetingLink, TlsOptions};
use deskshare_proto::{ChatLine, ClientMessage, ErrorCode, MAX_CHAT_CHARS, Role, ServerMessage};

/// The next chat message (or history) the session receives.
async fn next_chat(s: &mut Session) -> Vec<ChatLine> {
    loop {
        if let Incoming::Control(ServerMessage::Chat { messages }) =
            tokio::time::timeout(Duration::from_secs(15), s.recv()).await.expect("chat").expect("session")
        {
            return messages;
        }
    }
}

async fn next_refusal(s: &mut Session) -> ErrorCode {
    loop {
        if let Incoming::Control(ServerMessage::Refused { code, .. }) =
            tokio::time::timeout(Duration::from_secs(15), s.recv()).await.expect("a refusal").expect("session")
        {
            return code;
        }
    }
}

async fn say(s: &mut Session, text: &str) {
    s.send_control(&ClientMessage::Chat { text: text.into() }).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_reaches_everyone_and_is_kept_with_the_meeting() {
    let dir = workdir("chat");
    let server = Server::start(&dir);
    let (join_url, _) = server.create_meeting("Chatty");
    let link = MeetingLink::parse(&join_url).unwrap();
    let tls = TlsOptions { ca: Some(server.ca()), insecure: false };

    let mut ana = Session::connect(&link, &tls, Role::Viewer, Some("Ana".into())).await.unwrap();
    assert_eq!(next_chat(&mut ana).await, vec![], "a new meeting has no history");
    let mut bo = Session::connect(&link, &tls, Role::Viewer, Some("Bo".into())).await.unwrap();
    assert_eq!(next_chat(&mut bo).await, vec![]);

    say(&mut ana, "  hello Bo  ").await;
    for s in [&mut ana, &mut bo] {
        let got = next_chat(s).await;
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].from.as_str(), got[0].text.as_str(), got[0].guest), ("Ana", "hello Bo", true));
    }
    say(&mut bo, "hi Ana ünïcödé ✓").await;
    for s in [&mut ana, &mut bo] {
        assert_eq!(next_chat(s).await[0].text, "hi Ana ünïcödé ✓", "the author sees it too");
    }

    // Bad messages are refused, and nobody else sees them.
    say(&mut ana, "   ").await;
    assert_eq!(next_refusal(&mut ana).await, ErrorCode::ChatInvalid);
    say(&mut ana, &"x".repeat(MAX_CHAT_CHARS + 1)).await;
    assert_eq!(next_refusal(&mut ana).await, ErrorCode::ChatInvalid);
    say(&mut ana, &"y".repeat(MAX_CHAT_CHARS)).await;
    assert_eq!(next_chat(&mut bo).await[0].text.len(), MAX_CHAT_CHARS, "exactly the limit is fine");

    // A flood: the rest of the burst (10, one used) passes, then the rest is refused.
    for i in 0..30 {
        say(&mut bo, &format!("flood {i}")).await;
    }
    let mut delivered = 0;
    let mut refused = 0;
    while delivered + refused < 30 {
        match tokio::time::timeout(Duration::from_secs(15), bo.recv()).await.unwrap().unwrap() {
            Incoming::Control(ServerMessage::Chat { messages }) => delivered += messages.len(),
            Incoming::Control(ServerMessage::Refused { code, .. }) => {
                assert_eq!(code, ErrorCode::ChatRateLimited);
                refused += 1
            }
            _ => {}
        }
    }
    assert!(delivered >= 9 && refused > 0, "delivered {delivered}, refused {refused}");
    let said = 3 + delivered;

    // A late joiner gets the history in order; ids increase.
    let mut cy = Session::connect(&link, &tls, Role::Viewer, Some("Cy".into())).await.unwrap();
    let history = next_chat(&mut cy).await;
    assert_eq!(history.len(), said);
    assert_eq!(history[0].text, "hello Bo");
    assert_eq!(history[1].from, "Bo");
    assert!(history.windows(2).all(|w| w[0].id < w[1].id));
    drop((ana, bo, cy));

    // The history outlives the process.
    let server = Server::restart(&dir, server);
    let tls = TlsOptions { ca: Some(server.ca()), insecure: false };
    let mut dee = Session::connect(&link, &tls, Role::Viewer, Some("Dee".into())).await.unwrap();
    let after = next_chat(&mut dee).await;
    assert_eq!(after, history, "same messages after a restart");

    // The organiser (here: the admin token) reads it after the meeting, from the CLI.
    drop(dee);
    let cfg = dir.join("cfg");
    let id = join_url.rsplit('/').next().unwrap();
    let token = server.token();
    let args = ["meeting", "chat", id, "--server", &server.url, "--token", &token];
    let printed = ok(cli(&cfg, &server, &args, None));
    assert_eq!(printed.lines().count(), history.len());
    assert!(printed.lines().next().unwrap().ends_with("] Ana (guest): hello Bo"), "{printed}");
    let as_json: Vec<ChatLine> =
        serde_json::from_str(&ok(cli(&cfg, &server, &[&args[..], &["--json"]].concat(), None))).unwrap();
    assert_eq!(as_json, history);
}
