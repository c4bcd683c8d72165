//! [`decide`] against the join and share rows of the authorisation matrix
//! (`crates/deskshare/tests/authorization.rs`), then passcode, lobby, rejoin, capacity
//! and expiry.

use super::*;
use crate::PolicySet;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Organiser,
    /// Signed in and made a presenter of the meeting.
    Presenter,
    Attendee,
    Guest,
    /// Not signed in, with the presenter link.
    SecretHolder,
}

const EVERYONE: [Who; 5] = [Who::Organiser, Who::Presenter, Who::Attendee, Who::Guest, Who::SecretHolder];

fn defaults() -> Policies {
    Policies::resolve(&PolicySet::default(), &PolicySet::default(), &PolicySet::default())
}

fn facts<'a>(who: Who, connection: Role, policies: &'a Policies) -> Facts<'a> {
    Facts {
        connection,
        share: ShareKind::Desktop,
        expired: false,
        organiser: who == Who::Organiser,
        has_secret: who == Who::SecretHolder,
        presenter_user: who == Who::Presenter,
        user: match who {
            Who::Guest | Who::SecretHolder => None,
            Who::Organiser => Some("org@example.org"),
            Who::Presenter => Some("pia@example.org"),
            Who::Attendee => Some("ana@example.org"),
        },
        passcode: Passcode::NotSet,
        policies,
        presenter_policies: policies,
        lobby: LobbyMode::Off,
        rules: &[],
        rejoin: None,
        people: 3,
    }
}

fn role_of(r: Result<Admission, ErrorCode>) -> Result<MeetingRole, ErrorCode> {
    match r? {
        Admission::Admit { role, waits: false } => Ok(role),
        other => panic!("expected a plain admission, got {other:?}"),
    }
}

#[test]
fn join_as_viewer_follows_allow_anonymous() {
    for allow in [true, false] {
        let mut p = defaults();
        p.allow_anonymous = allow;
        for who in EVERYONE {
            let got = role_of(decide(&facts(who, Role::Viewer, &p)));
            let want = match who {
                Who::Guest if !allow => Err(ErrorCode::AnonymousNotAllowed),
                Who::Organiser => Ok(MeetingRole::Organiser),
                Who::Presenter | Who::SecretHolder => Ok(MeetingRole::Presenter),
                Who::Attendee | Who::Guest => Ok(MeetingRole::Attendee),
            };
            assert_eq!(got, want, "{who:?}, allow-anonymous {allow}");
        }
    }
}

#[test]
fn sharing_needs_a_presenter_and_the_sharing_policy() {
    for share in [ShareKind::Desktop, ShareKind::Program] {
        for on in [true, false] {
            let mut p = defaults();
            p.enable_desktop_sharing = on || share != ShareKind::Desktop;
            p.enable_program_sharing = on || share != ShareKind::Program;
            for who in EVERYONE {
                let mut f = facts(who, Role::Presenter, &p);
                f.share = share;
                let want = match who {
                    Who::Attendee | Who::Guest => Err(ErrorCode::PresenterSecretInvalid),
                    _ if !on && share == ShareKind::Desktop => Err(ErrorCode::SharingDisabled),
                    _ if !on => Err(ErrorCode::ProgramSharingDisabled),
                    Who::Organiser => Ok(MeetingRole::Organiser),
                    _ => Ok(MeetingRole::Presenter),
                };
                assert_eq!(role_of(decide(&f)), want, "{who:?} sharing {share:?}, policy {on}");
            }
        }
    }
}

#[test]
fn sharing_follows_the_presenters_own_policy() {
    let meeting = defaults();
    let mut theirs = defaults();
    theirs.enable_desktop_sharing = false;
    let mut f = facts(Who::Presenter, Role::Presenter, &meeting);
    f.presenter_policies = &theirs;
    assert_eq!(decide(&f), Err(ErrorCode::SharingDisabled));
}

#[test]
fn the_passcode_is_checked_only_when_needed_and_only_for_those_with_just_the_link() {
    let p = defaults();
    for who in EVERYONE {
        let exempt = matches!(who, Who::Organiser | Who::SecretHolder);
        for (passcode, want) in [
            (Passcode::Missing, Err(ErrorCode::PasscodeInvalid)),
            (Passcode::Wrong, Err(ErrorCode::PasscodeInvalid)),
            (Passcode::Unchecked, Ok(Admission::CheckPasscode)),
        ] {
            let mut f = facts(who, Role::Viewer, &p);
            f.passcode = passcode;
            let got = decide(&f);
            if exempt {
                assert!(matches!(got, Ok(Admission::Admit { .. })), "{who:?} {passcode:?}: {got:?}");
            } else {
                assert_eq!(got, want, "{who:?} {passcode:?}");
            }
        }
        let mut f = facts(who, Role::Viewer, &p);
        f.passcode = Passcode::Right;
        assert!(matches!(decide(&f), Ok(Admission::Admit { .. })), "{who:?} with the right passcode");
    }
}

