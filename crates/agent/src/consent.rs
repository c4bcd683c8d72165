//! The agent's side of control: it obeys input only under a grant its user gave.
//!
//! The server runs the floor (who may ask, who waits); this value decides whether this
//! machine obeys. A grant becomes active only when the agent itself says yes, input is
//! admitted only under the active grant's id, and a take-back ends it here first — before
//! the server even hears of it. Sans-IO: no X, no sockets.

use deskshare_proto::{ControlPolicy, GrantId, Person, RevokeReason};

/// What the agent should do about a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AskAction {
    /// Answer at once.
    Answer { grant: GrantId, granted: bool },
    /// Ask the local user, then call [`Consent::answer`].
    Prompt { grant: GrantId, requester: Person },
}

/// Consent state of one agent.
#[derive(Debug)]
pub struct Consent {
    policy: ControlPolicy,
    /// The grant being asked about locally.
    asking: Option<GrantId>,
    /// The grant input is obeyed under.
    active: Option<(GrantId, String)>,
}

impl Consent {
    pub fn new(policy: ControlPolicy) -> Self {
        Consent { policy, asking: None, active: None }
    }

    pub fn policy(&self) -> ControlPolicy {
        self.policy
    }

    /// The server asks whether `requester` may control under `grant`.
    pub fn on_ask(&mut self, grant: GrantId, requester: Person) -> AskAction {
        match self.policy {
            ControlPolicy::Never => AskAction::Answer { grant, granted: false },
            ControlPolicy::Auto => {
                self.active = Some((grant, requester.name));
                AskAction::Answer { grant, granted: true }
            }
            ControlPolicy::Ask => {
                self.asking = Some(grant);
                AskAction::Prompt { grant, requester }
            }
        }
    }

    /// The local user answered the prompt for `grant`. Returns the answer to send, or
    /// `None` if the question was withdrawn meanwhile.
    pub fn answer(&mut self, grant: GrantId, requester: &Person, granted: bool) -> Option<bool> {
        if self.asking != Some(grant) {
            return None;
        }
        self.asking = None;
        if granted {
            self.active = Some((grant, requester.name.clone()));
        }
        Some(granted)
    }

    /// The server ended `grant` (controller released or left, request timed out).
    /// Returns true if it was the active grant, so held keys must be released.
    pub fn on_end(&mut self, grant: GrantId) -> bool {
        if self.asking == Some(grant) {
            self.asking = None;
        }
        if self.active.as_ref().is_some_and(|a| a.0 == grant) {
            self.active = None;
            return true;
        }
        false
    }

    /// Whether input under `grant` may be injected.
    pub fn admits(&self, grant: GrantId) -> bool {
        self.active.as_ref().is_some_and(|a| a.0 == grant)
    }

    /// Who controls now, if anyone.
    pub fn controller(&self) -> Option<&str> {
        self.active.as_ref().map(|a| a.1.as_str())
    }

    /// The local user takes control back. Returns the grant to report as revoked.
    pub fn take_back(&mut self, reason: RevokeReason) -> Option<(GrantId, RevokeReason)> {
        self.active.take().map(|(g, _)| (g, reason))
    }

    /// The connection to the server dropped: no grant survives it.
    pub fn reset(&mut self) {
        self.asking = None;
        self.active = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deskshare_proto::GrantId as G;

    fn ana() -> Person {
        Person { participant: deskshare_proto::ParticipantId(3), name: "Ana".into() }
    }

    #[test]
    fn ask_policy_obeys_only_after_the_user_says_yes() {
        let mut c = Consent::new(ControlPolicy::Ask);
        assert_eq!(c.on_ask(G(5), ana()), AskAction::Prompt { grant: G(5), requester: ana() });
        assert!(!c.admits(G(5)), "no input while the question is open");
        assert_eq!(c.answer(G(4), &ana(), true), None, "an answer to another question grants nothing");
        assert_eq!(c.answer(G(5), &ana(), true), Some(true));
        assert!(c.admits(G(5)));
        assert!(!c.admits(G(6)), "input under any other grant is dropped");
        assert_eq!(c.controller(), Some("Ana"));
    }

    #[test]
    fn declined_withdrawn_and_never() {
        let mut c = Consent::new(ControlPolicy::Ask);
        c.on_ask(G(1), ana());
        assert_eq!(c.answer(G(1), &ana(), false), Some(false));
        assert!(!c.admits(G(1)));
        c.on_ask(G(2), ana());
        assert!(!c.on_end(G(2)), "a withdrawn question was not active");
        assert_eq!(c.answer(G(2), &ana(), true), None, "too late: the request is gone");
        assert!(!c.admits(G(2)));
        let mut never = Consent::new(ControlPolicy::Never);
        assert_eq!(never.on_ask(G(9), ana()), AskAction::Answer { grant: G(9), granted: false });
        assert!(!never.admits(G(9)));
    }

    #[test]
    fn take_back_and_end_stop_input_at_once() {
        let mut c = Consent::new(ControlPolicy::Auto);
        assert_eq!(c.on_ask(G(7), ana()), AskAction::Answer { grant: G(7), granted: true });
        assert!(c.admits(G(7)));
        assert_eq!(c.take_back(RevokeReason::Hotkey), Some((G(7), RevokeReason::Hotkey)));
        assert!(!c.admits(G(7)));
        assert_eq!(c.take_back(RevokeReason::Hotkey), None);
        c.on_ask(G(8), ana());
        assert!(c.on_end(G(8)));
        assert!(!c.admits(G(8)));
        c.on_ask(G(9), ana());
        c.reset();
        assert!(!c.admits(G(9)), "a reconnect ends every grant");
    }
}
