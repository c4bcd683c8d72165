//! WebSocket sessions: one task per connection, a thin async shell around the sans-IO
//! state in `deskshare-fanout`.

mod link;
mod presenter;
mod viewer;

pub(crate) use link::Link;

use deskshare_proto::ParticipantId;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::response::Response;
use deskshare_meeting::{Joiner, Policies, must_wait};
use deskshare_meeting::{MeetingId, PresenterSecret};
use deskshare_proto::{
    ClientMessage, ControlPolicy, ErrorCode, MAX_CONTROL_BYTES, MAX_MESSAGE_BYTES, MeetingRole, OnBehalf,
    PROTOCOL_VERSION, Role, ServerMessage, ShareKind, VideoCodec, WireError,
};

use crate::connections::ConnMeter;
use crate::hub::{Conn, LiveMeeting, ParticipantInfo, Signal};
use crate::identity::Caller;
use crate::state::AppState;
use crate::store::unix_now;

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
    pub peer: std::net::SocketAddr,
    /// The connection's read budget (absent only for connections the tracker did not
    /// admit, which cannot happen on the real listener).
    pub meter: Option<Arc<ConnMeter>>,
    /// Opened for presenting (`?role=presenter`).
    pub media: bool,
}

/// `GET /api/meetings/{id}/ws`. Every check happens after the upgrade, so browsers (which
/// cannot read the body of a failed handshake) get a coded error too.
pub async fn upgrade(
    ws: WebSocketUpgrade,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(query): Query<WsQuery>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: axum::http::HeaderMap,
) -> Response {
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
    let transport = Transport { peer, meter, media };
    ws.max_message_size(limit)
        .max_frame_size(limit)
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
            socket.close_with_error(&err).await;
            return;
        }
    };
    if let Some(m) = &transport.meter {
        m.unlimit_reads();
    }
    let Accepted {
        meeting,
        role,
        name,
        control,
        share,
        policies,
        external,
        organiser,
        meeting_role,
        user_id,
        waits,
        on_behalf_of,
        video,
    } = hello;
    let live = state.hub.get_or_open(&meeting.id, &meeting.title);
    live.set_policies(policies);
    // A connection presenting for someone already in is not another participant.
    if !organiser && on_behalf_of.is_none() && live.participant_count() >= policies.max_participants as usize {
        let err = WireError::new(
            ErrorCode::MeetingFull,
            format!("{} participants is the maximum", policies.max_participants),
        );
        socket.close_with_error(&err).await;
        drop(live);
        state.hub.close_if_idle(&meeting.id);
        return;
    }
    let id = live.next_connection_id();
    let display_name = name.unwrap_or_else(|| match role {
        Role::Presenter => "Presenter".to_string(),
        Role::Viewer if external => format!("Guest {id}"),
        Role::Viewer => format!("Viewer {id}"),
    });
    tracing::info!(meeting = %meeting.id, conn = %id, ?role, ?meeting_role, guest = external, lobby = waits, name = display_name, "joined");
    // The key lets a second connection present for this one; only its hash is kept.
    let key = PresenterSecret::generate();
    let joining = ParticipantInfo {
        name: display_name,
        role,
        meeting_role,
        external,
        user_id,
        in_lobby: waits,
        key: key.hash(),
        on_behalf_of,
    };
    let mut conn = live.join(id, joining);
    let result = async {
        if waits {
            wait_in_lobby(&mut socket, &live, &mut conn, &state).await?;
        }
        let welcome = ServerMessage::Welcome {
            protocol: PROTOCOL_VERSION,
            participant: id,
            meeting: meeting.id.to_string(),
            title: meeting.title.clone(),
            presenter_online: live.presence().presenter.is_some(),
            role: live.meeting_role(id).unwrap_or(meeting_role),
            key: key.as_str().to_string(),
            video: deskshare_fanout::video_codecs(),
        };
        socket.send_control(&welcome)?;
        let public = live.meeting_role(id) == Some(MeetingRole::Attendee);
        socket.send_control(&ServerMessage::Roster { participants: live.roster(!public) })?;
        let state_now = live.with_floor(|f, _| live.control_state(f, None));
        socket.send_control(&state_now)?;
        if role == Role::Viewer {
            let history = state.store.chat_history(&meeting.id).await.map_err(crate::error::internal)?;
            socket.send_control(&ServerMessage::Chat { messages: history })?;
        }
        match role {
            Role::Presenter => {
                let policy = control.unwrap_or(ControlPolicy::Never);
                presenter::run(&mut socket, &live, &mut conn, policy, share, &state).await
            }
            Role::Viewer => viewer::run(&mut socket, &live, &mut conn, &state, video).await,
        }
    }
    .await;
    let conn = id;
    live.leave(conn);
    match result {
        Ok(()) => tracing::info!(meeting = %meeting.id, %conn, "left"),
        Err(err) => {
            tracing::info!(meeting = %meeting.id, %conn, code = %err.code, "ended: {}", err.message);
            socket.close_with_error(&err).await;
        }
    }
    drop(live);
    state.hub.close_if_idle(&meeting.id);
}

