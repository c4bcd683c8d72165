use std::time::{Duration, Instant};

use deskshare_proto::{ErrorCode, MAX_CONTROL_BYTES, MeetingRole, ParticipantId, Role, RosterList, ServerMessage};
use proptest::prelude::*;

use super::*;
use crate::PresenterSecret;

fn pid(n: u64) -> ParticipantId {
    ParticipantId(n)
}

fn member(name: &str, role: MeetingRole) -> Member {
    Member {
        name: name.into(),
        connection: Role::Viewer,
        role,
        guest: false,
        user: None,
        in_lobby: false,
        key: PresenterSecret::from_string(format!("key-{name}")).hash(),
        on_behalf_of: None,
    }
}

fn attendee(name: &str) -> Member {
    member(name, MeetingRole::Attendee)
}

fn outputs(r: &mut Roster) -> Vec<RosterOutput> {
    std::iter::from_fn(|| r.poll_output()).collect()
}

/// A client that applies roster messages as docs/PROTOCOL.md says, and checks each
/// message's size.
#[derive(Default, Debug)]
struct Client {
    list: RosterList,
    messages: usize,
}

impl Client {
    fn apply(&mut self, msg: ServerMessage) {
        let bytes = msg.to_json().len();
        assert!(bytes <= MAX_CONTROL_BYTES, "a roster message of {bytes} bytes");
        self.messages += 1;
        assert_eq!(self.list.apply(&msg), Ok(true), "{msg:?}");
    }

    /// Takes everything the cursor has now.
    fn drain(&mut self, cursor: &mut RosterCursor, roster: &Roster, now: Instant) {
        for _ in 0..10_000 {
            match cursor.poll(roster, now) {
                Some(m) => self.apply(m),
                None => return,
            }
        }
        panic!("the cursor never ran dry");
    }

    fn names(&self) -> Vec<&str> {
        self.list.entries().map(|e| e.name.as_str()).collect()
    }
}

fn in_sync(client: &Client, roster: &Roster, audience: Audience) {
    assert_eq!(client.list.to_vec(), roster.entries(audience), "the client's list is the {audience:?} list");
    let counts = roster.counts(audience);
    assert_eq!((client.list.people, client.list.lobby), (counts.people, counts.lobby));
}

#[test]
fn the_lobby_is_shown_to_staff_only_and_decisions_reach_the_waiting() {
    let now = Instant::now();
    let mut r = Roster::new();
    r.join(pid(1), member("Olga", MeetingRole::Organiser)).unwrap();
    r.join(pid(2), attendee("Ana")).unwrap();
    r.join(pid(3), Member { in_lobby: true, guest: true, ..attendee("Gus") }).unwrap();
    r.join(pid(4), Member { in_lobby: true, guest: true, ..attendee("Gia") }).unwrap();
    let (mut olga, mut ana) = (Client::default(), Client::default());
    let (mut olga_c, mut ana_c) = (RosterCursor::new(pid(1)), RosterCursor::new(pid(2)));
    olga.drain(&mut olga_c, &r, now);
    ana.drain(&mut ana_c, &r, now);
    assert_eq!(olga.names(), ["Olga", "Ana", "Gus", "Gia"]);
    assert_eq!(olga.list.lobby, Some(2));
    assert_eq!(ana.names(), ["Olga", "Ana"]);
    assert_eq!((ana.list.people, ana.list.lobby), (2, None));
    // Somebody in the lobby sees no roster at all.
    assert_eq!(RosterCursor::new(pid(3)).poll(&r, now), None);

    r.admit(pid(3)).unwrap();
    r.deny(pid(4)).unwrap();
    assert_eq!(
        outputs(&mut r),
        [RosterOutput { to: pid(3), signal: Signal::Admitted }, RosterOutput { to: pid(4), signal: Signal::Denied }]
    );
    assert_eq!(r.admit(pid(4)), Err(RosterError::NotFound), "a denied guest cannot be admitted after all");
    assert_eq!(r.admit(pid(2)), Err(RosterError::NotFound), "nobody by that number waits");
    r.leave(pid(4), now);
    olga.drain(&mut olga_c, &r, now);
    ana.drain(&mut ana_c, &r, now);
    assert_eq!(olga.names(), ["Olga", "Ana", "Gus"]);
    assert_eq!(ana.names(), ["Olga", "Ana", "Gus"]);
    assert_eq!((olga.list.people, olga.list.lobby), (3, Some(0)));
    in_sync(&olga, &r, Audience::Staff);
    in_sync(&ana, &r, Audience::Everyone);
}

