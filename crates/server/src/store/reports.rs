//! Failure reports, bounded: at most [`MAX_REPORTS`] rows and [`REPORT_DAYS`] days, the
//! oldest going first, so a flood of reports costs a fixed amount of disk.

use deskshare_diagnose::Fact;
use deskshare_proto::report::{ClientKind, Hop, Network};
use sqlx::Row;

use super::{Store, StoreError};

/// Most reports kept.
pub const MAX_REPORTS: i64 = 20_000;
/// Days a report is kept.
pub const REPORT_DAYS: i64 = 30;

/// A report as stored: the client's words, checked, and the server's own facts.
#[derive(Clone, Debug)]
pub struct StoredReport {
    pub at: i64,
    pub code: String,
    pub hop: Hop,
    pub client: ClientKind,
    pub version: String,
    pub installation: String,
    pub meeting: Option<String>,
    pub platform: Option<String>,
    pub detail: Option<String>,
    pub user: Option<String>,
    pub network: Network,
}

fn client_from(s: &str) -> ClientKind {
    match s {
        "agent" => ClientKind::Agent,
        "viewer" => ClientKind::Viewer,
        "doctor" => ClientKind::Doctor,
        _ => ClientKind::Browser,
    }
}

fn network_from(s: &str) -> Network {
    match s {
        "inside" => Network::Inside,
        "outside" => Network::Outside,
        _ => Network::Unknown,
    }
}

impl Store {
    /// Keeps a report, and forgets what is past the bounds.
    pub async fn insert_report(&self, r: &StoredReport) -> Result<(), StoreError> {
        let mut tx = self.pool()?.begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO failure_reports
               (at, code, hop, client, version, installation, meeting_id, platform, detail, user_name, network)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(r.at)
        .bind(&r.code)
        .bind(r.hop.as_str())
        .bind(r.client.as_str())
        .bind(&r.version)
        .bind(&r.installation)
        .bind(&r.meeting)
        .bind(&r.platform)
        .bind(&r.detail)
        .bind(&r.user)
        .bind(r.network.as_str())
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        sqlx::query("DELETE FROM failure_reports WHERE id <= ? OR at < ?")
            .bind(id - MAX_REPORTS)
            .bind(self.clock.now() - REPORT_DAYS * 86_400)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The reports since `since` (Unix seconds), of one meeting if given, for the scoping
    /// table.
    pub async fn report_facts(&self, since: i64, meeting: Option<&str>) -> Result<Vec<Fact>, StoreError> {
        let rows = sqlx::query(
            "SELECT code, hop, client, installation, user_name, network, at FROM failure_reports
             WHERE at >= ? AND (? IS NULL OR meeting_id = ?) ORDER BY id",
        )
        .bind(since)
        .bind(meeting)
        .bind(meeting)
        .fetch_all(self.pool()?)
        .await?;
        Ok(rows
            .iter()
            .map(|r| Fact {
                code: r.get(0),
                hop: Hop::parse(r.get::<&str, _>(1)).unwrap_or(Hop::Session),
                client: client_from(r.get(2)),
                installation: r.get(3),
                user: r.get(4),
                network: network_from(r.get(5)),
                at: r.get(6),
            })
            .collect())
    }

    /// How many reports are kept.
    pub async fn count_reports(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) FROM failure_reports").fetch_one(self.pool()?).await?.get(0))
    }
}
