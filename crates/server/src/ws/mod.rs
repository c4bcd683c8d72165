//! WebSocket sessions: one task per connection, a thin async shell around the sans-IO
//! state in `deskshare-fanout`.

pub mod check;
mod link;
mod presenter;
mod viewer;

pub(crate) use link::Link;

use deskshare_proto::ParticipantId;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tracing::Instrument;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::response::Response;
use deskshare_meeting::pass::Pass;
use deskshare_meeting::roster::COUNTS_EVERY;
use deskshare_meeting::roster::{MAX_NAME_CHARS, REJOIN_GRACE};
use deskshare_meeting::{
    Admission, Audience, Member, Passcode, Policies, Rejoin, RosterCursor, Signal, decide, decide_delegate,
};
use deskshare_meeting::{MeetingId, PresenterSecret};
use deskshare_proto::{
    ClientMessage, ControlPolicy, ErrorCode, MAX_CONTROL_BYTES, MAX_MESSAGE_BYTES, MeetingRole, OnBehalf,
    PROTOCOL_VERSION, Role, ServerMessage, ShareKind, VideoCodec, WireError,
};

use crate::connections::ConnMeter;
use crate::hub::{Conn, LiveMeeting};
use crate::identity::Caller;
use crate::state::AppState;

/// Read buffer of a connection that does not present.
const VIEWER_READ_BUFFER: usize = 4 * 1024;

/// How long a client has to send its hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Ping interval; a peer silent for three intervals is dropped, so a dead presenter or
/// viewer never lingers in the roster.
pub(crate) const PING_INTERVAL: Duration = Duration::from_secs(10);

/// Bytes a connection may send before its hello is accepted: the hello itself is a few
/// hundred; the budget is the control-message limit plus room for framing and TLS.
const PRE_HELLO_BYTES: u64 = MAX_CONTROL_BYTES as u64 + 16 * 1024;

/// `?role=presenter` on the upgrade: this connection will send media, so its frames
/// may be as large as a screen update. Every other connection carries control messages
/// only, and its transport refuses anything larger.
#[derive(serde::Deserialize)]
pub struct WsQuery {
    role: Option<String>,
}

/// What the transport below the session knows.
pub(crate) struct Transport {
    /// The person's address: the peer, or whom a trusted proxy forwards for.
    pub client: std::net::IpAddr,
    /// The connection's read budget (absent only for connections the tracker did not
    /// admit, which cannot happen on the real listener).
    pub meter: Option<Arc<ConnMeter>>,
    /// Opened for presenting (`?role=presenter`).
    pub media: bool,
}

/// `GET /api/meetings/{id}/ws`. Every check happens after the upgrade, so browsers (which
/// cannot read the body of a failed handshake) get a coded error too.
pub async fn upgrade(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(query): Query<WsQuery>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    crate::forwarded::ClientAddr(client): crate::forwarded::ClientAddr,
    headers: axum::http::HeaderMap,
) -> Response {
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejected) => return blocked(rejected),
    };
    // A page on another origin carrying the user's cookie must not act as the user.
    let origin = state.origins.check(&headers);
    // Identity comes with the upgrade request (session cookie or bearer token); a bad
    // one is reported over the socket like every other refusal.
    let caller = match origin {
        Ok(()) => crate::identity::caller(&state, &headers).await,
        Err(e) => Err(e),
    };
    let media = query.role.as_deref() == Some("presenter");
    let meter = state.connections.meter(peer);
    if let Some(m) = &meter {
        m.limit_reads(PRE_HELLO_BYTES);
        m.mark_long_lived();
    }
    // The transport accepts up to twice the protocol limit so that a message just over
    // the limit is read whole and refused with MESSAGE_TOO_LARGE on a clean close. Beyond
    // that the connection is cut at the frame header (and the code is logged).
    let limit = if media { 2 * MAX_MESSAGE_BYTES } else { 2 * MAX_CONTROL_BYTES };
    let transport = Transport { client, meter, media };
    // A viewer sends acks and a few control messages: a small read buffer (the default
    // is 128 KiB a connection, most of a viewer's memory in a large meeting).
    let read_buffer = if media { 128 * 1024 } else { VIEWER_READ_BUFFER };
    ws.max_message_size(limit)
        .max_frame_size(limit)
        .read_buffer_size(read_buffer)
        .on_upgrade(move |socket| session(socket, state, id, caller, transport))
}

