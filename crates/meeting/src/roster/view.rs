//! What one audience sees of the roster: the entries as last published, and a bounded
//! log of changes to them, so each participant's cursor catches up at its own pace.

use std::collections::{BTreeMap, VecDeque};

use deskshare_proto::{ParticipantId, RosterEntry};

/// Changes kept per audience. A cursor further behind starts over with a snapshot.
pub const LOG_KEEP: usize = 4096;

/// Who sees which part of the roster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Organisers and presenters: everyone, the lobby included (they admit people).
    Staff,
    /// Attendees of a meeting small enough (or who asked for the full list): everyone in
    /// the meeting.
    Everyone,
    /// Attendees of a large meeting: the people who matter (organisers, presenters, the
    /// controller, those asking for control, chat authors) and counts.
    Notable,
}

impl Audience {
    pub const ALL: [Audience; 3] = [Audience::Staff, Audience::Everyone, Audience::Notable];

    /// Its place in per-audience arrays (the order of [`Audience::ALL`]).
    pub fn index(self) -> usize {
        self as usize
    }
}

/// One change to an audience's list, relative to what it held before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    Joined(RosterEntry),
    Changed(RosterEntry),
    Left,
}

/// Changes since a version, merged per participant: a participant is in at most one list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delta {
    pub joined: Vec<RosterEntry>,
    pub changed: Vec<RosterEntry>,
    pub left: Vec<ParticipantId>,
}

impl Delta {
    pub fn is_empty(&self) -> bool {
        self.joined.is_empty() && self.changed.is_empty() && self.left.is_empty()
    }
}

#[derive(Debug, Default)]
pub(crate) struct View {
    published: BTreeMap<ParticipantId, RosterEntry>,
    /// `(version, participant, change)`, versions consecutive.
    log: VecDeque<(u64, ParticipantId, Change)>,
    version: u64,
}

impl View {
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn len(&self) -> usize {
        self.published.len()
    }

    /// Sets what this audience should see of `id` (`None`: nothing), logging the change.
    pub fn publish(&mut self, id: ParticipantId, desired: Option<RosterEntry>) {
        let change = match (self.published.get(&id), desired) {
            (None, None) => return,
            (Some(old), Some(new)) if *old == new => return,
            (old, Some(new)) => {
                let change = if old.is_some() { Change::Changed(new.clone()) } else { Change::Joined(new.clone()) };
                self.published.insert(id, new);
                change
            }
            (Some(_), None) => {
                self.published.remove(&id);
                Change::Left
            }
        };
        self.version += 1;
        self.log.push_back((self.version, id, change));
        if self.log.len() > LOG_KEEP {
            self.log.pop_front();
        }
    }

    /// Whether a cursor at `version` can continue with deltas (the log still holds
    /// everything after it).
    pub fn continues_from(&self, version: u64) -> bool {
        version == self.version || self.log.front().is_some_and(|(first, _, _)| *first <= version + 1)
    }

    /// The changes after `version`, merged, touching at most `max_ids` participants; and
    /// the version they bring a cursor to. Only call when [`View::continues_from`].
    pub fn changes_since(&self, version: u64, max_ids: usize) -> (Delta, u64) {
        let Some(&(first, _, _)) = self.log.front() else { return (Delta::default(), version) };
        let start = (version + 1).saturating_sub(first) as usize;
        let mut merged: BTreeMap<ParticipantId, Option<Change>> = BTreeMap::new();
        let mut reached = version;
        for (v, id, change) in self.log.iter().skip(start) {
            if !merged.contains_key(id) && merged.len() >= max_ids {
                break;
            }
            let slot = merged.entry(*id).or_insert(None);
            *slot = merge(slot.take(), change.clone());
            reached = *v;
        }
        let mut delta = Delta::default();
        for (id, change) in merged {
            match change {
                Some(Change::Joined(e)) => delta.joined.push(e),
                Some(Change::Changed(e)) => delta.changed.push(e),
                Some(Change::Left) => delta.left.push(id),
                None => {}
            }
        }
        (delta, reached)
    }

    /// Up to `n` entries after `after`, in participant order, and whether more follow.
    pub fn page(&self, after: Option<ParticipantId>, n: usize) -> (Vec<RosterEntry>, bool) {
        use std::ops::Bound::{Excluded, Unbounded};
        let from = after.map_or(Unbounded, Excluded);
        let mut it = self.published.range((from, Unbounded)).map(|(_, e)| e.clone());
        let page: Vec<_> = it.by_ref().take(n).collect();
        (page, it.next().is_some())
    }

    pub fn entries(&self) -> impl Iterator<Item = &RosterEntry> {
        self.published.values()
    }
}

/// Two changes in a row to one participant's line as one, relative to the list before the
/// first: joined then left is nothing; left then joined again is a change.
fn merge(earlier: Option<Change>, later: Change) -> Option<Change> {
    use Change::*;
    Some(match (earlier, later) {
        (None, c) => c,
        (Some(Joined(_)), Changed(e) | Joined(e)) => Joined(e),
        (Some(Joined(_)), Left) => return None,
        (Some(Changed(_) | Left), Joined(e) | Changed(e)) => Changed(e),
        (Some(Changed(_) | Left), Left) => Left,
    })
}
