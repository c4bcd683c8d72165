//! Persistent state behind one repository type.
//!
//! SQLite in WAL mode in the data directory by default. Callers see only [`Store`]'s
//! methods, so PostgreSQL can be added behind them without touching the callers.

use crate::clock::Clock;
use std::path::Path;
use std::str::FromStr;

use deskshare_meeting::{AdmissionRule, LobbyMode, MeetingId, PolicyName, PolicySet, SecretHash};
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

mod chat;
mod passes;
mod reports;

pub use chat::{CHAT_HISTORY, ChatAuthor};
pub use reports::{MAX_REPORTS, REPORT_DAYS, StoredReport};

/// Ordered schema migrations. Each runs once, inside a transaction, and is recorded in
/// `schema_migrations`; never edit one that has shipped, add a new one.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE meetings (
        id TEXT PRIMARY KEY NOT NULL,
        title TEXT NOT NULL,
        presenter_secret_sha256 TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER
    )",
    "CREATE TABLE users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        is_admin INTEGER NOT NULL DEFAULT 0,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
    )",
    "CREATE TABLE sessions (
        token_sha256 TEXT PRIMARY KEY NOT NULL,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    )",
    "ALTER TABLE meetings ADD COLUMN organiser_id INTEGER REFERENCES users(id) ON DELETE SET NULL",
    "ALTER TABLE meetings ADD COLUMN passcode_hash TEXT",
    "CREATE INDEX meetings_by_organiser ON meetings(organiser_id)",
    "CREATE TABLE policies (
        scope TEXT NOT NULL,
        name TEXT NOT NULL,
        value INTEGER NOT NULL,
        PRIMARY KEY (scope, name)
    )",
    "ALTER TABLE meetings ADD COLUMN lobby TEXT NOT NULL DEFAULT 'off'",
    "CREATE TABLE meeting_rules (
        meeting_id TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
        rule TEXT NOT NULL,
        PRIMARY KEY (meeting_id, rule)
    )",
    "CREATE TABLE meeting_presenters (
        meeting_id TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        PRIMARY KEY (meeting_id, user_id)
    )",
    "CREATE TABLE chat_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        meeting_id TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
        sent_at INTEGER NOT NULL,
        author TEXT NOT NULL,
        user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
        guest INTEGER NOT NULL,
        text TEXT NOT NULL
    )",
    "CREATE INDEX chat_by_meeting ON chat_messages(meeting_id, id)",
    // Failure reports (`POST /api/reports`): no address, only inside/outside; the user
    // is the signed-in one, by name, kept if the account goes.
    "CREATE TABLE failure_reports (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        code TEXT NOT NULL,
        hop TEXT NOT NULL,
        client TEXT NOT NULL,
        version TEXT NOT NULL,
        installation TEXT NOT NULL,
        meeting_id TEXT,
        platform TEXT,
        detail TEXT,
        user_name TEXT,
        network TEXT NOT NULL
    )",
    "CREATE INDEX failure_reports_by_time ON failure_reports(at)",
    // Admission passes of participants told to go (removed, signed out): not let back
    // in by their pass after a restart. Kept a day.
    "CREATE TABLE revoked_passes (
        meeting_id TEXT NOT NULL,
        nonce TEXT NOT NULL,
        revoked_at INTEGER NOT NULL,
        PRIMARY KEY (meeting_id, nonce)
    )",
];

/// A stored meeting.
#[derive(Clone, Debug)]
pub struct MeetingRecord {
    pub id: MeetingId,
    pub title: String,
    pub presenter_secret: SecretHash,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    /// The user who created it; `None` when made with the admin token.
    pub organiser_id: Option<i64>,
    /// Argon2 hash of the passcode, if the meeting has one.
    pub passcode_hash: Option<String>,
    /// Who waits in the lobby (with the admission rules, see `meeting_rules`).
    pub lobby: LobbyMode,
}

/// Whether changing a user ends their sign-ins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sessions {
    Keep,
    End,
}

/// A window of a list: at most `limit` rows after skipping `offset`.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Page {
    pub const ALL: Page = Page { limit: i64::MAX, offset: 0 };
}

/// A stored user account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    pub id: i64,
    pub name: String,
    pub display_name: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub created_at: i64,
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
    #[error("already exists")]
    Conflict,
    /// The database file was deleted or replaced under the running server.
    #[error("the database file {0} was deleted or replaced while the server ran")]
    Lost(String),
    /// The database failed its integrity check at start.
    #[error("integrity check of {path}: {detail}")]
    Corrupt { path: String, detail: String },
}

const MEETING_COLUMNS: &str =
    "id, title, presenter_secret_sha256, created_at, expires_at, organiser_id, passcode_hash, lobby";
const USER_COLUMNS: &str = "id, name, display_name, password_hash, is_admin, disabled, created_at";

