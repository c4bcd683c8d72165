//! Which policies apply: to a meeting (global, the organiser's or presenter's user
//! level, the meeting's own), to a user's new meetings, and checking what an organiser
//! may set. Used by the meeting, policy and session handlers alike.

use std::collections::BTreeMap;

use deskshare_meeting::{Policies, PolicyName};
use deskshare_proto::{ErrorCode, WireError};

use crate::error::ApiError;
use crate::identity::Caller;
use crate::state::AppState;
use crate::store::{MeetingRecord, PolicyScope};

/// The policies in force for `meeting`. The user level is `acting_user`'s when given
/// (a presenter's own sharing policy), else the organiser's.
pub async fn effective(
    state: &AppState,
    meeting: &MeetingRecord,
    acting_user: Option<i64>,
) -> Result<Policies, WireError> {
    let store = &state.store;
    let global = store.policy_set(&PolicyScope::Global).await?;
    let user = match acting_user.or(meeting.organiser_id) {
        Some(id) => store.policy_set(&PolicyScope::User(id)).await?,
        None => Default::default(),
    };
    let m = store.policy_set(&PolicyScope::Meeting(meeting.id.clone())).await?;
    Ok(Policies::resolve(&global, &user, &m))
}

/// Recomputes the policies of every live meeting and hands them over.
pub async fn reapply(state: &AppState) -> Result<(), WireError> {
    for live in state.hub.all() {
        if let Some(m) = state.store.meeting(&live.id).await? {
            live.set_policies(effective(state, &m, None).await?);
        }
    }
    Ok(())
}

/// A policy setting as given: its name, and its value (`None`, or `unset`, removes it).
pub fn parse_setting(name: &str, value: Option<&str>) -> Result<(PolicyName, Option<u32>), ApiError> {
    let bad = |e: deskshare_meeting::PolicyError| ApiError(WireError::new(ErrorCode::ArgumentInvalid, e.to_string()));
    let name: PolicyName = name.parse().map_err(bad)?;
    let value = match value {
        None | Some("unset") => None,
        Some(v) => Some(name.parse_value(v).map_err(bad)?),
    };
    Ok((name, value))
}

/// What a user's meetings get where the meeting sets nothing: the global level bounded
/// with the user level. An organiser may set a meeting stricter than this, never looser.
pub async fn of_user(state: &AppState, user: Option<i64>) -> Result<Policies, WireError> {
    let global = state.store.policy_set(&PolicyScope::Global).await?;
    let user_set = match user {
        Some(id) => state.store.policy_set(&PolicyScope::User(id)).await?,
        None => Default::default(),
    };
    Ok(Policies::resolve(&global, &user_set, &Default::default()))
}

/// Policies by name with their shown values (`on`/`off`, numbers).
pub fn by_name(p: &Policies) -> BTreeMap<String, String> {
    PolicyName::ALL.iter().map(|&n| (n.as_str().to_string(), n.show_value(p.value(n)))).collect()
}

/// Checks the meeting-level policies an organiser asks for; `None` values remove the
/// setting. Administrators may set anything (still bounded by the global level).
pub async fn meeting_settings(
    state: &AppState,
    caller: &Caller,
    wanted: Option<&BTreeMap<String, String>>,
) -> Result<Vec<(PolicyName, Option<u32>)>, ApiError> {
    let Some(wanted) = wanted else { return Ok(Vec::new()) };
    let limits = of_user(state, caller.user().map(|u| u.id)).await?;
    let mut out = Vec::with_capacity(wanted.len());
    for (name, value) in wanted {
        let (name, value) = parse_setting(name, Some(value))?;
        if let Some(v) = value
            && !caller.is_admin()
            && !limits.allows(name, v)
        {
            return Err(WireError::new(
                ErrorCode::PolicyNotAllowed,
                format!(
                    "{name} {} is looser than your own {}",
                    name.show_value(v),
                    name.show_value(limits.value(name))
                ),
            )
            .into());
        }
        out.push((name, value));
    }
    Ok(out)
}