async fn session(
    socket: WebSocket,
    state: Arc<AppState>,
    id: String,
    caller: Result<Caller, WireError>,
    transport: Transport,
) {
    let mut socket = Link::new(socket, state.connections.limits().stall_timeout);
    let hello = match handshake(&mut socket, &state, &id, caller, &transport).await {
        Ok(h) => h,
        Err(err) => {
            tracing::info!(meeting = %id, code = %err.code, "session refused: {}", err.message);
            state.metrics.error(err.code);
            socket.close_with_error(&err).await;
            return;
        }
    };
    if let Some(m) = &transport.meter {
        m.unlimit_reads();
    }
    let live = state.hub.get_or_open(&hello.meeting.id, &hello.meeting.title);
    live.set_policies(hello.policies);
    let id = live.next_connection_id();
    let meeting_id = hello.meeting.id.clone();
    // Every line of the session carries its meeting and participant.
    let span = tracing::info_span!("session", meeting = %meeting_id, participant = %id);
    participate(socket, &state, &live, hello, id).instrument(span).await;
    drop(live);
    state.hub.close_if_idle(&meeting_id);
}

/// The session of an accepted participant: the lobby if it must wait, the welcome, then
/// presenting or viewing until it ends.
async fn participate(mut socket: Link, state: &AppState, live: &LiveMeeting, hello: Accepted, id: ParticipantId) {
    let Accepted {
        meeting,
        role,
        name,
        control,
        share,
        external,
        meeting_role,
        user_id,
        waits,
        on_behalf_of,
        rejoined,
        video,
        ..
    } = hello;
    let display_name = name.unwrap_or_else(|| match role {
        Role::Presenter => "Presenter".to_string(),
        Role::Viewer if external => format!("Guest {id}"),
        Role::Viewer => format!("Viewer {id}"),
    });
    tracing::info!(meeting = %meeting.id, conn = %id, ?role, ?meeting_role, guest = external, lobby = waits, rejoined = ?rejoined, name = display_name, "joined");
    // The key lets a second connection present for this one, and this person rejoin;
    // only its hash is kept.
    let key = PresenterSecret::generate();
    // Names this participant's admission pass, to revoke it if they are told to go.
    let nonce = deskshare_meeting::pass::nonce();
    let joining = Member {
        name: display_name,
        connection: role,
        role: meeting_role,
        guest: external,
        user: user_id,
        in_lobby: waits,
        key: key.hash(),
        on_behalf_of,
    };
    let mut conn = match live.join(id, joining) {
        Ok(conn) => conn,
        Err(e) => {
            socket.close_with_error(&WireError::bare(e.into())).await;
            return;
        }
    };
    state.metrics.joins.inc();
    if let Some(old) = rejoined {
        live.with_roster(|r, _| r.forget_departed(old));
    }
    let result = async {
        if waits {
            wait_in_lobby(&mut socket, live, &mut conn, state).await?;
        }
        let role_now = live.meeting_role(id).unwrap_or(meeting_role);
        let pass = Pass {
            meeting: meeting.id.clone(),
            role: role_now,
            issued_at: state.clock.now(),
            instance: live.instance.clone(),
            nonce: nonce.clone(),
        };
        let welcome = ServerMessage::Welcome {
            protocol: PROTOCOL_VERSION,
            participant: id,
            meeting: meeting.id.to_string(),
            title: meeting.title.clone(),
            presenter_online: live.presence().presenter.is_some(),
            role: role_now,
            key: key.as_str().to_string(),
            pass: (role == Role::Viewer && on_behalf_of.is_none()).then(|| pass.seal(&state.passes)),
            video: deskshare_fanout::video_codecs(),
        };
        socket.send_control(&welcome)?;
        // The roster follows from the session's cursor (see `Housekeeping`).
        let state_now = live.with_floor(|f, _| live.control_state(f, None));
        socket.send_control(&state_now)?;
        if let Some(question) = live.consent_question_for(id) {
            socket.send_control(&question)?;
        }
        if role == Role::Viewer {
            let history = state.store.chat_history(&meeting.id).await?;
            for msg in crate::chat::history_messages(history) {
                socket.send_control(&msg)?;
            }
        }
        match role {
            Role::Presenter => {
                let policy = control.unwrap_or(ControlPolicy::Never);
                presenter::run(&mut socket, live, &mut conn, policy, share, state).await
            }
            Role::Viewer => viewer::run(&mut socket, live, &mut conn, state, video).await,
        }
    }
    .await;
    let conn = id;
    live.leave(conn);
    match result {
        Ok(()) => tracing::info!(meeting = %meeting.id, %conn, "left"),
        Err(err) => {
            tracing::info!(meeting = %meeting.id, %conn, code = %err.code, "ended: {}", err.message);
            // Told to go: the pass of this welcome must not bring them back after a restart.
            if matches!(
                err.code,
                ErrorCode::RemovedByOrganiser | ErrorCode::AccountDisabled | ErrorCode::SessionExpired
            ) && let Err(e) = state.store.revoke_pass(&meeting.id, &nonce).await
            {
                tracing::warn!(meeting = %meeting.id, "could not revoke an admission pass: {e}");
            }
            state.metrics.error(err.code);
            socket.close_with_error(&err).await;
        }
    }
}

