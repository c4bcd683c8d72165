//! The control floor: who may drive the presenter's mouse and keyboard.
//!
//! The server decides *who* is in control (one controller at a time, others queue); the
//! presenter's agent decides *whether* its machine obeys, by answering each request. So a
//! grant exists only after the agent said yes, and every grant has a fresh id that input
//! must carry: the agent drops input for any other id, so the server cannot impose control.
//!
//! Sans-IO: methods take the event and the time; [`ControlFloor::poll_output`] hands back
//! what to tell whom. The server's session tasks only deliver it.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use deskshare_proto::{ControlPolicy, RevokeReason};

/// How long the presenter has to answer a request before it counts as declined.
pub const ASK_TIMEOUT: Duration = Duration::from_secs(30);

pub use deskshare_proto::{GrantId, ParticipantId};

/// Why a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The presenter's agent does not allow control at all.
    Disabled,
    /// Nobody is presenting.
    NoPresenter,
    /// The presenter said no.
    Denied,
    /// The presenter did not answer in time.
    TimedOut,
}

/// What the floor wants done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FloorOutput {
    /// Ask the presenter's agent whether `participant` may control, under `grant`.
    AskPresenter { grant: GrantId, participant: ParticipantId },
    /// Tell the presenter's agent a grant ended on the server's side (release, leave).
    EndGrant { grant: GrantId },
    /// Tell `participant` its request was refused.
    Refused { participant: ParticipantId, why: Refusal },
    /// Who controls and who waits changed: tell everyone.
    Changed { reason: Option<RevokeReason> },
}

/// The floor of one meeting.
#[derive(Debug)]
pub struct ControlFloor {
    policy: Option<ControlPolicy>,
    controller: Option<(ParticipantId, GrantId)>,
    /// The request the presenter is being asked about, with its deadline.
    asking: Option<(ParticipantId, GrantId, Instant)>,
    queue: VecDeque<ParticipantId>,
    next_grant: u64,
    out: VecDeque<FloorOutput>,
}

impl Default for ControlFloor {
    fn default() -> Self {
        ControlFloor {
            policy: None,
            controller: None,
            asking: None,
            queue: VecDeque::new(),
            next_grant: 1,
            out: VecDeque::new(),
        }
    }
}

impl ControlFloor {
    pub fn new() -> Self {
        Self::default()
    }

    /// The current controller and its grant.
    pub fn controller(&self) -> Option<(ParticipantId, GrantId)> {
        self.controller
    }

    /// The request the presenter's person is being asked about now (the agent asks them
    /// only under the `ask` policy; `auto` and `never` answer at once): who asks, and
    /// the grant an answer names.
    pub fn question(&self) -> Option<(ParticipantId, GrantId)> {
        self.asking.filter(|_| self.policy == Some(ControlPolicy::Ask)).map(|(p, g, _)| (p, g))
    }

    /// Participants waiting, in order (the one being asked first).
    pub fn waiting(&self) -> Vec<ParticipantId> {
        self.asking.iter().map(|a| a.0).chain(self.queue.iter().copied()).collect()
    }

    /// A presenter connected with this policy (or left, with `None`). Leaving ends every
    /// grant and request: control belongs to one presenter's consent.
    pub fn set_presenter(&mut self, policy: Option<ControlPolicy>, now: Instant) {
        self.policy = policy;
        match policy {
            None | Some(ControlPolicy::Never) => {
                let why = if policy.is_none() { Refusal::NoPresenter } else { Refusal::Disabled };
                let had = self.controller.take().is_some();
                for p in self.waiting() {
                    self.out.push_back(FloorOutput::Refused { participant: p, why });
                }
                let waited = self.asking.take().is_some() | !self.queue.is_empty();
                self.queue.clear();
                if had || waited {
                    self.out.push_back(FloorOutput::Changed { reason: had.then_some(RevokeReason::PresenterLeft) });
                }
            }
            Some(_) => {
                // A new presenter connection: re-ask the pending request under it.
                if let Some((p, _, _)) = self.asking.take() {
                    self.queue.push_front(p);
                }
                self.advance(now);
            }
        }
    }

    /// `participant` asks for control.
    pub fn request(&mut self, participant: ParticipantId, now: Instant) -> Result<(), Refusal> {
        match self.policy {
            None => return Err(Refusal::NoPresenter),
            Some(ControlPolicy::Never) => return Err(Refusal::Disabled),
            Some(_) => {}
        }
        if self.controller.is_some_and(|c| c.0 == participant) || self.waiting().contains(&participant) {
            return Ok(());
        }
        self.queue.push_back(participant);
        self.out.push_back(FloorOutput::Changed { reason: None });
        self.advance(now);
        Ok(())
    }

