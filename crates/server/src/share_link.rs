//! `POST /api/meetings/{id}/share-link` and `GET /download/deskshare`: what the meeting
//! page's "Share my desktop" needs to start the desktop agent as the person who clicked.
//!
//! A browser cannot share with control (it cannot inject input), so sharing a desktop
//! that others may drive takes the agent. The page asks here for a link that names the
//! signed-in person (a [`SharePass`], not their sign-in), opens it through the
//! `deskshare:` handler the agent registers, and shows the same as a command to copy
//! when no handler answers — with the server's own binary to download, since this
//! server *is* that binary.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use deskshare_meeting::admission::{Passcode, decide};
use deskshare_meeting::pass::{SHARE_PASS_LIFETIME_SECONDS, SharePass};
use deskshare_proto::api::ShareLink;
use deskshare_proto::{ErrorCode, Role, ShareKind, WireError};

use crate::error::ApiError;
use crate::identity::Caller;
use crate::service::meetings::load;
use crate::state::AppState;

/// The path the binary is offered at.
pub const DOWNLOAD_PATH: &str = "/download/deskshare";

/// `POST /api/meetings/{id}/share-link`: for a signed-in organiser or presenter of the
/// meeting, a presenter link naming them, the `deskshare:` link that opens the agent
/// with it, and the command to run instead.
#[utoipa::path(post, path = "/api/meetings/{id}/share-link", tag = "meetings", params(("id" = String, Path)), responses((status = 200, body = ShareLink), (status = 401, body = deskshare_proto::api::ErrorBody, description = "UNAUTHORIZED: sign in first"), (status = 403, body = deskshare_proto::api::ErrorBody, description = "NOT_PRESENTER, SHARING_DISABLED")))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ShareLink>, ApiError> {
    let Some(user) = caller.user() else {
        return Err(WireError::new(
            ErrorCode::Unauthorized,
            "sharing your desktop from the page needs you to be signed in (the admin token names nobody)",
        )
        .into());
    };
    let m = load(&state, &id).await?;
    let now = state.clock.now();
    if m.is_expired(now) {
        return Err(WireError::bare(ErrorCode::MeetingExpired).into());
    }
    // The rule a real presenter connection is judged by, for this person, without the
    // meeting's presenter secret: the organiser, a presenter, and the sharing policies.
    let gathered = crate::service::admission::gather(&state, &m, &caller, Role::Presenter).await?;
    let passcode = if m.passcode_hash.is_some() { Passcode::Right } else { Passcode::NotSet };
    let facts = gathered.facts(&m, Some(&user.name), Role::Presenter, ShareKind::Desktop, false, passcode, None);
    decide(&facts).map_err(|code| match code {
        ErrorCode::PresenterSecretInvalid => WireError::new(
            ErrorCode::NotPresenter,
            "only the meeting's organiser and its presenters may share here; ask the organiser to make you a presenter",
        ),
        other => WireError::bare(other),
    })?;
    let pass = SharePass { meeting: m.id.clone(), user: user.id, issued_at: now }.seal(&state.passes);
    let mut link = crate::meetings::join_url(&state.public_url, &m.id);
    link.set_fragment(Some(&format!("share={pass}")));
    let ca = state.certificate_pin.clone();
    Ok(Json(ShareLink {
        open: open_link(link.as_str(), ca.as_deref()),
        command: command(link.as_str(), ca.as_deref()),
        link: link.to_string(),
        ca,
        expires_at: now + SHARE_PASS_LIFETIME_SECONDS,
        download: state
            .public_url
            .join(DOWNLOAD_PATH.trim_start_matches('/'))
            .map(|u| u.to_string())
            .unwrap_or_default(),
    }))
}

/// `deskshare://share?link=…&ca=…`: what the registered handler is opened with.
pub fn open_link(link: &str, ca: Option<&str>) -> String {
    let mut url = url::Url::parse("deskshare://share").expect("a valid URL");
    url.query_pairs_mut().append_pair("link", link);
    if let Some(ca) = ca {
        url.query_pairs_mut().append_pair("ca", ca);
    }
    url.to_string()
}

/// The command a person copies into a terminal. The link has no characters a POSIX
/// shell treats specially inside single quotes, and neither has the pin.
pub fn command(link: &str, ca: Option<&str>) -> String {
    match ca {
        Some(ca) => format!("deskshare share '{link}' --ca {ca}"),
        None => format!("deskshare share '{link}'"),
    }
}

/// `GET /download/deskshare`: this server's own executable, the same one that shares
/// and views (Linux x86-64). Read per request and streamed, so a replaced binary on disk
/// is what is offered after a restart.
pub async fn download() -> Response {
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            return ApiError(WireError::new(ErrorCode::ServerError, format!("own executable: {e}"))).into_response();
        }
    };
    let file = match tokio::fs::File::open(&exe).await {
        Ok(f) => f,
        Err(e) => {
            return ApiError(WireError::new(ErrorCode::ServerError, format!("own executable: {e}"))).into_response();
        }
    };
    let len = file.metadata().await.map(|m| m.len()).ok();
    let mut response = (StatusCode::OK, Body::from_stream(tokio_util::io::ReaderStream::new(file))).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"deskshare\""));
    if let Some(len) = len {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_link_carries_the_link_and_pin_and_the_command_is_shell_safe() {
        let link = "https://h.example:8443/m/0123456789abcdef01234567#share=s1.x.7.1.ab.cd";
        let open = open_link(link, Some("sha256:00ff"));
        let parsed = url::Url::parse(&open).unwrap();
        assert_eq!(parsed.scheme(), "deskshare");
        let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        assert_eq!(pairs, [("link".to_string(), link.to_string()), ("ca".to_string(), "sha256:00ff".to_string())]);
        assert_eq!(command(link, None), format!("deskshare share '{link}'"));
        assert_eq!(command(link, Some("sha256:00ff")), format!("deskshare share '{link}' --ca sha256:00ff"));
    }
}
