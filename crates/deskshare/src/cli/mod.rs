//! The subcommands, and what they share: trust options, which server and token to use,
//! and stopping on Ctrl-C or SIGTERM.

pub mod admin;
pub mod diagnose;
pub mod doctor;
pub mod errors;
pub mod handler;
pub mod loadtest;
pub mod login;
pub mod meeting;
pub mod serve;
pub mod share;
pub mod view;

use std::path::PathBuf;

use deskshare_client::TlsOptions;
use deskshare_client::api::{Api, server_base};
use deskshare_client::credentials::Credentials;
use deskshare_client::report;
use deskshare_proto::report::{ClientKind, Hop};
use deskshare_proto::{ErrorCode, WireError};
use tokio::task::JoinHandle;

/// `--ca` and `--insecure`, taken by every client command.
#[derive(clap::Args, Clone, Debug)]
pub struct TlsArgs {
    /// Trust the certificates in this PEM file (e.g. the server's DATA/tls/cert.pem), or
    /// exactly the server certificate with this fingerprint, written sha256:HEX.
    #[arg(long, global = true)]
    pub ca: Option<PathBuf>,
    /// Do not verify the server's certificate (compare its fingerprint by eye instead).
    #[arg(long, global = true)]
    pub insecure: bool,
}

impl From<TlsArgs> for TlsOptions {
    fn from(a: TlsArgs) -> Self {
        TlsOptions { ca: a.ca, insecure: a.insecure }
    }
}

impl TlsArgs {
    /// The trust for `server` (a URL of it): as given, else the `--ca` remembered at
    /// `deskshare login` for that server.
    pub fn for_server(&self, server: &str) -> TlsOptions {
        let given = TlsOptions::from(self.clone());
        if given.ca.is_some() || given.insecure {
            return given;
        }
        let base =
            server_base(server).ok().or_else(|| deskshare_client::MeetingLink::parse(server).ok().map(|l| l.base));
        let ca = base.and_then(|b| Credentials::load().ca_for(b.as_str()));
        TlsOptions { ca, insecure: false }
    }
}

/// Which server to talk to, and as whom.
#[derive(clap::Args, Clone, Debug)]
pub struct ServerArgs {
    /// Server URL, e.g. https://share.example.org:8443 (default: the last one signed in to).
    #[arg(long)]
    pub server: Option<String>,
    /// Admin token or sign-in token (default: the saved sign-in for the server).
    #[arg(long, env = "DESKSHARE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    #[command(flatten)]
    pub tls: TlsArgs,
}

impl ServerArgs {
    /// An API client for the chosen server with the chosen token.
    pub fn api(&self) -> Result<Api, WireError> {
        let saved = Credentials::load();
        let server = match &self.server {
            Some(s) => s.clone(),
            None => saved.default.clone().ok_or_else(|| {
                WireError::new(
                    ErrorCode::ArgumentInvalid,
                    "no --server given and no saved sign-in (`deskshare login SERVER`)",
                )
            })?,
        };
        let base = server_base(&server)?;
        let token = self.token.clone().map(|t| t.trim().to_string()).or_else(|| saved.token_for(base.as_str()));
        Api::new(&server, &self.tls.for_server(&server), token)
    }
}

/// The saved sign-in token for the server a meeting link points to, if any.
pub fn saved_token_for(link: &deskshare_client::MeetingLink) -> Option<String> {
    Credentials::load().token_for(link.base.as_str())
}

/// Whether failure reports are off (`DESKSHARE_NO_REPORTS=1`).
fn reports_off() -> bool {
    std::env::var_os("DESKSHARE_NO_REPORTS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// A command's failure, and where to report it once it has been shown.
pub struct Failure {
    pub error: WireError,
    pub report: Option<ReportTo>,
}

impl From<WireError> for Failure {
    fn from(error: WireError) -> Self {
        Failure { error, report: None }
    }
}

/// The server a failing client command reports to (see `deskshare_client::report`).
pub struct ReportTo {
    pub server: url::Url,
    pub tls: TlsOptions,
    pub token: Option<String>,
    pub kind: ClientKind,
    pub hop: Option<Hop>,
    pub meeting: Option<String>,
}

impl ReportTo {
    /// `error`, to be reported here.
    pub fn failed(self, error: WireError) -> Failure {
        Failure { error, report: Some(self) }
    }

    /// Tells the server, and says so in one line (or that the report waits until the
    /// server can be reached).
    pub async fn send(self, err: &WireError) {
        if reports_off() {
            return;
        }
        let Some(failure) = report::describe(self.kind, err, self.hop, self.meeting.as_deref()) else { return };
        let Ok(api) = Api::new(self.server.as_str(), &self.tls, self.token) else { return };
        let server = &self.server;
        if report::deliver(&api, failure).await {
            eprintln!(
                "(reported to {server} for its administrators: the code, this program's version, a random computer id)"
            );
        } else {
            eprintln!(
                "(a report of this failure waits until {server} can be reached; DESKSHARE_NO_REPORTS=1 turns reports off)"
            );
        }
    }
}

/// Sends the failure reports kept for `server`, in the background of a command that
/// reaches it; await the handle (see [`finish_flush`]) before exiting.
pub fn flush_reports(server: &url::Url, tls: &TlsOptions, token: Option<String>) -> Option<JoinHandle<()>> {
    if reports_off() || report::pending_count(server.as_str()) == 0 {
        return None;
    }
    let api = Api::new(server.as_str(), tls, token).ok()?;
    Some(tokio::spawn(async move { report::flush(&api).await }))
}

/// Lets a background flush finish (it gives up on its own after a few seconds).
pub async fn finish_flush(flush: Option<JoinHandle<()>>) {
    if let Some(h) = flush {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), h).await;
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler installs");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// Reads a secret: one line from stdin with `--password-stdin`, else a prompt on the
/// terminal without echo.
pub fn read_secret(prompt: &str, from_stdin: bool) -> Result<String, WireError> {
    let fail = |e: std::io::Error| WireError::new(ErrorCode::ArgumentInvalid, format!("reading the password: {e}"));
    let line = if from_stdin {
        let mut s = String::new();
        std::io::stdin().read_line(&mut s).map_err(fail)?;
        s
    } else {
        rpassword::prompt_password(prompt).map_err(fail)?
    };
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
