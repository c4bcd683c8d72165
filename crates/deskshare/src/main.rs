//! `deskshare`: the one binary. Each subcommand is a thin shell over a library crate,
//! one module per command under `cli/`.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "deskshare", version, about = "Desktop and application sharing for meetings, on one TLS port")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log lines as text or as JSON objects (one a line, with the meeting and participant
    /// of the session they come from).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: web client, API and screen relay on one TLS port.
    Serve(cli::serve::Args),
    /// Sign in to a server; later commands use the saved sign-in.
    Login(cli::login::LoginArgs),
    /// Forget the saved sign-in for a server.
    Logout(cli::login::LogoutArgs),
    /// Manage meetings.
    Meeting {
        #[command(subcommand)]
        command: cli::meeting::MeetingCommand,
    },
    /// Share this X display (or one monitor or program) into a meeting.
    Share(cli::share::Args),
    /// Register this program to open deskshare: links, so the meeting page's "Share my
    /// desktop" starts sharing with one click (freedesktop URL handler, for this user).
    InstallHandler(cli::handler::Args),
    /// Watch a meeting without a browser; write a snapshot, print statistics, or control.
    View(cli::view::Args),
    /// Many viewers of one meeting from this process: what the server gives each of them.
    Loadtest(cli::loadtest::Args),
    /// Check the path to a server hop by hop (DNS, TCP, proxy, TLS, clock, HTTP,
    /// WebSocket, the meeting, your policy, round trip, a presenter's display) and name
    /// the first broken one with its code and remedy.
    Doctor(cli::doctor::Args),
    /// Administer the server: users.
    Admin {
        #[command(subcommand)]
        command: cli::admin::AdminCommand,
    },
    /// List every error code with its cause and remedy (docs/ERRORS.md has the same).
    Errors {
        /// Print a Markdown table.
        #[arg(long)]
        markdown: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = if matches!(cli.command, Command::Serve(_)) { "info" } else { "warn" };
    // The platform verifier logs every refused certificate as an error of its own; the
    // refusal comes back to us as a coded error with the certificate's details, once.
    let default_filter = format!("{default_level},rustls_platform_verifier=off");
    let filter = tracing_subscriber::EnvFilter::try_from_env("DESKSHARE_LOG").unwrap_or_else(|_| default_filter.into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Json => logs.json().with_current_span(true).with_span_list(false).init(),
        LogFormat::Text => logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init(),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime starts");
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(cli::Failure { error, report }) => {
            eprintln!("{}", error.explain());
            if let Some(to) = report {
                runtime.block_on(to.send(&error));
            }
            ExitCode::FAILURE
        }
    }
}

/// Runs a command. Client commands that fail say where to report it (`cli::Failure`).
async fn run(command: Command) -> Result<(), cli::Failure> {
    match command {
        Command::Serve(a) => cli::serve::run(a).await?,
        Command::Login(a) => cli::login::login(a).await?,
        Command::Logout(a) => cli::login::logout(a).await?,
        Command::Meeting { command } => cli::meeting::run(command).await?,
        Command::Share(a) => cli::share::run(a).await?,
        Command::InstallHandler(a) => cli::handler::run(a)?,
        Command::View(a) => cli::view::run(a).await?,
        Command::Loadtest(a) => cli::loadtest::run(a).await?,
        Command::Doctor(a) => cli::doctor::run(a).await?,
        Command::Admin { command } => cli::admin::run(command).await?,
        Command::Errors { markdown } => cli::errors::print(markdown),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every command and every argument says what it is for in `--help`.
    #[test]
    fn every_command_and_argument_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let here = format!("{path} {}", cmd.get_name());
            if cmd.get_about().is_none() && !path.is_empty() {
                missing.push(format!("{here}: the command"));
            }
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" || arg.is_hide_set() {
                    continue;
                }
                if arg.get_help().is_none() {
                    missing.push(format!("{here}: {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_name() != "help" {
                    walk(sub, &here, missing);
                }
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "no help text:\n{}", missing.join("\n"));
    }
}