#[test]
fn promotion_reaches_every_connection_of_the_person_and_demotion_stops_their_share() {
    let now = Instant::now();
    let mut r = Roster::new();
    r.join(pid(1), member("Olga", MeetingRole::Organiser)).unwrap();
    r.join(pid(2), Member { user: Some(7), ..attendee("Pia") }).unwrap();
    r.join(pid(3), Member { user: Some(7), ..attendee("Pia") }).unwrap();
    assert_eq!(r.set_role(pid(2), NewRole::Presenter), Ok(RoleChanged { user: Some(7) }));
    assert!(r.members().all(|(id, m)| id == pid(1) || m.role == MeetingRole::Presenter));
    // Pia's browser presents for connection 2 over a second connection.
    r.join(
        pid(4),
        Member {
            connection: Role::Presenter,
            on_behalf_of: Some(pid(2)),
            user: Some(7),
            ..member("Pia", MeetingRole::Presenter)
        },
    )
    .unwrap();
    r.set_presenter(Some(pid(4)));
    let shown = r.entries(Audience::Staff);
    assert_eq!(shown.len(), 3, "the presenting connection is shown as Pia: {shown:?}");
    assert!(shown.iter().find(|e| e.participant == pid(2)).unwrap().presenting);
    // The organiser stays organiser whatever happens.
    r.set_role(pid(1), NewRole::Attendee).unwrap();
    assert_eq!(r.get(pid(1)).unwrap().role, MeetingRole::Organiser);
    assert!(outputs(&mut r).is_empty());
    r.set_role(pid(2), NewRole::Attendee).unwrap();
    assert_eq!(outputs(&mut r), [RosterOutput { to: pid(4), signal: Signal::Demoted }]);
    assert!(r.members().all(|(id, m)| id == pid(1) || m.role == MeetingRole::Attendee));
    // Once the presenting connection's person left, the connection shows as itself.
    r.leave(pid(2), now);
    assert!(r.entries(Audience::Staff).iter().any(|e| e.participant == pid(4) && e.presenting));
    assert_eq!(r.set_role(pid(99), NewRole::Presenter), Err(RosterError::NotFound));
    r.join(pid(5), Member { in_lobby: true, ..attendee("Lou") }).unwrap();
    assert_eq!(r.set_role(pid(5), NewRole::Presenter), Err(RosterError::NotFound), "not from the lobby");
}

#[test]
fn actions_are_authorised_by_the_actors_role() {
    use ParticipantAction::*;
    for action in [Admit, Deny, Promote, Demote, Remove] {
        assert_eq!(action.authorise(MeetingRole::Organiser), Ok(()));
        let presenters = matches!(action, Admit | Deny);
        assert_eq!(action.authorise(MeetingRole::Presenter).is_ok(), presenters, "{action:?}");
        assert_eq!(action.authorise(MeetingRole::Attendee), Err(ErrorCode::NotOrganiser));
    }
    assert_eq!("promote".parse::<ParticipantAction>(), Ok(Promote));
    assert!("kick".parse::<ParticipantAction>().is_err());
    let mut r = Roster::new();
    r.join(pid(1), attendee("Ana")).unwrap();
    assert_eq!(r.perform(pid(1), Remove), Ok(None));
    assert_eq!(outputs(&mut r), [RosterOutput { to: pid(1), signal: Signal::Removed }]);
    assert_eq!(r.perform(pid(2), Remove), Err(RosterError::NotFound));
    assert_eq!(ErrorCode::from(RosterError::NotFound), ErrorCode::ParticipantNotFound);
}

