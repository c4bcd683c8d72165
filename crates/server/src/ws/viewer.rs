//! A viewer's session: the [`ViewerPump`] decides what screen data to send, this loop
//! sends it, and carries the viewer's control requests and input.

use deskshare_proto::ParticipantId;
use std::time::Instant;

use axum::extract::ws::Message;
use deskshare_fanout::{DEFAULT_WINDOW, PumpOutput, ViewerPump};
use deskshare_meeting::roster::COUNTS_EVERY;
use deskshare_meeting::{RosterCursor, TokenBucket};
use deskshare_proto::{
    ClientMessage, ErrorCode, InputEvent, MAX_CHAT_CHARS, MAX_INPUT_EVENTS, MeetingRole, ServerMessage, VideoCodec,
    WireError,
};

use super::{Housekeeping, Input, Link};
use crate::hub::{Conn, LiveMeeting, Presence};
use crate::service::meetings::{parse_action, perform};
use crate::state::AppState;

/// Input events a controller may send per second on average, and in one burst. Far above
/// human speed (a fast typist makes ~20 events/s), low enough to stop a flood.
const INPUT_RATE: f64 = 500.0;
const INPUT_BURST: f64 = 1000.0;
/// Chat messages per second on average, and in one burst: a person never needs more.
const CHAT_RATE: f64 = 5.0;
const CHAT_BURST: f64 = 10.0;

/// What one viewer may still send, refilled over time.
struct Budgets {
    input: TokenBucket,
    chat: TokenBucket,
}

pub(super) async fn run(
    socket: &mut Link,
    live: &LiveMeeting,
    conn: &mut Conn,
    state: &AppState,
    video: Vec<VideoCodec>,
) -> Result<(), WireError> {
    live.viewer_joined();
    let result = pump_loop(socket, live, conn, state, video).await;
    live.viewer_left();
    result
}

async fn pump_loop(
    socket: &mut Link,
    live: &LiveMeeting,
    conn: &mut Conn,
    state: &AppState,
    video: Vec<VideoCodec>,
) -> Result<(), WireError> {
    let mut pump = ViewerPump::new(DEFAULT_WINDOW);
    pump.set_video_codecs(&video);
    let mut screen_rx = live.subscribe_screen();
    let mut presence_rx = live.subscribe_presence();
    let mut house = Housekeeping::new(live, state, Some(RosterCursor::new(conn.id)));
    let mut told = Presence::default();
    let mut last_count_at: Option<Instant> = None;
    let mut told_viewers: Option<u32> = None;
    let mut count_tick = super::every(COUNTS_EVERY);
    let now = Instant::now();
    let mut budgets = Budgets {
        input: TokenBucket::new(INPUT_RATE, INPUT_BURST, now),
        chat: TokenBucket::new(CHAT_RATE, CHAT_BURST, now),
    };
    loop {
        // Read presence afresh on every turn, whichever wake-up came first: a presenter is
        // registered before its first frame, so a new frame is never judged by old presence.
        let presence = *presence_rx.borrow_and_update();
        // Tell the viewer about presence changes it has not seen.
        if presence.presenter.is_some() != told.presenter.is_some() {
            socket.send_control(&ServerMessage::Presenter { online: presence.presenter.is_some() })?;
        }
        // The count changes with every join and leave: read and told at most once a
        // second, or a meeting of n viewers would wake n sessions and send n messages on
        // every join.
        // (`count_tick` turns the loop once a second.)
        let viewers = live.viewer_count();
        if Some(viewers) != told_viewers && last_count_at.is_none_or(|t: Instant| t.elapsed() >= COUNTS_EVERY) {
            socket.send_control(&ServerMessage::Viewers { count: viewers })?;
            last_count_at = Some(Instant::now());
            told_viewers = Some(viewers);
        }
        told = presence;
        // A browser presenting over its second connection has the picture already; its
        // viewer catches up from the cache when it stops.
        if presence.presenting_for != Some(conn.id) {
            send_pending(socket, live, &mut pump)?;
        }
        let room = socket.has_room();
        tokio::select! {
            _ = count_tick.tick() => {}
            input = socket.next() => {
                // `None`: the send in flight finished; the next turn sends more.
                let Some(input) = input? else { continue };
                house.heard();
                match input {
                    Input::Closed => return Ok(()),
                    Input::Heartbeat => {}
                    Input::Control(ClientMessage::RosterView { full }) => house.set_full_roster(full),
                    Input::Control(msg) => handle(socket, live, state, conn.id, &mut pump, &mut budgets, msg).await?,
                    Input::Media(_) => {
                        return Err(WireError::new(ErrorCode::ProtocolViolation, "viewers do not send media"));
                    }
                }
            }
            chore = house.next(conn, room) => if let Some(msg) = chore? { socket.send(msg)? },
            _ = screen_rx.changed() => {}
            _ = presence_rx.changed() => {}
        }
    }
}

/// Queues what the pump allows now, while nothing else waits to be sent: a slow viewer
/// then gets the newest picture, not a backlog. The lock is held to assemble the update
/// from the log or the tile cache (and, once per tile version, to encode a tile).
fn send_pending(socket: &mut Link, live: &LiveMeeting, pump: &mut ViewerPump) -> Result<(), WireError> {
    while socket.has_room() {
        let out = pump.poll(&mut live.screen.lock().expect("screen lock"), Instant::now());
        let Some(out) = out else { break };
        let bytes: Vec<u8> = match out {
            PumpOutput::Frame(f) => {
                let bytes = f.encode();
                live.metrics.frames_out.inc();
                live.metrics.bytes_out.inc_by(bytes.len() as u64);
                live.metrics.skipped_tiles.inc_by(u64::from(f.header.skipped_tiles));
                bytes
            }
            PumpOutput::CursorShape(b) => b.to_vec(),
            PumpOutput::CursorPosition(p) => p.encode().to_vec(),
        };
        socket.send(Message::Binary(bytes.into()))?;
    }
    Ok(())
}

