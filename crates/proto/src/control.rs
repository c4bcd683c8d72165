//! JSON control messages, sent as WebSocket text messages.
//!
//! Each message is an object with a `"type"` field. Unknown types and unknown fields in
//! known types are rejected, so a typo never passes silently.

use serde::{Deserialize, Serialize};

use crate::MAX_CONTROL_BYTES;
use crate::error::{ErrorCode, WireError};
use crate::ids::{GrantId, ParticipantId};

/// What a connection wants to be in the meeting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sends the screen. Needs the meeting's presenter secret.
    Presenter,
    /// Receives the screen.
    Viewer,
}

/// What the presenter's agent does when someone asks for control.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlPolicy {
    /// Ask the presenter's user each time.
    Ask,
    /// Grant every request (kiosk, tests, a helpdesk machine).
    Auto,
    /// Never allow control.
    Never,
}

/// Why a grant ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokeReason {
    /// The controller gave control back.
    Released,
    /// The controller's connection ended.
    ControllerLeft,
    /// The presenter stopped sharing.
    PresenterLeft,
    /// The presenter pressed the take-back hotkey.
    Hotkey,
    /// The presenter's own mouse or keyboard moved.
    LocalInput,
    /// The presenter took control back another way (e.g. the agent's own command).
    Presenter,
    /// A policy change no longer allows this participant to control.
    Policy,
}

/// What a presenter shares, for the sharing policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareKind {
    /// The whole desktop or one monitor.
    Desktop,
    /// One program's window.
    Program,
}

/// Most input events one message may carry.
pub const MAX_INPUT_EVENTS: usize = 256;

/// One input event from a controller. Coordinates are in the shared area's pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum InputEvent {
    Move {
        x: i32,
        y: i32,
    },
    /// X button number: 1 left, 2 middle, 3 right, 8/9 back/forward.
    Button {
        button: u8,
        down: bool,
    },
    /// Wheel notches; positive `dy` scrolls down, positive `dx` right.
    Wheel {
        dx: i32,
        dy: i32,
    },
    /// A key by X keysym (so keyboard layouts work), pressed or released.
    Key {
        keysym: u32,
        down: bool,
    },
}

impl InputEvent {
    /// Checks ranges a well-behaved client never leaves.
    pub fn validate(&self) -> Result<(), WireError> {
        let bad = |what: &str| Err(WireError::new(ErrorCode::MessageMalformed, format!("input event: {what}")));
        match *self {
            InputEvent::Move { x, y } if x.unsigned_abs() > 65_535 || y.unsigned_abs() > 65_535 => {
                bad("coordinates out of range")
            }
            InputEvent::Button { button, .. } if !(1..=9).contains(&button) || (4..=7).contains(&button) => {
                bad("button must be 1-3 or 8-9 (the wheel has its own event)")
            }
            InputEvent::Wheel { dx, dy } if dx.abs() > 100 || dy.abs() > 100 => bad("wheel step out of range"),
            InputEvent::Key { keysym, .. } if keysym == 0 || keysym > 0x1fff_ffff => bad("keysym out of range"),
            _ => Ok(()),
        }
    }
}

/// A participant's role in the meeting (not what its connection does).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MeetingRole {
    Organiser,
    Presenter,
    Attendee,
}

/// One line of the roster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RosterEntry {
    pub participant: ParticipantId,
    pub name: String,
    pub role: MeetingRole,
    /// Joined without signing in.
    pub guest: bool,
    /// This connection sends the screen.
    pub presenting: bool,
    /// Waiting to be admitted.
    pub in_lobby: bool,
}

/// A participant as shown in rosters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub participant: ParticipantId,
    pub name: String,
}

/// Longest chat message, in characters.
pub const MAX_CHAT_CHARS: usize = 2000;

/// How many of those waiting for control a `control` message names: it must not grow with
/// the meeting.
pub const CONTROL_QUEUE_SHOWN: usize = 20;

