//! The presenter's session: decode each media message and apply it to the screen; carry
//! control questions to the agent and its answers back to the floor.

use std::time::Instant;

use deskshare_proto::{ClientMessage, ControlPolicy, ErrorCode, MediaMessage, ServerMessage, ShareKind, WireError};

use super::{Housekeeping, Input, Link};
use crate::hub::{Conn, LiveMeeting};
use crate::state::AppState;

pub(super) async fn run(
    socket: &mut Link,
    live: &LiveMeeting,
    conn: &mut Conn,
    policy: ControlPolicy,
    share: ShareKind,
    state: &AppState,
) -> Result<(), WireError> {
    live.set_presenter(conn.id);
    live.with_floor(|f, now| f.set_presenter(Some(policy), now));
    let result = receive_loop(socket, live, conn, share, state).await;
    if live.clear_presenter(conn.id) {
        live.with_floor(|f, now| f.set_presenter(None, now));
    }
    result
}

async fn receive_loop(
    socket: &mut Link,
    live: &LiveMeeting,
    conn: &mut Conn,
    share: ShareKind,
    state: &AppState,
) -> Result<(), WireError> {
    let mut presence_rx = live.subscribe_presence();
    let mut policies = live.subscribe_policies();
    let mut house = Housekeeping::new(live, state, None);
    let mut last_keyframe_ask: Option<Instant> = None;
    let mut viewers_rx = live.subscribe_viewer_count();
    let mut told_viewers = None;
    loop {
        let presence = *presence_rx.borrow_and_update();
        if presence.presenter != Some(conn.id) {
            // Say who took over, so the replaced agent or page can tell its person.
            let by = presence.presenting_for.or(presence.presenter);
            let name = by.and_then(|id| live.member(id, |m| m.name.clone()));
            return Err(match name {
                Some(n) => WireError::new(ErrorCode::PresenterReplaced, format!("{n} took over presenting")),
                None => WireError::bare(ErrorCode::PresenterReplaced),
            });
        }
        let viewers = *viewers_rx.borrow_and_update();
        if told_viewers != Some(viewers) {
            socket.send_control(&ServerMessage::Viewers { count: viewers })?;
            told_viewers = Some(viewers);
        }
        // An unanswered control request expires at the floor's deadline.
        let ask_deadline = live.floor.lock().expect("floor lock").poll_timeout();
        let ask_expired = async {
            match ask_deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        let room = socket.has_room();
        tokio::select! {
            input = socket.next() => {
                let Some(input) = input? else { continue };
                house.heard();
                match input {
                    Input::Closed => return Ok(()),
                    Input::Heartbeat => {}
                    Input::Media(bytes) => {
                        live.metrics.frames_in.inc();
                        live.metrics.bytes_in.inc_by(bytes.len() as u64);
                        // A viewer waits for a video keyframe: ask, at most twice a second.
                        if apply(live, MediaMessage::decode(bytes)?)?
                            && last_keyframe_ask.is_none_or(|t: Instant| t.elapsed() >= KEYFRAME_ASK_EVERY)
                        {
                            last_keyframe_ask = Some(Instant::now());
                            socket.send_control(&ServerMessage::VideoKeyframe)?;
                        }
                    }
                    Input::Control(ClientMessage::ControlDecision { grant, granted }) => {
                        live.with_floor(|f, now| f.decide(grant, granted, now));
                    }
                    Input::Control(ClientMessage::ControlRevoke { grant, reason }) => {
                        tracing::info!(meeting = %live.id, %grant, ?reason, "presenter took control back");
                        live.with_floor(|f, now| f.revoked(grant, reason, now));
                    }
                    Input::Control(_) => {
                        return Err(WireError::new(ErrorCode::ProtocolViolation, "presenters send media and control decisions only"));
                    }
                }
            }
            chore = house.next(conn, room) => if let Some(msg) = chore? { socket.send(msg)? },
            _ = ask_expired => live.with_floor(|f, now| f.handle_timeout(now)),
            _ = presence_rx.changed() => {}
            _ = viewers_rx.changed() => {}
            // A policy change that forbids what is being shared ends the share.
            _ = policies.changed() => deskshare_meeting::check_share(&policies.borrow_and_update(), share).map_err(WireError::bare)?,
        }
    }
}

/// Most often the presenter is asked for a video keyframe.
const KEYFRAME_ASK_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Applies a presenter message; true when a viewer waits for a video keyframe.
fn apply(live: &LiveMeeting, msg: MediaMessage) -> Result<bool, WireError> {
    match msg {
        MediaMessage::Frame(frame) => live.update_screen(|s| {
            s.apply(&frame, Instant::now())?;
            Ok(s.take_keyframe_request())
        }),
        MediaMessage::CursorShape(shape) => {
            live.update_screen(|s| s.set_cursor_shape(&shape));
            Ok(false)
        }
        MediaMessage::CursorPosition(pos) => {
            live.update_screen(|s| s.set_cursor_position(pos));
            Ok(false)
        }
    }
}
