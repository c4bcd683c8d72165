//! `deskshare view`.

use std::path::PathBuf;
use std::time::Duration;

use deskshare_client::MeetingLink;
use deskshare_client::script::{Step, parse};
use deskshare_client::viewer::ViewOptions;
use deskshare_proto::{ErrorCode, WireError};

use deskshare_proto::report::ClientKind;

use super::{Failure, ReportTo, TlsArgs, finish_flush, flush_reports, saved_token_for, shutdown_signal};

const INPUT_SCRIPT_HELP: &str = "Once in control, play this script, give control back and exit.
One step a line; # starts a comment:
  move X Y          pointer to (X, Y) in the shared screen's pixels
  click [left|middle|right]
  down [button] / up [button]
  scroll DY [DX]    wheel notches, positive is down/right
  type TEXT         the rest of the line, literally
  key COMBO         e.g. ctrl+c, Return, alt+Tab, F5
  wait MS";

#[derive(clap::Args)]
pub struct Args {
    /// The meeting's join link (https://HOST:PORT/m/ID).
    join_url: String,
    /// Name shown to others.
    #[arg(long)]
    name: Option<String>,
    /// The meeting's passcode, if it has one.
    #[arg(long, env = "DESKSHARE_PASSCODE", hide_env_values = true)]
    passcode: Option<String>,
    /// Join as a guest even when signed in to this server.
    #[arg(long)]
    guest: bool,
    /// Write the screen as PNG once it is still for --settle ms, then exit.
    #[arg(long)]
    snapshot: Option<PathBuf>,
    /// Milliseconds without updates before the snapshot is taken.
    #[arg(long, default_value_t = 500)]
    settle: u64,
    /// Seconds to wait for a complete frame before failing.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Print one statistics line a second.
    #[arg(long)]
    stats: bool,
    /// On SIGUSR1, write the picture as it is this moment to this PNG and go on (what
    /// does this viewer see now: lossy areas before their refinement, for instance).
    #[arg(long)]
    dump: Option<PathBuf>,
    /// Pause this many ms after each frame, to behave like a slow link (testing aid).
    #[arg(long, hide = true)]
    throttle_ms: Option<u64>,
    /// Ask the presenter for control of their mouse and keyboard.
    #[arg(long)]
    request_control: bool,
    /// Once in control, play this script (move, click, type, key, wait), give control
    /// back and exit. See `deskshare help view` for the format.
    #[arg(long, requires = "request_control", long_help = INPUT_SCRIPT_HELP)]
    input_script: Option<PathBuf>,
    #[command(flatten)]
    tls: TlsArgs,
}

/// The steps a controlling viewer plays: the script's, or holding control until stopped.
fn control_script(request: bool, script: Option<PathBuf>) -> Result<Option<Vec<Step>>, WireError> {
    match (request, script) {
        (false, _) => Ok(None),
        (true, None) => Ok(Some(vec![Step::Wait(Duration::from_secs(365 * 24 * 3600))])),
        (true, Some(path)) => {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                WireError::new(ErrorCode::ArgumentInvalid, format!("--input-script {}: {e}", path.display()))
            })?;
            parse(&text).map(Some)
        }
    }
}

pub async fn run(a: Args) -> Result<(), Failure> {
    let link = MeetingLink::parse(&a.join_url)?;
    let control = control_script(a.request_control, a.input_script)?;
    let token = if a.guest { None } else { saved_token_for(&link) };
    let tls = a.tls.for_server(&a.join_url);
    let (base, meeting) = (link.base.clone(), link.id.clone());
    let flush = flush_reports(&base, &tls, token.clone());
    let opts = ViewOptions {
        link,
        tls: tls.clone(),
        name: a.name,
        snapshot: a.snapshot,
        settle: Duration::from_millis(a.settle),
        timeout: Duration::from_secs(a.timeout),
        stats: a.stats,
        dump: a.dump,
        throttle: a.throttle_ms.map(Duration::from_millis),
        control,
        token: token.clone(),
        passcode: a.passcode,
    };
    let report_to = ReportTo { server: base, tls, token, kind: ClientKind::Viewer, hop: None, meeting: Some(meeting) };
    let result = deskshare_client::viewer::run(opts, shutdown_signal()).await;
    finish_flush(flush).await;
    let stats = result.map_err(|e| report_to.failed(e))?;
    if a.stats {
        println!("{}", stats.line());
    }
    Ok(())
}
