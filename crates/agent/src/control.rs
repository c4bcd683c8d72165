//! Control on the agent's async side: answers the server's questions (asking the local
//! user when the policy says so), passes admitted input to the injector thread, and
//! reports take-backs. Consent itself lives in [`crate::consent`].
//!
//! With `--allow-control ask` a request is asked in three places at once: a window on
//! the shared display ([`crate::dialog`]), the terminal the agent runs in (if any), and
//! the presenter's own meeting page (the server passes its answer on as
//! `consent_answer`). The first answer wins; the others are withdrawn.

use std::io::IsTerminal;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use deskshare_proto::{ClientMessage, ControlPolicy, GrantId, Person, RevokeReason, ServerMessage};
use tokio::sync::mpsc;

use crate::consent::{AskAction, Consent};
use crate::dialog::{Dialog, Question};
use crate::inject::{Area, InjectCommand};

/// How long the local user has to answer a request.
pub const PROMPT_TIMEOUT: Duration = Duration::from_secs(25);

struct Prompt {
    grant: GrantId,
    requester: Person,
    deadline: Instant,
    /// The question's window on the shared display; dropped (closed) with the prompt.
    _window: Option<Dialog>,
}

/// The agent's control side.
pub struct ControlSide {
    consent: Consent,
    inject: std_mpsc::Sender<InjectCommand>,
    prompt: Option<Prompt>,
    /// Lines typed on the terminal, for prompts.
    lines: mpsc::UnboundedReceiver<String>,
    /// Whether a person can answer on the terminal.
    terminal: bool,
    /// Whether standard input may still bring an answer (not at its end).
    lines_open: bool,
    /// Answers given in the question window, with the grant they answer.
    clicks: mpsc::UnboundedReceiver<(GrantId, bool)>,
    clicks_tx: mpsc::UnboundedSender<(GrantId, bool)>,
    /// The display the question window goes on.
    display: Option<String>,
    area: Option<Area>,
}

impl ControlSide {
    pub fn new(policy: ControlPolicy, inject: std_mpsc::Sender<InjectCommand>, display: Option<String>) -> Self {
        let (tx, lines) = mpsc::unbounded_channel();
        let (clicks_tx, clicks) = mpsc::unbounded_channel();
        let terminal = std::io::stdin().is_terminal();
        if policy == ControlPolicy::Ask {
            // A plain thread: stdin reads block, and there is one stdin.
            std::thread::spawn(move || {
                for line in std::io::stdin().lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        ControlSide {
            consent: Consent::new(policy),
            inject,
            prompt: None,
            lines,
            terminal,
            lines_open: policy == ControlPolicy::Ask,
            clicks,
            clicks_tx,
            display,
            area: None,
        }
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
                    if self.terminal {
                        eprint!(
                            "\n{} asks to control this screen. Allow? [y/N] ({} s): ",
                            requester.name,
                            PROMPT_TIMEOUT.as_secs()
                        );
                    } else {
                        eprintln!(
                            "{} asks to control this screen (asked on the shared screen, and on the meeting page of whoever shares)",
                            requester.name
                        );
                    }
                    let window = self.ask_on_screen(grant, &requester);
                    self.prompt =
                        Some(Prompt { grant, requester, deadline: Instant::now() + PROMPT_TIMEOUT, _window: window });
                    None
                }
            },
            ServerMessage::ConsentAnswer { grant, granted } => self.resolve(grant, granted, "on your meeting page"),
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

    /// Opens the question window on the shared display; `None` (said on stderr) when
    /// it cannot be shown, and the terminal and the meeting page still ask.
    fn ask_on_screen(&self, grant: GrantId, requester: &Person) -> Option<Dialog> {
        let question = Question {
            title: format!("{} asks to control this screen", requester.name),
            lines: vec![
                "They would use your mouse and keyboard on what you share.".into(),
                "Using your own mouse or keyboard, or the take-back key, ends it at once.".into(),
            ],
            yes: "Allow".into(),
            no: "Deny".into(),
        };
        let tx = self.clicks_tx.clone();
        match Dialog::open(self.display.as_deref(), self.area, question, move |answer| {
            let _ = tx.send((grant, answer));
        }) {
            Ok(d) => Some(d),
            Err(e) => {
                eprintln!("note: cannot ask on the screen: {e}");
                None
            }
        }
    }

    /// An answer to the question under `grant`, from anywhere: the first one for the
    /// open question decides (and closes its window); any other is too late.
    fn resolve(&mut self, grant: GrantId, granted: bool, how: &str) -> Option<ClientMessage> {
        if self.prompt.as_ref().is_none_or(|p| p.grant != grant) {
            return None;
        }
        let p = self.prompt.take()?;
        let answer = self.consent.answer(p.grant, &p.requester, granted)?;
        if answer {
            let _ = self.inject.send(InjectCommand::Enable);
            eprintln!(
                "{} is in control (allowed {how}); take back with the hotkey or by using your mouse or keyboard",
                p.requester.name
            );
        } else {
            eprintln!("declined {how}");
        }
        Some(ClientMessage::ControlDecision { grant: p.grant, granted: answer })
    }

    /// Waits for the local user's answer (on the terminal or in the window, or the
    /// prompt's timeout) and returns the decision to send. Pending forever while no
    /// prompt is open.
    pub async fn next_answer(&mut self) -> Option<ClientMessage> {
        loop {
            let Some((grant, deadline)) = self.prompt.as_ref().map(|p| (p.grant, p.deadline)) else {
                // Drain stray lines and late clicks so they cannot answer a future question.
                tokio::select! {
                    line = self.lines.recv(), if self.lines_open => self.lines_open = line.is_some(),
                    _ = self.clicks.recv() => {}
                }
                continue;
            };
            let (answered, granted, how) = tokio::select! {
                line = self.lines.recv(), if self.lines_open => match line {
                    Some(l) => (grant, matches!(l.trim().to_ascii_lowercase().as_str(), "y" | "yes"), "on the terminal"),
                    // Standard input ended: the window and the page still ask.
                    None => {
                        self.lines_open = false;
                        continue;
                    }
                },
                click = self.clicks.recv() => match click {
                    Some((g, a)) => (g, a, "on the screen"),
                    None => continue,
                },
                _ = tokio::time::sleep_until(deadline.into()) => (grant, false, "(no answer in time)"),
            };
            if let Some(decision) = self.resolve(answered, granted, how) {
                return Some(decision);
            }
        }
    }
}
