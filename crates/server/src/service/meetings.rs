//! Operations on meetings that several handlers need: loading one by the id in a URL,
//! and acting on a live meeting's participant (REST and WebSocket alike; the rules are
//! the roster's, in `deskshare-meeting`).

use deskshare_meeting::{MeetingId, ParticipantAction, RoleChanged};
use deskshare_proto::ParticipantId;
use deskshare_proto::{ErrorCode, WireError};

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::MeetingRecord;

/// Loads a meeting by the id in a URL; `MEETING_NOT_FOUND` for a malformed or unknown one.
pub async fn load(state: &AppState, id: &str) -> Result<MeetingRecord, ApiError> {
    let not_found = || ApiError(WireError::new(ErrorCode::MeetingNotFound, "no such meeting"));
    let id = MeetingId::parse(id).map_err(|_| not_found())?;
    state.store.meeting(&id).await?.ok_or_else(not_found)
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
    let changed = live.with_roster(|r, _| r.perform(participant, action)).map_err(|e| WireError::bare(e.into()))?;
    // A signed-in user keeps a role given to them across reconnects and restarts.
    if let Some(RoleChanged { user: Some(user) }) = changed {
        let presenter = action == ParticipantAction::Promote;
        state.store.set_presenter(meeting, user, presenter).await?;
    }
    Ok(())
}

/// Parses the action of a REST path or a `participant` message.
pub fn parse_action(action: &str) -> Result<ParticipantAction, WireError> {
    action.parse().map_err(|e: String| WireError::new(ErrorCode::ArgumentInvalid, e))
}
