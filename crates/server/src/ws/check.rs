//! `GET /api/check/ws`: a connection check over the real socket, for `deskshare doctor`
//! and the browser's `/check` page. It proves the WebSocket upgrade passes every proxy on
//! the way, and measures round trip and throughput both ways on the same path the
//! meeting's screen takes. No sign-in: it reveals nothing and is bounded in time and
//! bytes, like every other connection.
//!
//! Messages (JSON text from the client):
//! - `{"type":"ping","seq":N}` → `{"type":"pong","seq":N}`
//! - `{"type":"download","bytes":N}` → binary messages of N bytes in all, then
//!   `{"type":"downloaded","bytes":N}`
//! - binary messages (an upload), then `{"type":"uploaded"}` →
//!   `{"type":"uploaded","bytes":TOTAL}`

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::state::AppState;

/// A check lasts at most this long.
pub const CHECK_DURATION: Duration = Duration::from_secs(30);
/// Bytes the check sends or receives, each way, at most.
pub const CHECK_MAX_BYTES: u64 = 16 * 1024 * 1024;
/// Each binary message sent is this long (the last one shorter).
const CHUNK: usize = 64 * 1024;

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum Ask {
    Ping { seq: u64 },
    Download { bytes: u64 },
    Uploaded,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Answer {
    Pong { seq: u64 },
    Downloaded { bytes: u64 },
    Uploaded { bytes: u64 },
    Error { code: deskshare_proto::ErrorCode, message: String },
}

pub async fn upgrade(
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
) -> Response {
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejected) => return super::blocked(rejected),
    };
    if let Some(m) = state.connections.meter(peer) {
        // The upload plus framing and the small control messages.
        m.limit_reads(CHECK_MAX_BYTES + 1024 * 1024);
        m.mark_long_lived();
    }
    ws.max_message_size(CHUNK * 2).max_frame_size(CHUNK * 2).on_upgrade(|socket| async move {
        let _ = tokio::time::timeout(CHECK_DURATION, check(socket)).await;
    })
}

async fn check(mut socket: WebSocket) {
    let (mut uploaded, mut downloaded) = (0u64, 0u64);
    let zeros = bytes::Bytes::from(vec![0u8; CHUNK]);
    while let Some(Ok(msg)) = socket.recv().await {
        let answer = match msg {
            Message::Binary(b) => {
                uploaded += b.len() as u64;
                if uploaded > CHECK_MAX_BYTES {
                    let message = format!("a check uploads at most {CHECK_MAX_BYTES} bytes");
                    let _ = send(
                        &mut socket,
                        &Answer::Error { code: deskshare_proto::ErrorCode::MessageTooLarge, message },
                    )
                    .await;
                    return;
                }
                continue;
            }
            Message::Text(t) => match serde_json::from_str::<Ask>(&t) {
                Ok(Ask::Ping { seq }) => Answer::Pong { seq },
                Ok(Ask::Uploaded) => Answer::Uploaded { bytes: uploaded },
                Ok(Ask::Download { bytes }) => {
                    let bytes = bytes.min(CHECK_MAX_BYTES - downloaded);
                    downloaded += bytes;
                    let mut left = bytes as usize;
                    while left > 0 {
                        let n = left.min(CHUNK);
                        if socket.send(Message::Binary(zeros.slice(..n))).await.is_err() {
                            return;
                        }
                        left -= n;
                    }
                    Answer::Downloaded { bytes }
                }
                Err(e) => Answer::Error { code: deskshare_proto::ErrorCode::MessageMalformed, message: e.to_string() },
            },
            Message::Close(_) => return,
            _ => continue,
        };
        if send(&mut socket, &answer).await.is_err() {
            return;
        }
    }
}

async fn send(socket: &mut WebSocket, answer: &Answer) -> Result<(), axum::Error> {
    let text = serde_json::to_string(answer).expect("answers serialise");
    socket.send(Message::Text(text.into())).await
}