/// One control message from a viewer.
async fn handle(
    socket: &mut Link,
    live: &LiveMeeting,
    state: &AppState,
    conn: ParticipantId,
    pump: &mut ViewerPump,
    budgets: &mut Budgets,
    msg: ClientMessage,
) -> Result<(), WireError> {
    let refused = |e: WireError| ServerMessage::Refused { code: e.code, message: e.message };
    match msg {
        ClientMessage::Ack { frame } => {
            pump.on_ack(frame, Instant::now())
                .map_err(|e| WireError::new(ErrorCode::ProtocolViolation, e.to_string()))?;
            if let Some(rtt) = pump.rtt() {
                live.metrics.viewer_rtt.observe(rtt.as_secs_f64());
            }
            Ok(())
        }
        ClientMessage::RequestControl if !live.policies().may_control(live.is_external(conn)) => {
            let why = if live.policies().allow_control {
                "policy does not allow guests and external participants to control"
            } else {
                "policy does not allow control in this meeting"
            };
            socket.send_control(&refused(WireError::new(ErrorCode::ControlDisabled, why)))
        }
        ClientMessage::RequestControl => match live.with_floor(|f, now| f.request(conn, now)) {
            Ok(()) => Ok(()),
            Err(why) => socket.send_control(&refused(crate::control::refusal_error(why))),
        },
        ClientMessage::ReleaseControl => {
            live.with_floor(|f, now| f.release(conn, now));
            Ok(())
        }
        ClientMessage::ConsentAnswer { grant, granted } => match live.consent_answer(conn, grant, granted) {
            Ok(()) => Ok(()),
            Err(e) => socket.send_control(&refused(e)),
        },
        ClientMessage::TakeBack => match live.take_back(conn) {
            Ok(()) => Ok(()),
            Err(e) => socket.send_control(&refused(e)),
        },
        ClientMessage::StopPresenting => {
            if live.with_roster(|r, _| r.stop_presenting(conn)) {
                tracing::info!(meeting = %live.id, %conn, "share stopped from the presenter's page");
                Ok(())
            } else {
                socket.send_control(&refused(WireError::new(
                    ErrorCode::ConsentNotYours,
                    "only the person presenting can stop their share from the page",
                )))
            }
        }
        ClientMessage::Input { events } => {
            check_input(&events)?;
            if !budgets.input.try_take(events.len() as f64, Instant::now()) {
                return socket.send_control(&refused(WireError::bare(ErrorCode::InputRateLimited)));
            }
            match live.forward_input(conn, events) {
                Ok(()) => Ok(()),
                Err(e) => socket.send_control(&refused(e)),
            }
        }
        ClientMessage::Participant { participant, action } => {
            let role = live.meeting_role(conn).unwrap_or(MeetingRole::Attendee);
            let result = match parse_action(&action) {
                Ok(a) => match a.authorise(role) {
                    Ok(()) => perform(state, &live.id, live, participant, a).await,
                    Err(code) => Err(WireError::bare(code)),
                },
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => Ok(()),
                Err(e) => socket.send_control(&refused(e)),
            }
        }
        ClientMessage::EndMeeting if live.meeting_role(conn) == Some(MeetingRole::Organiser) => {
            tracing::info!(meeting = %live.id, %conn, "meeting ended by its organiser");
            live.end();
            state.hub.remove(&live.id);
            Ok(())
        }
        ClientMessage::EndMeeting => socket.send_control(&refused(WireError::bare(ErrorCode::NotOrganiser))),
        ClientMessage::Chat { text } => {
            let text = deskshare_proto::text::clean_text(text.trim());
            let text = text.trim();
            if text.is_empty() || text.chars().count() > MAX_CHAT_CHARS {
                return socket.send_control(&refused(WireError::bare(ErrorCode::ChatInvalid)));
            }
            if !budgets.chat.try_take(1.0, Instant::now()) {
                return socket.send_control(&refused(WireError::bare(ErrorCode::ChatRateLimited)));
            }
            live.chat(state, conn, text).await
        }
        // Taken by the loop: the roster is the housekeeping's.
        ClientMessage::RosterView { .. } => Ok(()),
        ClientMessage::Hello { .. } => Err(WireError::new(ErrorCode::ProtocolViolation, "hello sent twice")),
        ClientMessage::ControlDecision { .. } | ClientMessage::ControlRevoke { .. } => {
            Err(WireError::new(ErrorCode::ProtocolViolation, "only the presenter's agent decides about control"))
        }
    }
}

/// Size and range checks on input before it goes anywhere near the presenter.
fn check_input(events: &[InputEvent]) -> Result<(), WireError> {
    if events.len() > MAX_INPUT_EVENTS {
        return Err(WireError::new(
            ErrorCode::MessageTooLarge,
            format!("{} input events in one message; at most {MAX_INPUT_EVENTS}", events.len()),
        ));
    }
    events.iter().try_for_each(InputEvent::validate)
}
