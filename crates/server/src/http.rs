//! The HTTP side of the one port: health, web client, REST API, WebSocket upgrade.

use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use deskshare_proto::api::ErrorBody;
use deskshare_proto::{ErrorCode, WireError};
use tokio::sync::watch;
use url::Url;

use crate::hub::Hub;
use crate::store::Store;
use crate::{auth, meetings, openapi, policy, users, web, ws};

/// Everything a request handler may need.
pub struct AppState {
    pub store: Store,
    pub hub: Hub,
    pub admin_token: String,
    pub public_url: Url,
    pub login_limiter: crate::auth::LoginLimiter,
    /// Becomes `true` when the server begins shutting down.
    pub shutdown: watch::Receiver<bool>,
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/login", post(auth::login))
        .route("/api/logout", post(auth::logout))
        .route("/api/me", get(auth::me))
        .route("/api/me/policies", get(policy::mine))
        .route("/api/admin/users", post(users::create).get(users::list))
        .route("/api/admin/users/{name}", patch(users::update))
        .route("/api/admin/policies", get(policy::show).put(policy::set))
        .route("/api/meetings", post(meetings::create).get(meetings::list))
        .route("/api/meetings/{id}", get(meetings::info).patch(meetings::update).delete(meetings::delete))
        .route("/api/meetings/{id}/details", get(meetings::details))
        .route("/api/meetings/{id}/roster", get(meetings::roster))
        .route("/api/meetings/{id}/chat", get(meetings::chat))
        .route("/api/meetings/{id}/participants/{participant}/{action}", post(meetings::act))
        .route("/api/meetings/{id}/end", post(meetings::end))
        .route("/api/meetings/{id}/ws", get(ws::upgrade))
        .route("/api/errors", get(error_table))
        .route("/api/openapi.json", get(openapi::serve))
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

/// Every error code with its cause and remedy, so the browser shows the same text as
/// the CLI without keeping its own copy.
async fn error_table() -> Json<serde_json::Value> {
    let map: serde_json::Map<String, serde_json::Value> = ErrorCode::ALL
        .iter()
        .map(|c| (c.as_str().to_string(), serde_json::json!({ "cause": c.cause(), "remedy": c.remedy() })))
        .collect();
    Json(serde_json::Value::Object(map))
}
