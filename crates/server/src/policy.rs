//! Policies on the server: which apply to a meeting, the admin API to show and set them,
//! and applying a change to meetings that are running.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use deskshare_meeting::{Policies, PolicyName};
use deskshare_proto::api::{PolicyLine, PolicyReport, SetPolicy};
use deskshare_proto::{ErrorCode, WireError};
use serde::Deserialize;

use crate::auth::{Caller, normalise_name};
use crate::http::{ApiError, AppState, internal};
use crate::store::MeetingRecord;

/// The policies in force for `meeting`. The user level is `acting_user`'s when given
/// (a presenter's own sharing policy), else the organiser's.
pub async fn effective(
    state: &AppState,
    meeting: &MeetingRecord,
    acting_user: Option<i64>,
) -> Result<Policies, WireError> {
    let store = &state.store;
    let global = store.policy_set("global").await.map_err(internal)?;
    let user = match acting_user.or(meeting.organiser_id) {
        Some(id) => store.policy_set(&format!("user:{id}")).await.map_err(internal)?,
        None => Default::default(),
    };
    let m = store.policy_set(&format!("meeting:{}", meeting.id)).await.map_err(internal)?;
    Ok(Policies::resolve(&global, &user, &m))
}

/// Which level a request is about.
#[derive(Deserialize)]
pub struct ScopeQuery {
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub meeting: Option<String>,
}

/// Resolves a scope to its storage key, and the meeting it concerns, if any.
async fn scope(
    state: &AppState,
    user: Option<&str>,
    meeting: Option<&str>,
) -> Result<(String, Option<MeetingRecord>, Option<i64>), ApiError> {
    match (user, meeting) {
        (Some(_), Some(_)) => {
            Err(WireError::new(ErrorCode::ArgumentInvalid, "give a user or a meeting, not both").into())
        }
        (Some(name), None) => {
            let name = normalise_name(name)?;
            let u = state
                .store
                .user_by_name(&name)
                .await
                .map_err(internal)?
                .ok_or(ApiError(WireError::bare(ErrorCode::UserNotFound)))?;
            Ok((format!("user:{}", u.id), None, Some(u.id)))
        }
        (None, Some(id)) => {
            let m = crate::meetings::load(state, id).await?;
            Ok((format!("meeting:{}", m.id), Some(m), None))
        }
        (None, None) => Ok(("global".to_string(), None, None)),
    }
}

async fn report(
    state: &AppState,
    key: String,
    meeting: Option<MeetingRecord>,
    user: Option<i64>,
) -> Result<PolicyReport, ApiError> {
    let set = state.store.policy_set(&key).await.map_err(internal)?;
    let effective = match &meeting {
        Some(m) => effective(state, m, None).await?,
        None => of_user(state, user).await?,
    };
    let policies = PolicyName::ALL
        .iter()
        .map(|&n| PolicyLine {
            name: n.as_str().to_string(),
            description: n.description().to_string(),
            set: set.get(n).map(|v| n.show_value(v)),
            effective: n.show_value(effective.value(n)),
        })
        .collect();
    Ok(PolicyReport { scope: key, policies })
}

/// `GET /api/admin/policies[?user=NAME|meeting=ID]`.
#[utoipa::path(get, path = "/api/admin/policies", tag = "admin", params(("user" = Option<String>, Query), ("meeting" = Option<String>, Query)), responses((status = 200, body = PolicyReport), (status = 403, body = deskshare_proto::api::ErrorBody)))]
pub async fn show(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(q): Query<ScopeQuery>,
) -> Result<Json<PolicyReport>, ApiError> {
    caller.require_admin()?;
    let (key, meeting, user) = scope(&state, q.user.as_deref(), q.meeting.as_deref()).await?;
    Ok(Json(report(&state, key, meeting, user).await?))
}

/// `PUT /api/admin/policies`: sets one policy at one level, then applies the change to
/// every running meeting it touches (turning control off revokes the current grant).
#[utoipa::path(put, path = "/api/admin/policies", tag = "admin", request_body = SetPolicy, responses((status = 200, body = PolicyReport), (status = 400, body = deskshare_proto::api::ErrorBody, description = "ARGUMENT_INVALID")))]
pub async fn set(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Json(req): Json<SetPolicy>,
) -> Result<Json<PolicyReport>, ApiError> {
    caller.require_admin()?;
    let (name, value) = parse_setting(&req.name, req.value.as_deref())?;
    let (key, meeting, user) = scope(&state, req.user.as_deref(), req.meeting.as_deref()).await?;
    state.store.set_policy(&key, name, value).await.map_err(internal)?;
    tracing::info!(scope = key, policy = %name, value = ?value, "policy set");
    reapply(&state).await?;
    Ok(Json(report(&state, key, meeting, user).await?))
}

/// Recomputes the policies of every live meeting and hands them over.
pub async fn reapply(state: &AppState) -> Result<(), WireError> {
    for live in state.hub.all() {
        if let Some(m) = state.store.meeting(&live.id).await.map_err(internal)? {
            live.set_policies(effective(state, &m, None).await?);
        }
    }
    Ok(())
}

/// A policy setting as given: its name, and its value (`None`, or `unset`, removes it).
fn parse_setting(name: &str, value: Option<&str>) -> Result<(PolicyName, Option<u32>), ApiError> {
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
    let global = state.store.policy_set("global").await.map_err(internal)?;
    let user_set = match user {
        Some(id) => state.store.policy_set(&format!("user:{id}")).await.map_err(internal)?,
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

/// `GET /api/me/policies`: what the caller's meetings get by default, and the loosest
/// they may set; the home page's meeting form starts from it.
#[utoipa::path(get, path = "/api/me/policies", tag = "account", responses((status = 200, body = BTreeMap<String, String>), (status = 401, body = deskshare_proto::api::ErrorBody)))]
pub async fn mine(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<BTreeMap<String, String>>, ApiError> {
    if matches!(caller, Caller::Anonymous) {
        return Err(WireError::new(ErrorCode::Unauthorized, "sign in to see your policies").into());
    }
    Ok(Json(by_name(&of_user(&state, caller.user().map(|u| u.id)).await?)))
}
