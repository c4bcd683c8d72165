//! The authorisation matrix: every action × every role × each relevant policy on and off,
//! asserted against a running server. The expectations live in one table, [`expected`],
//! and every action is listed in [`Action::ALL`], so a new action cannot be forgotten.

mod common;

use std::time::Duration;

use common::*;
use deskshare_client::api::Api;
use deskshare_client::session::{Incoming, Join, Session};
use deskshare_client::{MeetingLink, TlsOptions};
use deskshare_proto::api::{CreateMeeting, SetPolicy, UpdateMeeting};
use deskshare_proto::{
    ClientMessage, ControlPolicy, ErrorCode, ParticipantId, Role, ServerMessage, ShareKind, WireError,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Organiser,
    Presenter,
    Attendee,
    /// Joins with a display name, without signing in.
    Guest,
    /// Calls without any credentials.
    NotSignedIn,
}

const EVERYONE: [Who; 5] = [Who::Organiser, Who::Presenter, Who::Attendee, Who::Guest, Who::NotSignedIn];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Join,
    ShareDesktop,
    ShareProgram,
    RequestControl,
    CreateMeeting,
    UpdateMeeting,
    ViewRoster,
    Promote,
    EndMeeting,
    DeleteMeeting,
    SetPolicy,
}

impl Action {
    /// In this order: control is checked while the stand-in agent presents; sharing
    /// checks then take the presenter's place.
    const ALL: [Action; 11] = [
        Action::Join,
        Action::RequestControl,
        Action::ShareDesktop,
        Action::ShareProgram,
        Action::CreateMeeting,
        Action::UpdateMeeting,
        Action::ViewRoster,
        Action::Promote,
        Action::EndMeeting,
        Action::DeleteMeeting,
        Action::SetPolicy,
    ];

    /// The policies that bear on the action (each is tried on and off).
    fn policies(self) -> &'static [&'static str] {
        match self {
            Action::Join => &["allow-anonymous"],
            Action::ShareDesktop => &["enable-desktop-sharing"],
            Action::ShareProgram => &["enable-program-sharing"],
            Action::RequestControl => &["allow-control", "allow-external-control"],
            _ => &[],
        }
    }
}

/// THE TABLE: what the server must answer for `who` doing `action` with `policy` set to
/// `on` globally (other policies at their defaults).
fn expected(action: Action, who: Who, policy: Option<(&str, bool)>) -> Result<(), ErrorCode> {
    use ErrorCode::*;
    let signed_in = !matches!(who, Who::Guest | Who::NotSignedIn);
    let on = policy.is_none_or(|(_, on)| on);
    let unauth = || if signed_in { Ok(()) } else { Err(Unauthorized) };
    match action {
        Action::Join if !signed_in && !on => Err(AnonymousNotAllowed),
        Action::Join => Ok(()),
        Action::ShareDesktop | Action::ShareProgram => {
            if !matches!(who, Who::Organiser | Who::Presenter) {
                Err(PresenterSecretInvalid)
            } else if !on {
                Err(if action == Action::ShareDesktop { SharingDisabled } else { ProgramSharingDisabled })
            } else {
                Ok(())
            }
        }
        Action::RequestControl => match policy {
            Some(("allow-control", false)) => Err(ControlDisabled),
            // Guests also need allow-external-control.
            Some(("allow-external-control", false)) if !signed_in => Err(ControlDisabled),
            _ => Ok(()),
        },
        Action::CreateMeeting => unauth(),
        Action::ViewRoster => match who {
            Who::Organiser | Who::Presenter => Ok(()),
            Who::Attendee => Err(NotOrganiser),
            _ => Err(Unauthorized),
        },
        Action::UpdateMeeting | Action::Promote | Action::EndMeeting | Action::DeleteMeeting => match who {
            Who::Organiser => Ok(()),
            Who::Presenter | Who::Attendee => Err(NotOrganiser),
            _ => Err(Unauthorized),
        },
        Action::SetPolicy if signed_in => Err(AdminRequired),
        Action::SetPolicy => Err(Unauthorized),
    }
}

struct World {
    server: Server,
    tls: TlsOptions,
    tokens: [(Who, Option<String>); 5],
    /// The meeting most checks run in (lobby off, so nobody waits).
    link: MeetingLink,
    id: String,
}

