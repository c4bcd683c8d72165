//! Meetings that are live in this process: their screen, who is connected, and the
//! signals that wake the per-connection tasks.

use deskshare_proto::ParticipantId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use deskshare_fanout::Screen;
use deskshare_meeting::{ControlFloor, MeetingId, Policies, SecretHash};
use deskshare_proto::{ErrorCode, MeetingRole, Role, ServerMessage};
use tokio::sync::{mpsc, watch};

/// Control messages queued for one connection. Bounded: a participant that cannot take
/// them is too slow to be in a meeting, and input for the presenter is dropped rather
/// than buffered without end.
pub const OUTBOX_CAPACITY: usize = 256;

/// A connected participant, as the meeting's other tasks see it.
pub struct Participant {
    pub info: ParticipantInfo,
    /// Control messages for this participant's session task to send.
    pub outbox: mpsc::Sender<ServerMessage>,
    /// Decisions about this participant (admitted, denied, removed).
    pub signal: watch::Sender<Signal>,
}

/// A decision the session task of one participant must act on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Signal {
    #[default]
    None,
    Admitted,
    Denied,
    Removed,
    /// No longer a presenter: a connection that presents ends.
    Demoted,
    /// The sign-in behind the connection ended (account disabled, password reset).
    SignedOut(ErrorCode),
}

/// What a session task holds for its own participant.
pub struct Conn {
    pub id: ParticipantId,
    pub outbox: mpsc::Receiver<ServerMessage>,
    pub signal: watch::Receiver<Signal>,
}

/// Who a participant is and where it stands.
pub struct ParticipantInfo {
    pub name: String,
    /// What the connection does: send the screen or watch it.
    pub role: Role,
    /// The participant's role in the meeting.
    pub meeting_role: MeetingRole,
    /// A guest or a participant from outside the organisation (for control policy).
    pub external: bool,
    /// The signed-in user behind the connection, if any.
    pub user_id: Option<i64>,
    /// Waiting to be admitted.
    pub in_lobby: bool,
    /// Hash of the key a second connection shows to present for this participant.
    pub key: SecretHash,
    /// This connection presents for that participant (the browser's second connection):
    /// the roster shows one person, presenting.
    pub on_behalf_of: Option<ParticipantId>,
}

/// Who is connected to a live meeting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Presence {
    /// Connection id of the current presenter, if one is connected.
    pub presenter: Option<ParticipantId>,
    /// The participant that presenter connection presents for (the browser presenting
    /// over a second connection): that participant's own view needs no screen updates.
    pub presenting_for: Option<ParticipantId>,
    pub viewers: u32,
}

/// One live meeting.
pub struct LiveMeeting {
    pub id: MeetingId,
    pub title: String,
    /// The meeting's screen (picture, frame log, tile cache) and cursor. A std mutex:
    /// no critical section awaits; the longest is a catch-up that encodes tiles no viewer
    /// needed before (once per tile version).
    pub screen: Mutex<Screen>,
    /// Bumped after every change of `screen`; viewer tasks wait on it.
    screen_changed: watch::Sender<u64>,
    presence: watch::Sender<Presence>,
    next_connection: AtomicU64,
    /// Everyone connected, by connection id.
    pub(crate) participants: Mutex<HashMap<ParticipantId, Participant>>,
    /// Who controls the presenter's machine (see `control.rs`).
    pub(crate) floor: Mutex<ControlFloor>,
    /// Becomes true when the meeting is ended or deleted; every session then closes.
    ended: watch::Sender<bool>,
    /// The policies in force; sessions watch them, so a change applies at once.
    policies: watch::Sender<Policies>,
}

impl LiveMeeting {
    fn new(id: MeetingId, title: String) -> Self {
        LiveMeeting {
            id,
            title,
            screen: Mutex::new(Screen::new()),
            screen_changed: watch::channel(0).0,
            presence: watch::channel(Presence::default()).0,
            next_connection: AtomicU64::new(1),
            participants: Mutex::new(HashMap::new()),
            floor: Mutex::new(ControlFloor::new()),
            ended: watch::channel(false).0,
            policies: watch::channel(Policies::resolve(&Default::default(), &Default::default(), &Default::default()))
                .0,
        }
    }

    pub fn next_connection_id(&self) -> ParticipantId {
        ParticipantId(self.next_connection.fetch_add(1, Ordering::Relaxed))
    }

    /// Runs `f` on the screen, then wakes the viewers.
    pub fn update_screen<R>(&self, f: impl FnOnce(&mut Screen) -> R) -> R {
        let r = f(&mut self.screen.lock().expect("screen lock"));
        self.screen_changed.send_modify(|n| *n += 1);
        r
    }

    pub fn subscribe_screen(&self) -> watch::Receiver<u64> {
        self.screen_changed.subscribe()
    }

    pub fn subscribe_presence(&self) -> watch::Receiver<Presence> {
        self.presence.subscribe()
    }

    pub fn presence(&self) -> Presence {
        *self.presence.borrow()
    }