#[test]
fn a_rejoin_within_the_grace_needs_the_key_and_a_leave_of_ones_own() {
    let t0 = Instant::now();
    let mut r = Roster::new();
    r.join(pid(1), member("Pia", MeetingRole::Presenter)).unwrap();
    r.join(pid(2), attendee("Ana")).unwrap();
    r.join(pid(3), attendee("Rex")).unwrap();
    r.join(pid(4), Member { in_lobby: true, ..attendee("Lou") }).unwrap();
    r.remove(pid(3)).unwrap();
    for id in 1..=4 {
        r.leave(pid(id), t0);
    }
    let key = |n: &str| PresenterSecret::from_string(format!("key-{n}"));
    assert_eq!(r.may_rejoin(pid(1), &key("Ana"), t0), None, "another's key");
    assert_eq!(r.may_rejoin(pid(3), &key("Rex"), t0), None, "removed by the organiser");
    assert_eq!(r.may_rejoin(pid(4), &key("Lou"), t0), None, "never admitted");
    let later = t0 + REJOIN_GRACE - Duration::from_secs(1);
    assert_eq!(r.may_rejoin(pid(1), &key("Pia"), later), Some(Rejoin { role: MeetingRole::Presenter }));
    r.forget_departed(pid(1));
    assert_eq!(r.may_rejoin(pid(1), &key("Pia"), later), None, "taken once");
    assert_eq!(r.may_rejoin(pid(2), &key("Ana"), t0 + REJOIN_GRACE), None, "after the grace");
}

#[test]
fn ending_tells_everyone_and_takes_nobody_more() {
    let mut r = Roster::new();
    r.join(pid(1), attendee("Ana")).unwrap();
    r.join(pid(2), Member { in_lobby: true, ..attendee("Lou") }).unwrap();
    r.end();
    r.end();
    let out = outputs(&mut r);
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|o| o.signal == Signal::Ended));
    assert_eq!(r.join(pid(3), attendee("Late")), Err(RosterError::Ended));
}

#[test]
fn signing_out_ends_every_connection_of_the_user() {
    let mut r = Roster::new();
    r.join(pid(1), Member { user: Some(7), ..attendee("Ana") }).unwrap();
    r.join(pid(2), Member { user: Some(7), in_lobby: true, ..attendee("Ana") }).unwrap();
    r.join(pid(3), Member { user: Some(8), ..attendee("Bo") }).unwrap();
    assert_eq!(r.sign_out(7, ErrorCode::AccountDisabled), 2);
    let to: Vec<_> = outputs(&mut r).into_iter().map(|o| o.to).collect();
    assert_eq!(to, [pid(1), pid(2)]);
}

