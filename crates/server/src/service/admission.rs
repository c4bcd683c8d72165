//! The facts a join is decided on, read once for a meeting and a caller: the WebSocket
//! handshake decides a real join with them, and `GET /api/meetings/{id}` tells a caller
//! (the join page, `deskshare doctor`) beforehand what the same rule would answer.

use deskshare_meeting::admission::{Facts, Passcode};
use deskshare_meeting::{AdmissionRule, Policies, Rejoin};
use deskshare_proto::{Role, ShareKind, WireError};

use crate::identity::Caller;
use crate::state::AppState;
use crate::store::MeetingRecord;

/// What the store and the live meeting say about one caller and one meeting.
pub struct Gathered {
    pub organiser: bool,
    /// A signed-in user the organiser made a presenter of this meeting.
    pub presenter_user: bool,
    pub policies: Policies,
    /// The policies sharing follows: the presenter's own when signed in.
    pub presenter_policies: Policies,
    pub rules: Vec<AdmissionRule>,
    pub expired: bool,
    pub people: usize,
}

/// Reads the facts for `caller` joining `meeting` as `role`.
pub async fn gather(
    state: &AppState,
    meeting: &MeetingRecord,
    caller: &Caller,
    role: Role,
) -> Result<Gathered, WireError> {
    let user = caller.user();
    let presenter_user = match user {
        Some(u) => state.store.is_presenter(&meeting.id, u.id).await?,
        None => false,
    };
    let policies = crate::service::policies::effective(state, meeting, None).await?;
    let presenter_policies = match (role, user) {
        (Role::Presenter, Some(u)) => crate::service::policies::effective(state, meeting, Some(u.id)).await?,
        _ => policies,
    };
    Ok(Gathered {
        organiser: caller.organises(meeting),
        presenter_user,
        policies,
        presenter_policies,
        rules: state.store.rules(&meeting.id).await?,
        expired: meeting.is_expired(state.clock.now()),
        people: state.hub.get(&meeting.id).map_or(0, |l| l.participant_count()),
    })
}

impl Gathered {
    /// The facts of one join attempt.
    #[allow(clippy::too_many_arguments)]
    pub fn facts<'a>(
        &'a self,
        meeting: &MeetingRecord,
        user: Option<&'a str>,
        connection: Role,
        share: ShareKind,
        has_secret: bool,
        passcode: Passcode,
        rejoin: Option<Rejoin>,
    ) -> Facts<'a> {
        Facts {
            connection,
            share,
            expired: self.expired,
            organiser: self.organiser,
            has_secret,
            presenter_user: self.presenter_user,
            user,
            passcode,
            policies: &self.policies,
            presenter_policies: &self.presenter_policies,
            lobby: meeting.lobby,
            rules: &self.rules,
            rejoin,
            people: self.people,
        }
    }
}
