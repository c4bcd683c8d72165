//! The roster of a live meeting: who is in, in which role, who waits in the lobby, and
//! the organiser's actions on them.
//!
//! Sans-IO like [`crate::ControlFloor`]: methods take the event (and the time where it
//! matters), [`Roster::poll_output`] hands back the decisions the server must deliver to
//! one participant's session (admitted, denied, removed, …). What each participant is
//! *shown* is not pushed: every audience ([`Audience`]) has the list as last published
//! and a bounded log of changes, and each participant's [`RosterCursor`] turns them into
//! messages when its connection has room. So a join costs O(log n) here whatever the size
//! of the meeting, no message grows with the meeting (pages of [`PAGE`] entries), and a
//! slow participant gets the changes merged instead of a backlog.

mod cursor;
mod view;

pub use cursor::{COUNTS_EVERY, PAGE, RosterCursor};
pub use view::{Audience, Delta, LOG_KEEP};

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

use deskshare_proto::{ErrorCode, MeetingRole, ParticipantId, Role, RosterEntry};

use crate::{PresenterSecret, SecretHash};
use view::View;

/// Longest name shown, in characters: with [`PAGE`] entries a message stays far below
/// the control-message limit whatever the characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Attendees see everyone while the meeting has at most this many people; beyond, the
/// people who matter and counts, unless they ask for the full list.
pub const FULL_LIST_UP_TO: usize = 100;
/// How long someone who left (a dropped network, a reload) may come back with the key of
/// their welcome and skip the lobby again, keeping a presenter role they were given.
pub const REJOIN_GRACE: Duration = Duration::from_secs(120);

/// One connection in the meeting.
#[derive(Clone, Debug)]
pub struct Member {
    pub name: String,
    /// What the connection does: send the screen or watch it.
    pub connection: Role,
    pub role: MeetingRole,
    /// Joined without signing in.
    pub guest: bool,
    /// The signed-in user behind the connection.
    pub user: Option<i64>,
    pub in_lobby: bool,
    /// Hash of the key of this connection's welcome: a second connection presenting for
    /// it, or the same person rejoining, shows it.
    pub key: SecretHash,
    /// This connection presents for that participant (the browser's second connection):
    /// the roster shows one person, presenting.
    pub on_behalf_of: Option<ParticipantId>,
}

/// A decision one participant's session must act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Admitted,
    Denied,
    Removed,
    /// No longer a presenter: a connection that presents ends.
    Demoted,
    /// Its person stopped the share from their meeting page: the presenting connection
    /// ends (and the agent with it: nobody may be at its terminal to stop it).
    StopPresenting,
    /// The sign-in behind the connection ended (account disabled, password reset).
    SignedOut(ErrorCode),
    /// The meeting was ended.
    Ended,
}

/// What the roster wants done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RosterOutput {
    pub to: ParticipantId,
    pub signal: Signal,
}

/// The meeting role an organiser gives a participant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewRole {
    Presenter,
    Attendee,
}

/// Whose role changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoleChanged {
    /// The signed-in user behind the participant (a guest has none).
    pub user: Option<i64>,
}

/// What an organiser (or, for the lobby, a presenter) can do to a participant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParticipantAction {
    Admit,
    Deny,
    Promote,
    Demote,
    Remove,
}

impl ParticipantAction {
    /// Presenters may decide about the lobby; everything else is the organiser's.
    pub fn authorise(self, actor: MeetingRole) -> Result<(), ErrorCode> {
        match (actor, self) {
            (MeetingRole::Organiser, _) => Ok(()),
            (MeetingRole::Presenter, ParticipantAction::Admit | ParticipantAction::Deny) => Ok(()),
            _ => Err(ErrorCode::NotOrganiser),
        }
    }
}

