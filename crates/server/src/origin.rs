//! Which web pages may act with a user's cookie.
//!
//! The session cookie is `SameSite=Strict`, which keeps it from *cross-site* pages only:
//! a page on the same site but another origin (another port of this host, a sibling
//! subdomain) still sends it. Such a page joined as organiser and ended the meeting.
//! So every cookie-carrying request that changes something (POST, PUT, PATCH, DELETE,
//! and the WebSocket upgrade) must come from this server's own origin: the origin of
//! `--public-url`, the origin the request itself addressed (`https://` + its Host), or
//! one an administrator added with `--allowed-origin`. Browsers always send `Origin` on
//! these requests, so a missing one with a cookie is refused too. Bearer-token clients
//! (the CLI, the agent) carry no ambient credential and are not checked.
//!
//! One exception: a failure report (`POST /api/reports`) from a foreign origin is taken,
//! as anonymous — its cookie is ignored, not obeyed. A page behind a misconfigured
//! reverse proxy has a foreign origin, and its failure is exactly what the report is for.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use deskshare_proto::{ErrorCode, WireError};
use url::Url;

use crate::error::ApiError;
use crate::state::AppState;

/// The origins a browser page may act from.
#[derive(Clone, Debug)]
pub struct Origins {
    allowed: Vec<String>,
}

impl Origins {
    pub fn new(public_url: &Url, extra: &[Url]) -> Self {
        let allowed = std::iter::once(public_url).chain(extra).map(|u| u.origin().ascii_serialization()).collect();
        Origins { allowed }
    }

    /// Whether a request with these headers may act with its cookie.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), WireError> {
        if headers.get(header::AUTHORIZATION).is_some() {
            return Ok(());
        }
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let has_cookie = crate::identity::has_session_cookie(headers);
        match origin {
            None if has_cookie => Err(WireError::new(
                ErrorCode::OriginNotAllowed,
                "a request with the session cookie and no Origin header",
            )),
            None => Ok(()),
            Some(o) if self.allows(o, headers.get(header::HOST).and_then(|h| h.to_str().ok())) => Ok(()),
            Some(o) => Err(WireError::new(
                ErrorCode::OriginNotAllowed,
                format!("requests from {} are not accepted", o.chars().take(100).collect::<String>()),
            )),
        }
    }

    fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = origin.to_ascii_lowercase();
        self.allowed.contains(&origin) || host.is_some_and(|h| origin == format!("https://{}", h.to_ascii_lowercase()))
    }
}

/// Middleware: refuses state-changing requests from foreign origins.
pub async fn guard(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let changes = matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH | Method::DELETE);
    let report = req.uri().path() == "/api/reports";
    if changes
        && !report
        && let Err(e) = state.origins.check(req.headers())
    {
        tracing::info!(code = %e.code, path = req.uri().path(), "refused: {}", e.message);
        return ApiError(e).into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn own_origins_pass_foreign_ones_with_a_cookie_do_not() {
        let o = Origins::new(
            &Url::parse("https://share.example.org/").unwrap(),
            &[Url::parse("https://intranet.example.org").unwrap()],
        );
        let cookie = (header::COOKIE, "deskshare_session=abc");
        let host = (header::HOST, "10.0.0.5:8443");
        assert!(o.check(&headers(&[cookie.clone(), (header::ORIGIN, "https://share.example.org")])).is_ok());
        assert!(o.check(&headers(&[cookie.clone(), (header::ORIGIN, "https://intranet.example.org")])).is_ok());
        assert!(
            o.check(&headers(&[cookie.clone(), host.clone(), (header::ORIGIN, "https://10.0.0.5:8443")])).is_ok(),
            "the origin the request addressed"
        );
        for foreign in
            ["https://share.example.org:8444", "https://evil.example.org", "http://share.example.org", "null"]
        {
            let e = o.check(&headers(&[cookie.clone(), host.clone(), (header::ORIGIN, foreign)])).unwrap_err();
            assert_eq!(e.code, ErrorCode::OriginNotAllowed, "{foreign}");
        }
        assert!(o.check(&headers(std::slice::from_ref(&cookie))).is_err(), "a cookie without an Origin");
        assert!(o.check(&headers(&[])).is_ok(), "no credential, no Origin: a plain client");
        assert!(
            o.check(&headers(&[(header::AUTHORIZATION, "Bearer t"), (header::ORIGIN, "https://evil.example.org")]))
                .is_ok(),
            "bearer clients are not checked"
        );
    }
}
