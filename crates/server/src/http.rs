//! The HTTP side of the one port: health, web client, REST API, WebSocket upgrade.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use deskshare_meeting::{MeetingId, PresenterSecret};
use deskshare_proto::api::{CreateMeeting, CreatedMeeting, ErrorBody, MeetingInfo};
use deskshare_proto::{ErrorCode, WireError};
use tokio::sync::watch;
use url::Url;

use crate::hub::Hub;
use crate::store::{MeetingRecord, Store, unix_now};
use crate::{web, ws};

/// Everything a request handler may need.
pub struct AppState {
    pub store: Store,
    pub hub: Hub,
    pub admin_token: String,
    pub public_url: Url,
    /// Becomes `true` when the server begins shutting down.
    pub shutdown: watch::Receiver<bool>,
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/meetings", post(create_meeting))
        .route("/api/meetings/{id}", get(meeting_info))
        .route("/api/meetings/{id}/ws", get(ws::upgrade))
        .route("/api/errors", get(error_table))
        .merge(web::routes())
        .fallback(|| async { ApiError(WireError::new(ErrorCode::MeetingNotFound, "no such page")) })
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// Headers on every response: a strict CSP (no inline script, nothing from other
/// origins, no framing), no sniffing, no referrer.
async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
             connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

/// An error response: the HTTP status of the code, and a JSON body with code, message
/// and remedy.
pub struct ApiError(pub WireError);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(ErrorBody::from(self.0))).into_response()
    }
}

impl From<WireError> for ApiError {
    fn from(e: WireError) -> Self {
        ApiError(e)
    }
}

/// Logs an internal failure and hides its detail from the client.
pub fn internal(e: impl std::fmt::Display) -> WireError {
    tracing::error!("internal error: {e}");
    WireError::bare(ErrorCode::ServerError)
}

fn check_admin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let want = state.admin_token.as_bytes();
    let ok = given.len() == want.len() && given.bytes().zip(want).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0;
    if ok { Ok(()) } else { Err(WireError::new(ErrorCode::Unauthorized, "missing or wrong bearer token").into()) }
}

/// The viewer join URL of a meeting.
pub fn join_url(base: &Url, id: &MeetingId) -> Url {
    base.join(&format!("m/{id}")).expect("meeting path joins")
}

/// The presenter URL: the join URL with the secret in the fragment, which browsers never
/// send to servers or proxies, so it stays out of access logs.
pub fn presenter_url(base: &Url, id: &MeetingId, secret: &PresenterSecret) -> Url {
    let mut url = join_url(base, id);
    url.set_fragment(Some(&format!("presenter={}", secret.as_str())));
    url
}

async fn create_meeting(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Option<Json<CreateMeeting>>,
) -> Result<(StatusCode, Json<CreatedMeeting>), ApiError> {
    check_admin(&state, &headers)?;
    let req = body.map(|Json(b)| b).unwrap_or(CreateMeeting { title: None, expires_in: None });
    let title =
        req.title.unwrap_or_else(|| "Meeting".into()).chars().filter(|c| !c.is_control()).take(200).collect::<String>();
    let id = MeetingId::generate();
    let secret = PresenterSecret::generate();
    let now = unix_now();
    let record = MeetingRecord {
        id: id.clone(),
        title: title.clone(),
        presenter_secret: secret.hash(),
        created_at: now,
        expires_at: req.expires_in.map(|s| now.saturating_add(s.min(i64::MAX as u64 / 2) as i64)),
    };
    state.store.insert_meeting(&record).await.map_err(internal)?;
    tracing::info!(meeting = %id, "meeting created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedMeeting {
            join_url: join_url(&state.public_url, &id).to_string(),
            presenter_url: presenter_url(&state.public_url, &id, &secret).to_string(),
            id: id.to_string(),
            title,
            expires_at: record.expires_at,
        }),
    ))
}

async fn meeting_info(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<MeetingInfo>, ApiError> {
    let not_found = || ApiError(WireError::new(ErrorCode::MeetingNotFound, "no such meeting"));
    let id = MeetingId::parse(&id).map_err(|_| not_found())?;
    let m = state.store.meeting(&id).await.map_err(internal)?.ok_or_else(not_found)?;
    if m.is_expired(unix_now()) {
        return Err(WireError::bare(ErrorCode::MeetingExpired).into());
    }
    let presence = state.hub.get(&id).map(|l| l.presence()).unwrap_or_default();
    Ok(Json(MeetingInfo {
        id: id.to_string(),
        title: m.title,
        presenter_online: presence.presenter.is_some(),
        viewers: presence.viewers,
    }))
}

/// Every error code with its cause and remedy, so the browser shows the same text as
/// the CLI without keeping its own copy.
async fn error_table() -> Json<serde_json::Value> {
    let map: serde_json::Map<String, serde_json::Value> = ErrorCode::ALL
        .iter()
        .map(|c| (c.as_str().to_string(), serde_json::json!({ "cause": c.cause(), "remedy": c.remedy() })))
        .collect();
    Json(serde_json::Value::Object(map))
}
