//! JSON control messages, sent as WebSocket text messages.
//!
//! Each message is an object with a `"type"` field. Unknown types and unknown fields in
//! known types are rejected, so a typo never passes silently.

use serde::{Deserialize, Serialize};

use crate::MAX_CONTROL_BYTES;
use crate::error::{ErrorCode, WireError};

/// What a connection wants to be in the meeting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sends the screen. Needs the meeting's presenter secret.
    Presenter,
    /// Receives the screen.
    Viewer,
}

/// Messages a client (agent, CLI viewer or browser) sends to the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// First message of every session.
    Hello {
        protocol: u32,
        role: Role,
        /// Display name shown to others; optional for viewers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Presenter secret from the presenter URL; required for [`Role::Presenter`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret: Option<String>,
        /// Free-form client identification for logs, e.g. `deskshare-cli/0.1.0`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client: Option<String>,
    },
    /// A viewer has drawn every frame up to and including `frame`.
    Ack { frame: u64 },
}

/// Messages the server sends to a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServerMessage {
    /// Answer to a good hello.
    Welcome {
        protocol: u32,
        /// This connection's id within the meeting.
        participant: u64,
        meeting: String,
        title: String,
        /// Whether a presenter is connected right now.
        presenter_online: bool,
    },
    /// The presenter connected or left.
    Presenter { online: bool },
    /// How many viewers are connected; sent to everyone when it changes.
    Viewers { count: u32 },
    /// The session cannot go on (or a request was refused). The server closes after it.
    Error { code: ErrorCode, message: String },
}

impl ClientMessage {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("client message serialises")
    }

    /// Parses a text message, with a precise error code for each kind of bad input.
    pub fn from_json(text: &str) -> Result<Self, WireError> {
        parse(text)
    }
}

impl ServerMessage {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("server message serialises")
    }

    pub fn from_json(text: &str) -> Result<Self, WireError> {
        parse(text)
    }

    pub fn error(err: &WireError) -> Self {
        ServerMessage::Error {
            code: err.code,
            message: err.message.clone(),
        }
    }
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, WireError> {
    if text.len() > MAX_CONTROL_BYTES {
        return Err(WireError::new(
            ErrorCode::MessageTooLarge,
            format!(
                "control message of {} bytes exceeds {MAX_CONTROL_BYTES}",
                text.len()
            ),
        ));
    }
    serde_json::from_str(text).map_err(|e| {
        let msg = e.to_string();
        // serde reports an unknown tag as "unknown variant"; that is a type we do not know,
        // which deserves its own code so version skew is recognisable.
        let code = if msg.starts_with("unknown variant") {
            ErrorCode::MessageUnknownType
        } else {
            ErrorCode::MessageMalformed
        };
        WireError::new(code, format!("control message: {msg}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_round_trips() {
        let hello = ClientMessage::Hello {
            protocol: 1,
            role: Role::Presenter,
            name: Some("Ana".into()),
            secret: Some("s3cret".into()),
            client: None,
        };
        let json = hello.to_json();
        assert_eq!(
            json,
            r#"{"type":"hello","protocol":1,"role":"presenter","name":"Ana","secret":"s3cret"}"#
        );
        assert_eq!(ClientMessage::from_json(&json).unwrap(), hello);
    }

    #[test]
    fn error_message_carries_code_string() {
        let msg = ServerMessage::error(&WireError::bare(ErrorCode::MeetingNotFound));
        assert!(msg.to_json().contains(r#""code":"MEETING_NOT_FOUND""#));
        assert_eq!(ServerMessage::from_json(&msg.to_json()).unwrap(), msg);
    }

    #[test]
    fn bad_control_input_gets_codes() {
        let unknown = ClientMessage::from_json(r#"{"type":"launch_missiles"}"#).unwrap_err();
        assert_eq!(unknown.code, ErrorCode::MessageUnknownType);
        let malformed = ClientMessage::from_json(r#"{"type":"ack","frame":"x"}"#).unwrap_err();
        assert_eq!(malformed.code, ErrorCode::MessageMalformed);
        let truncated = ClientMessage::from_json(r#"{"type":"ack","fr"#).unwrap_err();
        assert_eq!(truncated.code, ErrorCode::MessageMalformed);
        let extra = ClientMessage::from_json(r#"{"type":"ack","frame":1,"x":2}"#).unwrap_err();
        assert_eq!(extra.code, ErrorCode::MessageMalformed);
        let big = format!(
            r#"{{"type":"ack","frame":1,"pad":"{}"}}"#,
            "a".repeat(MAX_CONTROL_BYTES)
        );
        assert_eq!(
            ClientMessage::from_json(&big).unwrap_err().code,
            ErrorCode::MessageTooLarge
        );
    }
}
