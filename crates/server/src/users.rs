//! `/api/admin/users`: accounts, for administrators (admin token or an admin user).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use deskshare_proto::api::{CreateUser, UpdateUser, UserInfo};
use deskshare_proto::{ErrorCode, WireError};

use crate::error::ApiError;
use crate::identity::{Caller, check_password, normalise_name, user_info};
use crate::state::AppState;
use crate::store::{Sessions, StoreError};

/// `POST /api/admin/users`.
#[utoipa::path(post, path = "/api/admin/users", tag = "admin", request_body = CreateUser, responses((status = 201, body = UserInfo), (status = 403, body = deskshare_proto::api::ErrorBody, description = "ADMIN_REQUIRED"), (status = 409, body = deskshare_proto::api::ErrorBody, description = "USER_EXISTS")))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Json(req): Json<CreateUser>,
) -> Result<(StatusCode, Json<UserInfo>), ApiError> {
    caller.require_admin()?;
    let name = normalise_name(&req.name)?;
    check_password(&req.password)?;
    let display = clean_display_name(req.display_name.as_deref().unwrap_or(&req.name));
    let hash = state.hasher.hash(req.password).await?;
    match state.store.insert_user(&name, &display, &hash, req.admin).await {
        Ok(u) => {
            tracing::info!(user = u.name, admin = u.is_admin, "user created");
            Ok((StatusCode::CREATED, Json(user_info(&u))))
        }
        Err(StoreError::Conflict) => Err(WireError::bare(ErrorCode::UserExists).into()),
        Err(e) => Err(e.into()),
    }
}

/// `GET /api/admin/users`.
#[utoipa::path(get, path = "/api/admin/users", tag = "admin", responses((status = 200, body = Vec<UserInfo>), (status = 403, body = deskshare_proto::api::ErrorBody)))]
pub async fn list(State(state): State<Arc<AppState>>, caller: Caller) -> Result<Json<Vec<UserInfo>>, ApiError> {
    caller.require_admin()?;
    Ok(Json(state.store.users().await?.iter().map(user_info).collect()))
}

/// `PATCH /api/admin/users/{name}`: disable/enable, reset the password, grant admin.
#[utoipa::path(patch, path = "/api/admin/users/{name}", tag = "admin", params(("name" = String, Path)), request_body = UpdateUser, responses((status = 200, body = UserInfo), (status = 404, body = deskshare_proto::api::ErrorBody, description = "USER_NOT_FOUND")))]
pub async fn update(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(name): Path<String>,
    Json(req): Json<UpdateUser>,
) -> Result<Json<UserInfo>, ApiError> {
    caller.require_admin()?;
    let name = normalise_name(&name)?;
    let mut user = state.store.user_by_name(&name).await?.ok_or(ApiError(WireError::bare(ErrorCode::UserNotFound)))?;
    let mut ends = None;
    if let Some(p) = req.password {
        check_password(&p)?;
        user.password_hash = state.hasher.hash(p).await?;
        ends = Some(ErrorCode::SessionExpired);
    }
    if let Some(d) = req.disabled {
        user.disabled = d;
        if d {
            ends = Some(ErrorCode::AccountDisabled);
        }
    }
    if let Some(a) = req.admin {
        user.is_admin = a;
    }
    if let Some(d) = req.display_name {
        user.display_name = clean_display_name(&d);
    }
    let sessions = if ends.is_some() { Sessions::End } else { Sessions::Keep };
    state.store.update_user(&user, sessions).await?;
    tracing::info!(user = user.name, disabled = user.disabled, admin = user.is_admin, "user updated");
    // Ending the sign-ins also ends what they opened: every live connection of the user.
    if let Some(code) = ends {
        let ended = state.hub.disconnect_user(user.id, code);
        tracing::info!(user = user.name, connections = ended, %code, "sign-ins and live connections ended");
    }
    Ok(Json(user_info(&user)))
}

/// A person's display name as others see it.
pub(crate) fn clean_display_name(name: &str) -> String {
    deskshare_proto::text::clean_line(name, 64)
}
