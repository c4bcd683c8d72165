//! Operations on meetings that several handlers need: loading one by the id in a URL,
//! and acting on a live meeting's participant (REST and WebSocket alike).

use deskshare_meeting::MeetingId;
use deskshare_proto::ParticipantId;
use deskshare_proto::{ErrorCode, WireError};

use crate::error::{ApiError, internal};
use crate::roster::NewRole;
use crate::state::AppState;
use crate::store::MeetingRecord;

/// Loads a meeting by the id in a URL; `MEETING_NOT_FOUND` for a malformed or unknown one.
pub async fn load(state: &AppState, id: &str) -> Result<MeetingRecord, ApiError> {
    let not_found = || ApiError(WireError::new(ErrorCode::MeetingNotFound, "no such meeting"));
    let id = MeetingId::parse(id).map_err(|_| not_found())?;
    state.store.meeting(&id).await.map_err(internal)?.ok_or_else(not_found)
}

/// What an organiser (or, for the lobby, a presenter) can do to a participant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParticipantAction {
    Admit,
    Deny,
    Promote,
    Demote,
    Remove,
}

impl ParticipantAction {
    /// Presenters may decide about the lobby; everything else is the organiser's.
    pub fn presenters_may(self) -> bool {
        matches!(self, ParticipantAction::Admit | ParticipantAction::Deny)
    }
}

impl std::str::FromStr for ParticipantAction {
    type Err = WireError;
    fn from_str(s: &str) -> Result<Self, WireError> {
        Ok(match s {
            "admit" => ParticipantAction::Admit,
            "deny" => ParticipantAction::Deny,
            "promote" => ParticipantAction::Promote,
            "demote" => ParticipantAction::Demote,
            "remove" => ParticipantAction::Remove,
            other => {
                return Err(WireError::new(
                    ErrorCode::ArgumentInvalid,
                    format!("unknown action '{other}' (admit, deny, promote, demote, remove)"),
                ));
            }
        })
    }
}

/// Carries out an action on a live meeting's participant (authorisation is the caller's
/// business: REST checks the signed-in user, the WebSocket the connection's role).
pub async fn perform(
    state: &AppState,
    meeting: &MeetingId,
    live: &crate::hub::LiveMeeting,
    participant: ParticipantId,
    action: ParticipantAction,
) -> Result<(), WireError> {
    let gone = || WireError::bare(ErrorCode::ParticipantNotFound);
    match action {
        ParticipantAction::Admit | ParticipantAction::Deny => {
            if !live.decide_lobby(participant, action == ParticipantAction::Admit) {
                return Err(gone());
            }
        }
        ParticipantAction::Promote | ParticipantAction::Demote => {
            let promote = action == ParticipantAction::Promote;
            let role = if promote { NewRole::Presenter } else { NewRole::Attendee };
            let changed = live.set_role(participant, role).ok_or_else(gone)?;
            // A signed-in user keeps the role across reconnects and restarts.
            if let Some(user) = changed.user {
                state.store.set_presenter(meeting, user, promote).await.map_err(internal)?;
            }
        }
        ParticipantAction::Remove => {
            if !live.remove(participant) {
                return Err(gone());
            }
        }
    }
    Ok(())
}
