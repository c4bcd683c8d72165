//! Who may join a meeting, as what, and who waits in the lobby.
//!
//! [`decide`] is the whole rule, pure: the server gathers the [`Facts`] (the meeting, the
//! caller, the policies, the live roster) and carries out the answer. Waiting follows
//! the meeting's lobby setting, the `lobby-for-guests` policy and the meeting's admission
//! rules, which persist with the meeting, so "people from my organisation go straight
//! in" works before the organiser has even joined.

use std::fmt;
use std::str::FromStr;

use deskshare_proto::{ErrorCode, MeetingRole, Role, ShareKind};

use crate::{Policies, Rejoin};

/// What the server knows about a join when it decides.
#[derive(Clone, Copy, Debug)]
pub struct Facts<'a> {
    /// What the connection wants to do.
    pub connection: Role,
    /// For a presenter: what it shares.
    pub share: ShareKind,
    pub expired: bool,
    /// The caller organises the meeting (or administers the server).
    pub organiser: bool,
    /// The hello carried the meeting's presenter secret.
    pub has_secret: bool,
    /// A signed-in user the organiser made a presenter of this meeting.
    pub presenter_user: bool,
    /// The signed-in user's name; `None` for a guest.
    pub user: Option<&'a str>,
    pub passcode: Passcode,
    /// The meeting's policies.
    pub policies: &'a Policies,
    /// The policies of the user who would present (sharing follows them).
    pub presenter_policies: &'a Policies,
    pub lobby: LobbyMode,
    pub rules: &'a [AdmissionRule],
    /// Came back within the grace with the key of an earlier welcome.
    pub rejoin: Option<Rejoin>,
    /// People in the meeting now (lobby included).
    pub people: usize,
}

/// Where the passcode check stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Passcode {
    /// The meeting has none.
    NotSet,
    /// The meeting has one; the hello gave none.
    Missing,
    /// Given and not checked yet (checking is costly and rate-limited: only if needed).
    Unchecked,
    Right,
    Wrong,
}

/// The answer to a join.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Check the passcode (rate limits first), then decide again with the result.
    CheckPasscode,
    Admit {
        role: MeetingRole,
        /// Waits in the lobby first.
        waits: bool,
    },
}

/// Whether, and as what, someone may join.
pub fn decide(f: &Facts) -> Result<Admission, ErrorCode> {
    if f.expired {
        return Err(ErrorCode::MeetingExpired);
    }
    let rejoined_presenter = f.rejoin.is_some_and(|r| r.role == MeetingRole::Presenter);
    let may_present = f.has_secret || f.organiser || f.presenter_user || rejoined_presenter;
    if f.connection == Role::Presenter && !may_present {
        return Err(ErrorCode::PresenterSecretInvalid);
    }
    // The passcode keeps out people who only have the link; the organiser, holders of the
    // presenter secret and someone admitted a minute ago are already known.
    if !(f.organiser || f.has_secret || f.rejoin.is_some()) {
        match f.passcode {
            Passcode::NotSet | Passcode::Right => {}
            Passcode::Unchecked => return Ok(Admission::CheckPasscode),
            Passcode::Missing | Passcode::Wrong => return Err(ErrorCode::PasscodeInvalid),
        }
    }
    let guest = f.user.is_none();
    if guest && !f.has_secret && !f.policies.allow_anonymous {
        return Err(ErrorCode::AnonymousNotAllowed);
    }
    if f.connection == Role::Presenter {
        check_share(f.presenter_policies, f.share)?;
    }
    if !f.organiser && f.people >= f.policies.max_participants as usize {
        return Err(ErrorCode::MeetingFull);
    }
    let role = if f.organiser {
        MeetingRole::Organiser
    } else if f.presenter_user || f.has_secret || rejoined_presenter {
        MeetingRole::Presenter
    } else {
        MeetingRole::Attendee
    };
    let joiner = Joiner { guest, user: f.user, privileged: role != MeetingRole::Attendee };
    let waits = f.rejoin.is_none() && must_wait(f.policies, f.lobby, f.rules, &joiner);
    Ok(Admission::Admit { role, waits })
}

/// A second connection presenting for a participant who is in the meeting (`owner`: its
/// role, `None` if no such participant showed the right key): it presents as that
/// participant, who passed the passcode, the lobby and the guest policy already.
pub fn decide_delegate(
    owner: Option<MeetingRole>,
    policies: &Policies,
    share: ShareKind,
) -> Result<MeetingRole, ErrorCode> {
    let role = owner.ok_or(ErrorCode::ParticipantNotFound)?;
    if role == MeetingRole::Attendee {
        return Err(ErrorCode::NotPresenter);
    }
    check_share(policies, share)?;
    Ok(role)
}

/// Whether the policies allow sharing this kind of thing.
pub fn check_share(p: &Policies, share: ShareKind) -> Result<(), ErrorCode> {
    match share {
        ShareKind::Desktop if !p.enable_desktop_sharing => Err(ErrorCode::SharingDisabled),
        ShareKind::Program if !p.enable_program_sharing => Err(ErrorCode::ProgramSharingDisabled),
        _ => Ok(()),
    }
}

