//! Chat kept with its meeting: every message is written before anyone sees it, so the
//! history a late joiner (or a reload) gets is exactly what was said.

use deskshare_meeting::MeetingId;
use deskshare_proto::ChatLine;
use sqlx::Row;

use super::{Store, StoreError};

/// The most messages a joiner is sent; older ones stay in the database.
pub const CHAT_HISTORY: i64 = 500;

/// Who sent a chat message.
pub struct ChatAuthor<'a> {
    pub name: &'a str,
    pub user_id: Option<i64>,
    pub guest: bool,
}

impl Store {
    /// Stores a message and returns it as participants will see it.
    pub async fn insert_chat(
        &self,
        meeting: &MeetingId,
        author: ChatAuthor<'_>,
        text: &str,
        at: i64,
    ) -> Result<ChatLine, StoreError> {
        let row = sqlx::query(
            "INSERT INTO chat_messages (meeting_id, sent_at, author, user_id, guest, text)
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(meeting.as_str())
        .bind(at)
        .bind(author.name)
        .bind(author.user_id)
        .bind(author.guest)
        .bind(text)
        .fetch_one(self.pool()?)
        .await?;
        Ok(ChatLine { id: row.get(0), at, from: author.name.to_string(), guest: author.guest, text: text.to_string() })
    }

    /// The latest [`CHAT_HISTORY`] messages of a meeting, oldest first.
    pub async fn chat_history(&self, meeting: &MeetingId) -> Result<Vec<ChatLine>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, sent_at, author, guest, text FROM
               (SELECT * FROM chat_messages WHERE meeting_id = ? ORDER BY id DESC LIMIT ?)
             ORDER BY id",
        )
        .bind(meeting.as_str())
        .bind(CHAT_HISTORY)
        .fetch_all(self.pool()?)
        .await?;
        Ok(rows
            .iter()
            .map(|r| ChatLine { id: r.get(0), at: r.get(1), from: r.get(2), guest: r.get(3), text: r.get(4) })
            .collect())
    }
}
