//! Chat in a live meeting: a message is kept with the meeting before anyone sees it, so
//! what a joiner's history shows is exactly what was said.

use deskshare_proto::ParticipantId;
use deskshare_proto::{ErrorCode, Role, ServerMessage, WireError};

use crate::error::internal;
use crate::hub::LiveMeeting;
use crate::state::AppState;
use crate::store::{ChatAuthor, unix_now};

impl LiveMeeting {
    /// Stores a chat message from `conn`, then sends it to everyone watching.
    pub async fn chat(&self, state: &AppState, conn: ParticipantId, text: &str) -> Result<(), WireError> {
        let (name, user_id, guest) = {
            let ps = self.participants.lock().expect("participants lock");
            let p = ps.get(&conn).ok_or_else(|| WireError::bare(ErrorCode::ParticipantNotFound))?;
            (p.info.name.clone(), p.info.user_id, p.info.external)
        };
        let author = ChatAuthor { name: &name, user_id, guest };
        let line = state.store.insert_chat(&self.id, author, text, unix_now()).await.map_err(internal)?;
        let ps = self.participants.lock().expect("participants lock");
        for p in ps.values().filter(|p| !p.info.in_lobby && p.info.role == Role::Viewer) {
            if p.outbox.try_send(ServerMessage::Chat { messages: vec![line.clone()] }).is_err() {
                tracing::warn!(meeting = %self.id, "outbox full; chat message not delivered live");
            }
        }
        Ok(())
    }
}
