//! The HTTP side of the one port: health, web client, REST API, WebSocket upgrade. Only
//! the routes and the headers every response gets; the state handlers share is in
//! `state`, their error type in `error`, the operations several of them need in
//! `service`.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use deskshare_proto::{ErrorCode, WireError};

use crate::error::ApiError;
use crate::state::AppState;
use crate::{auth, meetings, openapi, policy, reports, users, web, ws};

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/check/ws", get(ws::check::upgrade))
        .route("/metrics", get(crate::metrics::scrape))
        .route("/api/login", post(auth::login))
        .route("/api/setup", post(crate::setup::create_first_admin))
        .route("/api/logout", post(auth::logout))
        .route("/api/me", get(auth::me))
        .route("/api/me/policies", get(policy::mine))
        .route("/api/admin/users", post(users::create).get(users::list))
        .route("/api/admin/users/{name}", patch(users::update))
        .route("/api/admin/health", get(crate::health::endpoint))
        .route("/api/admin/diagnose", get(reports::diagnose))
        .route("/api/reports", post(reports::receive).layer(DefaultBodyLimit::max(reports::MAX_REPORT_BYTES)))
        .route("/api/admin/policies", get(policy::show).put(policy::set))
        .route("/api/meetings", post(meetings::create).get(meetings::list))
        .route("/api/meetings/{id}", get(meetings::info).patch(meetings::update).delete(meetings::delete))
        .route("/api/meetings/{id}/details", get(meetings::details))
        .route("/api/meetings/{id}/roster", get(meetings::roster))
        .route("/api/meetings/{id}/chat", get(meetings::chat))
        .route("/api/meetings/{id}/participants/{participant}/{action}", post(meetings::act))
        .route("/api/meetings/{id}/end", post(meetings::end))
        .route("/api/meetings/{id}/share-link", post(crate::share_link::create))
        .route(crate::share_link::DOWNLOAD_PATH, get(crate::share_link::download))
        .route("/api/meetings/{id}/ws", get(ws::upgrade))
        .route("/api/errors", get(error_table))
        .route("/api/openapi.json", get(openapi::serve))
        .merge(web::routes())
        .fallback(|| async { ApiError(WireError::new(ErrorCode::MeetingNotFound, "no such page")) })
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::origin::guard))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::metrics::count_errors))
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::forwarded::client_addr))
        .layer(axum::middleware::map_response_with_state(state.clone(), date_header))
        .with_state(state)
}

/// `GET /healthz`: "ok", with the server's version in `X-Deskshare-Version` (for
/// `deskshare doctor` and monitoring).
async fn healthz() -> Response {
    let mut res = "ok".into_response();
    res.headers_mut().insert("x-deskshare-version", HeaderValue::from_static(env!("CARGO_PKG_VERSION")));
    res
}

/// The `Date` header from the server's clock (hyper's own reads the system clock), so a
/// client's clock check compares against the time the server acts on.
async fn date_header(axum::extract::State(state): axum::extract::State<Arc<AppState>>, mut res: Response) -> Response {
    if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(state.clock.system_time())) {
        res.headers_mut().insert(header::DATE, v);
    }
    res
}

/// Adds the security headers, keeps API answers out of caches, and turns axum's plain-
/// text rejections into the documented JSON error.
async fn security_headers(mut res: Response) -> Response {
    set_security_headers(res.headers_mut());
    let h = res.headers_mut();
    let content_type = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    // API answers (tokens, rosters, chat) are personal: no cache keeps them.
    if content_type.starts_with("application/json") && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    // axum's own rejections (a body that does not parse, too large, wrong type) are plain
    // text; every error of this API is the documented JSON body.
    let status = res.status();
    if (status.is_client_error() || status.is_server_error()) && content_type.starts_with("text/plain") {
        return rejection_as_json(res).await;
    }
    res
}

async fn rejection_as_json(res: Response) -> Response {
    let status = res.status();
    let detail = axum::body::to_bytes(res.into_body(), 4096).await.unwrap_or_default();
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::MessageTooLarge,
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
        StatusCode::NOT_FOUND => ErrorCode::MeetingNotFound,
        s if s.is_server_error() => ErrorCode::ServerError,
        _ => ErrorCode::MessageMalformed,
    };
    let mut out = ApiError(WireError::new(code, String::from_utf8_lossy(&detail).into_owned())).into_response();
    *out.status_mut() = status;
    set_security_headers(out.headers_mut());
    out.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    out
}

/// Headers on every response: a strict CSP (no inline script, nothing from other
/// origins, no framing), no sniffing, no referrer, HSTS.
fn set_security_headers(h: &mut axum::http::HeaderMap) {
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
    // Everything is served over TLS; a browser that saw this once never tries plain HTTP.
    h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
}

/// Every error code with its cause, its remedy and the hop it is reported at (`null`:
/// not a failure to report), so the browser says what the CLI says and reports what the
/// CLI reports, without keeping its own copy.
async fn error_table() -> Json<serde_json::Value> {
    let map: serde_json::Map<String, serde_json::Value> = ErrorCode::ALL
        .iter()
        .map(|c| {
            let hop = deskshare_proto::report::Hop::of(*c).map(|h| h.as_str());
            (c.as_str().to_string(), serde_json::json!({ "cause": c.cause(), "remedy": c.remedy(), "hop": hop }))
        })
        .collect();
    Json(serde_json::Value::Object(map))
}
