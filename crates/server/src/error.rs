//! The error a handler answers with, and how internal failures are hidden.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use deskshare_proto::api::ErrorBody;
use deskshare_proto::{ErrorCode, WireError};

use crate::store::StoreError;

/// An error response: the HTTP status of the code, and a JSON body with code, message
/// and remedy.
pub struct ApiError(pub WireError);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.code.http_status().and_then(|s| StatusCode::from_u16(s).ok());
        let status = status.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = self.0.code;
        let mut res = (status, Json(ErrorBody::from(self.0))).into_response();
        // The code in a header too, for clients that read only heads (`deskshare doctor`)
        // and for proxies' logs.
        res.headers_mut().insert("x-deskshare-error", axum::http::HeaderValue::from_static(code.as_str()));
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

/// Logs an internal failure and hides its detail from the client.
pub fn internal<E: std::fmt::Display>(e: E) -> WireError {
    tracing::error!("internal error: {e}");
    WireError::bare(ErrorCode::ServerError)
}

/// The code of each storage failure (the one mapping, here). A lost or corrupt database
/// has its own code because the operator must act; the rest is a server error whose
/// detail goes to the log, not to the client. A conflict reaches here only where the
/// caller did not expect one (an expected conflict, such as a taken user name, is
/// matched where it happens and given its own code).
impl From<StoreError> for WireError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Lost(_) => {
                tracing::error!("{e}");
                WireError::bare(ErrorCode::StorageLost)
            }
            StoreError::Corrupt { .. } => WireError::new(ErrorCode::DatabaseCorrupt, e.to_string()),
            StoreError::Db(_) | StoreError::BadId(_) | StoreError::Conflict => internal(e),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError(e.into())
    }
}
