//! Admission survives a server restart: people the organiser let in come back without
//! the lobby or the passcode, by the pass of their welcome; a removed one does not; a
//! forged pass, or one of the meeting as it is live now, is not enough.

mod common;

use common::attack::*;
use common::*;
use deskshare_proto::{ErrorCode, MeetingRole, ServerMessage};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// What the first answer to a hello was.
#[derive(Debug, PartialEq)]
enum Entry {
    Lobby,
    Welcome { pass: Option<String>, role: MeetingRole },
    Refused(ErrorCode),
}

async fn enter(server: &Server, id: &str, hello: Value) -> (Ws, Entry) {
    let mut ws = ws_from(host(1), server, &format!("api/meetings/{id}/ws"), &[]).await;
    ws.send(Message::Text(hello.to_string().into())).await.unwrap();
    let entry = next_entry(&mut ws).await;
    (ws, entry)
}

async fn next_entry(ws: &mut Ws) -> Entry {
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(20), ws.next()).await.expect("an answer");
        let t = match msg {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Binary(_))) => continue,
            other => panic!("the connection ended: {other:?}"),
        };
        match ServerMessage::from_json(&t).unwrap() {
            ServerMessage::Lobby => return Entry::Lobby,
            ServerMessage::Welcome { pass, role, .. } => return Entry::Welcome { pass, role },
            ServerMessage::Error { code, .. } => return Entry::Refused(code),
            _ => continue,
        }
    }
}

fn hello(name: &str, passcode: Option<&str>, pass: Option<&str>) -> Value {
    let mut h =
        json!({ "type": "hello", "protocol": deskshare_proto::PROTOCOL_VERSION, "role": "viewer", "name": name });
    if let Some(p) = passcode {
        h["passcode"] = json!(p);
    }
    if let Some(p) = pass {
        h["pass"] = json!(p);
    }
    h
}

async fn act(server: &Server, id: &str, name: &str, action: &str) {
    let http = http_from(host(1));
    let roster: Vec<Value> = http
        .get(format!("{}api/meetings/{id}/roster", server.url))
        .bearer_auth(server.token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let who = roster.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("{name} in {roster:?}"));
    let res = http
        .post(format!("{}api/meetings/{id}/participants/{}/{action}", server.url, who["participant"]))
        .bearer_auth(server.token())
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{action} {name}: {}", res.status());
}

fn pass_of(entry: Entry) -> String {
    match entry {
        Entry::Welcome { pass: Some(p), .. } => p,
        other => panic!("expected a welcome with a pass: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn admitted_people_come_back_after_a_restart_and_removed_ones_do_not() {
    let dir = workdir("pass_restart");
    let server = Server::start(&dir);
    let out = std::process::Command::new(BIN)
        .args(["meeting", "create", "--server", &server.url, "--title", "Board", "--lobby", "everyone"])
        .args(["--passcode", "4321", "--json", "--ca"])
        .arg(server.ca())
        .env("DESKSHARE_TOKEN", server.token())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let id = serde_json::from_slice::<Value>(&out.stdout).unwrap()["id"].as_str().unwrap().to_string();

    // Three guests wait in the lobby and are let in; one is made a presenter, one removed.
    let mut passes = Vec::new();
    let mut held = Vec::new();
    for name in ["Gus", "Pia", "Rae"] {
        let (mut ws, entry) = enter(&server, &id, hello(name, Some("4321"), None)).await;
        assert_eq!(entry, Entry::Lobby, "{name} waits first");
        act(&server, &id, name, "admit").await;
        passes.push(pass_of(next_entry(&mut ws).await));
        held.push(ws);
    }
    act(&server, &id, "Pia", "promote").await;
    act(&server, &id, "Rae", "remove").await;
    assert_eq!(error_code(&mut held[2]).await, Some(ErrorCode::RemovedByOrganiser));
    let (gus, pia, rae) = (passes[0].clone(), passes[1].clone(), passes[2].clone());

    let server = Server::restart(&dir, server);

    // Gus is back at once: no lobby, no passcode.
    let (_gus_ws, entry) = enter(&server, &id, hello("Gus", None, Some(&gus))).await;
    assert!(matches!(entry, Entry::Welcome { role: MeetingRole::Attendee, pass: Some(_) }), "{entry:?}");
    // Pia too; a pass names the role of its welcome, and she was made presenter after
    // hers, as a guest (a signed-in presenter's role is kept with the meeting): she comes
    // back an attendee.
    let (_pia_ws, entry) = enter(&server, &id, hello("Pia", None, Some(&pia))).await;
    assert!(matches!(entry, Entry::Welcome { role: MeetingRole::Attendee, .. }), "{entry:?}");
    // Rae was removed: her pass is worth nothing; she waits like anyone new.
    let (_rae_ws, entry) = enter(&server, &id, hello("Rae", Some("4321"), Some(&rae))).await;
    assert_eq!(entry, Entry::Lobby, "a removed guest is not let back in");
    // Without the passcode she is not even in the lobby.
    let (_, entry) = enter(&server, &id, hello("Rae", None, Some(&rae))).await;
    assert!(matches!(entry, Entry::Refused(ErrorCode::PasscodeInvalid)), "{entry:?}");
    // A pass changed to claim the presenter role is refused as forged.
    let forged = gus.replacen(".attendee.", ".presenter.", 1);
    let (_, entry) = enter(&server, &id, hello("Mallory", Some("4321"), Some(&forged))).await;
    assert_eq!(entry, Entry::Lobby, "a forged pass lets nobody in");
    // A pass of the live meeting that is still going is not enough on its own: within it
    // the roster decides who may rejoin (and Ida is still connected).
    let (mut again, entry) = enter(&server, &id, hello("Ida", Some("4321"), None)).await;
    assert_eq!(entry, Entry::Lobby);
    act(&server, &id, "Ida", "admit").await;
    let fresh = pass_of(next_entry(&mut again).await);
    let (_, entry) = enter(&server, &id, hello("Ida again", Some("4321"), Some(&fresh))).await;
    assert_eq!(entry, Entry::Lobby, "this instance's pass is for after a restart");
}