impl World {
    fn token(&self, who: Who) -> Option<String> {
        self.tokens.iter().find(|(w, _)| *w == who).and_then(|(_, t)| t.clone())
    }

    fn api(&self, who: Who) -> Api {
        Api::new(&self.server.url, &self.tls, self.token(who)).unwrap()
    }

    fn admin(&self) -> Api {
        Api::new(&self.server.url, &self.tls, Some(self.server.token())).unwrap()
    }

    async fn set_global(&self, name: &str, value: Option<&str>) {
        let req = SetPolicy { user: None, meeting: None, name: name.into(), value: value.map(str::to_string) };
        self.admin().set_policy(&req).await.unwrap();
    }

    fn join(&self, who: Who, role: Role) -> Join {
        let name = matches!(who, Who::Guest).then(|| "Visitor".to_string());
        Join { name, token: self.token(who), ..Join::as_role(role) }
    }

    /// A meeting of the organiser's own, to end or delete.
    async fn throwaway(&self) -> String {
        self.api(Who::Organiser).create_meeting(&CreateMeeting::default()).await.unwrap().id
    }
}

fn code(r: Result<impl Sized, WireError>) -> Result<(), ErrorCode> {
    r.map(|_| ()).map_err(|e| e.code)
}

/// Waits for the control state naming `me` (granted) or a refusal.
async fn control_outcome(s: &mut Session, me: ParticipantId) -> Result<(), ErrorCode> {
    loop {
        match tokio::time::timeout(Duration::from_secs(15), s.recv()).await.expect("an answer").expect("session") {
            Incoming::Control(ServerMessage::Control { controller: Some(c), .. }) if c.participant == me => {
                return Ok(());
            }
            Incoming::Control(ServerMessage::Refused { code, .. }) => return Err(code),
            _ => {}
        }
    }
}

fn participant_of(s: &Session) -> ParticipantId {
    match &s.welcome {
        ServerMessage::Welcome { participant, .. } => *participant,
        _ => unreachable!("a session is welcomed"),
    }
}

