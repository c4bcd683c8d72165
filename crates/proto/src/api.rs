//! REST bodies, shared by the server and its clients so neither can drift.

use serde::{Deserialize, Serialize};

use crate::error::WireError;

/// `POST /api/meetings` request.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateMeeting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Lifetime in seconds; none means the meeting does not expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
}

/// `POST /api/meetings` answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CreatedMeeting {
    pub id: String,
    pub title: String,
    pub join_url: String,
    pub presenter_url: String,
    pub expires_at: Option<i64>,
}

/// `GET /api/meetings/{id}` answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MeetingInfo {
    pub id: String,
    pub title: String,
    pub presenter_online: bool,
    pub viewers: u32,
}

/// Body of every REST error answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// The error inside [`ErrorBody`]: the wire error plus its remedy, for people reading it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorDetail {
    #[serde(flatten)]
    pub error: WireError,
    pub remedy: String,
}

impl From<WireError> for ErrorBody {
    fn from(error: WireError) -> Self {
        let remedy = error.code.remedy().to_string();
        ErrorBody { error: ErrorDetail { error, remedy } }
    }
}
