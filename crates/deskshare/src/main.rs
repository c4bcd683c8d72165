//! `deskshare`: the one binary. Each subcommand is a thin shell over a library crate.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use deskshare_client::viewer::ViewOptions;
use deskshare_client::{MeetingLink, TlsOptions};
use deskshare_proto::WireError;

#[derive(Parser)]
#[command(
    name = "deskshare",
    version,
    about = "Desktop and application sharing for meetings, on one TLS port"
)]
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
        presenter_url: String,
        /// X display to share (default: $DISPLAY).
        #[arg(long)]
        display: Option<String>,
        /// Name shown to viewers.
        #[arg(long)]
        name: Option<String>,
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
        TlsOptions {
            ca: a.ca,
            insecure: a.insecure,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = if matches!(cli.command, Command::Serve { .. }) {
        "info"
    } else {
        "warn"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DESKSHARE_LOG")
                .unwrap_or_else(|_| default_level.into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime starts");
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", e.explain());
            ExitCode::FAILURE
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
        Command::Serve {
            listen,
            data,
            public_url,
        } => {
            let running = deskshare_server::start(deskshare_server::ServeOptions {
                listen,
                data: data.clone(),
                public_url,
            })
            .await?;
            println!(
                "deskshare serving {} (certificate SHA-256 {})",
                running.url, running.fingerprint
            );
            println!(
                "admin token in {}; certificate in {}",
                data.join("admin-token").display(),
                running.cert_path.display()
            );
            running.serve_until(shutdown_signal()).await
        }
        Command::Meeting {
            command:
                MeetingCommand::Create {
                    server,
                    token,
                    title,
                    json,
                    tls,
                },
        } => {
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
            name,
            tls,
        } => {
            let link = MeetingLink::parse(&presenter_url)?;
            let opts = deskshare_agent::ShareOptions {
                link,
                tls: tls.into(),
                display,
                name,
            };
            deskshare_agent::share(opts, shutdown_signal())
                .await
                .map(|_| ())
        }
        Command::Errors { markdown } => {
            use deskshare_proto::ErrorCode;
            if markdown {
                println!("| code | cause | remedy |\n|---|---|---|");
            }
            for code in ErrorCode::ALL {
                if markdown {
                    println!(
                        "| `{}` | {} | {} |",
                        code,
                        code.cause(),
                        code.remedy().replace('|', "\\|")
                    );
                } else {
                    println!(
                        "{code}\n  cause:  {}\n  remedy: {}",
                        code.cause(),
                        code.remedy()
                    );
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
            tls,
        } => {
            let link = MeetingLink::parse(&join_url)?;
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
            };
            let stats = deskshare_client::viewer::run(opts, shutdown_signal()).await?;
            if print_final {
                println!("{}", stats.line());
            }
            Ok(())
        }
    }
}