#[test]
fn a_rejoin_within_the_grace_skips_passcode_and_lobby_and_keeps_a_presenter_role() {
    let mut p = defaults();
    p.lobby_for_guests = true;
    let mut f = facts(Who::Guest, Role::Viewer, &p);
    f.passcode = Passcode::Missing;
    assert_eq!(decide(&f), Err(ErrorCode::PasscodeInvalid));
    f.rejoin = Some(Rejoin { role: MeetingRole::Presenter });
    assert_eq!(decide(&f), Ok(Admission::Admit { role: MeetingRole::Presenter, waits: false }));
    // ...and may present again, as the presenter it was made.
    f.connection = Role::Presenter;
    assert_eq!(decide(&f), Ok(Admission::Admit { role: MeetingRole::Presenter, waits: false }));
    // An attendee rejoining stays an attendee and may not present.
    f.rejoin = Some(Rejoin { role: MeetingRole::Attendee });
    assert_eq!(decide(&f), Err(ErrorCode::PresenterSecretInvalid));
    f.connection = Role::Viewer;
    assert_eq!(decide(&f), Ok(Admission::Admit { role: MeetingRole::Attendee, waits: false }));
    // A rejoining organiser's role comes from its sign-in, never from the rejoin.
    f.rejoin = Some(Rejoin { role: MeetingRole::Organiser });
    assert_eq!(role_of(decide(&f)), Ok(MeetingRole::Attendee));
    // The guest policy still applies: it may have changed while they were away.
    p.allow_anonymous = false;
    let mut f = facts(Who::Guest, Role::Viewer, &p);
    f.rejoin = Some(Rejoin { role: MeetingRole::Presenter });
    assert_eq!(decide(&f), Err(ErrorCode::AnonymousNotAllowed));
}

#[test]
fn lobby_holds_guests_by_policy_and_everyone_by_setting_but_never_presenters() {
    let mut p = defaults();
    p.lobby_for_guests = true;
    for who in EVERYONE {
        let got = decide(&facts(who, Role::Viewer, &p)).unwrap();
        let waits = matches!(got, Admission::Admit { waits: true, .. });
        assert_eq!(waits, who == Who::Guest, "{who:?}, lobby-for-guests");
    }
    let p = defaults();
    let rules = [AdmissionRule::Domain("example.org".into())];
    for who in EVERYONE {
        let mut f = facts(who, Role::Viewer, &p);
        f.lobby = LobbyMode::Everyone;
        let waits = matches!(decide(&f).unwrap(), Admission::Admit { waits: true, .. });
        assert_eq!(waits, matches!(who, Who::Attendee | Who::Guest), "{who:?}, lobby everyone");
        f.rules = &rules;
        let waits = matches!(decide(&f).unwrap(), Admission::Admit { waits: true, .. });
        assert_eq!(waits, who == Who::Guest, "{who:?}, lobby everyone, domain rule");
    }
}

#[test]
fn a_full_meeting_holds_everyone_but_the_organiser() {
    let mut p = defaults();
    p.max_participants = 3;
    for who in EVERYONE {
        let got = role_of(decide(&facts(who, Role::Viewer, &p)));
        if who == Who::Organiser {
            assert_eq!(got, Ok(MeetingRole::Organiser));
        } else {
            assert_eq!(got, Err(ErrorCode::MeetingFull), "{who:?}");
        }
        let mut f = facts(who, Role::Viewer, &p);
        f.people = 2;
        assert!(role_of(decide(&f)).is_ok(), "{who:?} with room");
    }
}

#[test]
fn an_expired_meeting_takes_nobody_and_the_first_refusal_wins() {
    let mut p = defaults();
    p.allow_anonymous = false;
    for who in EVERYONE {
        let mut f = facts(who, Role::Presenter, &p);
        f.expired = true;
        f.passcode = Passcode::Wrong;
        assert_eq!(decide(&f), Err(ErrorCode::MeetingExpired), "{who:?}");
    }
    // A guest presenting without the secret: the presenter check comes before the
    // passcode, the passcode before the guest policy.
    let mut f = facts(Who::Guest, Role::Presenter, &p);
    f.passcode = Passcode::Wrong;
    assert_eq!(decide(&f), Err(ErrorCode::PresenterSecretInvalid));
    f.connection = Role::Viewer;
    assert_eq!(decide(&f), Err(ErrorCode::PasscodeInvalid));
    f.passcode = Passcode::Right;
    assert_eq!(decide(&f), Err(ErrorCode::AnonymousNotAllowed));
}

#[test]
fn a_delegate_presents_only_for_a_presenter_who_is_in() {
    let p = defaults();
    assert_eq!(decide_delegate(None, &p, ShareKind::Desktop), Err(ErrorCode::ParticipantNotFound));
    assert_eq!(decide_delegate(Some(MeetingRole::Attendee), &p, ShareKind::Desktop), Err(ErrorCode::NotPresenter));
    assert_eq!(decide_delegate(Some(MeetingRole::Presenter), &p, ShareKind::Desktop), Ok(MeetingRole::Presenter));
    let mut off = defaults();
    off.enable_program_sharing = false;
    assert_eq!(
        decide_delegate(Some(MeetingRole::Organiser), &off, ShareKind::Program),
        Err(ErrorCode::ProgramSharingDisabled)
    );
}