/// One chat message, as kept with the meeting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatLine {
    /// Increasing within a meeting; clients use it to drop duplicates after a reconnect.
    pub id: i64,
    /// Seconds since the Unix epoch.
    pub at: i64,
    /// The author's display name when it was sent.
    pub from: String,
    /// The author was a guest (not signed in).
    pub guest: bool,
    pub text: String,
}

/// A participant and the proof of being it: the `key` of its welcome. A presenter
/// connection shows it to present for that participant, a returning client to rejoin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnBehalf {
    pub participant: ParticipantId,
    /// The `key` of that participant's welcome.
    pub key: String,
}

/// Messages a client (agent, CLI viewer or browser) sends to the server.
///
/// `Hello` is much larger than the rest (a quarter of a kilobyte): it comes once per
/// connection and lives for one parse, so boxing its fields would buy nothing but
/// indirection in every place that reads them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[allow(clippy::large_enum_variant)]
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
        /// Presenter: what its agent does with control requests (default: never).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        control: Option<ControlPolicy>,
        /// The meeting's passcode, if it has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        passcode: Option<String>,
        /// Presenter: what it shares (default desktop), checked against the policies.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        share: Option<ShareKind>,
        /// Presenter: present as this admitted participant, proven with the key from its
        /// welcome. The browser presents over a second connection this way; it is how a
        /// guest the organiser made a presenter presents.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on_behalf: Option<OnBehalf>,
        /// Back after a dropped connection or a reload: the participant id and `key` of
        /// the earlier welcome. Within two minutes of leaving, the lobby is skipped and a
        /// presenter role given in the meeting is kept.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rejoin: Option<OnBehalf>,
        /// Back after the server restarted: the `pass` of the earlier welcome. For two
        /// minutes after the server starts, a pass it issued before skips the lobby and
        /// the passcode (unless the organiser removed its holder) and keeps a presenter
        /// role the organiser gave.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pass: Option<String>,
        /// Presenter: take over from whoever presents now. Without it, a presenter
        /// connection while someone else presents is refused with `PRESENTER_ACTIVE`
        /// (naming them), so nothing is replaced without the person choosing to.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        replace: bool,
        /// Join as a guest even if the request carries a sign-in (a browser whose account
        /// was refused, or a person who wants to join under another name).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        as_guest: bool,
        /// Video codecs this client decodes (`"vp9"`, `"vp8"`); a viewer that does not
        /// decode a stream's codec gets its area as JPEG.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        video: Vec<String>,
        /// Presenter: a share pass (`#share=` of a link the page's "Share my desktop"
        /// made): present as the signed-in user it names, in the meeting it names, as
        /// that user's own sign-in would. Lets the desktop agent, opened from the page,
        /// appear as the person sharing rather than as an anonymous presenter.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        share_pass: Option<String>,
    },
    /// A viewer has drawn every frame up to and including `frame`.
    Ack { frame: u64 },
    /// A viewer asks to control the presenter's mouse and keyboard.
    RequestControl,
    /// The controller gives control back, or a waiting viewer stops waiting.
    ReleaseControl,
    /// The controller's input. Dropped unless the sender holds the floor.
    Input { events: Vec<InputEvent> },
    /// Presenter agent: its user's answer to [`ServerMessage::ControlAsk`].
    ControlDecision { grant: GrantId, granted: bool },
    /// Presenter agent: it took control back.
    ControlRevoke { grant: GrantId, reason: RevokeReason },
    /// The person presenting, from their meeting page: their answer to
    /// [`ServerMessage::ConsentAsk`]. The server passes it to the agent, which takes it
    /// only for a question it is asking (the first answer wins).
    ConsentAnswer { grant: GrantId, granted: bool },
    /// The person presenting (or an organiser), from the meeting page: end the running
    /// grant now. The agent's hotkey and local input remain the final word.
    TakeBack,
    /// The person presenting with the desktop agent, from their meeting page: stop that
    /// share (the agent ends with `PRESENTING_STOPPED`).
    StopPresenting,
    /// Organiser (presenters too, for the lobby): `admit`, `deny`, `promote`, `demote`
    /// or `remove` a participant.
    Participant { participant: ParticipantId, action: String },
    /// Organiser: end the meeting for everyone.
    EndMeeting,
    /// A chat message to everyone in the meeting (at most [`MAX_CHAT_CHARS`]).
    Chat { text: String },
    /// An attendee of a large meeting opens (`true`) or closes the full participant list.
    RosterView { full: bool },
}