    /// The presenter's agent answered the request under `grant`.
    pub fn decide(&mut self, grant: GrantId, granted: bool, now: Instant) {
        let Some((p, g, _)) = self.asking else { return };
        if g != grant {
            return; // an answer to a request that already ended
        }
        self.asking = None;
        if granted {
            self.controller = Some((p, g));
        } else {
            self.out.push_back(FloorOutput::Refused { participant: p, why: Refusal::Denied });
        }
        self.out.push_back(FloorOutput::Changed { reason: None });
        self.advance(now);
    }

    /// The controller gives control back, or a waiting participant gives up.
    pub fn release(&mut self, participant: ParticipantId, now: Instant) {
        self.remove(participant, RevokeReason::Released, now);
    }

    /// A participant's connection ended: its grant or request ends with it.
    pub fn left(&mut self, participant: ParticipantId, now: Instant) {
        self.remove(participant, RevokeReason::ControllerLeft, now);
    }

    /// The agent took control back (hotkey, local input, its user): the grant is over.
    pub fn revoked(&mut self, grant: GrantId, reason: RevokeReason, now: Instant) {
        if self.controller.is_some_and(|c| c.1 == grant) {
            self.controller = None;
            self.out.push_back(FloorOutput::Changed { reason: Some(reason) });
            self.advance(now);
        }
    }

    /// The server ends the current grant (a policy changed): the agent is told to stop.
    pub fn revoke(&mut self, reason: RevokeReason, now: Instant) {
        if let Some((_, g)) = self.controller.take() {
            self.out.push_back(FloorOutput::EndGrant { grant: g });
            self.out.push_back(FloorOutput::Changed { reason: Some(reason) });
            self.advance(now);
        }
    }

    /// Control is no longer allowed at all: end the grant and refuse everyone waiting.
    pub fn disable(&mut self, now: Instant) {
        // Empty the waiting line first, so ending the grant asks nobody next.
        let asking = self.asking.take();
        let queue = std::mem::take(&mut self.queue);
        self.revoke(RevokeReason::Policy, now);
        if let Some((p, g, _)) = asking {
            self.out.push_back(FloorOutput::EndGrant { grant: g });
            self.out.push_back(FloorOutput::Refused { participant: p, why: Refusal::Disabled });
        }
        for p in queue {
            self.out.push_back(FloorOutput::Refused { participant: p, why: Refusal::Disabled });
        }
        self.out.push_back(FloorOutput::Changed { reason: None });
    }

    /// Whether input from `participant` may be forwarded, and under which grant.
    pub fn grant_of(&self, participant: ParticipantId) -> Option<GrantId> {
        self.controller.filter(|c| c.0 == participant).map(|c| c.1)
    }

    /// Expires an unanswered request.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some((p, g, deadline)) = self.asking
            && now >= deadline
        {
            self.asking = None;
            self.out.push_back(FloorOutput::EndGrant { grant: g });
            self.out.push_back(FloorOutput::Refused { participant: p, why: Refusal::TimedOut });
            self.out.push_back(FloorOutput::Changed { reason: None });
            self.advance(now);
        }
    }

    /// When [`ControlFloor::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.asking.map(|a| a.2)
    }

    pub fn poll_output(&mut self) -> Option<FloorOutput> {
        self.out.pop_front()
    }

    fn remove(&mut self, participant: ParticipantId, reason: RevokeReason, now: Instant) {
        if let Some((p, g)) = self.controller
            && p == participant
        {
            self.controller = None;
            self.out.push_back(FloorOutput::EndGrant { grant: g });
            self.out.push_back(FloorOutput::Changed { reason: Some(reason) });
        } else if let Some((p, g, _)) = self.asking
            && p == participant
        {
            self.asking = None;
            self.out.push_back(FloorOutput::EndGrant { grant: g });
            self.out.push_back(FloorOutput::Changed { reason: None });
        } else if let Some(i) = self.queue.iter().position(|&q| q == participant) {
            self.queue.remove(i);
            self.out.push_back(FloorOutput::Changed { reason: None });
        }
        self.advance(now);
    }

    /// Asks the presenter about the next waiting participant, if the floor is free.
    fn advance(&mut self, now: Instant) {
        if self.controller.is_some() || self.asking.is_some() || self.policy.is_none() {
            return;
        }
        let Some(p) = self.queue.pop_front() else {
            return;
        };
        let grant = GrantId(self.next_grant);
        self.next_grant += 1;
        self.asking = Some((p, grant, now + ASK_TIMEOUT));
        self.out.push_back(FloorOutput::AskPresenter { grant, participant: p });
    }
}

#[cfg(test)]
mod tests;
