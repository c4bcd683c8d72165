//! A participant's copy of the roster, kept from `roster` and `roster_delta` messages the
//! way docs/PROTOCOL.md says: pages build a new list that replaces the old one at the
//! page without `more`; a delta adds or replaces its `joined` and `changed` lines and
//! drops its `left` ids.

use std::collections::BTreeMap;

use crate::{ErrorCode, ParticipantId, RosterEntry, ServerMessage, WireError};

#[derive(Clone, Debug, Default)]
pub struct RosterList {
    list: BTreeMap<ParticipantId, RosterEntry>,
    /// Pages received of a list not complete yet.
    paging: Option<BTreeMap<ParticipantId, RosterEntry>>,
    complete: bool,
    /// The list is everyone (not the short list of a large meeting).
    pub full: bool,
    /// People in the meeting, as last told.
    pub people: u32,
    /// People in the lobby (told to organisers and presenters).
    pub lobby: Option<u32>,
}

impl RosterList {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies `msg` if it is a roster message (`Ok(true)`); other messages are left
    /// alone (`Ok(false)`). A delta before a complete list, or naming a participant twice,
    /// is a protocol violation.
    pub fn apply(&mut self, msg: &ServerMessage) -> Result<bool, WireError> {
        match msg {
            ServerMessage::Roster { participants, people, lobby, full, more } => {
                let page = self.paging.get_or_insert_with(BTreeMap::new);
                page.extend(participants.iter().map(|e| (e.participant, e.clone())));
                if !more {
                    self.list = self.paging.take().unwrap_or_default();
                    self.complete = true;
                }
                (self.people, self.lobby, self.full) = (*people, *lobby, *full);
            }
            ServerMessage::RosterDelta { joined, changed, left, people, lobby } => {
                let bad = |why: &str| WireError::new(ErrorCode::ProtocolViolation, why.to_string());
                if !self.complete || self.paging.is_some() {
                    return Err(bad("a roster_delta before the roster was complete"));
                }
                let mut seen = std::collections::BTreeSet::new();
                let ids = joined.iter().chain(changed).map(|e| e.participant).chain(left.iter().copied());
                for id in ids {
                    if !seen.insert(id) {
                        return Err(bad("a roster_delta names a participant twice"));
                    }
                }
                for e in joined.iter().chain(changed) {
                    self.list.insert(e.participant, e.clone());
                }
                for id in left {
                    self.list.remove(id);
                }
                (self.people, self.lobby) = (*people, *lobby);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// A whole list has arrived (pages may follow later, when the list starts over).
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// The lines, in participant order.
    pub fn entries(&self) -> impl Iterator<Item = &RosterEntry> {
        self.list.values()
    }

    pub fn to_vec(&self) -> Vec<RosterEntry> {
        self.entries().cloned().collect()
    }

    pub fn get(&self, id: ParticipantId) -> Option<&RosterEntry> {
        self.list.get(&id)
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}
