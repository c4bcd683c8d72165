//! A viewer's session: the [`ViewerPump`] decides, this loop sends.

use std::time::Instant;

use axum::extract::ws::{Message, WebSocket};
use deskshare_fanout::{DEFAULT_WINDOW, PumpOutput, ViewerPump};
use deskshare_proto::{ClientMessage, ErrorCode, ServerMessage, WireError};

use super::{Input, Liveness, PING_INTERVAL, recv_input, send, send_control};
use crate::http::AppState;
use crate::hub::{LiveMeeting, Presence};

pub(super) async fn run(
    socket: &mut WebSocket,
    live: &LiveMeeting,
    state: &AppState,
) -> Result<(), WireError> {
    live.viewer_joined();
    let result = pump_loop(socket, live, state).await;
    live.viewer_left();
    result
}

async fn pump_loop(
    socket: &mut WebSocket,
    live: &LiveMeeting,
    state: &AppState,
) -> Result<(), WireError> {
    let mut pump = ViewerPump::new(DEFAULT_WINDOW);
    let mut screen_rx = live.subscribe_screen();
    let mut presence_rx = live.subscribe_presence();
    let mut shutdown = state.shutdown.clone();
    let mut told = Presence {
        presenter: None,
        viewers: 0,
    };
    let mut liveness = Liveness::new();
    let mut ping = tokio::time::interval(PING_INTERVAL);
    let mut presence = *presence_rx.borrow_and_update();
    loop {
        // Tell the viewer about presence changes it has not seen.
        if presence.presenter.is_some() != told.presenter.is_some() {
            send_control(
                socket,
                &ServerMessage::Presenter {
                    online: presence.presenter.is_some(),
                },
            )
            .await?;
        }
        if presence.viewers != told.viewers {
            send_control(
                socket,
                &ServerMessage::Viewers {
                    count: presence.viewers,
                },
            )
            .await?;
        }
        told = presence;
        // Send all the pump allows now. The lock is held only to copy tile handles out.
        loop {
            let out = pump.poll(&live.screen.lock().expect("screen lock"), Instant::now());
            let Some(out) = out else { break };
            let bytes: Vec<u8> = match out {
                PumpOutput::Frame(f) => f.encode(),
                PumpOutput::CursorShape(b) => b.to_vec(),
                PumpOutput::CursorPosition(p) => p.encode().to_vec(),
            };
            send(socket, Message::Binary(bytes.into())).await?;
        }
        tokio::select! {
            input = recv_input(socket) => {
                liveness.heard();
                match input? {
                    Input::Closed => return Ok(()),
                    Input::Heartbeat => {}
                    Input::Control(ClientMessage::Ack { frame }) => pump
                        .on_ack(frame, Instant::now())
                        .map_err(|e| WireError::new(ErrorCode::ProtocolViolation, e.to_string()))?,
                    Input::Control(ClientMessage::Hello { .. }) => {
                        return Err(WireError::new(ErrorCode::ProtocolViolation, "hello sent twice"));
                    }
                    Input::Media(_) => return Err(WireError::new(ErrorCode::ProtocolViolation, "viewers do not send media")),
                }
            }
            _ = screen_rx.changed() => {}
            _ = presence_rx.changed() => presence = *presence_rx.borrow_and_update(),
            _ = ping.tick() => send(socket, liveness.tick()?).await?,
            _ = shutdown.changed() => return Err(WireError::bare(ErrorCode::ServerShuttingDown)),
        }
    }
}
