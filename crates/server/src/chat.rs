//! Chat in a live meeting: a message is kept with the meeting before anyone sees it, so
//! what a joiner's history shows is exactly what was said.

use deskshare_proto::ParticipantId;
use deskshare_proto::{ChatLine, ErrorCode, MAX_CONTROL_BYTES, Role, ServerMessage, WireError};

use crate::hub::LiveMeeting;
use crate::state::AppState;
use crate::store::ChatAuthor;

/// Room kept for the message around the lines (type, field names, brackets).
const ENVELOPE_BYTES: usize = 256;

/// A meeting's history as `chat` messages (at least one), each under the control-message
/// limit: 500 lines of 2000 characters would be a megabyte in one.
pub fn history_messages(lines: Vec<ChatLine>) -> Vec<ServerMessage> {
    let mut out = Vec::new();
    let (mut batch, mut bytes) = (Vec::new(), ENVELOPE_BYTES);
    for line in lines {
        let size = serde_json::to_string(&line).map_or(0, |j| j.len()) + 1;
        if !batch.is_empty() && bytes + size > MAX_CONTROL_BYTES {
            out.push(ServerMessage::Chat { messages: std::mem::take(&mut batch) });
            bytes = ENVELOPE_BYTES;
        }
        bytes += size;
        batch.push(line);
    }
    // An empty history is said too: the client knows there is nothing before.
    if !batch.is_empty() || out.is_empty() {
        out.push(ServerMessage::Chat { messages: batch });
    }
    out
}

impl LiveMeeting {
    /// Stores a chat message from `conn`, then sends it to everyone watching.
    pub async fn chat(&self, state: &AppState, conn: ParticipantId, text: &str) -> Result<(), WireError> {
        let (name, user_id, guest) = self
            .member(conn, |m| (m.name.clone(), m.user, m.guest))
            .ok_or_else(|| WireError::bare(ErrorCode::ParticipantNotFound))?;
        let author = ChatAuthor { name: &name, user_id, guest };
        let line = state.store.insert_chat(&self.id, author, text, state.clock.now()).await?;
        // Chat authors are among the people every attendee's roster shows.
        self.with_roster(|r, _| r.chatted(conn));
        self.send_to_all(|m| m.connection == Role::Viewer, &ServerMessage::Chat { messages: vec![line] });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_history_comes_in_messages_under_the_limit_with_every_line_in_order() {
        // Characters JSON escapes, at the longest a message may be.
        let text = "\"".repeat(deskshare_proto::MAX_CHAT_CHARS);
        let lines: Vec<_> = (0..500)
            .map(|id| ChatLine { id, at: 1_700_000_000, from: "😀".repeat(64), guest: true, text: text.clone() })
            .collect();
        let messages = history_messages(lines);
        assert!(messages.len() > 1);
        let mut ids = Vec::new();
        for m in &messages {
            assert!(m.to_json().len() <= MAX_CONTROL_BYTES, "{} bytes", m.to_json().len());
            let ServerMessage::Chat { messages } = m else { panic!("not chat") };
            ids.extend(messages.iter().map(|l| l.id));
        }
        assert_eq!(ids, (0..500).collect::<Vec<_>>());
        assert_eq!(history_messages(Vec::new()), [ServerMessage::Chat { messages: vec![] }], "no history, said");
    }
}
