//! Sign-in, sign-out and "who am I" (limits in `attempts`, hashing in `hashing`; who a
//! request comes from in `identity`).

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use deskshare_proto::api::{LoginRequest, LoginResponse, UserInfo};
use deskshare_proto::{ErrorCode, WireError};
use rand::RngCore;

use crate::error::{ApiError, internal};
use crate::identity::{Caller, SESSION_COOKIE, SESSION_SECONDS, bearer, caller, cookie, token_hash, user_info};
use crate::state::AppState;

/// `POST /api/login`.
#[utoipa::path(post, path = "/api/login", tag = "accounts", request_body = LoginRequest, responses((status = 200, body = LoginResponse, description = "signed in; also sets the session cookie"), (status = 401, body = deskshare_proto::api::ErrorBody, description = "BAD_CREDENTIALS"), (status = 403, body = deskshare_proto::api::ErrorBody, description = "ACCOUNT_DISABLED"), (status = 429, body = deskshare_proto::api::ErrorBody, description = "LOGIN_RATE_LIMITED")))]
pub async fn login(
    State(state): State<Arc<AppState>>,
    crate::forwarded::ClientAddr(client): crate::forwarded::ClientAddr,
    Json(req): Json<LoginRequest>,
) -> Result<Response, ApiError> {
    let name: String = req.name.trim().to_lowercase().chars().take(64).collect();
    let delay = state.attempts.before_login(client, &name, Instant::now())?;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let user = state.store.user_by_name(&name).await?;
    // Verify even for unknown names, so timing does not tell which names exist.
    let ok = match &user {
        Some(u) => state.hasher.verify(req.password, u.password_hash.clone()).await?,
        None => state.hasher.verify_nothing(req.password).await?,
    };
    let user = match user {
        Some(u) if ok => u,
        _ => {
            state.attempts.login_failed(&name, Instant::now());
            return Err(WireError::bare(ErrorCode::BadCredentials).into());
        }
    };
    if user.disabled {
        return Err(WireError::bare(ErrorCode::AccountDisabled).into());
    }
    signed_in(&state, &user).await
}

/// A new sign-in for `user`: the session token in the answer and as the HttpOnly cookie.
pub async fn signed_in(state: &AppState, user: &crate::store::UserRecord) -> Result<Response, ApiError> {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = hex::encode(raw);
    state.store.insert_session(&token_hash(&token), user.id, state.clock.now() + SESSION_SECONDS).await?;
    tracing::info!(user = user.name, "signed in");
    let cookie =
        format!("{SESSION_COOKIE}={token}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={SESSION_SECONDS}");
    let mut res = Json(LoginResponse { token, user: user_info(user) }).into_response();
    res.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(internal)?);
    Ok(res)
}

/// `POST /api/logout`: ends the session and clears the cookie.
#[utoipa::path(post, path = "/api/logout", tag = "accounts", responses((status = 200, description = "signed out; the cookie is cleared")))]
pub async fn logout(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = bearer(&headers).or_else(|| cookie(&headers, SESSION_COOKIE)) {
        state.store.delete_session(&token_hash(token)).await?;
    }
    let mut res = Json(serde_json::json!({ "signed_out": true })).into_response();
    res.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_static(CLEAR_COOKIE));
    Ok(res)
}

/// Removes the session cookie from the browser.
const CLEAR_COOKIE: &str = "deskshare_session=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0";

/// `GET /api/me`. A browser whose session cookie no longer works (expired, signed out
/// elsewhere, account disabled) hears so, with `SESSION_EXPIRED` and the cookie cleared,
/// rather than being quietly treated as a guest.
#[utoipa::path(get, path = "/api/me", tag = "accounts", responses((status = 200, body = UserInfo), (status = 401, body = deskshare_proto::api::ErrorBody, description = "UNAUTHORIZED, or SESSION_EXPIRED for a stale cookie")))]
pub async fn me(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response, ApiError> {
    Ok(match caller(&state, &headers).await? {
        Caller::AdminToken => Json(serde_json::json!({ "admin_token": true })).into_response(),
        Caller::User(u) => Json(user_info(&u)).into_response(),
        Caller::Anonymous if cookie(&headers, SESSION_COOKIE).is_some() => {
            let mut res = ApiError(WireError::bare(ErrorCode::SessionExpired)).into_response();
            res.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_static(CLEAR_COOKIE));
            res
        }
        Caller::Anonymous => return Err(WireError::new(ErrorCode::Unauthorized, "not signed in").into()),
    })
}