#[test]
fn attendees_of_a_large_meeting_see_who_matters_and_the_counts() {
    let t0 = Instant::now();
    let mut r = Roster::new();
    r.join(pid(1), member("Olga", MeetingRole::Organiser)).unwrap();
    for n in 2..=150 {
        r.join(pid(n), attendee(&format!("A{n}"))).unwrap();
    }
    let (mut ana, mut cursor) = (Client::default(), RosterCursor::new(pid(2)));
    ana.drain(&mut cursor, &r, t0);
    assert!(!ana.list.full);
    assert_eq!(ana.names(), ["Olga"]);
    assert_eq!(ana.list.people, 150);
    // The controller, those waiting for control and chat authors join the short list.
    r.set_floor(Some(pid(10)), &[pid(11), pid(12)]);
    r.chatted(pid(13));
    ana.drain(&mut cursor, &r, t0);
    assert_eq!(ana.names(), ["Olga", "A10", "A11", "A12", "A13"]);
    r.set_floor(None, &[pid(12)]);
    ana.drain(&mut cursor, &r, t0);
    assert_eq!(ana.names(), ["Olga", "A12", "A13"]);
    // New counts alone wait for COUNTS_EVERY after the last message.
    r.join(pid(151), attendee("A151")).unwrap();
    assert_eq!(cursor.poll(&r, t0), None);
    assert_eq!(cursor.poll_timeout(&r), Some(t0 + COUNTS_EVERY));
    ana.drain(&mut cursor, &r, t0 + COUNTS_EVERY);
    assert_eq!(ana.list.people, 151);
    assert_eq!(cursor.poll_timeout(&r), None);
    // Asking for everyone sends the whole list, in pages.
    let before = ana.messages;
    cursor.set_full(true);
    ana.drain(&mut cursor, &r, t0 + COUNTS_EVERY);
    assert!(ana.list.full);
    assert_eq!(ana.messages - before, 2, "151 lines in pages of {PAGE}");
    in_sync(&ana, &r, Audience::Everyone);
    // The organiser sees everyone, always.
    let (mut olga, mut oc) = (Client::default(), RosterCursor::new(pid(1)));
    olga.drain(&mut oc, &r, t0);
    assert_eq!(olga.list.len(), 151);
    // Back on the short list only well below the limit.
    cursor.set_full(false);
    ana.drain(&mut cursor, &r, t0 + COUNTS_EVERY * 2);
    assert!(!ana.list.full);
    for n in 81..=151 {
        r.leave(pid(n), t0);
    }
    ana.drain(&mut cursor, &r, t0 + COUNTS_EVERY * 3);
    assert!(!ana.list.full, "{} people: still above three quarters of the limit", ana.list.people);
    for n in 60..81 {
        r.leave(pid(n), t0);
    }
    ana.drain(&mut cursor, &r, t0 + COUNTS_EVERY * 4);
    assert!(ana.list.full);
    in_sync(&ana, &r, Audience::Everyone);
}

#[test]
fn no_roster_message_passes_the_control_message_limit() {
    let now = Instant::now();
    let mut r = Roster::new();
    // The worst names: 4-byte characters, and characters JSON escapes; longer than
    // allowed.
    for n in 1..=2000u64 {
        let name = if n % 2 == 0 { "😀".repeat(200) } else { "\"\\".repeat(100) };
        let role = if n % 3 == 0 { MeetingRole::Presenter } else { MeetingRole::Organiser };
        r.join(pid(u64::MAX - n), Member { user: Some(n as i64), guest: true, ..member(&name, role) }).unwrap();
    }
    let (mut c, mut cursor) = (Client::default(), RosterCursor::new(pid(u64::MAX - 1)));
    c.drain(&mut cursor, &r, now);
    assert_eq!(c.list.len(), 2000);
    assert_eq!(c.messages, 20);
    assert!(c.list.entries().all(|e| e.name.chars().count() == MAX_NAME_CHARS));
    // 2000 leave at once: the deltas come in pages too.
    for n in 2..=2000u64 {
        r.leave(pid(u64::MAX - n), now);
    }
    c.drain(&mut cursor, &r, now);
    assert_eq!(c.list.len(), 1);
    assert_eq!(c.messages, 40);
}

#[test]
fn a_cursor_far_behind_starts_over_with_the_list() {
    let now = Instant::now();
    let mut r = Roster::new();
    r.join(pid(1), member("Olga", MeetingRole::Organiser)).unwrap();
    let (mut olga, mut cursor) = (Client::default(), RosterCursor::new(pid(1)));
    olga.drain(&mut cursor, &r, now);
    for n in 2..(LOG_KEEP as u64 + 10) {
        r.join(pid(n), attendee("x")).unwrap();
        r.leave(pid(n), now);
    }
    r.join(pid(5000), attendee("Last")).unwrap();
    match cursor.poll(&r, now) {
        Some(ServerMessage::Roster { participants, more: false, .. }) => assert_eq!(participants.len(), 2),
        other => panic!("expected the list again, got {other:?}"),
    }
}

