//! Meetings: identities and secrets, and (as they grow) the conference rules.
//!
//! A meeting id is random and never derived from a user or a title, so two organisers
//! with the same alias can never land in the same meeting, the failure OCS/Lync admins
//! knew as "two users with the same alias corrupt each other's conference".

pub mod admission;
pub mod floor;
mod ids;
pub mod pass;
pub mod policy;
pub mod rate;
pub mod roster;

pub use admission::{
    Admission, AdmissionRule, Facts, Joiner, LobbyMode, Passcode, check_share, decide, decide_delegate, must_wait,
};
pub use floor::{ControlFloor, FloorOutput, ParticipantId, Refusal};
pub use ids::{MeetingId, MeetingIdError, PresenterSecret, SecretHash};
pub use policy::{Policies, PolicyError, PolicyName, PolicySet};
pub use rate::{KeyedLimiter, TokenBucket};
pub use roster::{
    Audience, Member, NewRole, ParticipantAction, Rejoin, RoleChanged, Roster, RosterCursor, RosterError, RosterOutput,
    Signal,
};
