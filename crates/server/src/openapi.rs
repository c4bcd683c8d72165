//! The OpenAPI description of the REST API, generated from the handlers' annotations and
//! the wire types, served at `/api/openapi.json`.

use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{auth, meetings, policy, users};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "deskshare",
        description = "Desktop and application sharing for meetings. Screens and input travel over the \
                       WebSocket at /api/meetings/{id}/ws (see docs/PROTOCOL.md); this is the REST side. \
                       Errors are {\"error\":{\"code\",\"message\",\"remedy\"}} (docs/ERRORS.md)."
    ),
    paths(
        auth::login, auth::logout, auth::me,
        users::create, users::list, users::update,
        policy::show, policy::set, policy::mine,
        meetings::create, meetings::list, meetings::info, meetings::details, meetings::update,
        meetings::delete, meetings::roster, meetings::chat, meetings::act, meetings::end,
        crate::health::endpoint, crate::reports::receive, crate::reports::diagnose,
        crate::share_link::create, crate::setup::create_first_admin,
    ),
    modifiers(&Security),
    security(("bearer" = []), ("session_cookie" = []))
)]
pub struct ApiDoc;

/// Bearer tokens (admin token or sign-in token) and the browser's session cookie.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::identity::SESSION_COOKIE))),
        );
    }
}

/// `GET /api/openapi.json`.
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_route_is_described() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        for (path, method) in [
            ("/api/login", "post"),
            ("/api/meetings", "post"),
            ("/api/meetings", "get"),
            ("/api/meetings/{id}", "patch"),
            ("/api/meetings/{id}/participants/{participant}/{action}", "post"),
            ("/api/meetings/{id}/share-link", "post"),
            ("/api/admin/policies", "put"),
            ("/api/admin/users/{name}", "patch"),
        ] {
            assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} missing");
        }
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for s in ["MeetingSettings", "MeetingSummary", "ErrorBody", "ErrorCode", "RosterEntry", "PolicyReport"] {
            assert!(schemas.contains_key(s), "schema {s} missing");
        }
        let routes = include_str!("http.rs");
        let described = paths.len();
        let routed = routes.matches(".route(\"/api/").count();
        // Every REST route is described; the two WebSockets (the meeting's and the
        // connection check), the error table and this description itself are the four
        // that are not REST resources.
        assert_eq!(described + 4, routed, "routes in http.rs and paths in the OpenAPI description differ");
    }
}
