//! Revoked admission passes (see `deskshare_meeting::pass`): a participant the organiser
//! removed stays out after a restart. A pass is useful only for the rejoin grace after a
//! restart, so a revocation is kept a day.

use deskshare_meeting::MeetingId;
use sqlx::Row;

use super::{Store, StoreError};

/// How long a revocation is kept.
const KEEP_SECONDS: i64 = 24 * 3600;

impl Store {
    pub async fn revoke_pass(&self, meeting: &MeetingId, nonce: &str) -> Result<(), StoreError> {
        let now = self.clock.now();
        sqlx::query("DELETE FROM revoked_passes WHERE revoked_at < ?")
            .bind(now - KEEP_SECONDS)
            .execute(self.pool()?)
            .await?;
        sqlx::query("INSERT OR IGNORE INTO revoked_passes (meeting_id, nonce, revoked_at) VALUES (?, ?, ?)")
            .bind(meeting.as_str())
            .bind(nonce)
            .bind(now)
            .execute(self.pool()?)
            .await?;
        Ok(())
    }

    pub async fn pass_revoked(&self, meeting: &MeetingId, nonce: &str) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM revoked_passes WHERE meeting_id = ? AND nonce = ?")
            .bind(meeting.as_str())
            .bind(nonce)
            .fetch_one(self.pool()?)
            .await?
            .get(0);
        Ok(n > 0)
    }
}
