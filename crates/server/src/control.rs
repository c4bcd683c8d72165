//! The server side of remote control: runs the meeting's [`ControlFloor`] and delivers
//! what it decides to the right session tasks.

use std::time::Instant;

use deskshare_meeting::{ControlFloor, FloorOutput, ParticipantId, Refusal};
use deskshare_proto::{CONTROL_QUEUE_SHOWN, ErrorCode, InputEvent, Person, ServerMessage, WireError};

use crate::hub::LiveMeeting;

/// The code a refusal is reported with.
pub fn refusal_error(why: Refusal) -> WireError {
    WireError::bare(match why {
        Refusal::Disabled => ErrorCode::ControlDisabled,
        Refusal::NoPresenter => ErrorCode::ControlUnavailable,
        Refusal::Denied => ErrorCode::ControlDenied,
        Refusal::TimedOut => ErrorCode::ControlTimeout,
    })
}

impl LiveMeeting {
    /// Runs `f` on the floor, then delivers everything it decided.
    /// Runs `f` on the floor, then delivers everything it decided. Who controls and who
    /// waits is also shown in the roster (they are among the people who matter).
    pub fn with_floor<R>(&self, f: impl FnOnce(&mut ControlFloor, Instant) -> R) -> R {
        let mut floor = self.floor.lock().expect("floor lock");
        let r = f(&mut floor, Instant::now());
        let mut changed = false;
        while let Some(out) = floor.poll_output() {
            changed |= matches!(out, FloorOutput::Changed { .. });
            self.deliver(&floor, out);
        }
        if changed {
            let (controller, waiting) = (floor.controller().map(|(p, _)| p), floor.waiting());
            self.with_roster(|r, _| r.set_floor(controller, &waiting));
        }
        r
    }

    fn person(&self, participant: ParticipantId) -> Person {
        let name = self.member(participant, |m| m.name.clone());
        Person { participant, name: name.unwrap_or_else(|| format!("Participant {participant}")) }
    }

    /// The roster's control part, as everyone is told it: the first of the queue only,
    /// so the message does not grow with the meeting.
    pub fn control_state(&self, floor: &ControlFloor, ended: Option<deskshare_proto::RevokeReason>) -> ServerMessage {
        let waiting = floor.waiting();
        ServerMessage::Control {
            controller: floor.controller().map(|(p, _)| self.person(p)),
            queue: waiting.iter().take(CONTROL_QUEUE_SHOWN).map(|&p| self.person(p)).collect(),
            queued: waiting.len() as u32,
            ended,
        }
    }

    fn send_to_presenter(&self, msg: ServerMessage) {
        if let Some(conn) = self.presence().presenter {
            self.send_to(conn, msg);
        }
    }

    fn deliver(&self, floor: &ControlFloor, out: FloorOutput) {
        self.metrics.control_event(match &out {
            FloorOutput::AskPresenter { .. } => "ask",
            FloorOutput::EndGrant { .. } => "grant_end",
            FloorOutput::Refused { .. } => "refused",
            FloorOutput::Changed { reason: Some(_) } => "revoked",
            FloorOutput::Changed { reason: None } => "changed",
        });
        match out {
            FloorOutput::AskPresenter { grant, participant } => {
                let requester = self.person(participant);
                tracing::info!(meeting = %self.id, %grant, requester = requester.name, "control requested");
                self.send_to_presenter(ServerMessage::ControlAsk { grant, requester });
            }
            FloorOutput::EndGrant { grant } => self.send_to_presenter(ServerMessage::ControlEnd { grant }),
            FloorOutput::Refused { participant, why } => {
                let err = refusal_error(why);
                self.send_to(participant, ServerMessage::Refused { code: err.code, message: err.message });
            }
            FloorOutput::Changed { reason } => {
                let state = self.control_state(floor, reason);
                tracing::info!(meeting = %self.id, ?state, "control changed");
                // Not to the lobby: nothing reaches a client before its welcome, which carries
                // the current state anyway.
                self.send_to_all(|_| true, &state);
            }
        }
    }

    /// Forwards a controller's input to the presenter's agent, tagged with the grant. Input
    /// from anyone else is refused: the floor, not the client, says who controls.
    pub fn forward_input(&self, from: ParticipantId, events: Vec<InputEvent>) -> Result<(), WireError> {
        let grant = self.floor.lock().expect("floor lock").grant_of(from);
        // Checked per message too: input never outlives a policy that forbids it.
        let grant = grant.filter(|_| self.policies().may_control(self.is_external(from)));
        match grant {
            Some(grant) => {
                self.send_to_presenter(ServerMessage::Input { grant, events });
                Ok(())
            }
            None => Err(WireError::bare(ErrorCode::NotController)),
        }
    }
}
