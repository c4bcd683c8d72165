//! `/api/meetings`: create, list, show, update and delete meetings.

use deskshare_proto::ParticipantId;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use deskshare_meeting::{AdmissionRule, Audience, LobbyMode, MeetingId, ParticipantAction, PresenterSecret};
use deskshare_proto::api::{CreateMeeting, CreatedMeeting, MeetingAccess, MeetingInfo, MeetingSummary, UpdateMeeting};
use deskshare_proto::{ErrorCode, MeetingRole, WireError};
use url::Url;

use crate::error::ApiError;
use crate::identity::Caller;
use crate::service::meetings::{load, parse_action, perform};
use crate::state::AppState;
use crate::store::{MeetingRecord, PolicyScope};

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

fn parse_lobby(s: Option<&str>) -> Result<Option<LobbyMode>, WireError> {
    s.map(|s| s.parse().map_err(|e: String| WireError::new(ErrorCode::ArgumentInvalid, e))).transpose()
}

fn parse_rules(rules: Option<&[String]>) -> Result<Option<Vec<AdmissionRule>>, WireError> {
    rules
        .map(|rs| {
            rs.iter().map(|r| r.parse().map_err(|e: String| WireError::new(ErrorCode::ArgumentInvalid, e))).collect()
        })
        .transpose()
}

fn clean_title(t: &str) -> String {
    deskshare_proto::text::clean_line(t, 200)
}

fn expiry(now: i64, seconds: u64) -> Option<i64> {
    (seconds > 0).then(|| now.saturating_add(seconds.min(i64::MAX as u64 / 2) as i64))
}

/// Passcodes are short and guessable, so they get a slow hash like passwords.
async fn passcode_hash(state: &AppState, p: Option<String>) -> Result<Option<String>, WireError> {
    match p.filter(|p| !p.is_empty()) {
        Some(p) if p.chars().count() > 128 => {
            Err(WireError::new(ErrorCode::ArgumentInvalid, "a passcode has at most 128 characters"))
        }
        Some(p) => Ok(Some(state.hasher.hash(p).await?)),
        None => Ok(None),
    }
}

/// `POST /api/meetings`: a signed-in user becomes the organiser; with the admin token the
/// meeting has none.
#[utoipa::path(post, path = "/api/meetings", tag = "meetings", request_body = deskshare_proto::api::MeetingSettings, responses((status = 201, body = CreatedMeeting), (status = 401, body = deskshare_proto::api::ErrorBody)))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    body: Option<Json<CreateMeeting>>,
) -> Result<(StatusCode, Json<CreatedMeeting>), ApiError> {
    let organiser = match &caller {
        Caller::AdminToken => None,
        Caller::User(u) => Some(u.id),
        Caller::Anonymous => return Err(WireError::new(ErrorCode::Unauthorized, "sign in to create meetings").into()),
    };
    let req = body.map(|Json(b)| b).unwrap_or_default();
    if let Some(user) = organiser {
        let have = state.store.count_meetings_of(user).await?;
        if have >= i64::from(state.max_meetings_per_user) {
            return Err(WireError::new(
                ErrorCode::MeetingQuotaExceeded,
                format!("{have} meetings; at most {} per organiser", state.max_meetings_per_user),
            )
            .into());
        }
    }
    let lobby = parse_lobby(req.lobby.as_deref())?.unwrap_or_default();
    let rules = parse_rules(req.admit.as_deref())?.unwrap_or_default();
    let policies = crate::service::policies::meeting_settings(&state, &caller, req.policies.as_ref()).await?;
    let id = MeetingId::generate();
    let secret = PresenterSecret::generate();
    let now = state.clock.now();
    let record = MeetingRecord {
        id: id.clone(),
        title: clean_title(req.title.as_deref().unwrap_or("Meeting")),
        presenter_secret: secret.hash(),
        created_at: now,
        expires_at: req.expires_in.and_then(|s| expiry(now, s)),
        organiser_id: organiser,
        passcode_hash: passcode_hash(&state, req.passcode).await?,
        lobby,
    };
    state.store.insert_meeting(&record).await?;
    state.store.set_rules(&id, &rules).await?;
    set_policies(&state, &id, &policies).await?;
    tracing::info!(meeting = %id, organiser = caller.user().map(|u| u.name.as_str()), "meeting created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedMeeting {
            join_url: join_url(&state.public_url, &id).to_string(),
            presenter_url: presenter_url(&state.public_url, &id, &secret).to_string(),
            id: id.to_string(),
            title: record.title,
            expires_at: record.expires_at,
        }),
    ))
}

