//! A session's WebSocket, split so that a send in progress never stops the session from
//! reading its peer, answering pings, or noticing that the peer stopped taking data.
//!
//! A viewer that never reads fills its TCP window; a plain `socket.send(..).await` then
//! waits for ever, the session's liveness check never runs and the viewer keeps its
//! place in the meeting. Here one send at a time is in flight, the rest wait in a
//! bounded queue, reading goes on meanwhile, and a send that makes no progress for the
//! stall timeout ends the session with `CONNECTION_STALLED`.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use deskshare_proto::{ClientMessage, ErrorCode, ServerMessage, WireError};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};

use super::Input;

type Sink = SplitSink<WebSocket, Message>;
type Sending = Pin<Box<dyn Future<Output = (Sink, Result<(), axum::Error>)> + Send>>;

/// Bytes that may wait to be sent; a peer this far behind on control messages is gone.
const MAX_QUEUED_BYTES: usize = 8 * 1024 * 1024;

enum Writer {
    Idle(Sink),
    Busy(Sending),
    /// While switching between the two, and for good once a send failed.
    Gone,
}

pub(crate) struct Link {
    rx: SplitStream<WebSocket>,
    writer: Writer,
    queue: VecDeque<Message>,
    queued_bytes: usize,
    stall_timeout: Duration,
    /// Fires when the send in flight has made no progress for `stall_timeout`.
    stall: Pin<Box<tokio::time::Sleep>>,
}

fn size(m: &Message) -> usize {
    match m {
        Message::Text(t) => t.len(),
        Message::Binary(b) => b.len(),
        _ => 16,
    }
}

impl Link {
    pub fn new(socket: WebSocket, stall_timeout: Duration) -> Self {
        let (tx, rx) = socket.split();
        Link {
            rx,
            writer: Writer::Idle(tx),
            queue: VecDeque::new(),
            queued_bytes: 0,
            stall_timeout,
            stall: Box::pin(tokio::time::sleep(stall_timeout)),
        }
    }

    /// Queues a message. Fails only when the peer is so far behind that it is gone.
    pub fn send(&mut self, msg: Message) -> Result<(), WireError> {
        self.queued_bytes += size(&msg);
        self.queue.push_back(msg);
        if self.queued_bytes > MAX_QUEUED_BYTES {
            return Err(WireError::new(ErrorCode::ConnectionStalled, "over 8 MiB waiting to be sent"));
        }
        self.start_next();
        Ok(())
    }

    /// Queues a control message.
    pub fn send_control(&mut self, msg: &ServerMessage) -> Result<(), WireError> {
        self.send(Message::Text(msg.to_json().into()))
    }

    /// Whether nothing waits behind the send in flight: screen data is produced only
    /// then, so a slow viewer gets the newest picture rather than a backlog.
    pub fn has_room(&self) -> bool {
        self.queue.is_empty()
    }

    fn start_next(&mut self) {
        if !matches!(self.writer, Writer::Idle(_)) {
            return;
        }
        let Some(msg) = self.queue.pop_front() else { return };
        self.queued_bytes -= size(&msg);
        let Writer::Idle(mut sink) = std::mem::replace(&mut self.writer, Writer::Gone) else { unreachable!() };
        self.writer = Writer::Busy(Box::pin(async move {
            let r = sink.send(msg).await;
            (sink, r)
        }));
        let deadline = tokio::time::Instant::now() + self.stall_timeout;
        self.stall.as_mut().reset(deadline);
    }

    /// Drives the send in flight. `Ready(Ok(true))` when it finished and nothing waits.
    fn poll_writer(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool, WireError>> {
        loop {
            let fut = match &mut self.writer {
                Writer::Busy(fut) => fut,
                Writer::Idle(_) => return Poll::Pending,
                // A send failed before: polling its finished future again would panic.
                Writer::Gone => {
                    return Poll::Ready(Err(WireError::new(ErrorCode::ConnectionLost, "the connection is gone")));
                }
            };
            match fut.as_mut().poll(cx) {
                Poll::Ready((sink, Ok(()))) => {
                    self.writer = Writer::Idle(sink);
                    self.start_next();
                    if matches!(self.writer, Writer::Idle(_)) {
                        return Poll::Ready(Ok(true));
                    }
                }
                Poll::Ready((_, Err(e))) => {
                    self.writer = Writer::Gone;
                    return Poll::Ready(Err(WireError::new(ErrorCode::ConnectionLost, e.to_string())));
                }
                Poll::Pending => {
                    return match self.stall.as_mut().poll(cx) {
                        Poll::Ready(()) => Poll::Ready(Err(WireError::new(
                            ErrorCode::ConnectionStalled,
                            format!("the peer took no data for {} s", self.stall_timeout.as_secs()),
                        ))),
                        Poll::Pending => Poll::Pending,
                    };
                }
            }
        }
    }

    /// Waits for the next thing the session must act on: a message from the peer
    /// (`Some`), or room to send again (`None`). Cancel-safe.
    pub async fn next(&mut self) -> Result<Option<Input>, WireError> {
        std::future::poll_fn(|cx| {
            if let Poll::Ready(r) = self.poll_writer(cx) {
                return Poll::Ready(r.map(|_| None));
            }
            match self.rx.poll_next_unpin(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(m) => Poll::Ready(classify(m).map(Some)),
            }
        })
        .await
    }

    /// The next message from the peer, sending meanwhile.
    pub async fn recv(&mut self) -> Result<Input, WireError> {
        loop {
            if let Some(input) = self.next().await? {
                return Ok(input);
            }
        }
    }

    /// Sends everything queued, for at most `limit`.
    async fn flush(&mut self, limit: Duration) {
        let _ = tokio::time::timeout(limit, async {
            while !matches!(self.writer, Writer::Idle(_)) || !self.queue.is_empty() {
                if std::future::poll_fn(|cx| self.poll_writer(cx)).await.is_err() {
                    return;
                }
            }
        })
        .await;
    }

    /// Sends the error as a message, then closes with its code as the close reason (4000
    /// plus the HTTP status, 4000 for a code without one), so even a client that missed the
    /// message learns the code.
    /// A peer that takes nothing gets two seconds, then the connection is dropped.
    pub async fn close_with_error(mut self, err: &WireError) {
        let _ = self.send_control(&ServerMessage::error(err));
        let frame = CloseFrame { code: 4000 + err.code.http_status().unwrap_or(0), reason: err.code.as_str().into() };
        let _ = self.send(Message::Close(Some(frame)));
        self.flush(Duration::from_secs(2)).await;
    }
}

/// What a received WebSocket message means to a session.
fn classify(m: Option<Result<Message, axum::Error>>) -> Result<Input, WireError> {
    Ok(match m {
        None | Some(Ok(Message::Close(_))) => Input::Closed,
        Some(Err(e)) => return Err(super::read_error(e)),
        Some(Ok(Message::Text(text))) => Input::Control(ClientMessage::from_json(&text)?),
        Some(Ok(Message::Binary(bytes))) => Input::Media(bytes),
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Input::Heartbeat,
    })
}
