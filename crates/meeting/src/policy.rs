//! Meeting policies, in the spirit of the OCS/Lync meeting policies admins know, set at
//! three levels: a global default, per user, and per meeting.
//!
//! The narrowest level that sets a policy decides, but never more permissively than the
//! global level allows: a meeting can turn desktop sharing off where the global policy
//! allows it, never on where the global policy forbids it.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The policies, by their stable names (`deskshare admin policy set NAME VALUE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyName {
    EnableDesktopSharing,
    EnableProgramSharing,
    AllowControl,
    AllowExternalControl,
    AllowAnonymous,
    LobbyForGuests,
    MaxParticipants,
}

impl PolicyName {
    pub const ALL: [PolicyName; 7] = [
        PolicyName::EnableDesktopSharing,
        PolicyName::EnableProgramSharing,
        PolicyName::AllowControl,
        PolicyName::AllowExternalControl,
        PolicyName::AllowAnonymous,
        PolicyName::LobbyForGuests,
        PolicyName::MaxParticipants,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PolicyName::EnableDesktopSharing => "enable-desktop-sharing",
            PolicyName::EnableProgramSharing => "enable-program-sharing",
            PolicyName::AllowControl => "allow-control",
            PolicyName::AllowExternalControl => "allow-external-control",
            PolicyName::AllowAnonymous => "allow-anonymous",
            PolicyName::LobbyForGuests => "lobby-for-guests",
            PolicyName::MaxParticipants => "max-participants",
        }
    }

    /// What a person reads in `policy show`.
    pub fn description(self) -> &'static str {
        match self {
            PolicyName::EnableDesktopSharing => "enable desktop sharing",
            PolicyName::EnableProgramSharing => "enable program sharing",
            PolicyName::AllowControl => "allow control",
            PolicyName::AllowExternalControl => "allow control by guests and external participants",
            PolicyName::AllowAnonymous => "allow anonymous participants",
            PolicyName::LobbyForGuests => "lobby for guests",
            PolicyName::MaxParticipants => "max participants",
        }
    }

    fn is_count(self) -> bool {
        self == PolicyName::MaxParticipants
    }

    /// Whether a larger value grants more (so the global value is an upper bound); for
    /// `lobby-for-guests` turning it on restricts, so the global value is a lower bound.
    fn more_is_more_permissive(self) -> bool {
        self != PolicyName::LobbyForGuests
    }

    /// Built-in global default: sharing and control on, also for guests (the
    /// presenter's agent still asks its user before every grant), guests allowed and let
    /// straight in (a join link is enough, as for the core sharing path; organisers add
    /// a lobby per meeting), 250 participants.
    pub fn default_value(self) -> u32 {
        match self {
            PolicyName::LobbyForGuests => 0,
            PolicyName::MaxParticipants => 250,
            _ => 1,
        }
    }
}

impl fmt::Display for PolicyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a policy setting could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("unknown policy '{0}' (one of: {names})", names = PolicyName::ALL.map(|p| p.as_str()).join(", "))]
    UnknownName(String),
    #[error("'{value}' is not a value for {name} ({expected})")]
    BadValue { name: PolicyName, value: String, expected: &'static str },
}

impl FromStr for PolicyName {
    type Err = PolicyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key = s.trim().to_ascii_lowercase().replace('_', "-");
        PolicyName::ALL.into_iter().find(|p| p.as_str() == key).ok_or_else(|| PolicyError::UnknownName(s.to_string()))
    }
}

impl PolicyName {
    /// Parses a value: on/off/true/false/yes/no for switches, a number for counts.
    pub fn parse_value(self, v: &str) -> Result<u32, PolicyError> {
        let bad = |expected| PolicyError::BadValue { name: self, value: v.to_string(), expected };
        if self.is_count() {
            return v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=100_000).contains(n))
                .ok_or_else(|| bad("a number from 1 to 100000"));
        }
        match v.trim().to_ascii_lowercase().as_str() {
            "on" | "true" | "yes" | "1" => Ok(1),
            "off" | "false" | "no" | "0" => Ok(0),
            _ => Err(bad("on or off")),
        }
    }

    /// Shows a value the way it is set.
    pub fn show_value(self, v: u32) -> String {
        if self.is_count() {
            v.to_string()
        } else if v != 0 {
            "on".into()
        } else {
            "off".into()
        }
    }
}

/// The settings made at one level; unset names fall through to the wider level.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicySet(pub BTreeMap<PolicyName, u32>);

impl PolicySet {
    pub fn get(&self, name: PolicyName) -> Option<u32> {
        self.0.get(&name).copied()
    }
}

/// The policies in force for one meeting (and, for sharing, one presenter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policies {
    pub enable_desktop_sharing: bool,
    pub enable_program_sharing: bool,
    pub allow_control: bool,
    pub allow_external_control: bool,
    pub allow_anonymous: bool,
    pub lobby_for_guests: bool,
    pub max_participants: u32,
}

