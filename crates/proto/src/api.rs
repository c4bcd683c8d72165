//! REST bodies, shared by the server and its clients so neither can drift.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::WireError;

/// A meeting's settings: the body of `POST /api/meetings` (unset fields take their
/// defaults) and of `PATCH /api/meetings/{id}` (only the given fields change; there an
/// empty passcode removes it, `expires_in` of 0 removes the expiry, and `admit` replaces
/// the rules).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MeetingSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Lifetime in seconds; none means the meeting does not expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// Joiners must give this (organisers and presenters need not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passcode: Option<String>,
    /// `off` (default), `guests` or `everyone`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lobby: Option<String>,
    /// Admission rules: `signed-in`, `domain:example.org`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admit: Option<Vec<String>>,
    /// Meeting-level policies by name (`allow-control`: `on`/`off`, `max-participants`: a
    /// number, `unset` to remove). An organiser may only make them stricter than their
    /// own; see `GET /api/me/policies`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<BTreeMap<String, String>>,
}

/// `POST /api/meetings` request.
pub type CreateMeeting = MeetingSettings;
/// `PATCH /api/meetings/{id}` request.
pub type UpdateMeeting = MeetingSettings;

/// `POST /api/meetings` answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedMeeting {
    pub id: String,
    pub title: String,
    pub join_url: String,
    pub presenter_url: String,
    pub expires_at: Option<i64>,
}

/// `POST /api/meetings/{id}/share-link` answer: how this signed-in person shares their
/// desktop with the deskshare agent, as the page offers it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShareLink {
    /// The presenter link for this person: the join URL with `#share=PASS`. The agent
    /// presents with it as them (`deskshare share LINK`); it lasts 12 hours.
    pub link: String,
    /// The same as a `deskshare:` link, which opens the installed agent (its handler
    /// is registered by `deskshare install-handler`, or the first `share`).
    pub open: String,
    /// The command to run when no handler answers, ready to copy.
    pub command: String,
    /// `sha256:HEX` of the server's certificate when it made that certificate itself
    /// (the `--ca` in the command; browsers were told to accept it), else null.
    pub ca: Option<String>,
    /// Unix seconds after which the link no longer lets the agent connect.
    pub expires_at: i64,
    /// Where this server offers its own deskshare binary (Linux x86-64).
    pub download: String,
}

/// `GET /api/meetings/{id}` answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeetingInfo {
    pub id: String,
    pub title: String,
    pub presenter_online: bool,
    pub viewers: u32,
    /// The caller must give the meeting's passcode (its organiser never does).
    pub passcode_required: bool,
    /// People who are not signed in may join.
    pub guests_allowed: bool,
    /// What this caller may do, by the rules a join is decided with.
    pub access: MeetingAccess,
}

/// What the caller of `GET /api/meetings/{id}` may do in the meeting, decided by the same
/// rule as a real join (so a join page or `deskshare doctor` can say beforehand what a
/// join would answer). Each `None` means "allowed"; otherwise the code it is refused with.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeetingAccess {
    /// Joining to watch (a passcode, if the meeting has one, is assumed right).
    pub join: Option<crate::ErrorCode>,
    /// A join would wait in the lobby first.
    pub lobby: bool,
    /// Presenting a desktop: with the presenter secret sent in the
    /// `X-Deskshare-Presenter-Secret` header, or as organiser or presenter.
    pub present: Option<crate::ErrorCode>,
    /// Being handed control of the presenter's mouse and keyboard.
    pub control: Option<crate::ErrorCode>,
}

/// Body of every REST error answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// The error inside [`ErrorBody`]: the wire error plus its remedy, for people reading it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// `POST /api/login` request.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub name: String,
    pub password: String,
}

/// A user as the API shows it (never with its password hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserInfo {
    pub name: String,
    pub display_name: String,
    pub admin: bool,
    pub disabled: bool,
}

/// `POST /api/login` answer. The browser also gets the token as an HttpOnly cookie.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    pub token: String,
    pub user: UserInfo,
}

/// `POST /api/admin/users` request.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub name: String,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default)]
    pub admin: bool,
}

/// `POST /api/setup` request: the first administrator, with the one-time setup code the
/// server printed at its first start.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    pub code: String,
    pub name: String,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// `PATCH /api/admin/users/{name}` request: only the given fields change.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// A meeting in lists and `GET /api/meetings/{id}/details`, for its organiser.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeetingSummary {
    pub id: String,
    pub title: String,
    pub join_url: String,
    pub organiser: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub has_passcode: bool,
    pub lobby: String,
    pub admit: Vec<String>,
    /// The policies in force in this meeting, by name.
    pub policies: BTreeMap<String, String>,
}

/// `PUT /api/admin/policies` body.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetPolicy {
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub meeting: Option<String>,
    pub name: String,
    /// `on`/`off` or a number; `null` removes the setting at this level.
    pub value: Option<String>,
}

/// One policy in a report.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyLine {
    pub name: String,
    pub description: String,
    /// What this level sets, if anything.
    pub set: Option<String>,
    /// What applies (for a meeting: in that meeting; else with no narrower setting).
    pub effective: String,
}

/// `GET /api/admin/policies` answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyReport {
    pub scope: String,
    pub policies: Vec<PolicyLine>,
}
