//! Admission passes: how an admitted participant gets back in after the server restarted.
//!
//! The roster remembers who left of their own accord, for a rejoin within the grace
//! ([`crate::roster`]); a restart forgets it, and every admitted guest would be sent back
//! to the lobby and asked the passcode again. So each welcome carries a pass the server
//! signed (HMAC-SHA256 with a key only it has): the meeting, the role the participant
//! held, when, by which run of the server, and a nonce. A server that starts again opens
//! passes an earlier run issued, for the grace after its start; the nonces of participants the organiser
//! removed are kept (in the database), so a removed one stays out.
//!
//! A pass is a bearer token for one meeting's lobby and passcode: it is sent only to its
//! holder, over TLS, and grants nothing the hello's own identity does not (organiser
//! rights come only from signing in; the guest policy still applies).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::MeetingId;
use deskshare_proto::MeetingRole;

/// Prefix and version of the pass format.
const VERSION: &str = "p1";

/// The server's key for passes.
#[derive(Clone)]
pub struct PassKey([u8; 32]);

impl std::fmt::Debug for PassKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PassKey(…)")
    }
}

impl PassKey {
    /// A key derived from a server secret that survives restarts (the admin token):
    /// a new admin token makes old passes worthless, which is what rotating it means.
    pub fn derive(secret: &[u8]) -> PassKey {
        let mut h = Sha256::new();
        h.update(b"deskshare admission pass v1\0");
        h.update(secret);
        PassKey(h.finalize().into())
    }

    fn mac(&self, text: &str) -> Hmac<Sha256> {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        m.update(text.as_bytes());
        m
    }

    /// `body.MAC`: the body signed with this key (hex MAC).
    fn sign(&self, body: String) -> String {
        let mac = hex::encode(self.mac(&body).finalize().into_bytes());
        format!("{body}.{mac}")
    }

    /// The body of a signed text, once its MAC is checked (in constant time); its parts
    /// are the caller's to read. Both kinds of pass share this, and their version tags
    /// keep one from passing for the other.
    fn signed_body<'a>(&self, text: &'a str) -> Result<&'a str, Unsigned> {
        if text.len() > 256 {
            return Err(Unsigned::Malformed);
        }
        let (body, mac) = text.rsplit_once('.').ok_or(Unsigned::Malformed)?;
        let mac = hex::decode(mac).map_err(|_| Unsigned::Malformed)?;
        self.mac(body).verify_slice(&mac).map_err(|_| Unsigned::Forged)?;
        Ok(body)
    }
}

/// Why a signed text did not open.
enum Unsigned {
    Malformed,
    Forged,
}

/// What a pass says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pass {
    pub meeting: MeetingId,
    /// The role held when the pass was issued: an attendee or a presenter (an organiser's
    /// pass says attendee: organising comes from the sign-in).
    pub role: MeetingRole,
    /// Unix seconds.
    pub issued_at: i64,
    /// The live meeting that issued it (random each time a meeting becomes live: at the
    /// first join after a start, or after everyone left): within it the roster decides
    /// who may rejoin, so a pass opens only in a later one.
    pub instance: String,
    /// Identifies the pass, for revoking it (16 hex digits).
    pub nonce: String,
}

/// Why a pass was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PassError {
    #[error("not an admission pass")]
    Malformed,
    #[error("the pass was not issued by this server")]
    Forged,
    #[error("the pass is for another meeting")]
    OtherMeeting,
}

fn role_text(role: MeetingRole) -> &'static str {
    match role {
        MeetingRole::Presenter => "presenter",
        _ => "attendee",
    }
}

impl Pass {
    /// The pass as text: `p1.MEETING.ROLE.ISSUED.INSTANCE.NONCE.MAC`.
    pub fn seal(&self, key: &PassKey) -> String {
        key.sign(format!(
            "{VERSION}.{}.{}.{}.{}.{}",
            self.meeting,
            role_text(self.role),
            self.issued_at,
            self.instance,
            self.nonce
        ))
    }

