//! `deskshare`: the one binary. Each subcommand is a thin shell over a library crate.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use deskshare_agent::x11::Target;
use deskshare_client::viewer::ViewOptions;
use deskshare_client::{MeetingLink, TlsOptions};
use deskshare_proto::{ControlPolicy, ErrorCode, WireError};

#[derive(Parser)]
#[command(name = "deskshare", version, about = "Desktop and application sharing for meetings, on one TLS port")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: web client, API and screen relay on one TLS port.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// Data directory: database, certificate, admin token.
        #[arg(long, default_value = "./deskshare-data")]
        data: PathBuf,
        /// The URL users reach this server at (its host goes into the certificate).
        #[arg(long)]
        public_url: Option<url::Url>,
    },
    /// Manage meetings.
    Meeting {
        #[command(subcommand)]
        command: MeetingCommand,
    },
    /// Share this X display into a meeting, using its presenter URL.
    Share {
        #[arg(required_unless_present = "list_windows")]
        presenter_url: Option<String>,
        /// X display to share (default: $DISPLAY).
        #[arg(long)]
        display: Option<String>,
        /// Share one monitor: its number in `xrandr --listmonitors` (from 0).
        #[arg(long, conflicts_with_all = ["window", "window_name"])]
        monitor: Option<usize>,
        /// Share one program's window by id (from --list-windows; hex 0x… or decimal).
        #[arg(long, value_parser = parse_window_id, conflicts_with = "window_name")]
        window: Option<u32>,
        /// Share the first window whose title contains this text (case-insensitive).
        #[arg(long)]
        window_name: Option<String>,
        /// List the windows that can be shared, with ids and titles, and exit.
        #[arg(long)]
        list_windows: bool,
        /// Name shown to viewers.
        #[arg(long)]
        name: Option<String>,
        /// What to do when a participant asks for control: ask this terminal, grant
        /// automatically, or never allow it.
        #[arg(long, value_enum, default_value = "ask")]
        allow_control: AllowControl,
        /// Key combination that takes control back at once.
        #[arg(long, default_value = "ctrl+alt+space")]
        takeback_key: String,
        /// Do not take control back when this machine's own mouse or keyboard is used.
        #[arg(long)]
        no_local_takeback: bool,
        #[command(flatten)]
        tls: TlsArgs,
    },
    /// Watch a meeting without a browser; write a snapshot or print statistics.
    View {
        join_url: String,
        /// Name shown to others.
        #[arg(long)]
        name: Option<String>,
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
    },
    /// List every error code with its cause and remedy (docs/ERRORS.md has the same).
    Errors {
        /// Print a Markdown table.
        #[arg(long)]
        markdown: bool,
    },
}

const INPUT_SCRIPT_HELP: &str = "Once in control, play this script, give control back and exit.
One step a line; # starts a comment:
  move X Y          pointer to (X, Y) in the shared screen's pixels
  click [left|middle|right]
  down [button] / up [button]
  scroll DY [DX]    wheel notches, positive is down/right
  type TEXT         the rest of the line, literally
  key COMBO         e.g. ctrl+c, Return, alt+Tab, F5
  wait MS";

#[derive(Clone, Copy, clap::ValueEnum)]
enum AllowControl {
    Ask,
    Auto,
    Never,
}

#[derive(Subcommand)]
enum MeetingCommand {
    /// Create a meeting and print its join and presenter URLs.
    Create {
        /// Server URL, e.g. https://share.example.org:8443
        #[arg(long)]
        server: String,
        /// Admin token (the server's DATA/admin-token).
        #[arg(long, env = "DESKSHARE_TOKEN", hide_env_values = true)]
        token: String,
        #[arg(long)]
        title: Option<String>,
        /// Print {"id","join_url","presenter_url"} as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        tls: TlsArgs,
    },
}

#[derive(Args, Clone)]
struct TlsArgs {
    /// Trust the certificates in this PEM file (e.g. the server's DATA/tls/cert.pem).
    #[arg(long, global = true)]
    ca: Option<PathBuf>,
    /// Do not verify the server's certificate (compare its fingerprint by eye instead).
    #[arg(long, global = true)]
    insecure: bool,
}

impl From<TlsArgs> for TlsOptions {
    fn from(a: TlsArgs) -> Self {
        TlsOptions { ca: a.ca, insecure: a.insecure }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = if matches!(cli.command, Command::Serve { .. }) { "info" } else { "warn" };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DESKSHARE_LOG").unwrap_or_else(|_| default_level.into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime starts");
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", e.explain());
            ExitCode::FAILURE
        }
    }
}

