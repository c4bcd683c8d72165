use super::*;

use deskshare_proto::ParticipantId as P;

fn drain(f: &mut ControlFloor) -> Vec<FloorOutput> {
    std::iter::from_fn(|| f.poll_output()).collect()
}

fn asked(out: &[FloorOutput]) -> Option<(GrantId, ParticipantId)> {
    out.iter().find_map(|o| match o {
        FloorOutput::AskPresenter { grant, participant } => Some((*grant, *participant)),
        _ => None,
    })
}

#[test]
fn no_presenter_or_never_refuses_at_once() {
    let t = Instant::now();
    let mut f = ControlFloor::new();
    assert_eq!(f.request(P(7), t), Err(Refusal::NoPresenter));
    f.set_presenter(Some(ControlPolicy::Never), t);
    assert_eq!(f.request(P(7), t), Err(Refusal::Disabled));
    assert_eq!(f.grant_of(P(7)), None);
}

#[test]
fn grant_needs_the_agents_yes_and_input_needs_the_grant() {
    let t = Instant::now();
    let mut f = ControlFloor::new();
    f.set_presenter(Some(ControlPolicy::Ask), t);
    f.request(P(7), t).unwrap();
    let (grant, who) = asked(&drain(&mut f)).expect("presenter is asked");
    assert_eq!(who, P(7));
    assert_eq!(f.grant_of(P(7)), None, "no input before the agent says yes");
    f.decide(GrantId(grant.0 + 100), true, t); // answer to another grant: ignored
    assert_eq!(f.grant_of(P(7)), None);
    f.decide(grant, true, t);
    assert_eq!(f.grant_of(P(7)), Some(grant));
    assert_eq!(f.grant_of(P(8)), None, "only the controller's input is forwarded");
    assert!(drain(&mut f).contains(&FloorOutput::Changed { reason: None }));
}

#[test]
fn queue_is_served_in_order_and_leaving_ends_grants() {
    let t = Instant::now();
    let mut f = ControlFloor::new();
    f.set_presenter(Some(ControlPolicy::Auto), t);
    f.request(P(1), t).unwrap();
    f.request(P(2), t).unwrap();
    f.request(P(3), t).unwrap();
    f.request(P(2), t).unwrap(); // asking twice does not queue twice
    let (g1, _) = asked(&drain(&mut f)).unwrap();
    f.decide(g1, true, t);
    assert_eq!(f.controller(), Some((P(1), g1)));
    assert_eq!(f.waiting(), vec![P(2), P(3)]);
    drain(&mut f);
    // The controller's connection drops: the grant ends and the next one is asked.
    f.left(P(1), t);
    let out = drain(&mut f);
    assert!(out.contains(&FloorOutput::EndGrant { grant: g1 }));
    assert!(out.contains(&FloorOutput::Changed { reason: Some(RevokeReason::ControllerLeft) }));
    let (g2, p2) = asked(&out).unwrap();
    assert_eq!(p2, P(2));
    assert_ne!(g2, g1, "every grant has a fresh id");
    f.decide(g2, false, t);
    let out = drain(&mut f);
    assert!(out.contains(&FloorOutput::Refused { participant: P(2), why: Refusal::Denied }));
    assert_eq!(asked(&out).map(|a| a.1), Some(P(3)));
}

#[test]
fn unanswered_request_times_out() {
    let t = Instant::now();
    let mut f = ControlFloor::new();
    f.set_presenter(Some(ControlPolicy::Ask), t);
    f.request(P(5), t).unwrap();
    let (g, _) = asked(&drain(&mut f)).unwrap();
    assert_eq!(f.poll_timeout(), Some(t + ASK_TIMEOUT));
    f.handle_timeout(t + ASK_TIMEOUT - Duration::from_millis(1));
    assert!(drain(&mut f).is_empty());
    f.handle_timeout(t + ASK_TIMEOUT);
    let out = drain(&mut f);
    assert!(out.contains(&FloorOutput::Refused { participant: P(5), why: Refusal::TimedOut }));
    assert!(out.contains(&FloorOutput::EndGrant { grant: g }));
    f.decide(g, true, t + ASK_TIMEOUT); // a late yes grants nothing
    assert_eq!(f.controller(), None);
}

#[test]
fn revocation_and_presenter_leaving_end_control() {
    let t = Instant::now();
    let mut f = ControlFloor::new();
    f.set_presenter(Some(ControlPolicy::Auto), t);
    f.request(P(1), t).unwrap();
    let (g, _) = asked(&drain(&mut f)).unwrap();
    f.decide(g, true, t);
    drain(&mut f);
    f.revoked(GrantId(g.0 + 1), RevokeReason::Hotkey, t); // stale grant: nothing happens
    assert_eq!(f.controller(), Some((P(1), g)));
    f.revoked(g, RevokeReason::Hotkey, t);
    assert_eq!(f.controller(), None);
    assert!(drain(&mut f).contains(&FloorOutput::Changed { reason: Some(RevokeReason::Hotkey) }));

    f.request(P(1), t).unwrap();
    let (g, _) = asked(&drain(&mut f)).unwrap();
    f.decide(g, true, t);
    f.request(P(2), t).unwrap();
    drain(&mut f);
    f.set_presenter(None, t);
    let out = drain(&mut f);
    assert_eq!(f.controller(), None);
    assert!(out.contains(&FloorOutput::Refused { participant: P(2), why: Refusal::NoPresenter }));
    assert!(out.contains(&FloorOutput::Changed { reason: Some(RevokeReason::PresenterLeft) }));
}

#[test]
fn a_policy_change_revokes_and_refuses_waiters() {
    let t = Instant::now();
    let mut f = ControlFloor::new();
    f.set_presenter(Some(ControlPolicy::Auto), t);
    f.request(P(1), t).unwrap();
    let (g, _) = asked(&drain(&mut f)).unwrap();
    f.decide(g, true, t);
    f.request(P(2), t).unwrap();
    drain(&mut f);
    f.disable(t);
    let out = drain(&mut f);
    assert_eq!(f.controller(), None);
    assert!(out.contains(&FloorOutput::EndGrant { grant: g }), "the agent is told to stop: {out:?}");
    assert!(out.contains(&FloorOutput::Changed { reason: Some(RevokeReason::Policy) }));
    assert!(out.iter().any(|o| matches!(o, FloorOutput::Refused { participant: P(2), why: Refusal::Disabled })));
    assert!(f.waiting().is_empty());
    assert_eq!(asked(&out), None, "nobody is asked once control is disabled");
}
