//! `POST /api/reports` (a client's failure, from anyone: the failure may be that they
//! cannot sign in) and `GET /api/admin/diagnose` (the scoping verdict over them).
//!
//! What the server adds it does not take from the body: the signed-in name comes from
//! the sign-in, and of the address only whether it lies in `--internal-network` is kept.
//! Reports are bounded per address (a burst, then a few a minute), in size (4 KiB) and
//! in number kept (see `store::reports`).

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use deskshare_meeting::KeyedLimiter;
use deskshare_proto::report::{ClientKind, Diagnosis, FailureReport, Hop, MAX_DETAIL_CHARS, MAX_LABEL_CHARS, Network};
use deskshare_proto::{ErrorCode, WireError};
use serde::Deserialize;

use crate::error::ApiError;
use crate::forwarded::ClientAddr;
use crate::identity::{Caller, caller};
use crate::ranges::AddressRanges;
use crate::state::AppState;
use crate::store::{REPORT_DAYS, StoredReport};

/// Largest report body.
pub const MAX_REPORT_BYTES: usize = 4096;
/// Addresses the limiter remembers.
const ADDRESSES: usize = 10_000;

/// Where reports come in: the per-address limit and the organisation's ranges.
pub struct ReportIntake {
    per_address: Mutex<KeyedLimiter<IpAddr>>,
    internal: AddressRanges,
}

impl ReportIntake {
    /// A burst of 20, then one every 6 s, per address.
    pub fn new(internal: AddressRanges) -> Self {
        ReportIntake { per_address: Mutex::new(KeyedLimiter::new(1.0 / 6.0, 20.0, ADDRESSES)), internal }
    }

    fn network(&self, ip: IpAddr) -> Network {
        match (self.internal.is_empty(), self.internal.contains(ip)) {
            (true, _) => Network::Unknown,
            (false, true) => Network::Inside,
            (false, false) => Network::Outside,
        }
    }
}

fn invalid(what: &str) -> WireError {
    WireError::new(ErrorCode::ArgumentInvalid, what.to_string())
}

/// Printable text only, at most `max` characters.
fn label(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect::<String>().trim().to_string()
}

fn is_token(s: &str, min: usize, max: usize, extra: &str) -> bool {
    (min..=max).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
}

/// Checks a report and adds the server's facts.
fn admit(r: FailureReport, user: Option<String>, network: Network, now: i64) -> Result<StoredReport, WireError> {
    if !is_token(&r.code, 1, 48, "_") {
        return Err(invalid("code: an error code like TLS_UNTRUSTED"));
    }
    if !is_token(&r.installation, 8, 64, "-") {
        return Err(invalid("installation: 8-64 letters, digits and '-'"));
    }
    if let Some(m) = &r.meeting
        && !is_token(m, 1, 64, "-_")
    {
        return Err(invalid("meeting: a meeting id"));
    }
    let hop = r.hop.or_else(|| ErrorCode::parse(&r.code).and_then(Hop::of)).unwrap_or(Hop::Session);
    let age = i64::from(r.age.unwrap_or(0)).min(REPORT_DAYS * 86_400);
    Ok(StoredReport {
        at: now - age,
        code: r.code,
        hop,
        client: r.client,
        // The web client is the one this server serves: its version is the server's.
        version: match r.client {
            ClientKind::Browser => env!("CARGO_PKG_VERSION").to_string(),
            _ => label(&r.version, MAX_LABEL_CHARS),
        },
        installation: r.installation,
        meeting: r.meeting,
        platform: r.platform.map(|p| label(&p, MAX_LABEL_CHARS)).filter(|p| !p.is_empty()),
        detail: r.detail.map(|d| label(&d, MAX_DETAIL_CHARS)).filter(|d| !d.is_empty()),
        user,
        network,
    })
}