/// Waits until an organiser or presenter decides, the client leaves, or the meeting ends.
async fn wait_in_lobby(
    socket: &mut Link,
    live: &LiveMeeting,
    conn: &mut Conn,
    state: &AppState,
) -> Result<(), WireError> {
    socket.send_control(&ServerMessage::Lobby)?;
    let mut house = Housekeeping::new(live, state);
    loop {
        let decision = *conn.signal.borrow();
        match decision {
            Signal::Admitted => return Ok(()),
            Signal::Denied => return Err(WireError::bare(ErrorCode::LobbyDenied)),
            Signal::Removed => return Err(WireError::bare(ErrorCode::RemovedByOrganiser)),
            Signal::SignedOut(code) => return Err(WireError::bare(code)),
            Signal::None | Signal::Demoted => {}
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
    /// The organiser (or an administrator): never held by capacity.
    organiser: bool,
    meeting_role: MeetingRole,
    user_id: Option<i64>,
    /// Must wait in the lobby.
    waits: bool,
    /// Presents for this participant (see `hello.on_behalf`).
    on_behalf_of: Option<ParticipantId>,
    /// The video codecs a viewer decodes that the server decodes too (a presenter sends
    /// streams only in those).
    video: Vec<VideoCodec>,
}

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
        as_guest,
        video,
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
    let caller = if as_guest { Caller::Anonymous } else { caller? };
    let not_found = || {
        WireError::new(ErrorCode::MeetingNotFound, format!("no meeting '{}'", id.chars().take(64).collect::<String>()))
    };
    let meeting_id = MeetingId::parse(id).map_err(|_| not_found())?;
    let meeting = state.store.meeting(&meeting_id).await.map_err(crate::error::internal)?.ok_or_else(not_found)?;
    if meeting.is_expired(unix_now()) {
        return Err(WireError::bare(ErrorCode::MeetingExpired));
    }
    let share = share.unwrap_or(ShareKind::Desktop);
    if let Some(on_behalf) = on_behalf {
        if role != Role::Presenter {
            return Err(WireError::new(ErrorCode::ProtocolViolation, "on_behalf is for presenter connections"));
        }
        return present_for(state, meeting, on_behalf, control, share).await;
    }
    let organiser = caller.organises(&meeting);
    let has_secret = secret.is_some_and(|s| meeting.presenter_secret.matches(&PresenterSecret::from_string(s)));
    // A signed-in user the organiser promoted in this meeting (kept across restarts).
    let presenter_user = match caller.user() {
        Some(u) => state.store.is_presenter(&meeting.id, u.id).await.map_err(crate::error::internal)?,
        None => false,
    };
    if role == Role::Presenter && !(has_secret || organiser || presenter_user) {
        return Err(WireError::new(
            ErrorCode::PresenterSecretInvalid,
            "presenting needs the presenter link, or signing in as the meeting's organiser",
        ));
    }
    // The passcode keeps out people who only have the link; the organiser and holders of
    // the presenter secret are already known.
    if let Some(hash) = &meeting.passcode_hash
        && !(organiser || has_secret)
    {
        let given: String = passcode.unwrap_or_default().chars().take(128).collect();
        if given.is_empty() {
            return Err(WireError::bare(ErrorCode::PasscodeInvalid));
        }
        let ip = transport.peer.ip();
        state.attempts.before_passcode(&meeting.id, ip, Instant::now())?;
        if !state.hasher.verify(given, hash.clone()).await? {
            state.attempts.passcode_failed(&meeting.id, ip, Instant::now());
            tracing::info!(meeting = %meeting.id, peer = %ip, "wrong passcode");
            return Err(WireError::bare(ErrorCode::PasscodeInvalid));
        }
    }
    let name = name
        .map(|n| deskshare_proto::text::clean_line(&n, 64))
        .filter(|n| !n.is_empty())
        .or_else(|| caller.user().map(|u| u.display_name.clone()));
    let external = matches!(caller, Caller::Anonymous);
    let policies = crate::service::policies::effective(state, &meeting, None).await?;
    if external && !has_secret && !policies.allow_anonymous {
        return Err(WireError::bare(ErrorCode::AnonymousNotAllowed));
    }
    if role == Role::Presenter {
        // Sharing follows the presenter's own user policy when signed in.
        let theirs = crate::service::policies::effective(state, &meeting, caller.user().map(|u| u.id)).await?;
        check_share(&theirs, share)?;
    }
    let meeting_role = if organiser {
        MeetingRole::Organiser
    } else if presenter_user || has_secret {
        MeetingRole::Presenter
    } else {
        MeetingRole::Attendee
    };
    let rules = state.store.rules(&meeting.id).await.map_err(crate::error::internal)?;
    let joiner = Joiner {
        guest: external,
        user: caller.user().map(|u| u.name.as_str()),
        privileged: meeting_role != MeetingRole::Attendee,
    };
    let waits = must_wait(&policies, meeting.lobby, &rules, &joiner);
    let user_id = caller.user().map(|u| u.id);
    Ok(Accepted {
        meeting,
        role,
        name,
        control,
        share,
        policies,
        external,
        organiser,
        meeting_role,
        user_id,
        waits,
        on_behalf_of: None,
        video: {
            let server = deskshare_fanout::video_codecs();
            video.iter().filter(|c| server.contains(c)).filter_map(|c| VideoCodec::from_name(c)).collect()
        },
    })
}

/// A second connection presenting for an admitted participant: it inherits that
/// participant's name, identity and role, and must show the key of its welcome. The
/// participant already passed the passcode, the lobby and the guest policy.
async fn present_for(
    state: &AppState,
    meeting: crate::store::MeetingRecord,
    on_behalf: OnBehalf,
    control: Option<ControlPolicy>,
    share: ShareKind,
) -> Result<Accepted, WireError> {
    let unknown =
        || WireError::new(ErrorCode::ParticipantNotFound, "no such participant with that key is in the meeting");
    let live = state.hub.get(&meeting.id).ok_or_else(unknown)?;
    let (name, meeting_role, external, user_id) = {
        let ps = live.participants.lock().expect("participants lock");
        let p = ps.get(&on_behalf.participant).filter(|p| !p.info.in_lobby).ok_or_else(unknown)?;
        if !p.info.key.matches(&PresenterSecret::from_string(on_behalf.key)) {
            return Err(unknown());
        }
        (p.info.name.clone(), p.info.meeting_role, p.info.external, p.info.user_id)
    };
    if meeting_role == MeetingRole::Attendee {
        return Err(WireError::bare(ErrorCode::NotPresenter));
    }
    let policies = crate::service::policies::effective(state, &meeting, None).await?;
    check_share(&crate::service::policies::effective(state, &meeting, user_id).await?, share)?;
    Ok(Accepted {
        meeting,
        role: Role::Presenter,
        name: Some(name),
        control,
        share,
        policies,
        external,
        organiser: meeting_role == MeetingRole::Organiser,
        meeting_role,
        user_id,
        waits: false,
        on_behalf_of: Some(on_behalf.participant),
        video: Vec::new(),
    })
}

/// Whether the policies allow sharing this kind of thing.
pub(crate) fn check_share(p: &Policies, share: ShareKind) -> Result<(), WireError> {
    match share {
        ShareKind::Desktop if !p.enable_desktop_sharing => Err(WireError::bare(ErrorCode::SharingDisabled)),
        ShareKind::Program if !p.enable_program_sharing => Err(WireError::bare(ErrorCode::ProgramSharingDisabled)),
        _ => Ok(()),
    }
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

/// What a client sent, after transport details are dealt with.
pub(crate) enum Input {
    Control(ClientMessage),
    Media(bytes::Bytes),
    /// Ping or pong: only proves the peer is alive.
    Heartbeat,
    Closed,
}

/// What every session loop waits on besides its own work: control messages queued for
/// it, decisions about it, the ping clock, the meeting ending and the server stopping.
pub(crate) struct Housekeeping {
    ended: watch::Receiver<bool>,
    shutdown: watch::Receiver<bool>,
    ping: tokio::time::Interval,
    last_heard: Instant,
}

impl Housekeeping {
    pub fn new(live: &LiveMeeting, state: &AppState) -> Self {
        Housekeeping {
            ended: live.subscribe_ended(),
            shutdown: state.shutdown.clone(),
            ping: tokio::time::interval(PING_INTERVAL),
            last_heard: Instant::now(),
        }
    }

    /// The peer said something (any message counts).
    pub fn heard(&mut self) {
        self.last_heard = Instant::now();
    }

    /// Waits for the next chore. `Ok(Some)` is a message to send, `Err` ends the session.
    /// Queued control messages are taken only while `room` (nothing waits to be sent);
    /// decisions, pings and endings always. Cancel-safe: it only awaits channels and the
    /// ping clock.
    pub async fn next(&mut self, conn: &mut Conn, room: bool) -> Result<Option<Message>, WireError> {
        self.next_chore(conn, room).await
    }

    /// Like [`Housekeeping::next`], leaving queued control messages for later: the lobby
    /// uses it, because nothing may reach a client before its welcome.
    pub async fn next_without_outbox(&mut self, conn: &mut Conn) -> Result<Option<Message>, WireError> {
        self.next_chore(conn, false).await
    }

    async fn next_chore(&mut self, conn: &mut Conn, outbox: bool) -> Result<Option<Message>, WireError> {
        tokio::select! {
            Some(msg) = conn.outbox.recv(), if outbox => Ok(Some(Message::Text(msg.to_json().into()))),
            _ = conn.signal.changed() => match *conn.signal.borrow() {
                Signal::Removed => Err(WireError::bare(ErrorCode::RemovedByOrganiser)),
                Signal::Demoted => Err(WireError::bare(ErrorCode::NotPresenter)),
                Signal::SignedOut(code) => Err(WireError::bare(code)),
                _ => Ok(None),
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
            _ = self.ended.changed() => Err(WireError::bare(ErrorCode::MeetingEnded)),
        }
    }
}
