//! The roster of a live meeting: who is in, in which role, who waits in the lobby, and
//! the organiser's actions on them.

use deskshare_proto::ParticipantId;
use deskshare_proto::{MeetingRole, Role, RosterEntry, ServerMessage};

use crate::hub::{LiveMeeting, Participant, Signal};

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

impl LiveMeeting {
    /// Everyone connected; with `include_lobby` also those waiting. A connection that
    /// presents for another participant is shown as that participant, presenting.
    pub fn roster(&self, include_lobby: bool) -> Vec<RosterEntry> {
        let presenter = self.presence().presenter;
        let ps = self.participants.lock().expect("participants lock");
        let presenting_for = presenter.and_then(|id| ps.get(&id)).and_then(|p| p.info.on_behalf_of);
        let mut out: Vec<RosterEntry> = ps
            .iter()
            .filter(|(_, p)| include_lobby || !p.info.in_lobby)
            .filter(|(_, p)| p.info.on_behalf_of.is_none_or(|owner| !ps.contains_key(&owner)))
            .map(|(&id, p)| RosterEntry {
                participant: id,
                name: p.info.name.clone(),
                role: p.info.meeting_role,
                guest: p.info.external,
                presenting: (presenter == Some(id) && p.info.role == Role::Presenter) || presenting_for == Some(id),
                in_lobby: p.info.in_lobby,
            })
            .collect();
        out.sort_by_key(|e| e.participant);
        out
    }

    /// Sends everyone the roster: organisers and presenters with the lobby, others without.
    pub fn broadcast_roster(&self) {
        let (full, public) = (self.roster(true), self.roster(false));
        let ps = self.participants.lock().expect("participants lock");
        for p in ps.values().filter(|p| !p.info.in_lobby) {
            let sees_lobby = p.info.meeting_role != MeetingRole::Attendee;
            let list = if sees_lobby { full.clone() } else { public.clone() };
            let _ = p.outbox.try_send(ServerMessage::Roster { participants: list });
        }
    }

    /// Admits (or turns away) someone waiting in the lobby. False if nobody by that
    /// number is waiting.
    pub fn decide_lobby(&self, id: ParticipantId, admit: bool) -> bool {
        let decided = {
            let mut ps = self.participants.lock().expect("participants lock");
            match ps.get_mut(&id) {
                Some(p) if p.info.in_lobby => {
                    p.info.in_lobby = !admit;
                    p.signal.send_replace(if admit { Signal::Admitted } else { Signal::Denied });
                    true
                }
                _ => false,
            }
        };
        if decided {
            self.broadcast_roster();
        }
        decided
    }

    /// Makes a participant a presenter (or an attendee again), with every connection of
    /// the same person: those presenting for it, and the same signed-in user's others.
    /// A demoted connection that presents stops. Returns who it was, so a signed-in user
    /// keeps the role; `None` if there is no such participant. The organiser stays
    /// organiser.
    pub fn set_role(&self, id: ParticipantId, role: NewRole) -> Option<RoleChanged> {
        let presenter = role == NewRole::Presenter;
        let user = {
            let mut ps = self.participants.lock().expect("participants lock");
            let target = ps.get(&id).filter(|p| !p.info.in_lobby)?;
            let user = target.info.user_id;
            let same_person = |pid: ParticipantId, p: &Participant| {
                pid == id || p.info.on_behalf_of == Some(id) || (user.is_some() && p.info.user_id == user)
            };
            for (&pid, p) in ps.iter_mut() {
                if !same_person(pid, p) || p.info.meeting_role == MeetingRole::Organiser || p.info.in_lobby {
                    continue;
                }
                p.info.meeting_role = if presenter { MeetingRole::Presenter } else { MeetingRole::Attendee };
                if !presenter && p.info.role == Role::Presenter {
                    p.signal.send_replace(Signal::Demoted);
                }
            }
            user
        };
        self.broadcast_roster();
        Some(RoleChanged { user })
    }

    /// The meeting role of a connection.
    pub fn meeting_role(&self, id: ParticipantId) -> Option<MeetingRole> {
        self.participants.lock().expect("participants lock").get(&id).map(|p| p.info.meeting_role)
    }

    /// Removes a participant: its session ends with REMOVED_BY_ORGANISER.
    pub fn remove(&self, id: ParticipantId) -> bool {
        let ps = self.participants.lock().expect("participants lock");
        match ps.get(&id) {
            Some(p) => {
                p.signal.send_replace(Signal::Removed);
                true
            }
            None => false,
        }
    }
}
