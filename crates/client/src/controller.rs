//! The CLI viewer as a controller: request control, play an input script once granted,
//! give control back, and report a take-back by the presenter with its code.

use deskshare_proto::{ClientMessage, ErrorCode, ParticipantId, RevokeReason, ServerMessage, WireError};
use tokio::sync::mpsc;

use crate::script::Step;

/// Controller state of one viewer session.
pub struct Controller {
    steps: Option<Vec<Step>>,
    me: ParticipantId,
    granted: bool,
    revoked: Option<WireError>,
    script: Option<mpsc::Receiver<ClientMessage>>,
    done: bool,
}

impl Controller {
    /// `me` is this session's participant id (from the welcome).
    pub fn new(steps: Vec<Step>, me: ParticipantId) -> Self {
        Controller { steps: Some(steps), me, granted: false, revoked: None, script: None, done: false }
    }

    /// Handles a control message. A refusal of the request ends the viewer with its code.
    pub fn on_message(&mut self, msg: &ServerMessage) -> Result<(), WireError> {
        match msg {
            ServerMessage::Control { controller, ended, .. } => {
                let mine = controller.as_ref().is_some_and(|c| c.participant == self.me);
                if mine && !self.granted {
                    self.granted = true;
                    eprintln!("control granted");
                    self.start_script();
                } else if !mine && self.granted && self.revoked.is_none() && !self.done {
                    let code = match ended {
                        Some(RevokeReason::Hotkey) => ErrorCode::ControlRevokedHotkey,
                        Some(RevokeReason::LocalInput) => ErrorCode::ControlRevokedLocalInput,
                        Some(RevokeReason::Presenter) => ErrorCode::ControlRevokedPresenter,
                        Some(RevokeReason::PresenterLeft) => ErrorCode::ControlUnavailable,
                        Some(RevokeReason::Policy) => ErrorCode::ControlDisabled,
                        _ => ErrorCode::NotController,
                    };
                    let err = WireError::bare(code);
                    eprintln!("{}", err.explain());
                    self.revoked = Some(err);
                }
                Ok(())
            }
            ServerMessage::Refused { code, message } => match code {
                ErrorCode::ControlDenied
                | ErrorCode::ControlTimeout
                | ErrorCode::ControlDisabled
                | ErrorCode::ControlUnavailable => Err(WireError::new(*code, message.clone())),
                _ => {
                    eprintln!("{}", WireError::new(*code, message.clone()).explain());
                    Ok(())
                }
            },
            _ => Ok(()),
        }
    }

    fn start_script(&mut self) {
        let steps = self.steps.take().unwrap_or_default();
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(async move {
            for step in steps {
                match step {
                    Step::Send(events) => {
                        if tx.send(ClientMessage::Input { events }).await.is_err() {
                            return;
                        }
                    }
                    Step::Wait(d) => tokio::time::sleep(d).await,
                }
            }
            let _ = tx.send(ClientMessage::ReleaseControl).await;
        });
        self.script = Some(rx);
    }

    /// The next message the script wants sent; pending until there is one.
    pub async fn next(&mut self) -> ClientMessage {
        match self.script.as_mut() {
            Some(rx) => match rx.recv().await {
                Some(msg) => {
                    if msg == ClientMessage::ReleaseControl {
                        self.done = true;
                    }
                    msg
                }
                None => std::future::pending().await,
            },
            None => std::future::pending().await,
        }
    }

    /// After the script: `Some(Ok)` if it ran under control throughout, `Some(Err)` with
    /// the take-back's code otherwise; `None` while it runs.
    pub fn outcome(&self) -> Option<Result<(), WireError>> {
        self.done.then(|| self.revoked.clone().map_or(Ok(()), Err))
    }
}
