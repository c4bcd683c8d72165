//! Control on the agent's async side: answers the server's questions (asking the local
//! user when the policy says so), passes admitted input to the injector thread, and
//! reports take-backs. Consent itself lives in [`crate::consent`].

use std::io::IsTerminal;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use deskshare_proto::{ClientMessage, ControlPolicy, GrantId, Person, RevokeReason, ServerMessage};
use tokio::sync::mpsc;

use crate::consent::{AskAction, Consent};
use crate::inject::{Area, InjectCommand};

/// How long the local user has to answer a request.
pub const PROMPT_TIMEOUT: Duration = Duration::from_secs(25);

struct Prompt {
    grant: GrantId,
    requester: Person,
    deadline: Instant,
}

/// The agent's control side.
pub struct ControlSide {
    consent: Consent,
    inject: std_mpsc::Sender<InjectCommand>,
    prompt: Option<Prompt>,
    /// Lines typed on the terminal, for prompts.
    lines: mpsc::UnboundedReceiver<String>,
    area: Option<Area>,
}

impl ControlSide {
    pub fn new(policy: ControlPolicy, inject: std_mpsc::Sender<InjectCommand>) -> Self {
        let (tx, lines) = mpsc::unbounded_channel();
        if policy == ControlPolicy::Ask {
            if !std::io::stdin().is_terminal() {
                eprintln!(
                    "note: no terminal to ask on; control requests will be declined after {} s (use --allow-control auto or never)",
                    PROMPT_TIMEOUT.as_secs()
                );
            }
            // A plain thread: stdin reads block, and there is one stdin.
            std::thread::spawn(move || {
                for line in std::io::stdin().lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        ControlSide { consent: Consent::new(policy), inject, prompt: None, lines, area: None }
    }

    /// The shared area changed (size from frames, or position in program mode).
    pub fn set_area(&mut self, area: Area) {
        if self.area != Some(area) {
            self.area = Some(area);
            let _ = self.inject.send(InjectCommand::Area(area));
        }
    }

    /// A control message from the server; returns what to answer.
    pub fn on_server(&mut self, msg: ServerMessage) -> Option<ClientMessage> {
        match msg {
            ServerMessage::ControlAsk { grant, requester } => match self.consent.on_ask(grant, requester) {
                AskAction::Answer { grant, granted } => {
                    if granted {
                        let _ = self.inject.send(InjectCommand::Enable);
                        eprintln!("control granted automatically (take back with the hotkey)");
                    }
                    Some(ClientMessage::ControlDecision { grant, granted })
                }
                AskAction::Prompt { grant, requester } => {
                    eprint!(
                        "\n{} asks to control this screen. Allow? [y/N] ({} s): ",
                        requester.name,
                        PROMPT_TIMEOUT.as_secs()
                    );
                    self.prompt = Some(Prompt { grant, requester, deadline: Instant::now() + PROMPT_TIMEOUT });
                    None
                }
            },
            ServerMessage::ControlEnd { grant } => {
                if self.prompt.as_ref().is_some_and(|p| p.grant == grant) {
                    self.prompt = None;
                    eprintln!("(the request was withdrawn)");
                }
                if self.consent.on_end(grant) {
                    let _ = self.inject.send(InjectCommand::Disable);
                    eprintln!("control ended");
                }
                None
            }
            ServerMessage::Input { grant, events } => {
                // The server forwards only the controller's input, but the agent checks
                // anyway: input under any grant but the one its user gave is dropped.
                if self.consent.admits(grant) {
                    let _ = self.inject.send(InjectCommand::Events(events));
                }
                None
            }
            ServerMessage::Control { controller, queued, ended, .. } => {
                match (&controller, ended) {
                    (Some(c), _) => eprintln!("{} is in control ({queued} waiting)", c.name),
                    (None, Some(why)) => eprintln!("control ended: {why:?}"),
                    (None, None) => {}
                }
                None
            }
            _ => None,
        }
    }

    /// The injector saw a take-back (it has already stopped obeying).
    pub fn on_takeback(&mut self, reason: RevokeReason) -> Option<ClientMessage> {
        let (grant, reason) = self.consent.take_back(reason)?;
        eprintln!("control taken back ({reason:?})");
        Some(ClientMessage::ControlRevoke { grant, reason })
    }

    /// The connection dropped: no grant outlives it.
    pub fn reset(&mut self) {
        self.consent.reset();
        self.prompt = None;
        let _ = self.inject.send(InjectCommand::Disable);
    }

    /// Waits for the local user's answer (or the prompt's timeout) and returns the decision
    /// to send. Pending forever while no prompt is open.
    pub async fn next_answer(&mut self) -> Option<ClientMessage> {
        loop {
            let Some(deadline) = self.prompt.as_ref().map(|p| p.deadline) else {
                // Drain stray lines so an old "y" cannot answer a future question.
                if self.lines.recv().await.is_none() {
                    std::future::pending::<()>().await;
                }
                continue;
            };
            let granted = tokio::select! {
                line = self.lines.recv() => match line {
                    Some(l) => matches!(l.trim().to_ascii_lowercase().as_str(), "y" | "yes"),
                    None => false,
                },
                _ = tokio::time::sleep_until(deadline.into()) => {
                    eprintln!("no answer; declined");
                    false
                }
            };
            let p = self.prompt.take()?;
            let answer = self.consent.answer(p.grant, &p.requester, granted)?;
            if answer {
                let _ = self.inject.send(InjectCommand::Enable);
                eprintln!(
                    "{} is in control; take back with the hotkey or by using your mouse or keyboard",
                    p.requester.name
                );
            }
            return Some(ClientMessage::ControlDecision { grant: p.grant, granted: answer });
        }
    }
}
