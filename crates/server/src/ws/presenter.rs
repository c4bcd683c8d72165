//! The presenter's session: decode each media message and apply it to the screen.

use std::time::Instant;

use axum::extract::ws::WebSocket;
use deskshare_proto::{ErrorCode, MediaMessage, ServerMessage, WireError};

use super::{Input, Liveness, PING_INTERVAL, recv_input, send, send_control};
use crate::http::AppState;
use crate::hub::LiveMeeting;

pub(super) async fn run(
    socket: &mut WebSocket,
    live: &LiveMeeting,
    conn: u64,
    state: &AppState,
) -> Result<(), WireError> {
    live.set_presenter(conn);
    let result = receive_loop(socket, live, conn, state).await;
    live.clear_presenter(conn);
    result
}

async fn receive_loop(
    socket: &mut WebSocket,
    live: &LiveMeeting,
    conn: u64,
    state: &AppState,
) -> Result<(), WireError> {
    let mut presence_rx = live.subscribe_presence();
    let mut shutdown = state.shutdown.clone();
    let mut liveness = Liveness::new();
    let mut ping = tokio::time::interval(PING_INTERVAL);
    let mut told_viewers = None;
    loop {
        let presence = *presence_rx.borrow_and_update();
        if presence.presenter != Some(conn) {
            return Err(WireError::bare(ErrorCode::PresenterReplaced));
        }
        if told_viewers != Some(presence.viewers) {
            send_control(
                socket,
                &ServerMessage::Viewers {
                    count: presence.viewers,
                },
            )
            .await?;
            told_viewers = Some(presence.viewers);
        }
        tokio::select! {
            input = recv_input(socket) => {
                liveness.heard();
                match input? {
                    Input::Closed => return Ok(()),
                    Input::Heartbeat => {}
                    Input::Media(bytes) => apply(live, MediaMessage::decode(bytes)?)?,
                    Input::Control(_) => {
                        return Err(WireError::new(ErrorCode::ProtocolViolation, "presenters send only media after hello"));
                    }
                }
            }
            _ = presence_rx.changed() => {}
            _ = ping.tick() => send(socket, liveness.tick()?).await?,
            _ = shutdown.changed() => return Err(WireError::bare(ErrorCode::ServerShuttingDown)),
        }
    }
}

fn apply(live: &LiveMeeting, msg: MediaMessage) -> Result<(), WireError> {
    match msg {
        MediaMessage::Frame(frame) => {
            live.update_screen(|s| s.apply(&frame, Instant::now()))
                .map_err(|e| WireError::new(ErrorCode::ProtocolViolation, e.to_string()))?;
        }
        MediaMessage::CursorShape(shape) => live.update_screen(|s| s.set_cursor_shape(&shape)),
        MediaMessage::CursorPosition(pos) => live.update_screen(|s| s.set_cursor_position(pos)),
    }
    Ok(())
}
