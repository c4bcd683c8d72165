//! The error a handler answers with, and how internal failures are hidden.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use deskshare_proto::api::ErrorBody;
use deskshare_proto::{ErrorCode, WireError};

/// An error response: the HTTP status of the code, and a JSON body with code, message
/// and remedy.
pub struct ApiError(pub WireError);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.code.http_status().and_then(|s| StatusCode::from_u16(s).ok());
        let status = status.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = self.0.code;
        let mut res = (status, Json(ErrorBody::from(self.0))).into_response();
        // For the error counters of /metrics.
        res.extensions_mut().insert(code);
        res
    }
}

impl From<WireError> for ApiError {
    fn from(e: WireError) -> Self {
        ApiError(e)
    }
}

/// Logs an internal failure and hides its detail from the client. A lost database is the
/// one internal failure with its own code (`STORAGE_LOST`): the operator must act.
pub fn internal<E: std::fmt::Display + 'static>(e: E) -> WireError {
    if let Some(crate::store::StoreError::Lost(_)) = (&e as &dyn std::any::Any).downcast_ref() {
        return WireError::bare(ErrorCode::StorageLost);
    }
    tracing::error!("internal error: {e}");
    WireError::bare(ErrorCode::ServerError)
}
