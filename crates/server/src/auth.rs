//! Who is calling: the admin token, a signed-in user (session cookie for browsers, bearer
//! token for the CLI), or nobody. Also sign-in (limits in `attempts`, hashing in `hashing`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use deskshare_proto::api::{LoginRequest, LoginResponse, UserInfo};
use deskshare_proto::{ErrorCode, WireError};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::http::{ApiError, AppState, internal};
use crate::store::{MeetingRecord, UserRecord, unix_now};

/// Name of the browser's session cookie.
pub const SESSION_COOKIE: &str = "deskshare_session";
/// How long a sign-in lasts.
const SESSION_SECONDS: i64 = 30 * 24 * 3600;

/// The party making a request.
#[derive(Clone, Debug)]
pub enum Caller {
    /// Holder of the server's admin token.
    AdminToken,
    /// A signed-in user.
    User(UserRecord),
    /// Nobody in particular: a guest.
    Anonymous,
}

impl Caller {
    /// Whether the caller may administer the server.
    pub fn is_admin(&self) -> bool {
        match self {
            Caller::AdminToken => true,
            Caller::User(u) => u.is_admin,
            Caller::Anonymous => false,
        }
    }

    pub fn user(&self) -> Option<&UserRecord> {
        match self {
            Caller::User(u) => Some(u),
            _ => None,
        }
    }

    /// Whether the caller organises `m` (administrators organise every meeting).
    pub fn organises(&self, m: &MeetingRecord) -> bool {
        self.is_admin() || self.user().is_some_and(|u| Some(u.id) == m.organiser_id)
    }

    /// Refuses callers that are not administrators.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self {
            _ if self.is_admin() => Ok(()),
            Caller::Anonymous => Err(WireError::new(ErrorCode::Unauthorized, "sign in or use the admin token").into()),
            _ => Err(WireError::bare(ErrorCode::AdminRequired).into()),
        }
    }
}

/// Compares in constant time.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// Whether the request carries the browser's session cookie.
pub fn has_session_cookie(headers: &HeaderMap) -> bool {
    cookie(headers, SESSION_COOKIE).is_some()
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| kv.trim().strip_prefix(name)?.strip_prefix('='))
}

/// Resolves the caller from the request headers.
pub async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, WireError> {
    // A bearer token is an explicit claim: a wrong one is an error. A stale cookie is
    // not: the browser may join as a guest.
    let (token, explicit) = match (bearer(headers), cookie(headers, SESSION_COOKIE)) {
        (Some(t), _) => (t, true),
        (None, Some(t)) => (t, false),
        (None, None) => return Ok(Caller::Anonymous),
    };
    if explicit && same_secret(token, &state.admin_token) {
        return Ok(Caller::AdminToken);
    }
    match state.store.session_user(&token_hash(token)).await.map_err(internal)? {
        Some(u) if u.disabled => Err(WireError::bare(ErrorCode::AccountDisabled)),
        Some(u) => Ok(Caller::User(u)),
        None if explicit => Err(WireError::new(ErrorCode::Unauthorized, "the token is unknown or expired")),
        None => Ok(Caller::Anonymous),
    }
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        caller(state, &parts.headers).await.map_err(ApiError)
    }
}

/// User names: 1–64 of lowercase letters, digits and `.-_@`; stored lowercase, so
/// "Alice" and "alice" are one account.
pub fn normalise_name(name: &str) -> Result<String, WireError> {
    let n = name.trim().to_lowercase();
    let ok = (1..=64).contains(&n.len())
        && n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_@".contains(c));
    if ok {
        Ok(n)
    } else {
        Err(WireError::new(ErrorCode::ArgumentInvalid, "a user name is 1-64 of a-z, 0-9 and . - _ @"))
    }
}

/// Passwords: at least 8 characters.
pub fn check_password(p: &str) -> Result<(), WireError> {
    if p.chars().count() >= 8 {
        Ok(())
    } else {
        Err(WireError::new(ErrorCode::ArgumentInvalid, "a password has at least 8 characters"))
    }
}

pub fn user_info(u: &UserRecord) -> UserInfo {
    UserInfo { name: u.name.clone(), display_name: u.display_name.clone(), admin: u.is_admin, disabled: u.disabled }
}

/// `POST /api/login`.
#[utoipa::path(post, path = "/api/login", tag = "accounts", request_body = LoginRequest, responses((status = 200, body = LoginResponse, description = "signed in; also sets the session cookie"), (status = 401, body = deskshare_proto::api::ErrorBody, description = "BAD_CREDENTIALS"), (status = 403, body = deskshare_proto::api::ErrorBody, description = "ACCOUNT_DISABLED"), (status = 429, body = deskshare_proto::api::ErrorBody, description = "LOGIN_RATE_LIMITED")))]
pub async fn login(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(req): Json<LoginRequest>,
) -> Result<Response, ApiError> {
    let name: String = req.name.trim().to_lowercase().chars().take(64).collect();
    let delay = state.attempts.before_login(peer.ip(), &name, Instant::now())?;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let user = state.store.user_by_name(&name).await.map_err(internal)?;
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
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = hex::encode(raw);
    state.store.insert_session(&token_hash(&token), user.id, unix_now() + SESSION_SECONDS).await.map_err(internal)?;
    tracing::info!(user = user.name, "signed in");
    let cookie =
        format!("{SESSION_COOKIE}={token}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={SESSION_SECONDS}");
    let mut res = Json(LoginResponse { token, user: user_info(&user) }).into_response();
    res.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(internal)?);
    Ok(res)
}

/// `POST /api/logout`: ends the session and clears the cookie.
#[utoipa::path(post, path = "/api/logout", tag = "accounts", responses((status = 200, description = "signed out; the cookie is cleared")))]
pub async fn logout(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = bearer(&headers).or_else(|| cookie(&headers, SESSION_COOKIE)) {
        state.store.delete_session(&token_hash(token)).await.map_err(internal)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_cookies() {
        assert_eq!(normalise_name(" Alice@Example.org ").unwrap(), "alice@example.org");
        assert!(normalise_name("bad name").is_err());
        assert!(normalise_name("").is_err());
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; deskshare_session=abc; b=2"));
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd") && !same_secret("abc", "ab"));
    }
}