impl std::str::FromStr for ParticipantAction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "admit" => ParticipantAction::Admit,
            "deny" => ParticipantAction::Deny,
            "promote" => ParticipantAction::Promote,
            "demote" => ParticipantAction::Demote,
            "remove" => ParticipantAction::Remove,
            other => return Err(format!("unknown action '{other}' (admit, deny, promote, demote, remove)")),
        })
    }
}

/// Why a roster operation did nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RosterError {
    #[error("no such participant (or not in the state the action needs)")]
    NotFound,
    #[error("the meeting has ended")]
    Ended,
}

impl From<RosterError> for ErrorCode {
    fn from(e: RosterError) -> Self {
        match e {
            RosterError::NotFound => ErrorCode::ParticipantNotFound,
            RosterError::Ended => ErrorCode::MeetingEnded,
        }
    }
}

/// People and lobby, as a participant is told them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counts {
    /// In the meeting (a connection presenting for someone is not another person).
    pub people: u32,
    /// Waiting in the lobby (told to organisers and presenters only).
    pub lobby: Option<u32>,
}

/// Someone who left of their own accord, remembered for [`REJOIN_GRACE`].
#[derive(Debug)]
struct Departed {
    key: SecretHash,
    role: MeetingRole,
    left_at: Instant,
}

/// What a participant rejoining within the grace keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rejoin {
    pub role: MeetingRole,
}

#[derive(Debug)]
struct Slot {
    member: Member,
    /// Told to go (removed, denied, signed out): not remembered for a rejoin.
    closing: bool,
}

/// The roster of one meeting.
#[derive(Debug)]
pub struct Roster {
    /// Attendees see everyone up to this many people ([`FULL_LIST_UP_TO`]).
    full_list_up_to: usize,
    members: BTreeMap<ParticipantId, Slot>,
    /// Connections presenting for each participant.
    delegates: HashMap<ParticipantId, BTreeSet<ParticipantId>>,
    /// Connections of each signed-in user.
    by_user: HashMap<i64, BTreeSet<ParticipantId>>,
    /// Members that are people (not a connection presenting for someone), lobby included.
    people: usize,
    presenter: Option<ParticipantId>,
    controller: Option<ParticipantId>,
    waiting: BTreeSet<ParticipantId>,
    chatted: BTreeSet<ParticipantId>,
    views: [View; 3],
    departed: HashMap<ParticipantId, Departed>,
    departures: VecDeque<ParticipantId>,
    ended: bool,
    out: VecDeque<RosterOutput>,
}

impl Default for Roster {
    fn default() -> Self {
        Roster {
            full_list_up_to: FULL_LIST_UP_TO,
            members: BTreeMap::new(),
            delegates: HashMap::new(),
            by_user: HashMap::new(),
            people: 0,
            presenter: None,
            controller: None,
            waiting: BTreeSet::new(),
            chatted: BTreeSet::new(),
            views: Default::default(),
            departed: HashMap::new(),
            departures: VecDeque::new(),
            ended: false,
            out: VecDeque::new(),
        }
    }
}

impl Roster {
    pub fn new() -> Self {
        Self::default()
    }

    /// Attendees see everyone while the meeting has at most `n` people.
    pub fn with_full_list_up_to(mut self, n: usize) -> Self {
        self.full_list_up_to = n;
        self
    }

    /// Adds a connection (in the lobby or not).
    pub fn join(&mut self, id: ParticipantId, mut member: Member) -> Result<(), RosterError> {
        if self.ended {
            return Err(RosterError::Ended);
        }
        if let Some((cut, _)) = member.name.char_indices().nth(MAX_NAME_CHARS) {
            member.name.truncate(cut);
        }
        if let Some(owner) = member.on_behalf_of {
            self.delegates.entry(owner).or_default().insert(id);
        } else {
            self.people += 1;
        }
        if let Some(user) = member.user {
            self.by_user.entry(user).or_default().insert(id);
        }
        let owner = member.on_behalf_of;
        let user = member.user;
        self.members.insert(id, Slot { member, closing: false });
        self.refresh(id);
        if let Some(owner) = owner {
            self.refresh(owner);
        }
        self.refresh_user(user, id);
        Ok(())
    }

