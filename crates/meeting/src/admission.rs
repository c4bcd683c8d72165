//! Who goes straight into a meeting and who waits in the lobby.
//!
//! Decided from the meeting's lobby setting, the `lobby-for-guests` policy and the
//! meeting's admission rules, which persist with the meeting, so "people from my
//! organisation go straight in" works before the organiser has even joined.

use std::fmt;
use std::str::FromStr;

use crate::Policies;

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