/// Waits until an organiser or presenter decides, the client leaves, or the meeting ends.
async fn wait_in_lobby(
    socket: &mut Link,
    live: &LiveMeeting,
    conn: &mut Conn,
    state: &AppState,
) -> Result<(), WireError> {
    socket.send_control(&ServerMessage::Lobby)?;
    let mut house = Housekeeping::new(live, state, None);
    loop {
        let decision = *conn.signal.borrow();
        match decision {
            Some(Signal::Admitted) => return Ok(()),
            Some(Signal::Denied) => return Err(WireError::bare(ErrorCode::LobbyDenied)),
            Some(other) => return Err(signal_error(other)),
            None => {}
        }
        tokio::select! {
            input = socket.next() => {
                let Some(input) = input? else { continue };
                house.heard();
                match input {
                    Input::Closed => return Err(WireError::new(ErrorCode::ConnectionLost, "left the lobby")),
                    Input::Heartbeat => {}
                    Input::Control(_) | Input::Media(_) => {
                        return Err(WireError::new(ErrorCode::ProtocolViolation, "nothing but waiting in the lobby"));
                    }
                }
            }
            chore = house.next_without_outbox(conn) => if let Some(msg) = chore? { socket.send(msg)? },
        }
    }
}

struct Accepted {
    meeting: crate::store::MeetingRecord,
    role: Role,
    name: Option<String>,
    control: Option<ControlPolicy>,
    share: ShareKind,
    /// The meeting's policies (organiser level).
    policies: Policies,
    /// A guest: joined without signing in.
    external: bool,
    meeting_role: MeetingRole,
    user_id: Option<i64>,
    /// Must wait in the lobby.
    waits: bool,
    /// Presents for this participant (see `hello.on_behalf`).
    on_behalf_of: Option<ParticipantId>,
    /// Rejoined as this earlier participant (see `hello.rejoin`).
    rejoined: Option<ParticipantId>,
    /// The video codecs a viewer decodes that the server decodes too (a presenter sends
    /// streams only in those).
    video: Vec<VideoCodec>,
}