/// The meeting's own lobby setting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LobbyMode {
    /// No lobby beyond what policy requires (the default: a join link is enough).
    #[default]
    Off,
    /// Guests wait.
    Guests,
    /// Everyone waits, except organisers, presenters and those the rules let in.
    Everyone,
}

impl LobbyMode {
    pub fn as_str(self) -> &'static str {
        match self {
            LobbyMode::Off => "off",
            LobbyMode::Guests => "guests",
            LobbyMode::Everyone => "everyone",
        }
    }
}

impl FromStr for LobbyMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "off" => Ok(LobbyMode::Off),
            "guests" => Ok(LobbyMode::Guests),
            "everyone" => Ok(LobbyMode::Everyone),
            other => Err(format!("lobby '{other}' is not off, guests or everyone")),
        }
    }
}

/// A rule that lets people skip the lobby.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdmissionRule {
    /// Everyone signed in to this server goes straight in.
    SignedIn,
    /// Users whose name ends in `@DOMAIN` go straight in.
    Domain(String),
}

impl fmt::Display for AdmissionRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdmissionRule::SignedIn => f.write_str("signed-in"),
            AdmissionRule::Domain(d) => write!(f, "domain:{d}"),
        }
    }
}

impl FromStr for AdmissionRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        match s.strip_prefix("domain:") {
            Some(d) if !d.is_empty() && !d.contains('@') => Ok(AdmissionRule::Domain(d.to_string())),
            Some(_) => Err("a domain rule is domain:example.org".into()),
            None if s == "signed-in" => Ok(AdmissionRule::SignedIn),
            None => Err(format!("rule '{s}' is not signed-in or domain:NAME")),
        }
    }
}

/// Who is joining, as far as admission cares.
#[derive(Clone, Copy, Debug)]
pub struct Joiner<'a> {
    /// Not signed in.
    pub guest: bool,
    /// The signed-in user's name.
    pub user: Option<&'a str>,
    /// Organiser, administrator, presenter or holder of the presenter link.
    pub privileged: bool,
}

/// Whether `j` must wait in the lobby.
pub fn must_wait(policies: &Policies, lobby: LobbyMode, rules: &[AdmissionRule], j: &Joiner) -> bool {
    if j.privileged {
        return false;
    }
    let let_in = |r: &AdmissionRule| match (r, j.user) {
        (AdmissionRule::SignedIn, Some(_)) => true,
        (AdmissionRule::Domain(d), Some(u)) => u.rsplit_once('@').is_some_and(|(_, dom)| dom == d),
        _ => false,
    };
    if rules.iter().any(let_in) {
        return false;
    }
    match lobby {
        LobbyMode::Everyone => true,
        LobbyMode::Guests => j.guest,
        LobbyMode::Off => j.guest && policies.lobby_for_guests,
    }
}

#[cfg(test)]
mod decide_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PolicySet;

    fn policies(lobby_for_guests: bool) -> Policies {
        let mut p = Policies::resolve(&PolicySet::default(), &PolicySet::default(), &PolicySet::default());
        p.lobby_for_guests = lobby_for_guests;
        p
    }

    #[test]
    fn lobby_table() {
        let guest = Joiner { guest: true, user: None, privileged: false };
        let inside = Joiner { guest: false, user: Some("ana@example.org"), privileged: false };
        let outside = Joiner { guest: false, user: Some("bo@other.net"), privileged: false };
        let organiser = Joiner { guest: false, user: Some("org@example.org"), privileged: true };
        let org_rule = [AdmissionRule::Domain("example.org".into())];
        let cases = [
            // (lobby-for-guests policy, lobby mode, rules, joiner, waits)
            (false, LobbyMode::Off, &[][..], guest, false),
            (true, LobbyMode::Off, &[][..], guest, true),
            (false, LobbyMode::Guests, &[][..], guest, true),
            (false, LobbyMode::Guests, &[][..], inside, false),
            (false, LobbyMode::Everyone, &[][..], inside, true),
            (false, LobbyMode::Everyone, &org_rule[..], inside, false),
            (false, LobbyMode::Everyone, &org_rule[..], outside, true),
            (false, LobbyMode::Everyone, &[AdmissionRule::SignedIn][..], outside, false),
            (false, LobbyMode::Everyone, &[AdmissionRule::SignedIn][..], guest, true),
            (true, LobbyMode::Everyone, &[][..], organiser, false),
        ];
        for (i, (p, mode, rules, j, waits)) in cases.into_iter().enumerate() {
            assert_eq!(must_wait(&policies(p), mode, rules, &j), waits, "case {i}");
        }
    }

    #[test]
    fn parsing() {
        assert_eq!("domain:Example.org".parse::<AdmissionRule>().unwrap(), AdmissionRule::Domain("example.org".into()));
        assert_eq!("signed-in".parse::<AdmissionRule>().unwrap().to_string(), "signed-in");
        assert!("domain:".parse::<AdmissionRule>().is_err());
        assert!("everyone".parse::<AdmissionRule>().is_err());
        assert_eq!("Everyone".parse::<LobbyMode>().unwrap(), LobbyMode::Everyone);
        assert!("sometimes".parse::<LobbyMode>().is_err());
    }
}
