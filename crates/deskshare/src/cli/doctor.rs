//! `deskshare doctor URL`: which hop between this computer and the server is broken.

use deskshare_client::doctor::{self, StepTimer};
use deskshare_proto::{ErrorCode, WireError};

use deskshare_proto::report::{ClientKind, Hop};

use super::{Failure, ReportTo, TlsArgs};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A join link, a presenter link, or the server's address (https://HOST:PORT).
    url: String,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
    /// For a presenter link: the X display to check (default: $DISPLAY).
    #[arg(long)]
    display: Option<String>,
    /// Sign-in token for the policy check (default: the saved sign-in for the server).
    #[arg(long, env = "DESKSHARE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[command(flatten)]
    tls: TlsArgs,
}

pub async fn run(a: Args) -> Result<(), Failure> {
    let saved = deskshare_client::credentials::Credentials::load();
    let token = a.token.clone().or_else(|| {
        deskshare_client::api::server_base(&a.url).ok().and_then(|b| saved.token_for(b.as_str())).or_else(|| {
            deskshare_client::MeetingLink::parse(&a.url).ok().and_then(|l| saved.token_for(l.base.as_str()))
        })
    });
    let tls = a.tls.for_server(&a.url);
    let (mut report, target) = doctor::check(&a.url, &tls, token.clone()).await;
    if target.as_ref().is_some_and(|t| t.is_presenter()) {
        let step = StepTimer::start("display");
        if report.failed() {
            report.push(step.skip("not checked: an earlier step failed"));
        } else {
            let display = a.display.clone();
            let probed = tokio::task::spawn_blocking(move || deskshare_agent::x11::probe(display.as_deref())).await;
            match probed {
                Ok(Ok(p)) => {
                    let mut step = step;
                    for (ext, present, why) in &p.extensions {
                        step.detail(format!("{ext:<10} {} — {why}", if *present { "present" } else { "MISSING" }));
                    }
                    step.detail(format!(
                        "keymap: {} keycodes, {} spare for characters it lacks",
                        p.keycodes, p.spare_keycodes
                    ));
                    report
                        .push(step.pass(format!("display '{}' is {}x{} and can be shared", p.name, p.width, p.height)));
                }
                Ok(Err(e)) => report.push(step.fail("the display cannot be shared", WireError::from(e))),
                Err(e) => report.push(
                    step.fail("the display check crashed", WireError::new(ErrorCode::ServerError, e.to_string())),
                ),
            }
        }
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report).expect("the report serialises"));
    } else {
        print!("{}", report.text());
    }
    let (server, meeting) = match target {
        Some(t) => (Some(t.base), t.meeting),
        None => (None, None),
    };
    match report.failure() {
        None => {
            if let Some(server) = &server {
                super::finish_flush(super::flush_reports(server, &tls, token)).await;
            }
            Ok(())
        }
        Some(step) => {
            let f = step.failure.as_ref().expect("a failed step has its failure");
            // The report said it all; the exit status and this one line are for scripts.
            let error = WireError::new(f.code, format!("doctor: the {} step failed", step.hop));
            Err(match server {
                Some(server) => {
                    ReportTo { server, tls, token, kind: ClientKind::Doctor, hop: Hop::parse(step.hop), meeting }
                        .failed(error)
                }
                None => error.into(),
            })
        }
    }
}