/// Reads the hello, gathers what [`deskshare_meeting::decide`] needs to know and returns
/// its answer. The rules are all there; this only fetches facts and checks passcodes.
async fn handshake(
    socket: &mut Link,
    state: &AppState,
    id: &str,
    caller: Result<Caller, WireError>,
    transport: &Transport,
) -> Result<Accepted, WireError> {
    let first = tokio::time::timeout(HELLO_TIMEOUT, socket.recv())
        .await
        .map_err(|_| WireError::new(ErrorCode::ProtocolViolation, "no hello within 10 s"))?;
    let hello = match first {
        Ok(Input::Control(hello)) => hello,
        Ok(Input::Closed) => return Err(WireError::new(ErrorCode::ProtocolViolation, "closed before hello")),
        Ok(_) => {
            return Err(WireError::new(ErrorCode::ProtocolViolation, "the first message must be a text hello"));
        }
        Err(_) if transport.meter.as_ref().is_some_and(|m| m.over_budget()) => {
            return Err(WireError::new(
                ErrorCode::MessageTooLarge,
                format!("more than {PRE_HELLO_BYTES} bytes before hello"),
            ));
        }
        Err(e) => return Err(e),
    };
    let decided = Instant::now();
    let result = admit(hello, state, id, caller, transport).await;
    state.metrics.admission.observe(decided.elapsed().as_secs_f64());
    result
}

