//! The server side of remote control: runs the meeting's [`ControlFloor`] and delivers
//! what it decides to the right session tasks.

use std::time::Instant;

use deskshare_meeting::{ControlFloor, FloorOutput, ParticipantId, Refusal};
use deskshare_proto::{
    CONTROL_QUEUE_SHOWN, ErrorCode, GrantId, InputEvent, Person, RevokeReason, ServerMessage, WireError,
};

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
        self.tell_consent(floor.question());
        r
    }

    /// Tells the presenter's person's meeting pages of a new control question, and
    /// withdraws an old one from the pages that were told it.
    fn tell_consent(&self, question: Option<(ParticipantId, GrantId)>) {
        let mut told = self.consent_told.lock().expect("consent lock");
        if told.as_ref().map(|t| t.0) == question.map(|q| q.1) {
            return;
        }
        if let Some((grant, pages)) = told.take() {
            for page in pages {
                self.send_to(page, ServerMessage::ConsentDone { grant });
            }
        }
        if let Some((requester, grant)) = question {
            let pages = self.with_roster(|r, _| r.presenter_people());
            let requester = self.person(requester);
            for &page in &pages {
                self.send_to(page, ServerMessage::ConsentAsk { grant, requester: requester.clone() });
            }
            *told = Some((grant, pages));
        }
    }

    /// The open control question, for a page of the presenter's person that just
    /// joined (a reload mid-question): it is told, and withdrawn from it later too.
    pub fn consent_question_for(&self, page: ParticipantId) -> Option<ServerMessage> {
        let floor = self.floor.lock().expect("floor lock");
        let (requester, grant) = floor.question()?;
        let mut told = self.consent_told.lock().expect("consent lock");
        let told = told.as_mut().filter(|t| t.0 == grant)?;
        if !self.with_roster(|r, _| r.presenter_people()).contains(&page) {
            return None;
        }
        told.1.push(page);
        Some(ServerMessage::ConsentAsk { grant, requester: self.person(requester) })
    }

    /// The presenter's person answered the question under `grant` on their meeting page:
    /// passed to the agent, which takes it only for the question it is asking (so a late
    /// answer, after one on the shared screen, does nothing). Only they may answer.
    pub fn consent_answer(&self, from: ParticipantId, grant: GrantId, granted: bool) -> Result<(), WireError> {
        if !self.with_roster(|r, _| r.presenter_people()).contains(&from) {
            return Err(WireError::bare(ErrorCode::ConsentNotYours));
        }
        let open = self.floor.lock().expect("floor lock").question().is_some_and(|q| q.1 == grant);
        if open {
            tracing::info!(meeting = %self.id, %grant, granted, "control answered on the presenter's page");
            self.send_to_presenter(ServerMessage::ConsentAnswer { grant, granted });
        }
        Ok(())
    }

    /// The presenter's person or an organiser takes control back from the meeting page.
    /// The server ends the grant and tells the agent, which stops obeying at once.
    pub fn take_back(&self, from: ParticipantId) -> Result<(), WireError> {
        let organiser = self.meeting_role(from) == Some(deskshare_proto::MeetingRole::Organiser);
        if !organiser && !self.with_roster(|r, _| r.presenter_people()).contains(&from) {
            return Err(WireError::new(
                ErrorCode::ConsentNotYours,
                "only the person presenting or an organiser can take control back",
            ));
        }
        tracing::info!(meeting = %self.id, %from, "control taken back from the meeting page");
        self.with_floor(|f, now| f.revoke(RevokeReason::Presenter, now));
        Ok(())
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
