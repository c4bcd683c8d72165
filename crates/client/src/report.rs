//! Telling the server that something failed (`POST /api/reports`), so an administrator's
//! `deskshare admin diagnose` sees who fails where.
//!
//! Best effort and never in the way: a report is sent with a short timeout after the
//! failure has been shown, and a report that cannot reach the server (its failure may be
//! exactly that) waits in the config directory until a later command reaches it. It
//! carries the code, the hop, this program's kind and version, the operating system and
//! a random installation id — no name (the server takes that from the sign-in), no
//! address, no file paths beyond what the error message itself says.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use deskshare_proto::WireError;
use deskshare_proto::report::{ClientKind, FailureReport, Hop, MAX_DETAIL_CHARS};
use serde::{Deserialize, Serialize};

use crate::api::Api;
use crate::credentials::{dir, write_private};

/// Reports kept while the server cannot be reached; the oldest go first.
pub const MAX_PENDING: usize = 20;
/// How long sending one report may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// A report not yet delivered.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Pending {
    server: String,
    /// Unix seconds of the failure.
    at: u64,
    report: FailureReport,
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn pending_file() -> Option<PathBuf> {
    dir().map(|d| d.join("pending-reports.json"))
}

fn load_pending() -> Vec<Pending> {
    pending_file().and_then(|f| std::fs::read(f).ok()).and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
}

fn save_pending(list: &[Pending]) {
    let Some(path) = pending_file() else { return };
    let result = if list.is_empty() {
        std::fs::remove_file(&path)
            .or_else(|e| if e.kind() == std::io::ErrorKind::NotFound { Ok(()) } else { Err(e) })
            .map_err(|e| e.to_string())
    } else {
        write_private(&path, &serde_json::to_vec(list).expect("reports serialise")).map_err(|e| e.to_string())
    };
    if let Err(e) = result {
        tracing::debug!("could not keep failure reports: {e}");
    }
}

/// This installation's random id (created on first use, in the config directory): it
/// tells the administrator one computer from many, and identifies nothing else.
pub fn installation_id() -> String {
    let path = dir().map(|d| d.join("installation-id"));
    if let Some(id) = path.as_ref().and_then(|p| std::fs::read_to_string(p).ok()).map(|s| s.trim().to_string())
        && id.len() >= 16
    {
        return id;
    }
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes);
    let id = hex::encode(bytes);
    if let Some(p) = path {
        let _ = write_private(&p, id.as_bytes());
    }
    id
}

/// The report of `err` by a client of `kind`, or `None` when it is not a failure to
/// report (a normal end, a mistake on the command line).
pub fn describe(kind: ClientKind, err: &WireError, hop: Option<Hop>, meeting: Option<&str>) -> Option<FailureReport> {
    let hop = hop.or_else(|| Hop::of(err.code))?;
    Some(FailureReport {
        code: err.code.as_str().to_string(),
        hop: Some(hop),
        client: kind,
        version: env!("CARGO_PKG_VERSION").to_string(),
        installation: installation_id(),
        meeting: meeting.map(str::to_string),
        platform: Some(format!("{} {}", std::env::consts::OS, std::env::consts::ARCH)),
        detail: Some(err.message.chars().take(MAX_DETAIL_CHARS).collect()),
        age: None,
    })
}

async fn send(api: &Api, report: &FailureReport) -> Result<(), ()> {
    match tokio::time::timeout(SEND_TIMEOUT, api.report(report)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) if e.code.http_status().is_some_and(|s| (400..500).contains(&s)) => {
            // The server read it and refused it (too many, malformed): keeping it would
            // only repeat that.
            tracing::debug!("failure report refused: {e}");
            Ok(())
        }
        _ => Err(()),
    }
}

/// Sends the reports kept for this server; keeps those that still cannot go.
pub async fn flush(api: &Api) {
    let server = api.base().to_string();
    let (mine, others): (Vec<Pending>, Vec<Pending>) = load_pending().into_iter().partition(|p| p.server == server);
    if mine.is_empty() {
        return;
    }
    let mut kept = others;
    let mut unreachable = false;
    for mut p in mine {
        if !unreachable {
            p.report.age = Some(now().saturating_sub(p.at).min(u64::from(u32::MAX)) as u32);
            if send(api, &p.report).await.is_ok() {
                continue;
            }
            unreachable = true;
        }
        kept.push(p);
    }
    save_pending(&kept);
}

/// Delivers `report` (see [`describe`]) to the server behind `api`, after any kept
/// ones; if the server cannot be reached, keeps it for later. Returns whether it was
/// delivered.
pub async fn deliver(api: &Api, report: FailureReport) -> bool {
    // A failure to reach the server is not tried again at once: it waits for a command
    // that gets through.
    let reachable = report.hop.is_some_and(Hop::server_reachable);
    if reachable {
        flush(api).await;
        if send(api, &report).await.is_ok() {
            return true;
        }
    }
    let mut list = load_pending();
    list.push(Pending { server: api.base().to_string(), at: now(), report });
    let excess = list.len().saturating_sub(MAX_PENDING);
    list.drain(..excess);
    save_pending(&list);
    false
}

/// How many reports wait for a server (for tests and `doctor`).
pub fn pending_count(server: &str) -> usize {
    load_pending().iter().filter(|p| p.server == server).count()
}