/// Judges a hello (see [`handshake`]).
async fn admit(
    hello: ClientMessage,
    state: &AppState,
    id: &str,
    caller: Result<Caller, WireError>,
    transport: &Transport,
) -> Result<Accepted, WireError> {
    let ClientMessage::Hello {
        protocol,
        role,
        name,
        secret,
        client: _,
        control,
        passcode,
        share,
        on_behalf,
        rejoin,
        pass,
        replace,
        as_guest,
        video,
        share_pass,
    } = hello
    else {
        return Err(WireError::new(ErrorCode::ProtocolViolation, "the first message must be hello"));
    };
    if protocol != PROTOCOL_VERSION {
        return Err(WireError::new(
            ErrorCode::ProtocolVersionMismatch,
            format!("client speaks protocol {protocol}, this server speaks {PROTOCOL_VERSION}"),
        ));
    }
    if (role == Role::Presenter) != transport.media {
        return Err(WireError::new(
            ErrorCode::ProtocolViolation,
            "a presenter connects with ?role=presenter, and only a presenter does",
        ));
    }
    // A refused sign-in matters only to someone who wants to join with it.
    // (A share pass, below, names the user instead of the request's sign-in.)
    let caller = if as_guest || share_pass.is_some() { Caller::Anonymous } else { caller? };
    let not_found = || {
        WireError::new(ErrorCode::MeetingNotFound, format!("no meeting '{}'", id.chars().take(64).collect::<String>()))
    };
    let meeting_id = MeetingId::parse(id).map_err(|_| not_found())?;
    let meeting = state.store.meeting(&meeting_id).await?.ok_or_else(not_found)?;
    // A share pass (the page's "Share my desktop") stands for its user's own sign-in.
    let caller = match share_pass {
        Some(_) if role != Role::Presenter => {
            return Err(WireError::new(ErrorCode::ProtocolViolation, "share_pass is for presenter connections"));
        }
        Some(text) => Caller::User(open_share_pass(state, &meeting, &text).await?),
        None => caller,
    };
    let share = share.unwrap_or(ShareKind::Desktop);
    // Asked only once the caller may present at all: who presents is not told to anyone.
    let second_presenter = |state: &AppState| match role == Role::Presenter && !replace {
        true => refuse_a_second_presenter(state, &meeting_id, rejoin.as_ref()),
        false => Ok(()),
    };
    if let Some(on_behalf) = on_behalf {
        if role != Role::Presenter {
            return Err(WireError::new(ErrorCode::ProtocolViolation, "on_behalf is for presenter connections"));
        }
        if meeting.is_expired(state.clock.now()) {
            return Err(WireError::bare(ErrorCode::MeetingExpired));
        }
        let accepted = present_for(state, meeting, on_behalf, control, share).await?;
        second_presenter(state)?;
        return Ok(accepted);
    }
    let user = caller.user();
    let has_secret = secret.is_some_and(|s| meeting.presenter_secret.matches(&PresenterSecret::from_string(s)));
    let gathered = crate::service::admission::gather(state, &meeting, &caller, role).await?;
    let policies = gathered.policies;
    let live = state.hub.get(&meeting.id);
    let rejoined = match (rejoin.as_ref(), live.as_ref()) {
        (Some(r), Some(live)) => rejoin_when_left(live, r).await,
        _ => None,
    };
    // Not remembered by this run (it started since): the pass of an earlier run's welcome.
    let restored = match (&rejoined, pass) {
        (None, Some(text)) => restored_pass(state, &meeting.id, live.as_deref(), &text).await?,
        _ => None,
    };
    let given: String = passcode.unwrap_or_default().chars().take(128).collect();
    let passcode_state = match (&meeting.passcode_hash, given.is_empty()) {
        (None, _) => Passcode::NotSet,
        (Some(_), true) => Passcode::Missing,
        (Some(_), false) => Passcode::Unchecked,
    };
    let mut facts = gathered.facts(
        &meeting,
        user.map(|u| u.name.as_str()),
        role,
        share,
        has_secret,
        passcode_state,
        rejoined.map(|(_, j)| j).or(restored),
    );
    let refused = |code: ErrorCode| match code {
        ErrorCode::PresenterSecretInvalid => {
            WireError::new(code, "presenting needs the presenter link, or signing in as the meeting's organiser")
        }
        ErrorCode::MeetingFull => {
            WireError::new(code, format!("{} participants is the maximum", policies.max_participants))
        }
        _ => WireError::bare(code),
    };
    let mut admission = decide(&facts).map_err(refused)?;
    if admission == Admission::CheckPasscode
        && let Some(hash) = &meeting.passcode_hash
    {
        let ip = transport.client;
        state.attempts.before_passcode(&meeting.id, ip, Instant::now())?;
        let right = state.hasher.verify(given, hash.clone()).await?;
        if !right {
            state.attempts.passcode_failed(&meeting.id, ip, Instant::now());
            tracing::info!(meeting = %meeting.id, peer = %ip, "wrong passcode");
        }
        facts.passcode = if right { Passcode::Right } else { Passcode::Wrong };
        admission = decide(&facts).map_err(refused)?;
    }
    let Admission::Admit { role: meeting_role, waits } = admission else {
        return Err(WireError::new(ErrorCode::ServerError, "the passcode was not checked"));
    };
    second_presenter(state)?;
    let name = name
        .map(|n| deskshare_proto::text::clean_line(&n, MAX_NAME_CHARS))
        .filter(|n| !n.is_empty())
        .or_else(|| user.map(|u| u.display_name.clone()));
    Ok(Accepted {
        role,
        name,
        control,
        share,
        policies,
        external: user.is_none(),
        meeting_role,
        user_id: user.map(|u| u.id),
        waits,
        on_behalf_of: None,
        rejoined: rejoined.map(|(id, _)| id),
        video: {
            let server = deskshare_fanout::video_codecs();
            video.iter().filter(|c| server.contains(c)).filter_map(|c| VideoCodec::from_name(c)).collect()
        },
        meeting,
    })
}

/// The user a share pass names, if the pass opens for this meeting now and the account
/// is still enabled. Everything else about presenting is then decided as for that
/// user's own sign-in.
async fn open_share_pass(
    state: &AppState,
    meeting: &crate::store::MeetingRecord,
    text: &str,
) -> Result<crate::store::UserRecord, WireError> {
    let pass = deskshare_meeting::pass::SharePass::open(&state.passes, text, &meeting.id, state.clock.now())
        .map_err(|e| WireError::new(ErrorCode::SharePassInvalid, e.to_string()))?;
    match state.store.user_by_id(pass.user).await? {
        Some(user) if !user.disabled => Ok(user),
        Some(_) => Err(WireError::bare(ErrorCode::AccountDisabled)),
        None => Err(WireError::new(ErrorCode::SharePassInvalid, "the account the share link names no longer exists")),
    }
}

