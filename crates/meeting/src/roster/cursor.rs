//! One participant's place in the roster: what it was told last, and the next message
//! that brings it up to date.

use std::time::{Duration, Instant};

use deskshare_proto::{ParticipantId, ServerMessage};

use super::view::Audience;
use super::{Counts, Roster};

/// Entries (or ids that left) per message. A line is at most ~400 bytes of JSON (a
/// 64-character name of 4-byte characters, or of characters JSON escapes), so a message
/// stays below 48 KiB, under the 64 KiB control-message limit.
pub const PAGE: usize = 100;
/// A change of the counts alone (someone joined a large meeting) is told at most this
/// often; a change to the list a participant sees goes out when its connection has room.
pub const COUNTS_EVERY: Duration = Duration::from_secs(1);

/// Where a participant's view of the roster stands.
#[derive(Debug)]
pub struct RosterCursor {
    me: ParticipantId,
    /// Asked for the full list (`roster_view`).
    full: bool,
    /// The audience followed, and the version of its list the participant has.
    at: Option<(Audience, u64)>,
    /// Sending the list in pages: the last participant sent (`Some(None)`: none yet).
    paging: Option<Option<ParticipantId>>,
    told: Option<Counts>,
    last_sent: Option<Instant>,
}

impl RosterCursor {
    pub fn new(me: ParticipantId) -> Self {
        RosterCursor { me, full: false, at: None, paging: None, told: None, last_sent: None }
    }

    /// The participant asks for everyone (`true`) or the short list of a large meeting.
    pub fn set_full(&mut self, full: bool) {
        self.full = full;
    }

    /// The audience followed, once the first message went out.
    pub fn audience(&self) -> Option<Audience> {
        self.at.map(|(a, _)| a)
    }

    /// The next message for this participant, if anything changed that it has not been
    /// told. Call until `None` while the connection has room.
    pub fn poll(&mut self, roster: &Roster, now: Instant) -> Option<ServerMessage> {
        let current = self.at.map(|(a, _)| a);
        let audience = roster.audience_for(self.me, self.full, current)?;
        let view = roster.view(audience);
        let behind = match self.at {
            Some((a, v)) => a != audience || !view.continues_from(v),
            None => true,
        };
        if behind {
            // A new audience, or so far behind that the log moved on: the list again, from
            // the top. The pages are read from the current list while the version stays at
            // the start, so changes during the pages follow as deltas (applied as
            // insert-or-replace and remove-if-present, they agree with any page).
            self.at = Some((audience, view.version()));
            self.paging = Some(None);
        }
        let counts = roster.counts(audience);
        if let Some(after) = self.paging {
            let (participants, more) = view.page(after, PAGE);
            self.paging = more.then(|| participants.last().map(|e| e.participant));
            self.sent(counts, now);
            return Some(ServerMessage::Roster {
                participants,
                people: counts.people,
                lobby: counts.lobby,
                full: audience != Audience::Notable,
                more,
            });
        }
        let (audience, version) = self.at?;
        let (delta, reached) = view.changes_since(version, PAGE);
        let counts_due = self.told != Some(counts)
            && (audience != Audience::Notable || self.last_sent.is_none_or(|t| now >= t + COUNTS_EVERY));
        if delta.is_empty() && !counts_due {
            return None;
        }
        self.at = Some((audience, reached));
        self.sent(counts, now);
        Some(ServerMessage::RosterDelta {
            joined: delta.joined,
            changed: delta.changed,
            left: delta.left,
            people: counts.people,
            lobby: counts.lobby,
        })
    }

    /// When a held-back change of the counts is due (poll again then).
    pub fn poll_timeout(&self, roster: &Roster) -> Option<Instant> {
        let (audience, _) = self.at?;
        if self.paging.is_some() || self.told == Some(roster.counts(audience)) {
            return None;
        }
        self.last_sent.map(|t| t + COUNTS_EVERY)
    }

    fn sent(&mut self, counts: Counts, now: Instant) {
        self.told = Some(counts);
        self.last_sent = Some(now);
    }
}