fn parse_window_id(s: &str) -> Result<u32, String> {
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.map_err(|_| format!("'{s}' is not a window id (use the hex id from --list-windows)"))
}

/// The steps a controlling viewer plays: the script's, or holding control until stopped.
fn control_script(
    request: bool,
    script: Option<PathBuf>,
) -> Result<Option<Vec<deskshare_client::script::Step>>, WireError> {
    use deskshare_client::script::{Step, parse};
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

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler installs");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

async fn run(command: Command) -> Result<(), WireError> {
    match command {
        Command::Serve { listen, data, public_url } => {
            let running =
                deskshare_server::start(deskshare_server::ServeOptions { listen, data: data.clone(), public_url })
                    .await?;
            println!("deskshare serving {} (certificate SHA-256 {})", running.url, running.fingerprint);
            println!(
                "admin token in {}; certificate in {}",
                data.join("admin-token").display(),
                running.cert_path.display()
            );
            running.serve_until(shutdown_signal()).await
        }
        Command::Meeting { command: MeetingCommand::Create { server, token, title, json, tls } } => {
            let api = deskshare_client::api::Api::new(&server, &tls.into())?;
            let m = api.create_meeting(token.trim(), title.as_deref()).await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "id": m.id, "join_url": m.join_url, "presenter_url": m.presenter_url })
                );
            } else {
                println!("meeting \"{}\" created", m.title);
                println!("join URL (for viewers):          {}", m.join_url);
                println!("presenter URL (keep it private): {}", m.presenter_url);
            }
            Ok(())
        }
        Command::Share {
            presenter_url,
            display,
            monitor,
            window,
            window_name,
            list_windows,
            name,
            allow_control,
            takeback_key,
            no_local_takeback,
            tls,
        } => {
            if list_windows {
                for w in deskshare_agent::windows::list(display.as_deref())? {
                    println!("0x{:08x}  {}x{}+{}+{}  {}", w.id, w.width, w.height, w.x, w.y, w.title);
                }
                return Ok(());
            }
            let link = MeetingLink::parse(presenter_url.as_deref().unwrap_or_default())?;
            let target = match (monitor, window, window_name) {
                (Some(n), _, _) => Target::Monitor(n),
                (_, Some(id), _) => Target::Window(id),
                (_, _, Some(pattern)) => {
                    let w = deskshare_agent::windows::find_by_name(display.as_deref(), &pattern)?;
                    eprintln!("sharing window 0x{:08x} \"{}\"", w.id, w.title);
                    Target::Window(w.id)
                }
                _ => Target::Screen,
            };
            let hotkey = deskshare_agent::Hotkey::parse(&takeback_key).map_err(|why| {
                WireError::new(ErrorCode::ArgumentInvalid, format!("--takeback-key {takeback_key}: {why}"))
            })?;
            let control = match allow_control {
                AllowControl::Ask => ControlPolicy::Ask,
                AllowControl::Auto => ControlPolicy::Auto,
                AllowControl::Never => ControlPolicy::Never,
            };
            let opts = deskshare_agent::ShareOptions {
                link,
                tls: tls.into(),
                display,
                target,
                name,
                control,
                hotkey,
                local_takeback: !no_local_takeback,
            };
            deskshare_agent::share(opts, shutdown_signal()).await.map(|_| ())
        }
        Command::Errors { markdown } => {
            use deskshare_proto::ErrorCode;
            if markdown {
                println!("| code | cause | remedy |\n|---|---|---|");
            }
            for code in ErrorCode::ALL {
                if markdown {
                    println!("| `{}` | {} | {} |", code, code.cause(), code.remedy().replace('|', "\\|"));
                } else {
                    println!("{code}\n  cause:  {}\n  remedy: {}", code.cause(), code.remedy());
                }
            }
            Ok(())
        }
        Command::View {
            join_url,
            name,
            snapshot,
            settle,
            timeout,
            stats,
            throttle_ms,
            request_control,
            input_script,
            tls,
        } => {
            let link = MeetingLink::parse(&join_url)?;
            let control = control_script(request_control, input_script)?;
            let print_final = stats;
            let opts = ViewOptions {
                link,
                tls: tls.into(),
                name,
                snapshot,
                settle: Duration::from_millis(settle),
                timeout: Duration::from_secs(timeout),
                stats,
                throttle: throttle_ms.map(Duration::from_millis),
                control,
            };
            let stats = deskshare_client::viewer::run(opts, shutdown_signal()).await?;
            if print_final {
                println!("{}", stats.line());
            }
            Ok(())
        }
    }
}
