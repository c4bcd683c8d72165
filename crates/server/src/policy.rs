//! Policies on the server: which apply to a meeting, the admin API to show and set them,
//! and applying a change to meetings that are running.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use deskshare_meeting::PolicyName;
use deskshare_proto::api::{PolicyLine, PolicyReport, SetPolicy};
use deskshare_proto::{ErrorCode, WireError};
use serde::Deserialize;

use crate::error::ApiError;
use crate::identity::{Caller, normalise_name};
use crate::service::policies::{by_name, effective, of_user, parse_setting, reapply};
use crate::state::AppState;
use crate::store::{MeetingRecord, PolicyScope};

/// Which level a request is about.
#[derive(Deserialize)]
pub struct ScopeQuery {
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub meeting: Option<String>,
}

/// The level a request is about, and the meeting it concerns, if any.
struct Level {
    scope: PolicyScope,
    meeting: Option<MeetingRecord>,
}

/// Resolves the user or meeting a request names to its level.
async fn level(state: &AppState, user: Option<&str>, meeting: Option<&str>) -> Result<Level, ApiError> {
    match (user, meeting) {
        (Some(_), Some(_)) => {
            Err(WireError::new(ErrorCode::ArgumentInvalid, "give a user or a meeting, not both").into())
        }
        (Some(name), None) => {
            let name = normalise_name(name)?;
            let u = state.store.user_by_name(&name).await?.ok_or(ApiError(WireError::bare(ErrorCode::UserNotFound)))?;
            Ok(Level { scope: PolicyScope::User(u.id), meeting: None })
        }
        (None, Some(id)) => {
            let m = crate::service::meetings::load(state, id).await?;
            Ok(Level { scope: PolicyScope::Meeting(m.id.clone()), meeting: Some(m) })
        }
        (None, None) => Ok(Level { scope: PolicyScope::Global, meeting: None }),
    }
}

/// What is set at a level, and what is in force there.
async fn report(state: &AppState, level: &Level) -> Result<PolicyReport, ApiError> {
    let set = state.store.policy_set(&level.scope).await?;
    let effective = match (&level.meeting, &level.scope) {
        (Some(m), _) => effective(state, m, None).await?,
        (None, PolicyScope::User(id)) => of_user(state, Some(*id)).await?,
        (None, _) => of_user(state, None).await?,
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
    Ok(PolicyReport { scope: level.scope.to_string(), policies })
}

/// `GET /api/admin/policies[?user=NAME|meeting=ID]`.
#[utoipa::path(get, path = "/api/admin/policies", tag = "admin", params(("user" = Option<String>, Query), ("meeting" = Option<String>, Query)), responses((status = 200, body = PolicyReport), (status = 403, body = deskshare_proto::api::ErrorBody)))]
pub async fn show(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(q): Query<ScopeQuery>,
) -> Result<Json<PolicyReport>, ApiError> {
    caller.require_admin()?;
    let level = level(&state, q.user.as_deref(), q.meeting.as_deref()).await?;
    Ok(Json(report(&state, &level).await?))
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
    let level = level(&state, req.user.as_deref(), req.meeting.as_deref()).await?;
    state.store.set_policy(&level.scope, name, value).await?;
    tracing::info!(scope = %level.scope, policy = %name, value = ?value, "policy set");
    reapply(&state).await?;
    Ok(Json(report(&state, &level).await?))
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
