//! The presenter's session: decode each media message and apply it to the screen.

use std::time::Instant;

use axum::extract::ws::{Message, WebSocket};
use deskshare_proto::{ClientMessage, ErrorCode, MediaMessage, ServerMessage, WireError};

use super::viewer::send_text;
use super::{Liveness, PING_INTERVAL, read_error};
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
            send_text(
                socket,
                &ServerMessage::Viewers {
                    count: presence.viewers,
                },
            )
            .await?;
            told_viewers = Some(presence.viewers);
        }
        tokio::select! {
            incoming = socket.recv() => {
                liveness.heard();
                match incoming {
                    None | Some(Ok(Message::Close(_))) => return Ok(()),
                    Some(Err(e)) => return Err(read_error(e)),
                    Some(Ok(Message::Binary(bytes))) => apply(live, MediaMessage::decode(bytes)?)?,
                    Some(Ok(Message::Text(text))) => {
                        ClientMessage::from_json(&text)?;
                        return Err(WireError::new(ErrorCode::ProtocolViolation, "presenters send only media after hello"));
                    }
                    Some(Ok(_)) => {}
                }
            }
            _ = presence_rx.changed() => {}
            _ = ping.tick() => socket.send(liveness.tick()?).await.map_err(|e| WireError::new(ErrorCode::ConnectionLost, e.to_string()))?,
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
