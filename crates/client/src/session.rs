//! One WebSocket session with the protocol handshake done.

use std::time::Duration;

use deskshare_proto::{
    ClientMessage, ControlPolicy, ErrorCode, MediaMessage, OnBehalf, PROTOCOL_VERSION, Role, RosterList, ServerMessage,
    ShareKind, WireError,
};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::websocket::{self, Ws};
use crate::{MeetingLink, TlsOptions};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// What arrived from the server.
#[derive(Debug)]
pub enum Incoming {
    Control(ServerMessage),
    Media(MediaMessage),
}

/// How to join a meeting.
#[derive(Clone, Debug)]
pub struct Join {
    pub role: Role,
    /// Display name; a signed-in user's own name when `None`.
    pub name: Option<String>,
    /// Presenter: what the agent does with control requests.
    pub control: Option<ControlPolicy>,
    /// Sign-in token (from `deskshare login`) or admin token, sent as a bearer header.
    pub token: Option<String>,
    /// The meeting's passcode, if it has one.
    pub passcode: Option<String>,
    /// Presenter: what is shared, for the sharing policies.
    pub share: Option<ShareKind>,
    /// Presenter: present for this participant of an open session (as the browser does).
    pub on_behalf: Option<OnBehalf>,
    /// Back after a dropped connection: the earlier session's [`Session::proof`].
    pub rejoin: Option<OnBehalf>,
    /// Back after a server restart: the earlier welcome's admission pass.
    pub pass: Option<String>,
    /// Presenter: take over from whoever presents now.
    pub replace: bool,
}

impl Join {
    pub fn as_role(role: Role) -> Self {
        Join {
            role,
            name: None,
            control: None,
            token: None,
            passcode: None,
            share: None,
            on_behalf: None,
            rejoin: None,
            pass: None,
            replace: false,
        }
    }
}

/// A connected, welcomed session.
pub struct Session {
    ws: Ws,
    /// The server's welcome.
    pub welcome: ServerMessage,
    /// The roster as the messages received so far make it.
    pub roster: RosterList,
    /// Bytes of every message received (text and binary payloads).
    pub received_bytes: u64,
}

impl Session {
    /// Dials the meeting's WebSocket, says hello, and waits for the welcome. A refusal
    /// comes back as the server's coded error.
    pub async fn connect(
        link: &MeetingLink,
        tls: &TlsOptions,
        role: Role,
        name: Option<String>,
    ) -> Result<Session, WireError> {
        Self::open(link, tls, &Join { name, ..Join::as_role(role) }).await
    }

    /// Dials the meeting as `join` says: role, name, sign-in token, passcode.
    pub async fn open(link: &MeetingLink, tls: &TlsOptions, join: &Join) -> Result<Session, WireError> {
        let url = if join.role == Role::Presenter { link.presenter_ws_url() } else { link.ws_url() };
        let ws = websocket::open(&url, tls, join.token.as_deref()).await?;
        let mut session = Session {
            ws,
            welcome: ServerMessage::Presenter { online: false },
            roster: RosterList::new(),
            received_bytes: 0,
        };
        let secret = if join.role == Role::Presenter { link.secret.clone() } else { None };
        let hello = ClientMessage::Hello {
            protocol: PROTOCOL_VERSION,
            role: join.role,
            name: join.name.clone(),
            secret,
            client: Some(concat!("deskshare-cli/", env!("CARGO_PKG_VERSION")).into()),
            control: join.control,
            passcode: join.passcode.clone(),
            share: join.share,
            on_behalf: join.on_behalf.clone(),
            rejoin: join.rejoin.clone(),
            pass: join.pass.clone(),
            replace: join.replace,
            as_guest: false,
            video: deskshare_codec::video_codecs(),
            share_pass: if join.role == Role::Presenter { link.share_pass.clone() } else { None },
        };
        session.send_control(&hello).await?;
        // The welcome comes at once, or after a wait in the lobby (which has no timeout:
        // a person decides).
        let mut in_lobby = false;
        loop {
            let next = if in_lobby {
                Ok(session.recv().await)
            } else {
                tokio::time::timeout(CONNECT_TIMEOUT, session.recv()).await
            };
            match next {
                Err(_) => return Err(WireError::new(ErrorCode::ServerUnreachable, "no welcome within 15 s")),
                Ok(Err(e)) => return Err(e),
                Ok(Ok(Incoming::Control(ServerMessage::Lobby))) => {
                    if !in_lobby {
                        eprintln!("waiting in the lobby until an organiser or presenter lets you in");
                    }
                    in_lobby = true;
                }
                Ok(Ok(Incoming::Control(w @ ServerMessage::Welcome { .. }))) => {
                    session.welcome = w;
                    return Ok(session);
                }
                Ok(Ok(other)) => {
                    return Err(WireError::new(
                        ErrorCode::ProtocolViolation,
                        format!("expected welcome, got {other:?}"),
                    ));
                }
            }
        }
    }

    /// This session's participant and the key of its welcome: what a connection presents
    /// for it with, or rejoins as it with after a drop.
    pub fn proof(&self) -> Option<OnBehalf> {
        match &self.welcome {
            ServerMessage::Welcome { participant, key, .. } => {
                Some(OnBehalf { participant: *participant, key: key.clone() })
            }
            _ => None,
        }
    }

    /// The admission pass of this session's welcome, for coming back after a restart.
    pub fn pass(&self) -> Option<String> {
        match &self.welcome {
            ServerMessage::Welcome { pass, .. } => pass.clone(),
            _ => None,
        }
    }

    pub async fn send_control(&mut self, msg: &ClientMessage) -> Result<(), WireError> {
        self.ws.send(Message::Text(msg.to_json().into())).await.map_err(lost)
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) -> Result<(), WireError> {
        self.ws.send(Message::Binary(bytes.into())).await.map_err(lost)
    }

    /// The next message. A server error message or a coded close becomes `Err`.
    pub async fn recv(&mut self) -> Result<Incoming, WireError> {
        loop {
            let msg = match self.ws.next().await {
                None => {
                    return Err(WireError::new(ErrorCode::ConnectionLost, "connection closed"));
                }
                Some(Err(e)) => return Err(lost(e)),
                Some(Ok(m)) => m,
            };
            self.received_bytes += msg.len() as u64;
            match msg {
                Message::Text(t) => {
                    return match ServerMessage::from_json(&t)? {
                        ServerMessage::Error { code, message } => Err(WireError::new(code, message)),
                        other => {
                            self.roster.apply(&other)?;
                            Ok(Incoming::Control(other))
                        }
                    };
                }
                Message::Binary(b) => {
                    return Ok(Incoming::Media(MediaMessage::decode(b)?));
                }
                Message::Close(frame) => {
                    let code = frame.as_ref().and_then(|f| ErrorCode::parse(&f.reason));
                    return Err(match (code, frame) {
                        (Some(code), _) => WireError::bare(code),
                        (None, Some(f)) if f.code == CloseCode::Away => WireError::bare(ErrorCode::ServerShuttingDown),
                        _ => WireError::new(ErrorCode::ConnectionLost, "the server closed the connection"),
                    });
                }
                _ => {} // ping/pong are answered by tungstenite
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

fn lost(e: tokio_tungstenite::tungstenite::Error) -> WireError {
    use tokio_tungstenite::tungstenite::error::{CapacityError, Error};
    match e {
        Error::Capacity(CapacityError::MessageTooLong { size, max_size }) => {
            WireError::new(ErrorCode::MessageTooLarge, format!("message of {size} bytes exceeds {max_size}"))
        }
        other => WireError::new(ErrorCode::ConnectionLost, other.to_string()),
    }
}