fn meeting_from_row(r: &sqlx::sqlite::SqliteRow) -> Result<MeetingRecord, StoreError> {
    let id: String = r.get(0);
    Ok(MeetingRecord {
        id: MeetingId::parse(&id).map_err(|_| StoreError::BadId(id.clone()))?,
        title: r.get(1),
        presenter_secret: SecretHash::from_hex(r.get(2)),
        created_at: r.get(3),
        expires_at: r.get(4),
        organiser_id: r.get(5),
        passcode_hash: r.get(6),
        lobby: r.get::<String, _>(7).parse().unwrap_or_default(),
    })
}

fn user_from_row(r: &sqlx::sqlite::SqliteRow) -> UserRecord {
    UserRecord {
        id: r.get(0),
        name: r.get(1),
        display_name: r.get(2),
        password_hash: r.get(3),
        is_admin: r.get::<i64, _>(4) != 0,
        disabled: r.get::<i64, _>(5) != 0,
        created_at: r.get(6),
    }
}

fn conflict_or(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict,
        _ => StoreError::Db(e),
    }
}

/// Database connections in the pool.
const POOL_SIZE: u32 = 16;

/// The repository.
#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    file: std::sync::Arc<DbFile>,
    /// What "now" is for creation times and session expiry.
    clock: Clock,
}

/// The database file as opened: if the path later names another file or none, every
/// later write would go to a file nobody will ever open again, so the store refuses
/// them (`STORAGE_LOST`) instead of losing them silently.
struct DbFile {
    path: std::path::PathBuf,
    identity: (u64, u64),
    lost: std::sync::atomic::AtomicBool,
}

impl DbFile {
    fn identity(path: &Path) -> std::io::Result<(u64, u64)> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path)?;
        Ok((m.dev(), m.ino()))
    }

    /// Whether the path still names the file that was opened (one stat).
    fn check(&self) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering;
        let lost = || StoreError::Lost(self.path.display().to_string());
        if self.lost.load(Ordering::Relaxed) {
            return Err(lost());
        }
        if Self::identity(&self.path).ok() != Some(self.identity) {
            if !self.lost.swap(true, Ordering::Relaxed) {
                tracing::error!(code = %deskshare_proto::ErrorCode::StorageLost, path = %self.path.display(),
                    "the database file was deleted or replaced; refusing every further change until a restart");
            }
            return Err(lost());
        }
        Ok(())
    }
}

/// Seconds since the Unix epoch.
/// Where a policy is set, as stored: the global level, a user's, or a meeting's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyScope {
    Global,
    User(i64),
    Meeting(MeetingId),
}