impl Policies {
    /// Resolves the three levels, narrowest first, bounded by the global level.
    pub fn resolve(global: &PolicySet, user: &PolicySet, meeting: &PolicySet) -> Policies {
        let value = |name: PolicyName| {
            let g = global.get(name).unwrap_or(name.default_value());
            let narrow = meeting.get(name).or(user.get(name)).unwrap_or(g);
            if name.more_is_more_permissive() { narrow.min(g) } else { narrow.max(g) }
        };
        Policies {
            enable_desktop_sharing: value(PolicyName::EnableDesktopSharing) != 0,
            enable_program_sharing: value(PolicyName::EnableProgramSharing) != 0,
            allow_control: value(PolicyName::AllowControl) != 0,
            allow_external_control: value(PolicyName::AllowExternalControl) != 0,
            allow_anonymous: value(PolicyName::AllowAnonymous) != 0,
            lobby_for_guests: value(PolicyName::LobbyForGuests) != 0,
            max_participants: value(PolicyName::MaxParticipants),
        }
    }

    /// The value of one policy, for display.
    pub fn value(&self, name: PolicyName) -> u32 {
        match name {
            PolicyName::EnableDesktopSharing => self.enable_desktop_sharing.into(),
            PolicyName::EnableProgramSharing => self.enable_program_sharing.into(),
            PolicyName::AllowControl => self.allow_control.into(),
            PolicyName::AllowExternalControl => self.allow_external_control.into(),
            PolicyName::AllowAnonymous => self.allow_anonymous.into(),
            PolicyName::LobbyForGuests => self.lobby_for_guests.into(),
            PolicyName::MaxParticipants => self.max_participants,
        }
    }

    /// Whether a participant may hold control: control must be allowed at all, and for
    /// guests and external participants also by its own policy.
    /// Whether `value` for `name` is no more permissive than what these policies allow:
    /// an organiser may tighten a meeting's policies, never loosen them past their own.
    pub fn allows(&self, name: PolicyName, value: u32) -> bool {
        let limit = self.value(name);
        if name.more_is_more_permissive() { value <= limit } else { value >= limit }
    }

    pub fn may_control(&self, external: bool) -> bool {
        self.allow_control && (!external || self.allow_external_control)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pairs: &[(PolicyName, u32)]) -> PolicySet {
        PolicySet(pairs.iter().copied().collect())
    }

    #[test]
    fn defaults_apply_without_settings() {
        let p = Policies::resolve(&PolicySet::default(), &PolicySet::default(), &PolicySet::default());
        assert!(p.enable_desktop_sharing && p.allow_control && p.allow_anonymous && p.allow_external_control);
        assert!(!p.lobby_for_guests);
        assert_eq!(p.max_participants, 250);
    }

    #[test]
    fn narrowest_wins_but_never_beyond_global() {
        use PolicyName::*;
        let global = set(&[(AllowControl, 1), (EnableDesktopSharing, 0), (MaxParticipants, 100), (LobbyForGuests, 0)]);
        let user = set(&[(AllowControl, 0), (MaxParticipants, 50)]);
        let meeting = set(&[(AllowControl, 1), (EnableDesktopSharing, 1), (MaxParticipants, 500), (LobbyForGuests, 1)]);
        let p = Policies::resolve(&global, &user, &meeting);
        assert!(p.allow_control, "meeting (narrowest) turns control back on: global allows it");
        assert!(!p.enable_desktop_sharing, "a meeting cannot enable what the global policy disables");
        assert_eq!(p.max_participants, 100, "capped by the global maximum");
        assert!(p.lobby_for_guests, "a meeting may add a lobby");
        let p = Policies::resolve(&global, &user, &PolicySet::default());
        assert!(!p.allow_control, "the user level applies when the meeting sets nothing");
        assert_eq!(p.max_participants, 50);
        let strict = set(&[(LobbyForGuests, 1)]);
        let p = Policies::resolve(&strict, &PolicySet::default(), &set(&[(LobbyForGuests, 0)]));
        assert!(p.lobby_for_guests, "a meeting cannot remove a lobby the global policy requires");
    }

    #[test]
    fn names_and_values_parse() {
        assert_eq!("allow-control".parse::<PolicyName>().unwrap(), PolicyName::AllowControl);
        assert_eq!("ALLOW_ANONYMOUS".parse::<PolicyName>().unwrap(), PolicyName::AllowAnonymous);
        assert!("launch".parse::<PolicyName>().is_err());
        assert_eq!(PolicyName::AllowControl.parse_value("off").unwrap(), 0);
        assert_eq!(PolicyName::MaxParticipants.parse_value("12").unwrap(), 12);
        assert!(PolicyName::MaxParticipants.parse_value("0").is_err());
        assert!(PolicyName::AllowControl.parse_value("maybe").is_err());
        assert_eq!(PolicyName::AllowControl.show_value(1), "on");
        let no_outsiders = set(&[(PolicyName::AllowExternalControl, 0)]);
        let p = Policies::resolve(&no_outsiders, &PolicySet::default(), &PolicySet::default());
        assert!(p.may_control(false) && !p.may_control(true));
    }
}