async fn run(w: &World, action: Action, who: Who) -> Result<(), ErrorCode> {
    let api = w.api(who);
    match action {
        Action::Join => code(Session::open(&w.link, &w.tls, &w.join(who, Role::Viewer)).await),
        Action::ShareDesktop | Action::ShareProgram => {
            let share = if action == Action::ShareDesktop { ShareKind::Desktop } else { ShareKind::Program };
            let r = Session::open(&w.link, &w.tls, &Join { share: Some(share), ..w.join(who, Role::Presenter) }).await;
            if let Ok(s) = r {
                s.close().await;
                return Ok(());
            }
            // The helper agent below presents all along; a share that is told so got past
            // every authorisation check (the server asks "who presents?" only after them)
            // and would replace it only if it asked to.
            match code(r) {
                Err(ErrorCode::PresenterActive) => Ok(()),
                other => other,
            }
        }
        Action::RequestControl => {
            let mut s = Session::open(&w.link, &w.tls, &w.join(who, Role::Viewer)).await.map_err(|e| e.code)?;
            let me = participant_of(&s);
            s.send_control(&ClientMessage::RequestControl).await.unwrap();
            let r = control_outcome(&mut s, me).await;
            s.send_control(&ClientMessage::ReleaseControl).await.unwrap();
            s.close().await;
            r
        }
        Action::CreateMeeting => code(api.create_meeting(&CreateMeeting::default()).await),
        Action::UpdateMeeting => code(
            api.update_meeting(&w.id, &UpdateMeeting { title: Some("renamed".into()), ..Default::default() }).await,
        ),
        Action::ViewRoster => code(api.roster(&w.id).await),
        Action::Promote => {
            let roster = w.api(Who::Organiser).roster(&w.id).await.unwrap();
            let target = roster.iter().find(|p| p.name == "Keeper").expect("the keeper is in").participant;
            let r = code(api.act(&w.id, target, "promote").await);
            if r.is_ok() {
                w.api(Who::Organiser).act(&w.id, target, "demote").await.unwrap();
            }
            r
        }
        Action::EndMeeting => {
            let id = w.throwaway().await;
            let link = MeetingLink::parse(&format!("{}m/{id}", w.server.url)).unwrap();
            let _someone = Session::open(&link, &w.tls, &w.join(Who::Organiser, Role::Viewer)).await.unwrap();
            code(api.end_meeting(&id).await)
        }
        Action::DeleteMeeting => code(api.delete_meeting(&w.throwaway().await).await),
        Action::SetPolicy => {
            let req =
                SetPolicy { user: None, meeting: None, name: "max-participants".into(), value: Some("99".into()) };
            code(api.set_policy(&req).await)
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn authorisation_matrix() {
    let dir = workdir("authorization");
    let server = Server::start(&dir);
    let tls = TlsOptions { ca: Some(server.ca()), insecure: false };
    let admin = Api::new(&server.url, &tls, Some(server.token())).unwrap();
    let mut tokens = vec![];
    for (who, name) in [(Who::Organiser, "olga"), (Who::Presenter, "pia"), (Who::Attendee, "ali")] {
        let req = deskshare_proto::api::CreateUser {
            name: name.into(),
            password: format!("{name}-password"),
            display_name: None,
            admin: false,
        };
        admin.create_user(&req).await.unwrap();
        let res = Api::new(&server.url, &tls, None).unwrap().login(name, &format!("{name}-password")).await.unwrap();
        tokens.push((who, Some(res.token)));
    }
    let tokens =
        [tokens[0].clone(), tokens[1].clone(), tokens[2].clone(), (Who::Guest, None), (Who::NotSignedIn, None)];
    let organiser = Api::new(&server.url, &tls, tokens[0].1.clone()).unwrap();
    let created = organiser
        .create_meeting(&CreateMeeting {
            title: Some("matrix".into()),
            lobby: Some("off".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let link = MeetingLink::parse(&created.join_url).unwrap();
    let mut world = World { server, tls, tokens, link, id: created.id.clone() };
    // The lobby-for-guests policy would hold guests; the matrix is about rights, not waiting.
    world.set_global("lobby-for-guests", Some("off")).await;

    // Pia becomes a presenter of the meeting (kept after she disconnects).
    let pia = Session::open(&world.link, &world.tls, &world.join(Who::Presenter, Role::Viewer)).await.unwrap();
    organiser.act(&world.id, participant_of(&pia), "promote").await.unwrap();
    pia.close().await;
    // Someone stays in, so the meeting is live for roster and promote checks.
    let keeper = Session::open(
        &world.link,
        &world.tls,
        &Join { name: Some("Keeper".into()), ..world.join(Who::Attendee, Role::Viewer) },
    )
    .await
    .unwrap();
    // A presenter whose agent grants every request, for the control checks.
    let mut agent = Session::open(
        &world.link,
        &world.tls,
        &Join {
            control: Some(ControlPolicy::Auto),
            share: Some(ShareKind::Desktop),
            ..world.join(Who::Organiser, Role::Presenter)
        },
    )
    .await
    .unwrap();
    let agent_task = tokio::spawn(async move {
        while let Ok(msg) = agent.recv().await {
            if let Incoming::Control(ServerMessage::ControlAsk { grant, .. }) = msg {
                agent.send_control(&ClientMessage::ControlDecision { grant, granted: true }).await.unwrap();
            }
        }
    });

    let mut checked = 0;
    let mut failures = vec![];
    for action in Action::ALL {
        let settings: Vec<Option<(&str, bool)>> = if action.policies().is_empty() {
            vec![None]
        } else {
            action.policies().iter().flat_map(|&p| [Some((p, true)), Some((p, false))]).collect()
        };
        for setting in settings {
            if let Some((name, on)) = setting {
                world.set_global(name, Some(if on { "on" } else { "off" })).await;
            }
            for who in EVERYONE {
                let want = expected(action, who, setting);
                let got = run(&world, action, who).await;
                checked += 1;
                if got != want {
                    failures.push(format!("{action:?} by {who:?} with {setting:?}: expected {want:?}, got {got:?}"));
                }
            }
            if let Some((name, _)) = setting {
                world.set_global(name, None).await;
            }
        }
    }
    assert!(failures.is_empty(), "{} of {checked} checks failed:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(checked, 5 * (7 + 2 * 5), "every action, role and policy setting was checked");
    keeper.close().await;
    agent_task.abort();
    world.server.proc.terminate();
}
