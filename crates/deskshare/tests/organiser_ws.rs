//! The organiser's actions over the WebSocket (what the browser's buttons use): admit,
//! promote, remove and end, with attendees refused.

mod common;

use std::time::Duration;

use common::*;
use deskshare_client::api::Api;
use deskshare_client::session::{Incoming, Join, Session};
use deskshare_client::{MeetingLink, TlsOptions};
use deskshare_proto::api::{CreateUser, MeetingSettings};
use deskshare_proto::{ClientMessage, ErrorCode, MeetingRole, Role, RosterEntry, ServerMessage};

/// The next roster that satisfies `f`.
async fn roster_where(s: &mut Session, f: impl Fn(&[RosterEntry]) -> bool) -> Vec<RosterEntry> {
    loop {
        match tokio::time::timeout(Duration::from_secs(15), s.recv()).await.expect("a roster").expect("session") {
            Incoming::Control(ServerMessage::Roster { participants }) if f(&participants) => return participants,
            _ => {}
        }
    }
}

async fn refusal(s: &mut Session) -> ErrorCode {
    loop {
        if let Incoming::Control(ServerMessage::Refused { code, .. }) =
            tokio::time::timeout(Duration::from_secs(15), s.recv()).await.expect("an answer").expect("session")
        {
            return code;
        }
    }
}

async fn ended_with(s: &mut Session) -> ErrorCode {
    loop {
        if let Err(e) = tokio::time::timeout(Duration::from_secs(15), s.recv()).await.expect("the end") {
            return e.code;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn organiser_acts_over_the_websocket() {
    let dir = workdir("organiser_ws");
    let server = Server::start(&dir);
    let tls = TlsOptions { ca: Some(server.ca()), insecure: false };
    let admin = Api::new(&server.url, &tls, Some(server.token())).unwrap();
    let user = CreateUser {
        name: "olga".into(),
        password: "olga-password".into(),
        display_name: Some("Olga".into()),
        admin: false,
    };
    admin.create_user(&user).await.unwrap();
    let token = Api::new(&server.url, &tls, None).unwrap().login("olga", "olga-password").await.unwrap().token;
    let olga_api = Api::new(&server.url, &tls, Some(token.clone())).unwrap();
    let m = olga_api
        .create_meeting(&MeetingSettings { lobby: Some("everyone".into()), ..Default::default() })
        .await
        .unwrap();
    let link = MeetingLink::parse(&m.join_url).unwrap();

    let mut olga =
        Session::open(&link, &tls, &Join { token: Some(token), ..Join::as_role(Role::Viewer) }).await.unwrap();
    // A guest knocks; the organiser sees them in the lobby, marked as a guest.
    let (link2, tls2) = (link.clone(), tls.clone());
    let guest = tokio::spawn(async move {
        Session::open(&link2, &tls2, &Join { name: Some("Visitor".into()), ..Join::as_role(Role::Viewer) }).await
    });
    let lobby = roster_where(&mut olga, |r| r.iter().any(|p| p.in_lobby)).await;
    let visitor = lobby.iter().find(|p| p.name == "Visitor").unwrap().clone();
    assert!(visitor.guest && visitor.in_lobby);
    assert_eq!(lobby.iter().find(|p| p.name == "Olga").unwrap().role, MeetingRole::Organiser);

    olga.send_control(&ClientMessage::Participant { participant: visitor.participant, action: "admit".into() })
        .await
        .unwrap();
    let mut guest = guest.await.unwrap().expect("admitted");
    roster_where(&mut olga, |r| r.iter().any(|p| p.name == "Visitor" && !p.in_lobby)).await;

    // An attendee may not act, nor end the meeting.
    let me = |s: &Session| match &s.welcome {
        ServerMessage::Welcome { participant, .. } => *participant,
        _ => unreachable!(),
    };
    let olga_id = me(&olga);
    guest.send_control(&ClientMessage::Participant { participant: olga_id, action: "remove".into() }).await.unwrap();
    assert_eq!(refusal(&mut guest).await, ErrorCode::NotOrganiser);
    guest.send_control(&ClientMessage::EndMeeting).await.unwrap();
    assert_eq!(refusal(&mut guest).await, ErrorCode::NotOrganiser);
    olga.send_control(&ClientMessage::Participant { participant: 999, action: "promote".into() }).await.unwrap();
    assert_eq!(refusal(&mut olga).await, ErrorCode::ParticipantNotFound);

    // Promote, then remove the guest; then end the meeting.
    olga.send_control(&ClientMessage::Participant { participant: visitor.participant, action: "promote".into() })
        .await
        .unwrap();
    roster_where(&mut olga, |r| r.iter().any(|p| p.name == "Visitor" && p.role == MeetingRole::Presenter)).await;
    olga.send_control(&ClientMessage::Participant { participant: visitor.participant, action: "remove".into() })
        .await
        .unwrap();
    assert_eq!(ended_with(&mut guest).await, ErrorCode::RemovedByOrganiser);
    olga.send_control(&ClientMessage::EndMeeting).await.unwrap();
    assert_eq!(ended_with(&mut olga).await, ErrorCode::MeetingEnded);
}
