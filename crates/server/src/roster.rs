//! The roster of a live meeting: who is in, in which role, who waits in the lobby, and
//! the organiser's actions on them.

use deskshare_proto::{MeetingRole, Role, RosterEntry, ServerMessage};

use crate::hub::{LiveMeeting, Signal};

impl LiveMeeting {
    /// Everyone connected; with `include_lobby` also those waiting.
    pub fn roster(&self, include_lobby: bool) -> Vec<RosterEntry> {
        let presenter = self.presence().presenter;
        let ps = self.participants.lock().expect("participants lock");
        let mut out: Vec<RosterEntry> = ps
            .iter()
            .filter(|(_, p)| include_lobby || !p.info.in_lobby)
            .map(|(&id, p)| RosterEntry {
                participant: id,
                name: p.info.name.clone(),
                role: p.info.meeting_role,
                guest: p.info.external,
                presenting: presenter == Some(id) && p.info.role == Role::Presenter,
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
    pub fn decide_lobby(&self, id: u64, admit: bool) -> bool {
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

    /// Makes a participant a presenter (or an attendee again). Returns the user behind
    /// it, so the role can be kept; `None` if there is no such participant. The
    /// organiser stays organiser.
    pub fn set_role(&self, id: u64, presenter: bool) -> Option<Option<i64>> {
        let user = {
            let mut ps = self.participants.lock().expect("participants lock");
            let p = ps.get_mut(&id).filter(|p| !p.info.in_lobby)?;
            if p.info.meeting_role != MeetingRole::Organiser {
                p.info.meeting_role = if presenter { MeetingRole::Presenter } else { MeetingRole::Attendee };
            }
            p.info.user_id
        };
        self.broadcast_roster();
        Some(user)
    }

    /// The meeting role of a connection.
    pub fn meeting_role(&self, id: u64) -> Option<MeetingRole> {
        self.participants.lock().expect("participants lock").get(&id).map(|p| p.info.meeting_role)
    }

    /// Removes a participant: its session ends with REMOVED_BY_ORGANISER.
    pub fn remove(&self, id: u64) -> bool {
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