    /// Removes a connection that ended. Someone admitted who left of their own accord may
    /// rejoin within [`REJOIN_GRACE`].
    pub fn leave(&mut self, id: ParticipantId, now: Instant) -> Option<Member> {
        self.forget_departures(now);
        let Slot { member, closing } = self.members.remove(&id)?;
        match member.on_behalf_of {
            Some(owner) => {
                if let Some(d) = self.delegates.get_mut(&owner) {
                    d.remove(&id);
                    if d.is_empty() {
                        self.delegates.remove(&owner);
                    }
                }
            }
            None => self.people -= 1,
        }
        if let Some(user) = member.user
            && let Some(ids) = self.by_user.get_mut(&user)
        {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_user.remove(&user);
            }
        }
        self.waiting.remove(&id);
        self.chatted.remove(&id);
        if self.controller == Some(id) {
            self.controller = None;
        }
        if self.presenter == Some(id) {
            self.presenter = None;
        }
        if !closing && !member.in_lobby && member.on_behalf_of.is_none() && !self.ended {
            self.departed.insert(id, Departed { key: member.key.clone(), role: member.role, left_at: now });
            self.departures.push_back(id);
        }
        self.refresh(id);
        for d in self.delegates.get(&id).cloned().unwrap_or_default() {
            self.refresh(d);
        }
        if let Some(owner) = member.on_behalf_of {
            self.refresh(owner);
        }
        self.refresh_user(member.user, id);
        Some(member)
    }

    /// Whether `id` left of its own accord less than [`REJOIN_GRACE`] ago and `key` is the
    /// key of its welcome. Once the person is back, [`Roster::forget_departed`].
    pub fn may_rejoin(&self, id: ParticipantId, key: &PresenterSecret, now: Instant) -> Option<Rejoin> {
        let d = self.departed.get(&id).filter(|d| d.key.matches(key))?;
        (now.saturating_duration_since(d.left_at) < REJOIN_GRACE).then_some(Rejoin { role: d.role })
    }

    /// Whether `id` is still connected with the welcome of `key` (a reloaded page whose
    /// old connection the server has not seen close yet).
    pub fn still_connected(&self, id: ParticipantId, key: &PresenterSecret) -> bool {
        self.members.get(&id).is_some_and(|s| !s.closing && !s.member.in_lobby && s.member.key.matches(key))
    }

    /// `id` is back under a new id: its earlier one cannot be rejoined again.
    pub fn forget_departed(&mut self, id: ParticipantId) {
        self.departed.remove(&id);
    }

    fn forget_departures(&mut self, now: Instant) {
        while let Some(id) = self.departures.front().copied() {
            match self.departed.get(&id) {
                Some(d) if now.saturating_duration_since(d.left_at) < REJOIN_GRACE => break,
                _ => {
                    self.departures.pop_front();
                    self.departed.remove(&id);
                }
            }
        }
    }

    /// Lets someone waiting in the lobby in.
    pub fn admit(&mut self, id: ParticipantId) -> Result<(), RosterError> {
        let slot =
            self.members.get_mut(&id).filter(|s| s.member.in_lobby && !s.closing).ok_or(RosterError::NotFound)?;
        slot.member.in_lobby = false;
        let user = slot.member.user;
        self.out.push_back(RosterOutput { to: id, signal: Signal::Admitted });
        self.refresh(id);
        self.refresh_user(user, id);
        Ok(())
    }

    /// Turns someone waiting in the lobby away.
    pub fn deny(&mut self, id: ParticipantId) -> Result<(), RosterError> {
        let slot =
            self.members.get_mut(&id).filter(|s| s.member.in_lobby && !s.closing).ok_or(RosterError::NotFound)?;
        slot.closing = true;
        self.out.push_back(RosterOutput { to: id, signal: Signal::Denied });
        Ok(())
    }

    /// Makes a participant a presenter (or an attendee again), with every connection of
    /// the same person: those presenting for it, and the same signed-in user's others. A
    /// demoted connection that presents stops. The organiser stays organiser.
    pub fn set_role(&mut self, id: ParticipantId, role: NewRole) -> Result<RoleChanged, RosterError> {
        let target = self.members.get(&id).filter(|s| !s.member.in_lobby).ok_or(RosterError::NotFound)?;
        let user = target.member.user;
        let mut same_person: BTreeSet<ParticipantId> = self.delegates.get(&id).cloned().unwrap_or_default();
        same_person.insert(id);
        if let Some(u) = user {
            same_person.extend(self.by_user.get(&u).into_iter().flatten().copied());
        }
        let new = match role {
            NewRole::Presenter => MeetingRole::Presenter,
            NewRole::Attendee => MeetingRole::Attendee,
        };
        for pid in same_person {
            let Some(slot) = self.members.get_mut(&pid) else { continue };
            let m = &mut slot.member;
            if m.role == MeetingRole::Organiser || m.in_lobby {
                continue;
            }
            m.role = new;
            if new == MeetingRole::Attendee && m.connection == Role::Presenter {
                self.out.push_back(RosterOutput { to: pid, signal: Signal::Demoted });
            }
            self.refresh(pid);
            if let Some(owner) = self.members.get(&pid).and_then(|s| s.member.on_behalf_of) {
                self.refresh(owner);
            }
        }
        Ok(RoleChanged { user })
    }

    /// Carries out an organiser's action (authorisation is [`ParticipantAction::authorise`]).
    /// A promotion or demotion says whose role changed, so a signed-in user keeps it.
    pub fn perform(
        &mut self,
        id: ParticipantId,
        action: ParticipantAction,
    ) -> Result<Option<RoleChanged>, RosterError> {
        match action {
            ParticipantAction::Admit => self.admit(id).map(|()| None),
            ParticipantAction::Deny => self.deny(id).map(|()| None),
            ParticipantAction::Promote => self.set_role(id, NewRole::Presenter).map(Some),
            ParticipantAction::Demote => self.set_role(id, NewRole::Attendee).map(Some),
            ParticipantAction::Remove => self.remove(id).map(|()| None),
        }
    }

    /// Ends a participant's session (lobby included) with REMOVED_BY_ORGANISER.
    pub fn remove(&mut self, id: ParticipantId) -> Result<(), RosterError> {
        let slot = self.members.get_mut(&id).ok_or(RosterError::NotFound)?;
        slot.closing = true;
        self.out.push_back(RosterOutput { to: id, signal: Signal::Removed });
        Ok(())
    }

    /// Ends every connection of a signed-in user with `code`; returns how many.
    pub fn sign_out(&mut self, user: i64, code: ErrorCode) -> usize {
        let ids: Vec<_> = self.by_user.get(&user).into_iter().flatten().copied().collect();
        for &id in &ids {
            if let Some(slot) = self.members.get_mut(&id) {
                slot.closing = true;
            }
            self.out.push_back(RosterOutput { to: id, signal: Signal::SignedOut(code) });
        }
        ids.len()
    }

    /// Ends the meeting: every session closes, nobody joins any more.
    pub fn end(&mut self) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        self.departed.clear();
        self.departures.clear();
        for (&id, slot) in self.members.iter_mut() {
            slot.closing = true;
            self.out.push_back(RosterOutput { to: id, signal: Signal::Ended });
        }
    }

    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// The connection presenting now, if any.
    pub fn set_presenter(&mut self, presenter: Option<ParticipantId>) {
        let old = std::mem::replace(&mut self.presenter, presenter);
        for id in [old, presenter].into_iter().flatten() {
            self.refresh(id);
            if let Some(owner) = self.members.get(&id).and_then(|s| s.member.on_behalf_of) {
                self.refresh(owner);
            }
            let user = self.members.get(&id).and_then(|s| s.member.user);
            self.refresh_user(user, id);
        }
    }

    /// `from` stops the share of the person they are (see [`Roster::presenter_people`]);
    /// says whether there was one to stop.
    pub fn stop_presenting(&mut self, from: ParticipantId) -> bool {
        let Some(p) = self.presenter.filter(|_| self.presenter_people().contains(&from)) else { return false };
        if let Some(slot) = self.members.get_mut(&p) {
            slot.closing = true;
        }
        self.out.push_back(RosterOutput { to: p, signal: Signal::StopPresenting });
        true
    }

    /// The people a presenting connection stands for: its owner if it presents for one
    /// (the browser's second connection), else the admitted viewer connections of the
    /// same signed-in user (the desktop agent opened from their page). They are asked
    /// about control on their meeting page and may take control back there.
    pub fn presenter_people(&self) -> Vec<ParticipantId> {
        let Some(p) = self.presenter.and_then(|p| self.get(p).map(|m| (p, m))) else { return Vec::new() };
        if let Some(owner) = p.1.on_behalf_of {
            return vec![owner];
        }
        let Some(user) = p.1.user else { return Vec::new() };
        self.by_user
            .get(&user)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&id| id != p.0 && self.get(id).is_some_and(|m| m.connection == Role::Viewer && !m.in_lobby))
            .collect()
    }

    /// Shows again every other connection of `user` (after `id`'s change): whether a
    /// presenting connection of a signed-in user is shown as that person depends on
    /// their other connections.
    fn refresh_user(&mut self, user: Option<i64>, id: ParticipantId) {
        let Some(user) = user else { return };
        let others: Vec<_> = self.by_user.get(&user).into_iter().flatten().copied().filter(|&o| o != id).collect();
        for o in others {
            self.refresh(o);
        }
    }

    /// Who controls and who waits for control (they are shown to everyone).
    pub fn set_floor(&mut self, controller: Option<ParticipantId>, waiting: &[ParticipantId]) {
        let waiting: BTreeSet<_> = waiting.iter().copied().collect();
        let old_controller = std::mem::replace(&mut self.controller, controller);
        let old_waiting = std::mem::replace(&mut self.waiting, waiting);
        let touched: BTreeSet<_> = old_waiting
            .symmetric_difference(&self.waiting)
            .copied()
            .chain([old_controller, controller].into_iter().flatten())
            .collect();
        for id in touched {
            self.refresh(id);
        }
    }

    /// `id` wrote in the chat: shown to everyone from now on.
    pub fn chatted(&mut self, id: ParticipantId) {
        if self.members.contains_key(&id) && self.chatted.insert(id) {
            self.refresh(id);
        }
    }

    pub fn get(&self, id: ParticipantId) -> Option<&Member> {
        self.members.get(&id).map(|s| &s.member)
    }

    /// Every connection.
    pub fn members(&self) -> impl Iterator<Item = (ParticipantId, &Member)> {
        self.members.iter().map(|(&id, s)| (id, &s.member))
    }

    /// People in the meeting, lobby included (for the participant limit).
    pub fn people(&self) -> usize {
        self.people
    }

    /// The list as `audience` sees it (for the REST roster: [`Audience::Staff`]).
    pub fn entries(&self, audience: Audience) -> Vec<RosterEntry> {
        self.view(audience).entries().cloned().collect()
    }

    /// The next decision to deliver.
    pub fn poll_output(&mut self) -> Option<RosterOutput> {
        self.out.pop_front()
    }

    /// The version of one audience's list: sessions of that audience wait on it.
    pub fn audience_version(&self, audience: Audience) -> u64 {
        self.view(audience).version()
    }

    pub(crate) fn view(&self, audience: Audience) -> &View {
        &self.views[audience.index()]
    }

    pub(crate) fn counts(&self, audience: Audience) -> Counts {
        let people = self.view(Audience::Everyone).len();
        let lobby = (audience == Audience::Staff).then(|| (self.view(Audience::Staff).len() - people) as u32);
        Counts { people: people as u32, lobby }
    }

    /// Which list a participant sees; `None` for one that sees none (in the lobby, gone,
    /// or a presenting connection, whose person has its own view). `current` keeps an
    /// attendee on the short list until the meeting is well below the limit again, so a
    /// meeting hovering at the limit does not resend its list.
    pub(crate) fn audience_for(&self, id: ParticipantId, full: bool, current: Option<Audience>) -> Option<Audience> {
        let m = self.get(id).filter(|m| !m.in_lobby && m.connection == Role::Viewer)?;
        if m.role != MeetingRole::Attendee {
            return Some(Audience::Staff);
        }
        let people = self.view(Audience::Everyone).len();
        let limit =
            if current == Some(Audience::Notable) { self.full_list_up_to * 3 / 4 } else { self.full_list_up_to };
        Some(if full || people <= limit { Audience::Everyone } else { Audience::Notable })
    }

    /// The line `id` shows as; `None` while hidden (a connection presenting for someone in
    /// the meeting is shown as that someone).
    /// A signed-in user's presenting connection (the desktop agent) is shown as that
    /// user's own line while they are in the meeting with a viewer connection: one
    /// person, presenting, not a second "Olga".
    fn entry(&self, id: ParticipantId) -> Option<RosterEntry> {
        let m = self.get(id)?;
        if m.on_behalf_of.is_some_and(|owner| self.members.contains_key(&owner)) {
            return None;
        }
        let presenter = self.presenter.and_then(|p| self.get(p).map(|m| (p, m)));
        if m.connection == Role::Presenter && m.on_behalf_of.is_none() && self.watches_too(m.user, id) {
            return None;
        }
        let presenting_for = presenter.and_then(|(_, p)| p.on_behalf_of);
        let same_user_presents = presenter.is_some_and(|(p, pm)| {
            p != id
                && m.connection == Role::Viewer
                && !m.in_lobby
                && pm.connection == Role::Presenter
                && pm.on_behalf_of.is_none()
                && pm.user.is_some()
                && pm.user == m.user
        });
        Some(RosterEntry {
            participant: id,
            name: m.name.clone(),
            role: m.role,
            guest: m.guest,
            presenting: (self.presenter == Some(id) && m.connection == Role::Presenter)
                || presenting_for == Some(id)
                || same_user_presents,
            in_lobby: m.in_lobby,
        })
    }

    /// Whether `user` has an admitted viewer connection besides `id`.
    fn watches_too(&self, user: Option<i64>, id: ParticipantId) -> bool {
        let Some(user) = user else { return false };
        self.by_user
            .get(&user)
            .into_iter()
            .flatten()
            .any(|&o| o != id && self.get(o).is_some_and(|m| m.connection == Role::Viewer && !m.in_lobby))
    }

    fn notable(&self, id: ParticipantId, e: &RosterEntry) -> bool {
        e.role != MeetingRole::Attendee
            || e.presenting
            || self.controller == Some(id)
            || self.waiting.contains(&id)
            || self.chatted.contains(&id)
    }

    /// Publishes `id`'s line to every audience that should see it.
    fn refresh(&mut self, id: ParticipantId) {
        let entry = self.entry(id);
        for audience in Audience::ALL {
            let shown = entry.clone().filter(|e| match audience {
                Audience::Staff => true,
                Audience::Everyone => !e.in_lobby,
                Audience::Notable => !e.in_lobby && self.notable(id, e),
            });
            self.views[audience.index()].publish(id, shown);
        }
    }
}

#[cfg(test)]
mod tests;
