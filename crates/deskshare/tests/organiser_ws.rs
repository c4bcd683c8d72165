//! The organiser's actions over the WebSocket (what the browser's buttons use): admit,
//! promote, remove and end, with attendees refused.

mod common;

use std::time::Duration;

use common::viewing::refusal;
use common::*;
use deskshare_client::api::Api;
use deskshare_client::session::{Incoming, Join, Session};
use deskshare_client::{MeetingLink, TlsOptions};
use deskshare_proto::api::{CreateUser, MeetingSettings};
use deskshare_proto::{ClientMessage, ErrorCode, MeetingRole, OnBehalf, Role, RosterEntry, ServerMessage};

/// Waits until the session's roster satisfies `f`.
async fn roster_where(s: &mut Session, f: impl Fn(&[RosterEntry]) -> bool) -> Vec<RosterEntry> {
    loop {
        let list = s.roster.to_vec();
        if s.roster.is_complete() && f(&list) {
            return list;
        }
        tokio::time::timeout(Duration::from_secs(15), s.recv()).await.expect("a roster").expect("session");
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
    olga.send_control(&ClientMessage::Participant {
        participant: deskshare_proto::ParticipantId(999),
        action: "promote".into(),
    })
    .await
    .unwrap();
    assert_eq!(refusal(&mut olga).await, ErrorCode::ParticipantNotFound);

    // Promote the guest. A dropped connection comes back as the same person with the
    // proof of its welcome: no second wait in the lobby, still a presenter.
    olga.send_control(&ClientMessage::Participant { participant: visitor.participant, action: "promote".into() })
        .await
        .unwrap();
    roster_where(&mut olga, |r| r.iter().any(|p| p.name == "Visitor" && p.role == MeetingRole::Presenter)).await;
    let proof = guest.proof().unwrap();
    guest.close().await;
    roster_where(&mut olga, |r| !r.iter().any(|p| p.name == "Visitor")).await;
    let knock = |rejoin: OnBehalf| {
        let (link, tls) = (link.clone(), tls.clone());
        let join = Join { name: Some("Visitor".into()), rejoin: Some(rejoin), ..Join::as_role(Role::Viewer) };
        tokio::spawn(async move { Session::open(&link, &tls, &join).await.map(|s| s.proof()) })
    };
    // A wrong key proves nothing: the lobby, like anyone with the link.
    let forged = knock(OnBehalf { participant: proof.participant, key: "0".repeat(proof.key.len()) });
    let waiting = roster_where(&mut olga, |r| r.iter().any(|p| p.name == "Visitor" && p.in_lobby)).await;
    let waiting = waiting.iter().find(|p| p.name == "Visitor").unwrap().participant;
    olga.send_control(&ClientMessage::Participant { participant: waiting, action: "deny".into() }).await.unwrap();
    assert_eq!(forged.await.unwrap().err().map(|e| e.code), Some(ErrorCode::LobbyDenied));
    let mut guest = Session::open(
        &link,
        &tls,
        &Join { name: Some("Visitor".into()), rejoin: Some(proof.clone()), ..Join::as_role(Role::Viewer) },
    )
    .await
    .expect("back without the lobby");
    let back = guest.proof().unwrap().participant;
    assert!(
        matches!(guest.welcome, ServerMessage::Welcome { role: MeetingRole::Presenter, .. }),
        "{:?}",
        guest.welcome
    );
    roster_where(&mut olga, |r| {
        r.iter().any(|p| p.participant == back && p.role == MeetingRole::Presenter && !p.in_lobby)
    })
    .await;

    // Removed by the organiser is not a drop: coming back means the lobby again.
    olga.send_control(&ClientMessage::Participant { participant: back, action: "remove".into() }).await.unwrap();
    let removed = guest.proof().unwrap();
    assert_eq!(ended_with(&mut guest).await, ErrorCode::RemovedByOrganiser);
    let again = knock(removed);
    let waiting = roster_where(&mut olga, |r| r.iter().any(|p| p.name == "Visitor" && p.in_lobby)).await;
    let waiting = waiting.iter().find(|p| p.name == "Visitor").unwrap().participant;
    olga.send_control(&ClientMessage::Participant { participant: waiting, action: "deny".into() }).await.unwrap();
    assert_eq!(again.await.unwrap().err().map(|e| e.code), Some(ErrorCode::LobbyDenied));
    // Nor does the first proof work twice.
    let twice = knock(proof);
    roster_where(&mut olga, |r| r.iter().any(|p| p.name == "Visitor" && p.in_lobby)).await;
    drop(twice);
    olga.send_control(&ClientMessage::EndMeeting).await.unwrap();
    assert_eq!(ended_with(&mut olga).await, ErrorCode::MeetingEnded);
}

/// A keyframe of a 100×70 screen in one colour, as any presenter would send it.
fn solid_keyframe(colour: u32) -> Vec<u8> {
    let fb = deskshare_codec::Framebuffer::from_pixels(100, 70, vec![colour; 100 * 70]);
    deskshare_codec::Encoder::new(6).encode(fb, &[], std::time::Instant::now()).expect("a first frame").encode()
}

/// How the browser presents: a second connection, on behalf of the participant, proven
/// with the key of its welcome. Only presenters may; demoting one ends the share.
#[tokio::test(flavor = "multi_thread")]
async fn a_promoted_guest_presents_for_itself_until_demoted() {
    let dir = workdir("present_on_behalf");
    let server = Server::start(&dir);
    let tls = TlsOptions { ca: Some(server.ca()), insecure: false };
    let (join_url, _) = server.create_meeting("Guest presents");
    let link = MeetingLink::parse(&join_url).unwrap();
    let organiser = Join { token: Some(server.token()), name: Some("Org".into()), ..Join::as_role(Role::Viewer) };
    let mut org = Session::open(&link, &tls, &organiser).await.unwrap();
    let mut guest = Session::connect(&link, &tls, Role::Viewer, Some("Gail".into())).await.unwrap();
    let (gail, key) = match &guest.welcome {
        ServerMessage::Welcome { participant, key, role, .. } => {
            assert_eq!(*role, MeetingRole::Attendee);
            (*participant, key.clone())
        }
        _ => unreachable!(),
    };
    let present = |key: &str| Join {
        on_behalf: Some(OnBehalf { participant: gail, key: key.into() }),
        ..Join::as_role(Role::Presenter)
    };

    // An attendee may not present, and a wrong key proves nothing.
    assert_eq!(Session::open(&link, &tls, &present(&key)).await.err().unwrap().code, ErrorCode::NotPresenter);
    let wrong = "0".repeat(key.len());
    assert_eq!(Session::open(&link, &tls, &present(&wrong)).await.err().unwrap().code, ErrorCode::ParticipantNotFound);

    org.send_control(&ClientMessage::Participant { participant: gail, action: "promote".into() }).await.unwrap();
    roster_where(&mut guest, |r| r.iter().any(|p| p.participant == gail && p.role == MeetingRole::Presenter)).await;
    let mut screen = Session::open(&link, &tls, &present(&key)).await.expect("a presenter may present");
    screen.send_binary(solid_keyframe(0x00c0_3050)).await.unwrap();

    // The roster shows one Gail, presenting; the organiser gets her screen (in either order).
    let (mut roster, mut frame) = (None, None);
    while roster.is_none() || frame.is_none() {
        let msg = tokio::time::timeout(Duration::from_secs(15), org.recv()).await.unwrap().unwrap();
        if let Incoming::Media(deskshare_proto::MediaMessage::Frame(f)) = msg {
            frame = Some(f);
        }
        if org.roster.entries().any(|p| p.presenting) {
            roster = Some(org.roster.to_vec());
        }
    }
    let (roster, frame) = (roster.unwrap(), frame.unwrap());
    let gails: Vec<_> = roster.iter().filter(|p| p.name == "Gail").collect();
    assert_eq!(gails.len(), 1, "{roster:?}");
    assert!(gails[0].presenting && gails[0].guest && gails[0].participant == gail);
    let mut seen = deskshare_codec::Decoder::new();
    seen.apply(&frame).unwrap();
    let fb = seen.screen().unwrap();
    assert_eq!((fb.width(), fb.height(), frame.ops.len()), (100, 70, 4));
    assert!(fb.pixels().iter().all(|&p| p == 0xc0_3050));

    // Made an attendee again: the share ends with its code; watching goes on.
    org.send_control(&ClientMessage::Participant { participant: gail, action: "demote".into() }).await.unwrap();
    assert_eq!(ended_with(&mut screen).await, ErrorCode::NotPresenter);
    roster_where(&mut org, |r| {
        r.iter().any(|p| p.participant == gail && !p.presenting && p.role == MeetingRole::Attendee)
    })
    .await;
    guest.send_control(&ClientMessage::Chat { text: "still here".into() }).await.unwrap();
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(15), guest.recv()).await.unwrap().unwrap();
        if let Incoming::Control(ServerMessage::Chat { messages }) = msg
            && messages.iter().any(|m| m.text == "still here")
        {
            break;
        }
    }
}