/// A second connection presenting for an admitted participant: it inherits that
/// participant's name, identity and role, and must show the key of its welcome.
async fn present_for(
    state: &AppState,
    meeting: crate::store::MeetingRecord,
    on_behalf: OnBehalf,
    control: Option<ControlPolicy>,
    share: ShareKind,
) -> Result<Accepted, WireError> {
    let key = PresenterSecret::from_string(on_behalf.key);
    let owner = state.hub.get(&meeting.id).and_then(|live| {
        live.member(on_behalf.participant, |m| {
            (!m.in_lobby && m.key.matches(&key)).then(|| (m.name.clone(), m.role, m.guest, m.user))
        })
        .flatten()
    });
    let user_id = owner.as_ref().and_then(|o| o.3);
    let theirs = crate::service::policies::effective(state, &meeting, user_id).await?;
    let meeting_role = decide_delegate(owner.as_ref().map(|o| o.1), &theirs, share).map_err(|code| match code {
        ErrorCode::ParticipantNotFound => WireError::new(code, "no such participant with that key is in the meeting"),
        _ => WireError::bare(code),
    })?;
    let (name, _, external, _) = owner.ok_or_else(|| WireError::bare(ErrorCode::ParticipantNotFound))?;
    let policies = crate::service::policies::effective(state, &meeting, None).await?;
    Ok(Accepted {
        meeting,
        role: Role::Presenter,
        name: Some(name),
        control,
        share,
        policies,
        external,
        meeting_role,
        user_id,
        waits: false,
        on_behalf_of: Some(on_behalf.participant),
        rejoined: None,
        video: Vec::new(),
    })
}

/// A presenter connection while someone else presents is refused, naming them, unless it
/// asked to `replace` them — or it is the same presenter back after a drop, proven by
/// the `rejoin` proof of its earlier connection (which the server may still hold).
fn refuse_a_second_presenter(
    state: &AppState,
    meeting: &MeetingId,
    rejoin: Option<&OnBehalf>,
) -> Result<(), WireError> {
    let Some(live) = state.hub.get(meeting) else { return Ok(()) };
    let presence = live.presence();
    let Some(current) = presence.presenter else { return Ok(()) };
    let own = rejoin.is_some_and(|r| {
        r.participant == current
            && live
                .with_roster(|roster, _| roster.still_connected(current, &PresenterSecret::from_string(r.key.clone())))
    });
    if own {
        return Ok(());
    }
    let who = presence.presenting_for.unwrap_or(current);
    let name = live.member(who, |m| m.name.clone()).unwrap_or_else(|| "someone".to_string());
    Err(WireError::new(ErrorCode::PresenterActive, format!("{name} is presenting")))
}

