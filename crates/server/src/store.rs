//! Persistent state behind one repository type.
//!
//! SQLite in WAL mode in the data directory by default. Callers see only [`Store`]'s
//! methods, so PostgreSQL can be added behind them without touching the callers.

use std::path::Path;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use deskshare_meeting::{MeetingId, SecretHash};
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

/// Ordered schema migrations. Each runs once, inside a transaction, and is recorded in
/// `schema_migrations`; never edit one that has shipped, add a new one.
const MIGRATIONS: &[&str] = &["CREATE TABLE meetings (
        id TEXT PRIMARY KEY NOT NULL,
        title TEXT NOT NULL,
        presenter_secret_sha256 TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER
    )"];

/// A stored meeting.
#[derive(Clone, Debug)]
pub struct MeetingRecord {
    pub id: MeetingId,
    pub title: String,
    pub presenter_secret: SecretHash,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

impl MeetingRecord {
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }
}

/// Storage failures. They reach users only as `SERVER_ERROR`; the detail goes to the log.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database holds a malformed meeting id '{0}'")]
    BadId(String),
}

/// The repository.
#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` and migrates it.
    pub async fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        let store = Store { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY NOT NULL)")
            .execute(&self.pool)
            .await?;
        let done: i64 = sqlx::query("SELECT COUNT(*) FROM schema_migrations").fetch_one(&self.pool).await?.get(0);
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(done as usize) {
            let mut tx = self.pool.begin().await?;
            sqlx::query(sql).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO schema_migrations (version) VALUES (?)")
                .bind(i as i64 + 1)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    pub async fn insert_meeting(&self, m: &MeetingRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO meetings (id, title, presenter_secret_sha256, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(m.id.as_str())
        .bind(&m.title)
        .bind(m.presenter_secret.as_hex())
        .bind(m.created_at)
        .bind(m.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn meeting(&self, id: &MeetingId) -> Result<Option<MeetingRecord>, StoreError> {
        let row =
            sqlx::query("SELECT id, title, presenter_secret_sha256, created_at, expires_at FROM meetings WHERE id = ?")
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| {
            let id: String = r.get(0);
            Ok(MeetingRecord {
                id: MeetingId::parse(&id).map_err(|_| StoreError::BadId(id.clone()))?,
                title: r.get(1),
                presenter_secret: SecretHash::from_hex(r.get(2)),
                created_at: r.get(3),
                expires_at: r.get(4),
            })
        })
        .transpose()
    }
}