async fn summary(state: &AppState, m: &MeetingRecord) -> Result<MeetingSummary, ApiError> {
    let organiser = match m.organiser_id {
        Some(id) => state.store.user_by_id(id).await?.map(|u| u.name),
        None => None,
    };
    Ok(MeetingSummary {
        id: m.id.to_string(),
        title: m.title.clone(),
        join_url: join_url(&state.public_url, &m.id).to_string(),
        organiser,
        created_at: m.created_at,
        expires_at: m.expires_at,
        has_passcode: m.passcode_hash.is_some(),
        lobby: m.lobby.as_str().to_string(),
        admit: state.store.rules(&m.id).await?.iter().map(|r| r.to_string()).collect(),
        policies: crate::service::policies::by_name(&crate::service::policies::effective(state, m, None).await?),
    })
}

/// Writes a meeting's own policy settings.
async fn set_policies(
    state: &AppState,
    id: &MeetingId,
    policies: &[(deskshare_meeting::PolicyName, Option<u32>)],
) -> Result<(), ApiError> {
    for &(name, value) in policies {
        state.store.set_policy(&PolicyScope::Meeting(id.clone()), name, value).await?;
    }
    Ok(())
}

/// `?limit=&offset=` of a list.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct ListPage {
    /// At most this many (1–500; 100 when not given).
    limit: Option<u32>,
    /// Skip this many first.
    offset: Option<u32>,
}

/// `GET /api/meetings`: the caller's meetings (every meeting for administrators), newest
/// first, one page at a time.
#[utoipa::path(get, path = "/api/meetings", tag = "meetings", params(ListPage), responses((status = 200, body = Vec<MeetingSummary>), (status = 401, body = deskshare_proto::api::ErrorBody)))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    axum::extract::Query(page): axum::extract::Query<ListPage>,
) -> Result<Json<Vec<MeetingSummary>>, ApiError> {
    let page = crate::store::Page {
        limit: i64::from(page.limit.unwrap_or(100).clamp(1, 500)),
        offset: i64::from(page.offset.unwrap_or(0)),
    };
    let rows = match &caller {
        Caller::Anonymous => return Err(WireError::new(ErrorCode::Unauthorized, "sign in to list meetings").into()),
        c if c.is_admin() => state.store.meetings_of(None, page).await,
        Caller::User(u) => state.store.meetings_of(Some(u.id), page).await,
        Caller::AdminToken => unreachable!("admin handled above"),
    }?;
    let mut out = Vec::with_capacity(rows.len());
    for m in &rows {
        out.push(summary(&state, m).await?);
    }
    Ok(Json(out))
}

/// Loads a meeting the caller organises (or any, for administrators).
async fn owned(state: &AppState, caller: &Caller, id: &str) -> Result<MeetingRecord, ApiError> {
    let m = load(state, id).await?;
    match caller {
        Caller::Anonymous => Err(WireError::new(ErrorCode::Unauthorized, "sign in first").into()),
        c if c.organises(&m) => Ok(m),
        _ => Err(WireError::bare(ErrorCode::NotOrganiser).into()),
    }
}

