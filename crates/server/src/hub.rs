//! Meetings that are live in this process: their screen, who is connected (the roster
//! of `deskshare-meeting`), and the channels that wake the per-connection tasks.

use deskshare_proto::ParticipantId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use deskshare_fanout::Screen;
use deskshare_meeting::{Audience, ControlFloor, MeetingId, Member, Policies, Roster, RosterError, Signal};
use deskshare_proto::{ErrorCode, ServerMessage};

use crate::metrics::Metrics;
use tokio::sync::{mpsc, watch};

/// Control messages queued for one connection. Bounded: a participant that cannot take
/// them is too slow to be in a meeting, and input for the presenter is dropped rather
/// than buffered without end. The roster is not queued here: each session pulls it from
/// the roster's log when its connection has room.
pub const OUTBOX_CAPACITY: usize = 256;

/// How the meeting's other tasks reach one participant's session task.
struct Endpoint {
    /// Control messages for the session task to send.
    outbox: mpsc::Sender<ServerMessage>,
    /// The roster's decisions about this participant (admitted, denied, removed, …).
    signal: watch::Sender<Option<Signal>>,
}

/// The roster and the way to each participant's session, under one lock.
pub struct People {
    pub roster: Roster,
    endpoints: HashMap<ParticipantId, Endpoint>,
}

/// What a session task holds for its own participant.
pub struct Conn {
    pub id: ParticipantId,
    pub outbox: mpsc::Receiver<ServerMessage>,
    pub signal: watch::Receiver<Option<Signal>>,
}

/// Who is connected to a live meeting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Presence {
    /// Connection id of the current presenter, if one is connected.
    pub presenter: Option<ParticipantId>,
    /// The participant that presenter connection presents for (the browser presenting
    /// over a second connection): that participant's own view needs no screen updates.
    pub presenting_for: Option<ParticipantId>,
}

/// One live meeting.
pub struct LiveMeeting {
    pub id: MeetingId,
    pub title: String,
    /// Random id of this time the meeting is live, and when it became live: admission
    /// passes name the instance that issued them (see `deskshare_meeting::pass`).
    pub instance: String,
    pub opened: Instant,
    /// The meeting's screen (picture, frame log, tile cache) and cursor. A std mutex:
    /// no critical section awaits; the longest is a catch-up that encodes tiles no viewer
    /// needed before (once per tile version).
    pub screen: Mutex<Screen>,
    /// Bumped after every change of `screen`; viewer tasks wait on it.
    screen_changed: watch::Sender<u64>,
    presence: watch::Sender<Presence>,
    /// How many viewer connections watch. Apart from presence: it changes with every join
    /// and leave, and only the presenter's session waits on it (viewers read it once a
    /// second), so a join does not wake every session.
    viewer_count: watch::Sender<u32>,
    next_connection: AtomicU64,
    /// Everyone connected. Lock order: `floor` before `people`, never the other way.
    people: Mutex<People>,
    /// Per audience ([`Audience::index`]), its list's version after every change; each
    /// session waits on its own audience's, so a change wakes only those it concerns.
    roster_changed: [watch::Sender<u64>; 3],
    /// Who controls the presenter's machine (see `control.rs`).
    pub(crate) floor: Mutex<ControlFloor>,
    /// The control question the presenter's person was last told of, and whose pages
    /// were told (to withdraw it from the same pages). Lock order: after `floor`, before
    /// `people`.
    pub(crate) consent_told: Mutex<Option<(deskshare_proto::GrantId, Vec<ParticipantId>)>>,
    /// The policies in force; sessions watch them, so a change applies at once.
    policies: watch::Sender<Policies>,
    /// The server's counters (control events are counted here).
    pub metrics: Arc<Metrics>,
}