/// Messages the server sends to a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServerMessage {
    /// Answer to a good hello.
    Welcome {
        protocol: u32,
        /// This connection's id within the meeting.
        participant: ParticipantId,
        meeting: String,
        title: String,
        /// Whether a presenter is connected right now.
        presenter_online: bool,
        /// This participant's own role in the meeting.
        role: MeetingRole,
        /// Lets a second connection present for this participant (see `hello.on_behalf`),
        /// while it is a presenter. Never shown to anyone else.
        key: String,
        /// An admission pass, sent back as `hello.pass` after a server restart (see
        /// there). Never shown to anyone else.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pass: Option<String>,
        /// Video codecs the server decodes: a presenter may send video streams in these.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        video: Vec<String>,
    },
    /// To the presenter: make the next chunk of every video stream a keyframe (a viewer
    /// joined or fell behind and waits for one).
    VideoKeyframe,
    /// The presenter connected or left.
    Presenter { online: bool },
    /// How many viewers are connected; sent to everyone when it changes.
    Viewers { count: u32 },
    /// One page of the roster, sent after the welcome and whenever the list a
    /// participant sees starts over (its role changed, it asked for the full list, the
    /// meeting grew past the size where attendees see everyone). Pages come in participant
    /// order; `more` says another follows; the list is complete at the page without it.
    /// Organisers and presenters see everyone, the lobby included; attendees of a large
    /// meeting (`full: false`) see the people who matter (organisers, presenters, the
    /// controller, those asking for control, chat authors) and the counts.
    Roster {
        participants: Vec<RosterEntry>,
        /// People in the meeting (the lobby not included).
        people: u32,
        /// People waiting in the lobby: told to organisers and presenters only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lobby: Option<u32>,
        /// The list is everyone (not the short list of a large meeting).
        full: bool,
        more: bool,
    },
    /// Changes to the list since the last `roster` or `roster_delta`: add or replace the
    /// lines in `joined` and `changed`, drop the ids in `left` (ids not in the list are
    /// ignored). A participant is in at most one of them. Also sent for new counts alone.
    RosterDelta {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        joined: Vec<RosterEntry>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        changed: Vec<RosterEntry>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        left: Vec<ParticipantId>,
        people: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lobby: Option<u32>,
    },
    /// You are in the lobby until an organiser or presenter admits you.
    Lobby,
    /// Chat: the meeting's history after the welcome, then each new message.
    Chat { messages: Vec<ChatLine> },
    /// Who controls and who waits; sent to everyone on every change.
    Control {
        controller: Option<Person>,
        /// The first [`CONTROL_QUEUE_SHOWN`] waiting, in order.
        queue: Vec<Person>,
        /// How many wait in all (the queue shown may be shorter).
        #[serde(default)]
        queued: u32,
        /// Set when a grant just ended, saying why.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ended: Option<RevokeReason>,
    },
    /// To the presenter's agent: may `requester` control, under `grant`?
    ControlAsk { grant: GrantId, requester: Person },
    /// To the presenter's agent: the grant (or the question about it) is over.
    ControlEnd { grant: GrantId },
    /// To the meeting pages of the person presenting (their agent asks them): may
    /// `requester` control, under `grant`? Answered with `consent_answer`.
    ConsentAsk { grant: GrantId, requester: Person },
    /// To the same pages: the question about `grant` is over (answered anywhere,
    /// withdrawn or timed out).
    ConsentDone { grant: GrantId },
    /// To the presenter's agent: the person presenting answered from their meeting page.
    /// Taken only for the question the agent is asking under `grant`.
    ConsentAnswer { grant: GrantId, granted: bool },
    /// To the presenter's agent: the controller's input, under `grant`.
    Input { grant: GrantId, events: Vec<InputEvent> },
    /// A request was refused; the session goes on.
    Refused { code: ErrorCode, message: String },
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
        ServerMessage::Error { code: err.code, message: err.message.clone() }
    }
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, WireError> {
    if text.len() > MAX_CONTROL_BYTES {
        return Err(WireError::new(
            ErrorCode::MessageTooLarge,
            format!("control message of {} bytes exceeds {MAX_CONTROL_BYTES}", text.len()),
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
            protocol: 2,
            role: Role::Presenter,
            name: Some("Ana".into()),
            secret: Some("s3cret".into()),
            client: None,
            control: Some(ControlPolicy::Ask),
            passcode: None,
            share: None,
            on_behalf: None,
            rejoin: None,
            pass: None,
            replace: false,
            as_guest: false,
            video: vec![],
            share_pass: None,
        };
        let json = hello.to_json();
        assert_eq!(
            json,
            r#"{"type":"hello","protocol":2,"role":"presenter","name":"Ana","secret":"s3cret","control":"ask"}"#
        );
        assert_eq!(ClientMessage::from_json(&json).unwrap(), hello);
    }

    #[test]
    fn control_messages_round_trip_and_input_is_range_checked() {
        let input = ClientMessage::Input {
            events: vec![
                InputEvent::Move { x: 10, y: 20 },
                InputEvent::Button { button: 1, down: true },
                InputEvent::Wheel { dx: 0, dy: -2 },
                InputEvent::Key { keysym: 0x61, down: false },
            ],
        };
        let json = input.to_json();
        assert!(json.contains(r#"{"kind":"move","x":10,"y":20}"#), "{json}");
        assert_eq!(ClientMessage::from_json(&json).unwrap(), input);
        assert_eq!(ClientMessage::from_json(r#"{"type":"request_control"}"#).unwrap(), ClientMessage::RequestControl);
        let state = ServerMessage::Control {
            controller: Some(Person { participant: ParticipantId(2), name: "Bo".into() }),
            queue: vec![],
            queued: 0,
            ended: Some(RevokeReason::Hotkey),
        };
        assert_eq!(ServerMessage::from_json(&state.to_json()).unwrap(), state);
        let delta = ServerMessage::RosterDelta {
            joined: vec![],
            changed: vec![],
            left: vec![ParticipantId(3)],
            people: 4,
            lobby: None,
        };
        assert_eq!(delta.to_json(), r#"{"type":"roster_delta","left":[3],"people":4}"#);
        assert_eq!(ServerMessage::from_json(&delta.to_json()).unwrap(), delta);
        assert_eq!(
            ClientMessage::from_json(r#"{"type":"roster_view","full":true}"#).unwrap(),
            ClientMessage::RosterView { full: true }
        );
        assert!(InputEvent::Button { button: 4, down: true }.validate().is_err(), "wheel buttons go through Wheel");
        assert!(InputEvent::Move { x: 1 << 20, y: 0 }.validate().is_err());
        assert!(InputEvent::Key { keysym: 0, down: true }.validate().is_err());
        assert!(InputEvent::Wheel { dx: 0, dy: 1000 }.validate().is_err());
        assert!(InputEvent::Key { keysym: 0x61, down: true }.validate().is_ok());
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
        let big = format!(r#"{{"type":"ack","frame":1,"pad":"{}"}}"#, "a".repeat(MAX_CONTROL_BYTES));
        assert_eq!(ClientMessage::from_json(&big).unwrap_err().code, ErrorCode::MessageTooLarge);
    }
}