/// The rejoin `proof` allows, once its earlier connection has left: a reloaded page
/// says hello before the server has seen its old connection close, so a connection still
/// open with that welcome is waited for, briefly.
async fn rejoin_when_left(live: &LiveMeeting, proof: &OnBehalf) -> Option<(ParticipantId, Rejoin)> {
    let key = PresenterSecret::from_string(proof.key.clone());
    for _ in 0..REJOIN_WAIT_STEPS {
        let (allowed, open) = live.with_roster(|roster, _| {
            (
                roster.may_rejoin(proof.participant, &key, Instant::now()),
                roster.still_connected(proof.participant, &key),
            )
        });
        if let Some(j) = allowed {
            return Some((proof.participant, j));
        }
        if !open {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

/// What an admission pass restores: the role it names, when it is this server's, for
/// this meeting, not revoked, and from an earlier live instance of the meeting while the
/// present one is new (see `Pass::admits_again`).
async fn restored_pass(
    state: &AppState,
    meeting: &MeetingId,
    live: Option<&LiveMeeting>,
    text: &str,
) -> Result<Option<Rejoin>, WireError> {
    let Ok(pass) = Pass::open(&state.passes, text, meeting) else { return Ok(None) };
    let live = live.map(|l| (l.instance.as_str(), l.opened.elapsed() < REJOIN_GRACE));
    if !pass.admits_again(live, state.clock.now()) || state.store.pass_revoked(meeting, &pass.nonce).await? {
        return Ok(None);
    }
    tracing::info!(meeting = %meeting, role = ?pass.role, "admitted again by the pass of an earlier welcome");
    Ok(Some(Rejoin { role: pass.role }))
}

/// How long (in 50 ms steps) a rejoin waits for its earlier connection to close: 2 s.
const REJOIN_WAIT_STEPS: usize = 40;

/// The code a session ends with when the roster decided about it.
fn signal_error(signal: Signal) -> WireError {
    WireError::bare(match signal {
        Signal::Admitted => return WireError::new(ErrorCode::ServerError, "admitted is not an ending"),
        Signal::Denied => ErrorCode::LobbyDenied,
        Signal::Removed => ErrorCode::RemovedByOrganiser,
        Signal::Demoted => ErrorCode::NotPresenter,
        Signal::StopPresenting => ErrorCode::PresentingStopped,
        Signal::SignedOut(code) => code,
        Signal::Ended => ErrorCode::MeetingEnded,
    })
}

/// Maps a read error to its code: the only one a user can cause is an oversized message;
/// a peer that went away without a goodbye is a network matter, not bad input.
pub(crate) fn read_error(e: axum::Error) -> WireError {
    use tungstenite::error::{Error, ProtocolError};
    let text = e.to_string();
    let code = match e.into_inner().downcast::<Error>().map(|b| *b) {
        Ok(Error::Capacity(_)) => ErrorCode::MessageTooLarge,
        Ok(
            Error::Io(_)
            | Error::Tls(_)
            | Error::ConnectionClosed
            | Error::AlreadyClosed
            | Error::Protocol(ProtocolError::ResetWithoutClosingHandshake),
        ) => ErrorCode::ConnectionLost,
        Ok(_) | Err(_) => ErrorCode::MessageMalformed,
    };
    WireError::new(code, text)
}

/// An upgrade request that arrived without its WebSocket headers: something on the way
/// (typically a reverse proxy not set up for WebSocket) stripped them. Said so, with the
/// code the client shows, rather than as a malformed request.
pub(crate) fn blocked(rejected: WebSocketUpgradeRejection) -> Response {
    use axum::response::IntoResponse;
    let why = format!("the WebSocket upgrade arrived without its headers ({rejected}): a proxy on the way strips them");
    crate::error::ApiError(WireError::new(ErrorCode::WebsocketBlocked, why)).into_response()
}

/// A ticker that skips the ticks a busy session missed rather than bursting them.
pub(crate) fn every(period: Duration) -> tokio::time::Interval {
    let mut i = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    i
}

/// What a client sent, after transport details are dealt with. (Its size is the
/// hello's, see [`ClientMessage`]; one lives at a time per connection.)
#[allow(clippy::large_enum_variant)]
pub(crate) enum Input {
    Control(ClientMessage),
    Media(bytes::Bytes),
    /// Ping or pong: only proves the peer is alive.
    Heartbeat,
    Closed,
}

/// What every session loop waits on besides its own work: control messages queued for
/// it, its roster, decisions about it, the ping clock and the server stopping.
pub(crate) struct Housekeeping<'a> {
    live: &'a LiveMeeting,
    /// Where this participant's roster stands; `None` for connections shown none (the
    /// lobby, presenting connections).
    roster: Option<RosterCursor>,
    /// Per audience: its list changed.
    roster_changed: [watch::Receiver<u64>; 3],
    /// The roster may have something for this participant.
    roster_due: bool,
    /// Once a second, for the short list's counts. An interval, not a new timer each turn:
    /// a session turns for every frame, and timers are a lock the whole server shares.
    counts_tick: tokio::time::Interval,
    shutdown: watch::Receiver<bool>,
    ping: tokio::time::Interval,
    last_heard: Instant,
}

impl<'a> Housekeeping<'a> {
    pub fn new(live: &'a LiveMeeting, state: &AppState, roster: Option<RosterCursor>) -> Self {
        Housekeeping {
            live,
            roster,
            roster_changed: live.subscribe_roster(),
            roster_due: true,
            counts_tick: every(COUNTS_EVERY),
            shutdown: state.shutdown.clone(),
            ping: tokio::time::interval(PING_INTERVAL),
            last_heard: Instant::now(),
        }
    }

    /// The peer said something (any message counts).
    pub fn heard(&mut self) {
        self.last_heard = Instant::now();
    }

    /// The participant opens or closes the full roster.
    pub fn set_full_roster(&mut self, full: bool) {
        if let Some(c) = &mut self.roster {
            c.set_full(full);
            self.roster_due = true;
        }
    }

    /// Waits for the next chore. `Ok(Some)` is a message to send, `Err` ends the session.
    /// Queued control messages and the roster are taken only while `room` (nothing waits
    /// to be sent); decisions, pings and endings always. Cancel-safe: it only awaits
    /// channels and clocks.
    pub async fn next(&mut self, conn: &mut Conn, room: bool) -> Result<Option<Message>, WireError> {
        self.next_chore(conn, room).await
    }

    /// Like [`Housekeeping::next`], leaving queued control messages for later: the lobby
    /// uses it, because nothing may reach a client before its welcome.
    pub async fn next_without_outbox(&mut self, conn: &mut Conn) -> Result<Option<Message>, WireError> {
        self.next_chore(conn, false).await
    }

    async fn next_chore(&mut self, conn: &mut Conn, outbox: bool) -> Result<Option<Message>, WireError> {
        if outbox
            && self.roster_due
            && let Some(cursor) = &mut self.roster
        {
            match self.live.with_roster(|r, now| cursor.poll(r, now)) {
                Some(msg) => return Ok(Some(Message::Text(msg.to_json().into()))),
                None => self.roster_due = false,
            }
        }
        // Only the list this participant sees wakes it. On the short list, counts change
        // with every join without waking anyone: it looks once a second (a held-back
        // change of the counts is due within one, too).
        let audience = self.roster.as_ref().and_then(RosterCursor::audience);
        let short_list = outbox && audience == Some(Audience::Notable);
        let follows_roster = outbox && audience.is_some();
        let roster_changed = &mut self.roster_changed[audience.map_or(0, Audience::index)];
        tokio::select! {
            Some(msg) = conn.outbox.recv(), if outbox => Ok(Some(Message::Text(msg.to_json().into()))),
            Ok(()) = roster_changed.changed(), if follows_roster => {
                self.roster_due = true;
                Ok(None)
            }
            _ = self.counts_tick.tick(), if short_list => {
                self.roster_due = true;
                Ok(None)
            }
            _ = conn.signal.changed() => match *conn.signal.borrow() {
                Some(Signal::Admitted) | None => Ok(None),
                Some(signal) => Err(signal_error(signal)),
            },
            _ = self.ping.tick() => {
                // A peer silent for three pings is gone, so it never lingers in the roster.
                if self.last_heard.elapsed() > PING_INTERVAL * 3 {
                    Err(WireError::new(ErrorCode::ConnectionLost, "peer silent for 30 s"))
                } else {
                    Ok(Some(Message::Ping(Default::default())))
                }
            }
            _ = self.shutdown.changed() => Err(WireError::bare(ErrorCode::ServerShuttingDown)),
        }
    }
}