impl std::fmt::Display for PolicyScope {
    /// The key the policies table uses: `global`, `user:ID`, `meeting:ID`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PolicyScope::Global => f.write_str("global"),
            PolicyScope::User(id) => write!(f, "user:{id}"),
            PolicyScope::Meeting(id) => write!(f, "meeting:{id}"),
        }
    }
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` and migrates it.
    pub async fn open_sqlite(path: &Path, clock: Clock) -> Result<Store, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true);
        if !path.exists() {
            crate::datadir::precreate_private(path).map_err(|e| StoreError::Db(sqlx::Error::Io(e)))?;
        }
        let corrupt = |detail: String| StoreError::Corrupt { path: path.display().to_string(), detail };
        // WAL lets readers run side by side; a join reads five or six rows, so hundreds
        // joining a second need more than a handful of connections.
        let pool =
            SqlitePoolOptions::new().max_connections(POOL_SIZE).connect_with(options).await.map_err(|e| match e {
                // SQLITE_CORRUPT (11) and "file is not a database" (26): garbage where pages or
                // the header should be.
                sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("11" | "26")) => {
                    corrupt(d.message().to_string())
                }
                other => StoreError::Db(other),
            })?;
        let verdict: String = match sqlx::query("PRAGMA quick_check").fetch_one(&pool).await {
            Ok(row) => row.get(0),
            Err(e) => e.to_string(),
        };
        if verdict != "ok" {
            return Err(corrupt(verdict));
        }
        let identity = DbFile::identity(path).map_err(|e| StoreError::Db(sqlx::Error::Io(e)))?;
        let file = DbFile { path: path.to_path_buf(), identity, lost: Default::default() };
        let store = Store { pool, file: std::sync::Arc::new(file), clock };
        store.migrate().await?;
        Ok(store)
    }

    /// The pool, once the database file is known to be the one opened.
    /// The connection pool: `(open, idle)`.
    pub fn pool_state(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    fn pool(&self) -> Result<&SqlitePool, StoreError> {
        self.file.check()?;
        Ok(&self.pool)
    }

    /// Notices a lost database file even when nothing is written (logs it once).
    pub fn watch_file(&self) -> bool {
        self.file.check().is_ok()
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY NOT NULL)")
            .execute(self.pool()?)
            .await?;
        let done: i64 = sqlx::query("SELECT COUNT(*) FROM schema_migrations").fetch_one(self.pool()?).await?.get(0);
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(done as usize) {
            let mut tx = self.pool()?.begin().await?;
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
        sqlx::query(&format!("INSERT INTO meetings ({MEETING_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"))
            .bind(m.id.as_str())
            .bind(&m.title)
            .bind(m.presenter_secret.as_hex())
            .bind(m.created_at)
            .bind(m.expires_at)
            .bind(m.organiser_id)
            .bind(&m.passcode_hash)
            .bind(m.lobby.as_str())
            .execute(self.pool()?)
            .await
            .map_err(conflict_or)?;
        Ok(())
    }

    pub async fn meeting(&self, id: &MeetingId) -> Result<Option<MeetingRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {MEETING_COLUMNS} FROM meetings WHERE id = ?"))
            .bind(id.as_str())
            .fetch_optional(self.pool()?)
            .await?;
        row.as_ref().map(meeting_from_row).transpose()
    }

    /// Meetings organised by `user` (every meeting with `None`), newest first.
    /// How many meetings a user organises.
    pub async fn count_meetings_of(&self, user: i64) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) FROM meetings WHERE organiser_id = ?")
            .bind(user)
            .fetch_one(self.pool()?)
            .await?
            .get(0))
    }

    /// One page of a user's meetings (every meeting for `None`), newest first.
    pub async fn meetings_of(&self, user: Option<i64>, page: Page) -> Result<Vec<MeetingRecord>, StoreError> {
        let rows = match user {
            Some(u) => {
                sqlx::query(&format!(
                    "SELECT {MEETING_COLUMNS} FROM meetings WHERE organiser_id = ? ORDER BY created_at DESC, id LIMIT ? OFFSET ?"
                ))
                .bind(u)
                .bind(page.limit)
                .bind(page.offset)
                .fetch_all(self.pool()?)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {MEETING_COLUMNS} FROM meetings ORDER BY created_at DESC, id LIMIT ? OFFSET ?"
                ))
                .bind(page.limit)
                .bind(page.offset)
                .fetch_all(self.pool()?)
                .await?
            }
        };
        rows.iter().map(meeting_from_row).collect()
    }

    /// Writes a meeting's changeable fields.
    pub async fn update_meeting(&self, m: &MeetingRecord) -> Result<(), StoreError> {
        sqlx::query("UPDATE meetings SET title = ?, expires_at = ?, passcode_hash = ?, lobby = ? WHERE id = ?")
            .bind(&m.title)
            .bind(m.expires_at)
            .bind(&m.passcode_hash)
            .bind(m.lobby.as_str())
            .bind(m.id.as_str())
            .execute(self.pool()?)
            .await?;
        Ok(())
    }

    pub async fn delete_meeting(&self, id: &MeetingId) -> Result<bool, StoreError> {
        let scope = PolicyScope::Meeting(id.clone()).to_string();
        sqlx::query("DELETE FROM policies WHERE scope = ?").bind(scope).execute(self.pool()?).await?;
        let r = sqlx::query("DELETE FROM meetings WHERE id = ?").bind(id.as_str()).execute(self.pool()?).await?;
        Ok(r.rows_affected() > 0)
    }

    pub async fn insert_user(
        &self,
        name: &str,
        display_name: &str,
        password_hash: &str,
        is_admin: bool,
    ) -> Result<UserRecord, StoreError> {
        let now = self.clock.now();
        let r = sqlx::query(
            "INSERT INTO users (name, display_name, password_hash, is_admin, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(name)
        .bind(display_name)
        .bind(password_hash)
        .bind(i64::from(is_admin))
        .bind(now)
        .execute(self.pool()?)
        .await
        .map_err(conflict_or)?;
        Ok(UserRecord {
            id: r.last_insert_rowid(),
            name: name.to_string(),
            display_name: display_name.to_string(),
            password_hash: password_hash.to_string(),
            is_admin,
            disabled: false,
            created_at: now,
        })
    }

    pub async fn user_by_name(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?"))
            .bind(name)
            .fetch_optional(self.pool()?)
            .await?;
        Ok(row.as_ref().map(user_from_row))
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<UserRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?"))
            .bind(id)
            .fetch_optional(self.pool()?)
            .await?;
        Ok(row.as_ref().map(user_from_row))
    }

    pub async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let rows =
            sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name")).fetch_all(self.pool()?).await?;
        Ok(rows.iter().map(user_from_row).collect())
    }

    /// Writes a user's changeable fields; with [`Sessions::End`] (a disabled account, a
    /// reset password) every sign-in of the user ends in the same transaction.
    pub async fn update_user(&self, u: &UserRecord, sessions: Sessions) -> Result<(), StoreError> {
        let mut tx = self.pool()?.begin().await?;
        sqlx::query("UPDATE users SET display_name = ?, password_hash = ?, is_admin = ?, disabled = ? WHERE id = ?")
            .bind(&u.display_name)
            .bind(&u.password_hash)
            .bind(i64::from(u.is_admin))
            .bind(i64::from(u.disabled))
            .bind(u.id)
            .execute(&mut *tx)
            .await?;
        if u.disabled || sessions == Sessions::End {
            sqlx::query("DELETE FROM sessions WHERE user_id = ?").bind(u.id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn insert_session(&self, token_sha256: &str, user_id: i64, expires_at: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO sessions (token_sha256, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
            .bind(token_sha256)
            .bind(user_id)
            .bind(self.clock.now())
            .bind(expires_at)
            .execute(self.pool()?)
            .await?;
        Ok(())
    }

    /// The user behind a live session token hash, if the session has not expired.
    pub async fn session_user(&self, token_sha256: &str) -> Result<Option<UserRecord>, StoreError> {
        let cols = USER_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ");
        let row = sqlx::query(&format!(
            "SELECT {cols} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_sha256 = ? AND s.expires_at > ?"
        ))
        .bind(token_sha256)
        .bind(self.clock.now())
        .fetch_optional(self.pool()?)
        .await?;
        Ok(row.as_ref().map(user_from_row))
    }

    pub async fn delete_session(&self, token_sha256: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_sha256 = ?").bind(token_sha256).execute(self.pool()?).await?;
        Ok(())
    }

    /// The policies set at one scope.
    pub async fn policy_set(&self, scope: &PolicyScope) -> Result<PolicySet, StoreError> {
        let rows = sqlx::query("SELECT name, value FROM policies WHERE scope = ?")
            .bind(scope.to_string())
            .fetch_all(self.pool()?)
            .await?;
        Ok(PolicySet(
            rows.iter()
                .filter_map(|r| Some((r.get::<String, _>(0).parse::<PolicyName>().ok()?, r.get::<i64, _>(1) as u32)))
                .collect(),
        ))
    }

    /// Sets (or with `None` removes) one policy at one scope.
    pub async fn set_policy(
        &self,
        scope: &PolicyScope,
        name: PolicyName,
        value: Option<u32>,
    ) -> Result<(), StoreError> {
        let scope = scope.to_string();
        match value {
            Some(v) => {
                sqlx::query(
                    "INSERT INTO policies (scope, name, value) VALUES (?, ?, ?)
                     ON CONFLICT (scope, name) DO UPDATE SET value = excluded.value",
                )
                .bind(&scope)
                .bind(name.as_str())
                .bind(i64::from(v))
                .execute(self.pool()?)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM policies WHERE scope = ? AND name = ?")
                    .bind(scope)
                    .bind(name.as_str())
                    .execute(self.pool()?)
                    .await?;
            }
        }
        Ok(())
    }

    /// A meeting's admission rules.
    pub async fn rules(&self, id: &MeetingId) -> Result<Vec<AdmissionRule>, StoreError> {
        let rows = sqlx::query("SELECT rule FROM meeting_rules WHERE meeting_id = ? ORDER BY rule")
            .bind(id.as_str())
            .fetch_all(self.pool()?)
            .await?;
        Ok(rows.iter().filter_map(|r| r.get::<String, _>(0).parse().ok()).collect())
    }

    /// Replaces a meeting's admission rules.
    pub async fn set_rules(&self, id: &MeetingId, rules: &[AdmissionRule]) -> Result<(), StoreError> {
        let mut tx = self.pool()?.begin().await?;
        sqlx::query("DELETE FROM meeting_rules WHERE meeting_id = ?").bind(id.as_str()).execute(&mut *tx).await?;
        for r in rules {
            sqlx::query("INSERT OR IGNORE INTO meeting_rules (meeting_id, rule) VALUES (?, ?)")
                .bind(id.as_str())
                .bind(r.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Users promoted to presenter in a meeting (kept across restarts).
    pub async fn is_presenter(&self, id: &MeetingId, user: i64) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM meeting_presenters WHERE meeting_id = ? AND user_id = ?")
            .bind(id.as_str())
            .bind(user)
            .fetch_optional(self.pool()?)
            .await?;
        Ok(row.is_some())
    }

    pub async fn set_presenter(&self, id: &MeetingId, user: i64, presenter: bool) -> Result<(), StoreError> {
        let sql = if presenter {
            "INSERT OR IGNORE INTO meeting_presenters (meeting_id, user_id) VALUES (?, ?)"
        } else {
            "DELETE FROM meeting_presenters WHERE meeting_id = ? AND user_id = ?"
        };
        sqlx::query(sql).bind(id.as_str()).bind(user).execute(self.pool()?).await?;
        Ok(())
    }
}
