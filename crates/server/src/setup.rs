//! First start: a one-time link that lets the first administrator set a password in a
//! browser, instead of a command with the admin token.
//!
//! While the server has no administrator, each start makes a new random code (128 bits)
//! and prints `https://HOST/setup#CODE`; only its hash is kept, in memory. The code is
//! used up by the first administrator made with it, and dies with the process; once an
//! administrator exists no code is made. The fragment never reaches access logs.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use deskshare_meeting::{PresenterSecret, SecretHash};
use deskshare_proto::api::SetupRequest;
use deskshare_proto::{ErrorCode, WireError};

use crate::error::ApiError;
use crate::identity::{check_password, normalise_name};
use crate::state::AppState;
use crate::store::StoreError;

/// The setup code of this start, until used.
#[derive(Default)]
pub struct SetupCode(Mutex<Option<SecretHash>>);

impl SetupCode {
    /// A new code (returned once, to be printed), its hash kept.
    pub fn issue(&self) -> String {
        let code = PresenterSecret::generate();
        *self.0.lock().expect("setup lock") = Some(code.hash());
        code.as_str().to_string()
    }

    fn matches(&self, code: &str) -> bool {
        let code = PresenterSecret::from_string(code.chars().take(128).collect());
        self.0.lock().expect("setup lock").as_ref().is_some_and(|h| h.matches(&code))
    }

    /// Uses the code up if it is `code`; says whether it was.
    fn take(&self, code: &str) -> bool {
        let given = PresenterSecret::from_string(code.chars().take(128).collect());
        let mut slot = self.0.lock().expect("setup lock");
        match slot.take() {
            Some(h) if h.matches(&given) => true,
            other => {
                *slot = other;
                false
            }
        }
    }

    fn restore(&self, code: &str) {
        *self.0.lock().expect("setup lock") = Some(PresenterSecret::from_string(code.to_string()).hash());
    }
}

fn invalid() -> ApiError {
    WireError::bare(ErrorCode::SetupLinkInvalid).into()
}

/// `POST /api/setup`: makes the first administrator and signs them in.
#[utoipa::path(post, path = "/api/setup", tag = "accounts", request_body = SetupRequest, responses((status = 200, body = deskshare_proto::api::LoginResponse, description = "the administrator was made and is signed in (cookie set)"), (status = 403, body = deskshare_proto::api::ErrorBody, description = "SETUP_LINK_INVALID")))]
pub async fn create_first_admin(
    State(state): State<Arc<AppState>>,
    Json(req): Json<SetupRequest>,
) -> Result<Response, ApiError> {
    // Checked first and cheaply: a wrong code costs no password hashing.
    if !state.setup.matches(&req.code) {
        return Err(invalid());
    }
    if state.store.users().await?.iter().any(|u| u.is_admin) {
        return Err(invalid());
    }
    let name = normalise_name(&req.name)?;
    check_password(&req.password)?;
    let display = crate::users::clean_display_name(req.display_name.as_deref().unwrap_or(&req.name));
    let hash = state.hasher.hash(req.password).await?;
    // Two tabs with the same link: one wins.
    if !state.setup.take(&req.code) {
        return Err(invalid());
    }
    let user = match state.store.insert_user(&name, &display, &hash, true).await {
        Ok(u) => u,
        Err(e) => {
            state.setup.restore(&req.code);
            return Err(match e {
                StoreError::Conflict => WireError::bare(ErrorCode::UserExists).into(),
                other => other.into(),
            });
        }
    };
    tracing::info!(user = user.name, "first administrator made with the setup link");
    crate::auth::signed_in(&state, &user).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_works_once_and_only_itself() {
        let setup = SetupCode::default();
        assert!(!setup.matches("anything"), "no code before one is issued");
        let code = setup.issue();
        assert!(code.len() >= 32, "{code}");
        assert!(!setup.matches("wrong") && !setup.take("wrong"));
        assert!(setup.matches(&code));
        assert!(setup.take(&code));
        assert!(!setup.matches(&code) && !setup.take(&code), "used up");
        setup.restore(&code);
        assert!(setup.take(&code), "given back when making the user failed");
        let again = setup.issue();
        assert!(!setup.matches(&code) || again == code, "a new start's code replaces the old");
    }
}