/// `POST /api/reports`: keeps one failure report. Anyone may send one; a signed-in
/// caller's name is attached, and a stale or wrong token, or a cookie from a foreign
/// origin, only makes it anonymous (the failure may be exactly that).
#[utoipa::path(post, path = "/api/reports", tag = "diagnostics", request_body = FailureReport, responses((status = 204, description = "kept"), (status = 400, body = deskshare_proto::api::ErrorBody, description = "ARGUMENT_INVALID"), (status = 429, body = deskshare_proto::api::ErrorBody, description = "REPORTS_RATE_LIMITED")))]
pub async fn receive(
    State(state): State<Arc<AppState>>,
    ClientAddr(ip): ClientAddr,
    headers: HeaderMap,
    Json(report): Json<FailureReport>,
) -> Result<StatusCode, ApiError> {
    let intake = &state.reports;
    intake.per_address.lock().expect("limiter lock").take(&ip, Instant::now()).map_err(|wait| {
        WireError::new(ErrorCode::ReportsRateLimited, format!("try again in {} s", wait.as_secs().max(1)))
    })?;
    // A cookie counts only from the server's own pages (see `origin`): a foreign page's
    // report is taken, as anonymous.
    let own_page = state.origins.check(&headers).is_ok();
    let user = match own_page {
        true => match caller(&state, &headers).await {
            Ok(Caller::User(u)) => Some(u.name),
            _ => None,
        },
        false => None,
    };
    let stored = admit(report, user, intake.network(ip), state.clock.now())?;
    tracing::info!(
        code = %stored.code, hop = stored.hop.as_str(), client = stored.client.as_str(),
        network = stored.network.as_str(), user = stored.user.as_deref().unwrap_or("-"),
        "failure reported"
    );
    state.store.insert_report(&stored).await?;
    state.metrics.failure_reported(&stored.code);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DiagnoseQuery {
    /// How far back: `30m`, `1h` (the default is `24h`), `2d`.
    since: Option<String>,
    /// Only this meeting's reports.
    meeting: Option<String>,
}

/// `GET /api/admin/diagnose`: the failures reported in the window, grouped, with the
/// scoping verdict (administrators only).
#[utoipa::path(get, path = "/api/admin/diagnose", tag = "admin", params(DiagnoseQuery), responses((status = 200, body = Diagnosis), (status = 400, body = deskshare_proto::api::ErrorBody, description = "ARGUMENT_INVALID"), (status = 403, body = deskshare_proto::api::ErrorBody, description = "ADMIN_REQUIRED")))]
pub async fn diagnose(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(q): Query<DiagnoseQuery>,
) -> Result<Json<Diagnosis>, ApiError> {
    caller.require_admin()?;
    let seconds = deskshare_diagnose::parse_since(q.since.as_deref().unwrap_or("24h"))
        .map_err(|e| ApiError(invalid(&format!("since: {e}"))))?;
    let now = state.clock.now();
    let since = now - seconds as i64;
    let facts = state.store.report_facts(since, q.meeting.as_deref()).await?;
    Ok(Json(deskshare_diagnose::diagnose(&facts, since, now, q.meeting, !state.reports.internal.is_empty())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(code: &str) -> FailureReport {
        FailureReport {
            code: code.into(),
            hop: None,
            client: ClientKind::Browser,
            version: "0.1.0".into(),
            installation: "0123456789abcdef".into(),
            meeting: Some("m-1".into()),
            platform: Some("Chrome 131\n".into()),
            detail: Some("x".repeat(1000)),
            age: Some(90),
        }
    }

    #[test]
    fn reports_are_checked_and_bounded() {
        let s = admit(report("WEBSOCKET_BLOCKED"), Some("alice".into()), Network::Inside, 1000).unwrap();
        assert_eq!(s.hop, Hop::Websocket);
        assert_eq!(s.at, 910);
        assert_eq!(s.platform.as_deref(), Some("Chrome 131"));
        assert_eq!(s.detail.unwrap().chars().count(), MAX_DETAIL_CHARS);
        // A code the server does not know is kept, at the session hop unless named.
        assert_eq!(admit(report("NEWER_CODE"), None, Network::Outside, 0).unwrap().hop, Hop::Session);
        assert!(admit(report("not a code"), None, Network::Outside, 0).is_err());
        let mut r = report("TLS_UNTRUSTED");
        r.installation = "short".into();
        assert!(admit(r, None, Network::Outside, 0).is_err());
        let mut r = report("TLS_UNTRUSTED");
        r.meeting = Some("../../etc".into());
        assert!(admit(r, None, Network::Outside, 0).is_err());
        // An age longer than reports are kept is cut to that.
        let mut r = report("TLS_UNTRUSTED");
        r.age = Some(u32::MAX);
        assert_eq!(admit(r, None, Network::Outside, 0).unwrap().at, -REPORT_DAYS * 86_400);
    }

    #[test]
    fn inside_is_what_the_ranges_say() {
        let none = ReportIntake::new(AddressRanges::default());
        assert_eq!(none.network("10.0.0.1".parse().unwrap()), Network::Unknown);
        let some = ReportIntake::new(AddressRanges::parse(&["10.0.0.0/8".into()]).unwrap());
        assert_eq!(some.network("10.0.0.1".parse().unwrap()), Network::Inside);
        assert_eq!(some.network("203.0.113.5".parse().unwrap()), Network::Outside);
    }
}