    /// Whether this (opened, not revoked) pass lets its holder back in now (Unix seconds
    /// `now`), given the live instance of the meeting: `None` when the meeting is not
    /// live, else its id and whether it became live less than the rejoin grace ago. Never
    /// within the instance that issued it (its roster decides); in a later one only
    /// while that one is new (people coming back after a restart or a reload), and only
    /// within [`PASS_LIFETIME_SECONDS`] of issue.
    pub fn admits_again(&self, live: Option<(&str, bool)>, now: i64) -> bool {
        let recent = now - self.issued_at < PASS_LIFETIME_SECONDS;
        match live {
            None => recent,
            Some((instance, _)) if instance == self.instance => false,
            Some((_, new)) => new && recent,
        }
    }

    /// Checks a pass for `meeting`: well formed, signed with `key` (compared in constant
    /// time), and for this meeting.
    pub fn open(key: &PassKey, text: &str, meeting: &MeetingId) -> Result<Pass, PassError> {
        let body = key.signed_body(text).map_err(|e| match e {
            Unsigned::Malformed => PassError::Malformed,
            Unsigned::Forged => PassError::Forged,
        })?;
        let parts: Vec<&str> = body.split('.').collect();
        let [VERSION, id, role, issued, instance, nonce] = parts[..] else { return Err(PassError::Malformed) };
        let id = MeetingId::parse(id).map_err(|_| PassError::Malformed)?;
        if &id != meeting {
            return Err(PassError::OtherMeeting);
        }
        let role = match role {
            "presenter" => MeetingRole::Presenter,
            "attendee" => MeetingRole::Attendee,
            _ => return Err(PassError::Malformed),
        };
        let issued_at = issued.parse().map_err(|_| PassError::Malformed)?;
        Ok(Pass { meeting: id, role, issued_at, instance: instance.to_string(), nonce: nonce.to_string() })
    }
}

/// Prefix and version of the share-pass format.
const SHARE_VERSION: &str = "s1";

/// A share pass: lets the desktop agent present in one meeting as one signed-in user.
///
/// The meeting page's "Share my desktop" asks for one and hands it to the agent in the
/// link it opens (`#share=PASS`), so the agent shares as the person who clicked — shown
/// in the roster as them, asked about control on their page — without the agent ever
/// holding their sign-in. It grants exactly what that user's own sign-in would grant in
/// that meeting, checked again at every connection (a disabled account or a lost
/// presenter role stops it), for [`SHARE_PASS_LIFETIME_SECONDS`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharePass {
    pub meeting: MeetingId,
    /// The user the agent presents as.
    pub user: i64,
    /// Unix seconds.
    pub issued_at: i64,
}

/// How long a share pass lets an agent (re)connect: one working day.
pub const SHARE_PASS_LIFETIME_SECONDS: i64 = 12 * 3600;

/// Why a share pass was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SharePassError {
    #[error("not a share pass")]
    Malformed,
    #[error("the share pass was not issued by this server")]
    Forged,
    #[error("the share pass is for another meeting")]
    OtherMeeting,
    #[error("the share pass has expired; use Share my desktop on the meeting page again")]
    Expired,
}

impl SharePass {
    /// The pass as text: `s1.MEETING.USER.ISSUED.NONCE.MAC` (URL-safe as it is).
    pub fn seal(&self, key: &PassKey) -> String {
        key.sign(format!("{SHARE_VERSION}.{}.{}.{}.{}", self.meeting, self.user, self.issued_at, nonce()))
    }

    /// Checks a share pass for `meeting` at `now` (Unix seconds): well formed, signed
    /// with `key` (compared in constant time), for this meeting, not expired.
    pub fn open(key: &PassKey, text: &str, meeting: &MeetingId, now: i64) -> Result<SharePass, SharePassError> {
        let body = key.signed_body(text).map_err(|e| match e {
            Unsigned::Malformed => SharePassError::Malformed,
            Unsigned::Forged => SharePassError::Forged,
        })?;
        let parts: Vec<&str> = body.split('.').collect();
        let [SHARE_VERSION, id, user, issued, _nonce] = parts[..] else { return Err(SharePassError::Malformed) };
        let id = MeetingId::parse(id).map_err(|_| SharePassError::Malformed)?;
        if &id != meeting {
            return Err(SharePassError::OtherMeeting);
        }
        let user = user.parse().map_err(|_| SharePassError::Malformed)?;
        let issued_at: i64 = issued.parse().map_err(|_| SharePassError::Malformed)?;
        if now.saturating_sub(issued_at) >= SHARE_PASS_LIFETIME_SECONDS || issued_at > now + 300 {
            return Err(SharePassError::Expired);
        }
        Ok(SharePass { meeting: id, user, issued_at })
    }
}

