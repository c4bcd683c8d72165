//! Who is calling: the admin token, a signed-in user (session cookie for browsers, bearer
//! token for the CLI), or nobody; and the checks on names and passwords. Used by every
//! handler; the sign-in handlers themselves are in `auth`.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use deskshare_proto::api::UserInfo;
use deskshare_proto::{ErrorCode, WireError};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{MeetingRecord, UserRecord};

/// Name of the browser's session cookie.
pub const SESSION_COOKIE: &str = "deskshare_session";
/// How long a sign-in lasts.
pub(crate) const SESSION_SECONDS: i64 = 30 * 24 * 3600;

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

pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// Whether the request carries the browser's session cookie.
pub fn has_session_cookie(headers: &HeaderMap) -> bool {
    cookie(headers, SESSION_COOKIE).is_some()
}

pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
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
    match state.store.session_user(&token_hash(token)).await? {
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

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