    /// Makes `conn` the presenter, replacing any other (the replaced task sees it and ends).
    pub fn set_presenter(&self, conn: ParticipantId) {
        let presenting_for =
            self.participants.lock().expect("participants lock").get(&conn).and_then(|p| p.info.on_behalf_of);
        self.presence.send_modify(|p| {
            p.presenter = Some(conn);
            p.presenting_for = presenting_for;
        });
    }

    /// Clears the presenter if it is still `conn`; says whether it was.
    pub fn clear_presenter(&self, conn: ParticipantId) -> bool {
        self.presence.send_if_modified(|p| {
            let was = p.presenter == Some(conn);
            if was {
                p.presenter = None;
                p.presenting_for = None;
            }
            was
        })
    }

    /// Ends the meeting for everyone connected.
    pub fn end(&self) {
        self.ended.send_replace(true);
    }

    /// Resolves when the meeting is ended.
    pub fn subscribe_ended(&self) -> watch::Receiver<bool> {
        self.ended.subscribe()
    }

    /// Registers a connection (in the lobby or not); its session task drains the outbox
    /// and watches the signal.
    pub fn join(&self, id: ParticipantId, info: ParticipantInfo) -> Conn {
        let (outbox, rx) = mpsc::channel(OUTBOX_CAPACITY);
        let (signal, signal_rx) = watch::channel(Signal::None);
        let p = Participant { info, outbox, signal };
        self.participants.lock().expect("participants lock").insert(id, p);
        self.broadcast_roster();
        Conn { id, outbox: rx, signal: signal_rx }
    }

    /// How many people are connected (a connection presenting for someone already in is
    /// not another person).
    pub fn participant_count(&self) -> usize {
        self.participants.lock().expect("participants lock").values().filter(|p| p.info.on_behalf_of.is_none()).count()
    }

    pub fn is_external(&self, conn: ParticipantId) -> bool {
        self.participants.lock().expect("participants lock").get(&conn).is_some_and(|p| p.info.external)
    }

    pub fn policies(&self) -> Policies {
        *self.policies.borrow()
    }

    pub fn subscribe_policies(&self) -> watch::Receiver<Policies> {
        self.policies.subscribe()
    }

    /// New policies: sessions see them at once; a controller who may no longer control
    /// loses the grant, and with control off nobody waits for it any more.
    pub fn set_policies(&self, p: Policies) {
        if self.policies.send_replace(p) == p {
            return;
        }
        let controller = self.floor.lock().expect("floor lock").controller();
        self.with_floor(|f, now| {
            if !p.allow_control {
                f.disable(now);
            } else if let Some((who, _)) = controller
                && !p.may_control(self.is_external(who))
            {
                f.revoke(deskshare_proto::RevokeReason::Policy, now);
            }
        });
    }

    /// Removes a connection, ending any grant or request it had.
    pub fn leave(&self, conn: ParticipantId) {
        self.participants.lock().expect("participants lock").remove(&conn);
        self.with_floor(|f, now| f.left(conn, now));
        self.broadcast_roster();
    }

    pub fn viewer_joined(&self) {
        self.presence.send_modify(|p| p.viewers += 1);
    }

    pub fn viewer_left(&self) {
        self.presence.send_modify(|p| p.viewers = p.viewers.saturating_sub(1));
    }
}

/// All live meetings of this process.
#[derive(Default)]
pub struct Hub {
    meetings: Mutex<HashMap<MeetingId, Arc<LiveMeeting>>>,
}

impl Hub {
    /// The live meeting for `id`, made live on first use.
    pub fn get_or_open(&self, id: &MeetingId, title: &str) -> Arc<LiveMeeting> {
        self.meetings
            .lock()
            .expect("hub lock")
            .entry(id.clone())
            .or_insert_with(|| Arc::new(LiveMeeting::new(id.clone(), title.to_string())))
            .clone()
    }

    /// Every live meeting.
    pub fn all(&self) -> Vec<Arc<LiveMeeting>> {
        self.meetings.lock().expect("hub lock").values().cloned().collect()
    }

    pub fn get(&self, id: &MeetingId) -> Option<Arc<LiveMeeting>> {
        self.meetings.lock().expect("hub lock").get(id).cloned()
    }

    /// Forgets a live meeting (it was ended or deleted): its sessions see `ended`, and
    /// the next join starts it afresh.
    pub fn remove(&self, id: &MeetingId) {
        self.meetings.lock().expect("hub lock").remove(id);
    }

    /// Ends every live connection of a signed-in user with `code`, in every meeting
    /// (lobby included); returns how many.
    pub fn disconnect_user(&self, user: i64, code: ErrorCode) -> usize {
        let mut ended = 0;
        for live in self.all() {
            let ps = live.participants.lock().expect("participants lock");
            for p in ps.values().filter(|p| p.info.user_id == Some(user)) {
                p.signal.send_replace(Signal::SignedOut(code));
                ended += 1;
            }
        }
        ended
    }

    /// Drops the meeting from memory if nobody is connected. Its screen is forgotten; the
    /// presenter sends a keyframe when it comes back.
    pub fn close_if_idle(&self, id: &MeetingId) {
        let mut meetings = self.meetings.lock().expect("hub lock");
        if let Some(m) = meetings.get(id)
            && m.presence() == Presence::default()
            && Arc::strong_count(m) == 1
        {
            meetings.remove(id);
        }
    }
}