/// One step of a random meeting.
#[derive(Clone, Debug)]
enum Step {
    Join {
        n: u64,
        lobby: bool,
        organiser: bool,
    },
    Leave(u64),
    Admit(u64),
    Promote(u64),
    Demote(u64),
    Present(Option<u64>),
    Floor(Option<u64>, Vec<u64>),
    Chat(u64),
    Full(usize, bool),
    /// Let this many clients catch up.
    Sync(usize),
}

fn step() -> impl Strategy<Value = Step> {
    let n = 0u64..160;
    prop_oneof![
        6 => (n.clone(), any::<bool>(), prop::bool::weighted(0.05)).prop_map(|(n, lobby, organiser)| Step::Join { n, lobby, organiser }),
        3 => n.clone().prop_map(Step::Leave),
        2 => n.clone().prop_map(Step::Admit),
        1 => n.clone().prop_map(Step::Promote),
        1 => n.clone().prop_map(Step::Demote),
        1 => prop::option::of(n.clone()).prop_map(Step::Present),
        1 => (prop::option::of(n.clone()), prop::collection::vec(n.clone(), 0..4)).prop_map(|(c, w)| Step::Floor(c, w)),
        1 => n.clone().prop_map(Step::Chat),
        1 => (0usize..4, any::<bool>()).prop_map(|(i, f)| Step::Full(i, f)),
        2 => (0usize..5).prop_map(Step::Sync),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever happens, a client that applies what its cursor sends, whenever it gets
    /// round to it, holds exactly the list of its audience, with the right counts.
    #[test]
    fn clients_that_apply_the_messages_hold_their_audiences_list(steps in prop::collection::vec(step(), 1..400)) {
        let now = Instant::now();
        let mut r = Roster::new().with_full_list_up_to(20);
        let mut short_lists = 0;
        // Four watchers that never leave: an organiser, a presenter and two attendees.
        r.join(pid(1000), member("Olga", MeetingRole::Organiser)).unwrap();
        r.join(pid(1001), member("Pia", MeetingRole::Presenter)).unwrap();
        r.join(pid(1002), attendee("Ana")).unwrap();
        r.join(pid(1003), attendee("Bo")).unwrap();
        let mut watchers: Vec<(ParticipantId, RosterCursor, Client, bool)> =
            (1000..1004).map(|n| (pid(n), RosterCursor::new(pid(n)), Client::default(), false)).collect();
        let mut t = now;
        for s in steps {
            match s {
                Step::Join { n, lobby, organiser } => {
                    if r.get(pid(n)).is_none() {
                        let role = if organiser { MeetingRole::Organiser } else { MeetingRole::Attendee };
                        r.join(pid(n), Member { in_lobby: lobby && !organiser, ..member(&format!("P{n}"), role) }).unwrap();
                    }
                }
                Step::Leave(n) => { r.leave(pid(n), t); }
                Step::Admit(n) => { let _ = r.admit(pid(n)); }
                Step::Promote(n) => { let _ = r.set_role(pid(n), NewRole::Presenter); }
                Step::Demote(n) => { let _ = r.set_role(pid(n), NewRole::Attendee); }
                Step::Present(n) => r.set_presenter(n.map(pid)),
                Step::Floor(c, w) => r.set_floor(c.map(pid), &w.into_iter().map(pid).collect::<Vec<_>>()),
                Step::Chat(n) => r.chatted(pid(n)),
                Step::Full(i, f) => {
                    watchers[i].1.set_full(f);
                    watchers[i].3 = f;
                }
                Step::Sync(k) => {
                    for (_, cursor, client, _) in watchers.iter_mut().take(k) {
                        if let Some(m) = cursor.poll(&r, t) { client.apply(m); }
                        short_lists += usize::from(cursor.audience() == Some(Audience::Notable));
                    }
                }
            }
            t += Duration::from_millis(100);
        }
        t += COUNTS_EVERY;
        for (id, cursor, client, full) in &mut watchers {
            client.drain(cursor, &r, t);
            let audience = cursor.audience().unwrap();
            prop_assert_eq!(Some(audience), r.audience_for(*id, *full, Some(audience)));
            prop_assert_eq!(client.list.full, audience != Audience::Notable);
            in_sync(client, &r, audience);
        }
        let _ = outputs(&mut r);
        SHORT_LISTS.fetch_add(short_lists, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Polls by a cursor on the short list, over all cases of the property: it must be
/// exercised, not only possible.
static SHORT_LISTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[test]
fn the_property_reaches_the_short_list() {
    clients_that_apply_the_messages_hold_their_audiences_list();
    assert!(SHORT_LISTS.load(std::sync::atomic::Ordering::Relaxed) > 0);
}

#[test]
fn a_signed_in_users_agent_is_shown_as_that_user_presenting_whenever_they_watch_too() {
    let now = Instant::now();
    let olga = |connection| Member { connection, user: Some(7), ..member("Olga", MeetingRole::Organiser) };
    let mut r = Roster::new();
    r.join(pid(1), attendee("Ana")).unwrap();
    let mut ana = Client::default();
    let mut cursor = RosterCursor::new(pid(1));
    // Her agent alone: shown as her, presenting.
    r.join(pid(2), olga(Role::Presenter)).unwrap();
    r.set_presenter(Some(pid(2)));
    ana.drain(&mut cursor, &r, now);
    let line = |c: &Client, name: &str| c.list.entries().find(|e| e.name == name).cloned();
    assert_eq!(ana.names(), ["Ana", "Olga"]);
    assert!(line(&ana, "Olga").unwrap().presenting);
    assert_eq!(r.presenter_people(), Vec::<ParticipantId>::new(), "nobody to ask on a page yet");
    // Her page joins: still one Olga, the page's line, presenting.
    r.join(pid(3), olga(Role::Viewer)).unwrap();
    ana.drain(&mut cursor, &r, now);
    assert_eq!(ana.names(), ["Ana", "Olga"]);
    let shown = line(&ana, "Olga").unwrap();
    assert_eq!((shown.participant, shown.presenting), (pid(3), true));
    assert_eq!(r.presenter_people(), vec![pid(3)]);
    in_sync(&ana, &r, Audience::Everyone);
    // A reload: the page leaves and comes back under a new id; one Olga throughout.
    r.leave(pid(3), now);
    ana.drain(&mut cursor, &r, now);
    assert_eq!(ana.names(), ["Ana", "Olga"]);
    assert_eq!(line(&ana, "Olga").unwrap().participant, pid(2));
    r.join(pid(4), olga(Role::Viewer)).unwrap();
    ana.drain(&mut cursor, &r, now);
    assert_eq!(ana.names(), ["Ana", "Olga"]);
    assert_eq!(r.presenter_people(), vec![pid(4)]);
    // Another user's page is not hers, and a guest's agent has nobody behind it.
    r.join(pid(5), Member { user: Some(8), ..attendee("Bo") }).unwrap();
    assert_eq!(r.presenter_people(), vec![pid(4)]);
    // She stops sharing: her line is no longer presenting, the agent's line is gone.
    r.set_presenter(None);
    r.leave(pid(2), now);
    ana.drain(&mut cursor, &r, now);
    assert_eq!(ana.names(), ["Ana", "Olga", "Bo"]);
    assert!(!line(&ana, "Olga").unwrap().presenting);
    in_sync(&ana, &r, Audience::Everyone);
    r.join(pid(6), Member { connection: Role::Presenter, guest: true, ..attendee("Presenter") }).unwrap();
    r.set_presenter(Some(pid(6)));
    assert!(r.presenter_people().is_empty());
}