/// How long a pass lets its holder back in: one sitting of a meeting.
pub const PASS_LIFETIME_SECONDS: i64 = 12 * 3600;

/// A new nonce (also a live meeting's instance id).
pub fn nonce() -> String {
    hex::encode(rand::random::<[u8; 8]>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meeting(n: u8) -> MeetingId {
        MeetingId::parse(&format!("{:024x}", n)).unwrap()
    }

    #[test]
    fn a_pass_opens_only_with_its_key_for_its_meeting() {
        let key = PassKey::derive(b"admin token");
        let pass = Pass {
            meeting: meeting(1),
            role: MeetingRole::Presenter,
            issued_at: 1_700_000_000,
            instance: nonce(),
            nonce: nonce(),
        };
        let text = pass.seal(&key);
        assert!(text.starts_with("p1."));
        assert_eq!(Pass::open(&key, &text, &meeting(1)), Ok(pass.clone()));
        assert_eq!(Pass::open(&key, &text, &meeting(2)), Err(PassError::OtherMeeting));
        assert_eq!(Pass::open(&PassKey::derive(b"another token"), &text, &meeting(1)), Err(PassError::Forged));
        // Changing any part breaks the signature: an attendee cannot make itself presenter.
        let forged = text.replacen(".presenter.", ".attendee.", 1);
        assert_eq!(Pass::open(&key, &forged, &meeting(1)), Err(PassError::Forged));
        let organiser = Pass { role: MeetingRole::Organiser, ..pass.clone() };
        assert_eq!(Pass::open(&key, &organiser.seal(&key), &meeting(1)).unwrap().role, MeetingRole::Attendee);
        // Back in a later instance of the meeting (after a restart, or everyone left), or
        // while it is not live; never in its own; not a day later.
        let now = pass.issued_at + 60;
        assert!(pass.admits_again(None, now));
        assert!(pass.admits_again(Some(("later", true)), now));
        assert!(!pass.admits_again(Some(("later", false)), now), "a later instance that is no longer new");
        assert!(!pass.admits_again(Some((pass.instance.as_str(), true)), now), "its own instance decides by roster");
        assert!(!pass.admits_again(None, pass.issued_at + PASS_LIFETIME_SECONDS));
        for bad in ["", "p1", "p1.x.y", &"a".repeat(300), "p1.a.b.c.d.zz"] {
            assert!(Pass::open(&key, bad, &meeting(1)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_share_pass_names_one_user_in_one_meeting_for_a_day() {
        let key = PassKey::derive(b"admin token");
        let now = 1_700_000_000;
        let pass = SharePass { meeting: meeting(1), user: 42, issued_at: now };
        let text = pass.seal(&key);
        assert!(text.starts_with("s1."), "{text}");
        assert!(text.chars().all(|c| c.is_ascii_alphanumeric() || c == '.'), "URL-safe: {text}");
        assert_ne!(text, pass.seal(&key), "every pass is new (a nonce)");
        assert_eq!(SharePass::open(&key, &text, &meeting(1), now + 60), Ok(pass.clone()));
        assert_eq!(SharePass::open(&key, &text, &meeting(2), now), Err(SharePassError::OtherMeeting));
        assert_eq!(SharePass::open(&PassKey::derive(b"other"), &text, &meeting(1), now), Err(SharePassError::Forged));
        let other_user = text.replacen(".42.", ".1.", 1);
        assert_eq!(SharePass::open(&key, &other_user, &meeting(1), now), Err(SharePassError::Forged));
        let late = now + SHARE_PASS_LIFETIME_SECONDS;
        assert_eq!(SharePass::open(&key, &text, &meeting(1), late), Err(SharePassError::Expired));
        // An admission pass is not a share pass, even with the same key.
        let admission = Pass {
            meeting: meeting(1),
            role: MeetingRole::Presenter,
            issued_at: now,
            instance: nonce(),
            nonce: nonce(),
        };
        assert_eq!(SharePass::open(&key, &admission.seal(&key), &meeting(1), now), Err(SharePassError::Malformed));
        for bad in ["", "s1", "s1.x.y.z.w.zz", &"a".repeat(300)] {
            assert!(SharePass::open(&key, bad, &meeting(1), now).is_err(), "{bad}");
        }
    }
}