impl LiveMeeting {
    fn new(id: MeetingId, title: String, metrics: Arc<Metrics>) -> Self {
        LiveMeeting {
            id,
            title,
            instance: deskshare_meeting::pass::nonce(),
            opened: Instant::now(),
            screen: Mutex::new(Screen::new()),
            screen_changed: watch::channel(0).0,
            presence: watch::channel(Presence::default()).0,
            viewer_count: watch::channel(0).0,
            next_connection: AtomicU64::new(1),
            people: Mutex::new(People { roster: Roster::new(), endpoints: HashMap::new() }),
            roster_changed: Default::default(),
            floor: Mutex::new(ControlFloor::new()),
            consent_told: Mutex::new(None),
            policies: watch::channel(Policies::resolve(&Default::default(), &Default::default(), &Default::default()))
                .0,
            metrics,
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
        let presenting_for = self.with_roster(|r, _| {
            r.set_presenter(Some(conn));
            r.get(conn).and_then(|m| m.on_behalf_of)
        });
        self.presence.send_modify(|p| {
            p.presenter = Some(conn);
            p.presenting_for = presenting_for;
        });
    }

    /// Clears the presenter if it is still `conn`; says whether it was.
    pub fn clear_presenter(&self, conn: ParticipantId) -> bool {
        let was = self.presence.send_if_modified(|p| {
            let was = p.presenter == Some(conn);
            if was {
                p.presenter = None;
                p.presenting_for = None;
            }
            was
        });
        if was {
            self.with_roster(|r, _| r.set_presenter(None));
        }
        was
    }

    /// Runs `f` on the roster, then delivers its decisions and wakes the sessions if any
    /// list changed.
    pub fn with_roster<R>(&self, f: impl FnOnce(&mut Roster, Instant) -> R) -> R {
        let mut people = self.people.lock().expect("people lock");
        let before = Audience::ALL.map(|a| people.roster.audience_version(a));
        let r = f(&mut people.roster, Instant::now());
        while let Some(out) = people.roster.poll_output() {
            if let Some(e) = people.endpoints.get(&out.to) {
                e.signal.send_replace(Some(out.signal));
            }
        }
        let after = Audience::ALL.map(|a| people.roster.audience_version(a));
        drop(people);
        for a in Audience::ALL {
            if after[a.index()] != before[a.index()] {
                self.roster_changed[a.index()].send_replace(after[a.index()]);
            }
        }
        r
    }

    /// Wakes on every change of each audience's list.
    pub fn subscribe_roster(&self) -> [watch::Receiver<u64>; 3] {
        Audience::ALL.map(|a| self.roster_changed[a.index()].subscribe())
    }

    /// Ends the meeting for everyone connected (the lobby included).
    pub fn end(&self) {
        self.with_roster(|r, _| r.end());
    }

    /// Registers a connection (in the lobby or not); its session task drains the outbox
    /// and watches the signal.
    pub fn join(&self, id: ParticipantId, member: Member) -> Result<Conn, RosterError> {
        let (outbox, rx) = mpsc::channel(OUTBOX_CAPACITY);
        let (signal, signal_rx) = watch::channel(None);
        self.with_roster(|r, _| r.join(id, member))?;
        self.people.lock().expect("people lock").endpoints.insert(id, Endpoint { outbox, signal });
        Ok(Conn { id, outbox: rx, signal: signal_rx })
    }

    /// Sends a control message to one participant, if it is connected and keeps up.
    pub fn send_to(&self, participant: ParticipantId, msg: ServerMessage) {
        if let Some(e) = self.people.lock().expect("people lock").endpoints.get(&participant)
            && e.outbox.try_send(msg).is_err()
        {
            tracing::warn!(meeting = %self.id, %participant, "outbox full; control message dropped");
        }
    }

    /// Sends a control message to every participant past the lobby for whom `to` holds.
    pub fn send_to_all(&self, to: impl Fn(&Member) -> bool, msg: &ServerMessage) {
        let people = self.people.lock().expect("people lock");
        let mut dropped = 0;
        for (id, m) in people.roster.members() {
            if m.in_lobby || !to(m) {
                continue;
            }
            if let Some(e) = people.endpoints.get(&id)
                && e.outbox.try_send(msg.clone()).is_err()
            {
                dropped += 1;
            }
        }
        if dropped > 0 {
            tracing::warn!(meeting = %self.id, dropped, "outboxes full; control message dropped");
        }
    }

    /// Reads one participant's entry.
    pub fn member<R>(&self, id: ParticipantId, f: impl FnOnce(&Member) -> R) -> Option<R> {
        self.people.lock().expect("people lock").roster.get(id).map(f)
    }

    /// How many people are connected, the lobby included (a connection presenting for
    /// someone already in is not another person).
    pub fn participant_count(&self) -> usize {
        self.people.lock().expect("people lock").roster.people()
    }

    pub fn is_external(&self, conn: ParticipantId) -> bool {
        self.member(conn, |m| m.guest).unwrap_or(false)
    }

    /// The meeting role of a connection.
    pub fn meeting_role(&self, id: ParticipantId) -> Option<deskshare_proto::MeetingRole> {
        self.member(id, |m| m.role)
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
        self.with_roster(|r, now| r.leave(conn, now));
        self.people.lock().expect("people lock").endpoints.remove(&conn);
        self.with_floor(|f, now| f.left(conn, now));
    }

    pub fn viewer_joined(&self) {
        self.viewer_count.send_modify(|n| *n += 1);
    }

    pub fn viewer_left(&self) {
        self.viewer_count.send_modify(|n| *n = n.saturating_sub(1));
    }

    pub fn viewer_count(&self) -> u32 {
        *self.viewer_count.borrow()
    }

    pub fn subscribe_viewer_count(&self) -> watch::Receiver<u32> {
        self.viewer_count.subscribe()
    }
}

/// All live meetings of this process.
pub struct Hub {
    meetings: Mutex<HashMap<MeetingId, Arc<LiveMeeting>>>,
    metrics: Arc<Metrics>,
}

impl Hub {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Hub { meetings: Mutex::default(), metrics }
    }

    /// The live meeting for `id`, made live on first use.
    pub fn get_or_open(&self, id: &MeetingId, title: &str) -> Arc<LiveMeeting> {
        self.meetings
            .lock()
            .expect("hub lock")
            .entry(id.clone())
            .or_insert_with(|| Arc::new(LiveMeeting::new(id.clone(), title.to_string(), self.metrics.clone())))
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
        self.all().iter().map(|live| live.with_roster(|r, _| r.sign_out(user, code))).sum()
    }

    /// Drops the meeting from memory if nobody is connected. Its screen is forgotten; the
    /// presenter sends a keyframe when it comes back.
    pub fn close_if_idle(&self, id: &MeetingId) {
        let mut meetings = self.meetings.lock().expect("hub lock");
        if let Some(m) = meetings.get(id)
            && m.presence() == Presence::default()
            && m.viewer_count() == 0
            && Arc::strong_count(m) == 1
        {
            meetings.remove(id);
        }
    }
}