/// `GET /api/meetings/{id}`: public facts anyone with the link may see.
#[utoipa::path(get, path = "/api/meetings/{id}", tag = "meetings", params(("id" = String, Path)), responses((status = 200, body = MeetingInfo), (status = 404, body = deskshare_proto::api::ErrorBody), (status = 410, body = deskshare_proto::api::ErrorBody, description = "MEETING_EXPIRED")))]
pub async fn info(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Json<MeetingInfo>, ApiError> {
    let m = load(&state, &id).await?;
    if m.is_expired(state.clock.now()) {
        return Err(WireError::bare(ErrorCode::MeetingExpired).into());
    }
    let live = state.hub.get(&m.id);
    let presence = live.as_ref().map(|l| l.presence()).unwrap_or_default();
    let viewers = live.as_ref().map_or(0, |l| l.viewer_count());
    // A refused sign-in only means this answer is the one a guest gets.
    let caller = crate::identity::caller(&state, &headers).await.unwrap_or(Caller::Anonymous);
    let organiser = caller.organises(&m);
    let secret = headers.get("x-deskshare-presenter-secret").and_then(|v| v.to_str().ok());
    // One read of the facts serves both questions: a viewer's join reads only the
    // meeting's policies, a presenter's also its sharer's.
    let gathered = crate::service::admission::gather(&state, &m, &caller, deskshare_proto::Role::Presenter).await?;
    let access = access(&m, &caller, &gathered, secret);
    let policies = gathered.policies;
    Ok(Json(MeetingInfo {
        id: m.id.to_string(),
        presenter_online: presence.presenter.is_some(),
        viewers,
        // The organiser never needs the passcode; nobody else learns more than "needed".
        passcode_required: m.passcode_hash.is_some() && !organiser,
        guests_allowed: policies.allow_anonymous,
        title: m.title,
        access,
    }))
}

/// What `caller` may do in `m`, by the rule real joins are decided with.
fn access(
    m: &MeetingRecord,
    caller: &Caller,
    facts: &crate::service::admission::Gathered,
    secret: Option<&str>,
) -> MeetingAccess {
    use deskshare_meeting::admission::{Admission, Passcode, decide};
    use deskshare_proto::{Role, ShareKind};
    let has_secret =
        secret.is_some_and(|s| m.presenter_secret.matches(&deskshare_meeting::PresenterSecret::from_string(s.into())));
    let passcode = if m.passcode_hash.is_some() { Passcode::Right } else { Passcode::NotSet };
    let user = caller.user().map(|u| u.name.as_str());
    let join = decide(&facts.facts(m, user, Role::Viewer, ShareKind::Desktop, false, passcode, None));
    let present = decide(&facts.facts(m, user, Role::Presenter, ShareKind::Desktop, has_secret, passcode, None));
    let control =
        if facts.policies.may_control(caller.user().is_none()) { None } else { Some(ErrorCode::ControlDisabled) };
    MeetingAccess {
        join: join.err(),
        lobby: matches!(join, Ok(Admission::Admit { waits: true, .. })),
        present: present.err(),
        control,
    }
}

/// `GET /api/meetings/{id}/details`: everything, for the organiser.
#[utoipa::path(get, path = "/api/meetings/{id}/details", tag = "meetings", params(("id" = String, Path)), responses((status = 200, body = MeetingSummary), (status = 403, body = deskshare_proto::api::ErrorBody, description = "NOT_ORGANISER")))]
pub async fn details(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<MeetingSummary>, ApiError> {
    let m = owned(&state, &caller, &id).await?;
    Ok(Json(summary(&state, &m).await?))
}

/// `PATCH /api/meetings/{id}`.
#[utoipa::path(patch, path = "/api/meetings/{id}", tag = "meetings", params(("id" = String, Path)), request_body = deskshare_proto::api::MeetingSettings, responses((status = 200, body = MeetingSummary), (status = 403, body = deskshare_proto::api::ErrorBody, description = "NOT_ORGANISER")))]
pub async fn update(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<UpdateMeeting>,
) -> Result<Json<MeetingSummary>, ApiError> {
    let mut m = owned(&state, &caller, &id).await?;
    let policies = crate::service::policies::meeting_settings(&state, &caller, req.policies.as_ref()).await?;
    if let Some(t) = req.title {
        m.title = clean_title(&t);
    }
    if let Some(p) = req.passcode {
        m.passcode_hash = passcode_hash(&state, Some(p)).await?;
    }
    if let Some(s) = req.expires_in {
        m.expires_at = expiry(state.clock.now(), s);
    }
    if let Some(l) = parse_lobby(req.lobby.as_deref())? {
        m.lobby = l;
    }
    if let Some(rules) = parse_rules(req.admit.as_deref())? {
        state.store.set_rules(&m.id, &rules).await?;
    }
    state.store.update_meeting(&m).await?;
    if !policies.is_empty() {
        set_policies(&state, &m.id, &policies).await?;
        crate::service::policies::reapply(&state).await?;
    }
    Ok(Json(summary(&state, &m).await?))
}

/// `DELETE /api/meetings/{id}`: deletes it and ends it for everyone connected.
#[utoipa::path(delete, path = "/api/meetings/{id}", tag = "meetings", params(("id" = String, Path)), responses((status = 204), (status = 403, body = deskshare_proto::api::ErrorBody, description = "NOT_ORGANISER")))]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let m = owned(&state, &caller, &id).await?;
    state.store.delete_meeting(&m.id).await?;
    if let Some(live) = state.hub.get(&m.id) {
        live.end();
        state.hub.remove(&m.id);
    }
    tracing::info!(meeting = %m.id, "meeting deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's role in a meeting, for the REST actions on its participants: the
/// organiser (and administrators), a signed-in user made a presenter, or an attendee.
async fn caller_role(state: &AppState, caller: &Caller, m: &MeetingRecord) -> Result<MeetingRole, ApiError> {
    if matches!(caller, Caller::Anonymous) {
        return Err(WireError::new(ErrorCode::Unauthorized, "sign in first").into());
    }
    if caller.organises(m) {
        return Ok(MeetingRole::Organiser);
    }
    let presenter = match caller.user() {
        Some(u) => state.store.is_presenter(&m.id, u.id).await?,
        None => false,
    };
    Ok(if presenter { MeetingRole::Presenter } else { MeetingRole::Attendee })
}

async fn live_meeting(
    state: &AppState,
    id: &str,
) -> Result<(MeetingRecord, std::sync::Arc<crate::hub::LiveMeeting>), ApiError> {
    let m = load(state, id).await?;
    let live = state
        .hub
        .get(&m.id)
        .ok_or_else(|| ApiError(WireError::new(ErrorCode::ParticipantNotFound, "nobody is in the meeting")))?;
    Ok((m, live))
}

/// `GET /api/meetings/{id}/roster`: everyone connected, the lobby included.
#[utoipa::path(get, path = "/api/meetings/{id}/roster", tag = "meetings", params(("id" = String, Path)), responses((status = 200, body = Vec<deskshare_proto::RosterEntry>), (status = 403, body = deskshare_proto::api::ErrorBody, description = "NOT_ORGANISER")))]
pub async fn roster(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<deskshare_proto::RosterEntry>>, ApiError> {
    let (m, live) = live_meeting(&state, &id).await?;
    // Those who may admit people see the lobby.
    ParticipantAction::Admit.authorise(caller_role(&state, &caller, &m).await?).map_err(WireError::bare)?;
    Ok(Json(live.with_roster(|r, _| r.entries(Audience::Staff))))
}

/// `GET /api/meetings/{id}/chat`: the meeting's chat as kept (latest 500, oldest first),
/// for the organiser to read or export after the meeting.
#[utoipa::path(get, path = "/api/meetings/{id}/chat", tag = "meetings", params(("id" = String, Path)), responses((status = 200, body = Vec<deskshare_proto::ChatLine>), (status = 403, body = deskshare_proto::api::ErrorBody, description = "NOT_ORGANISER")))]
pub async fn chat(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<deskshare_proto::ChatLine>>, ApiError> {
    let m = owned(&state, &caller, &id).await?;
    Ok(Json(state.store.chat_history(&m.id).await?))
}

/// `POST /api/meetings/{id}/participants/{participant}/{action}` with action one of
/// admit, deny, promote, demote, remove.
#[utoipa::path(post, path = "/api/meetings/{id}/participants/{participant}/{action}", tag = "meetings", params(("id" = String, Path), ("participant" = u64, Path), ("action" = String, Path, description = "admit, deny, promote, demote or remove")), responses((status = 200, body = Vec<deskshare_proto::RosterEntry>), (status = 403, body = deskshare_proto::api::ErrorBody), (status = 404, body = deskshare_proto::api::ErrorBody, description = "PARTICIPANT_NOT_FOUND")))]
pub async fn act(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((id, participant, action)): Path<(String, ParticipantId, String)>,
) -> Result<Json<Vec<deskshare_proto::RosterEntry>>, ApiError> {
    let (m, live) = live_meeting(&state, &id).await?;
    let role = caller_role(&state, &caller, &m).await?;
    let action = parse_action(&action)?;
    action.authorise(role).map_err(WireError::bare)?;
    perform(&state, &m.id, &live, participant, action).await?;
    tracing::info!(meeting = %m.id, %participant, ?action, by = caller.user().map(|u| u.name.as_str()), "participant action");
    Ok(Json(live.with_roster(|r, _| r.entries(Audience::Staff))))
}

/// `POST /api/meetings/{id}/end`: ends the meeting for everyone (it can start again).
#[utoipa::path(post, path = "/api/meetings/{id}/end", tag = "meetings", params(("id" = String, Path)), responses((status = 204), (status = 403, body = deskshare_proto::api::ErrorBody)))]
pub async fn end(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let m = owned(&state, &caller, &id).await?;
    if let Some(live) = state.hub.get(&m.id) {
        live.end();
        state.hub.remove(&m.id);
    }
    tracing::info!(meeting = %m.id, "meeting ended");
    Ok(StatusCode::NO_CONTENT)
}
