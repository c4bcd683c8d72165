//! `deskshare admin user add|list|disable|enable|reset-password`.

use clap::Subcommand;
use deskshare_proto::api::{CreateUser, PolicyReport, SetPolicy, UpdateUser};
use deskshare_proto::{ErrorCode, WireError};

use super::{ServerArgs, read_secret};

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Show or set meeting policies: global, per user, or per meeting.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Who fails where: the failures clients reported, grouped, and the likely broken
    /// layer (one person or many, inside or outside, one computer or many).
    Diagnose {
        /// How far back to look: 30m, 1h, 2d (default 24h).
        #[arg(long, default_value = "24h")]
        since: String,
        /// Only the reports about this meeting.
        #[arg(long)]
        meeting: Option<String>,
        /// Print the diagnosis as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
}

/// Which level a policy command is about (global without either).
#[derive(clap::Args)]
pub struct PolicyScope {
    /// A user's policies (by user name).
    #[arg(long, conflicts_with = "meeting")]
    user: Option<String>,
    /// A meeting's policies (by meeting id).
    #[arg(long)]
    meeting: Option<String>,
}

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Show what is set at a level and what applies.
    Show {
        #[command(flatten)]
        scope: PolicyScope,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Set a policy: enable-desktop-sharing, enable-program-sharing, allow-control,
    /// allow-external-control, allow-anonymous, lobby-for-guests (on/off),
    /// max-participants (a number); `unset` removes the setting at this level.
    Set {
        /// The policy, e.g. allow-control.
        name: String,
        /// on, off, a number (max-participants), or unset.
        value: String,
        #[command(flatten)]
        scope: PolicyScope,
        #[command(flatten)]
        server: ServerArgs,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is asked for (or read from stdin).
    Add {
        /// The user's sign-in name.
        name: String,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
        /// Name shown in meetings (default: NAME).
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// List users.
    List {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Disable a user: they can no longer sign in, their sign-ins end and their open
    /// connections close at once.
    Disable {
        /// The user's sign-in name.
        name: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Enable a disabled user again.
    Enable {
        /// The user's sign-in name.
        name: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Set a new password for a user; their sign-ins and open connections end.
    ResetPassword {
        /// The user's sign-in name.
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
}

fn print_report(r: &PolicyReport) {
    println!("{:<24} {:<8} {:<9}  meaning", "policy", "set here", "applies");
    for p in &r.policies {
        println!("{:<24} {:<8} {:<9}  {}", p.name, p.set.as_deref().unwrap_or("-"), p.effective, p.description);
    }
}

pub async fn run(command: AdminCommand) -> Result<(), WireError> {
    let command = match command {
        AdminCommand::User { command } => command,
        AdminCommand::Diagnose { since, meeting, json, server } => {
            deskshare_diagnose::parse_since(&since)
                .map_err(|e| WireError::new(ErrorCode::ArgumentInvalid, format!("--since: {e}")))?;
            let d = server.api()?.diagnose(&since, meeting.as_deref()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&d).expect("serialises"));
            } else {
                print!("{}", super::diagnose::text(&d, &since));
            }
            return Ok(());
        }
        AdminCommand::Policy { command: PolicyCommand::Show { scope, json, server } } => {
            let r = server.api()?.policies(scope.user.as_deref(), scope.meeting.as_deref()).await?;
            if json {
                println!("{}", serde_json::to_string(&r).expect("serialises"));
            } else {
                println!("scope: {}", r.scope);
                print_report(&r);
            }
            return Ok(());
        }
        AdminCommand::Policy { command: PolicyCommand::Set { name, value, scope, server } } => {
            let value = (value != "unset").then_some(value);
            let req = SetPolicy { user: scope.user, meeting: scope.meeting, name, value };
            let r = server.api()?.set_policy(&req).await?;
            println!("scope: {}", r.scope);
            print_report(&r);
            return Ok(());
        }
    };
    match command {
        UserCommand::Add { name, admin, display_name, password_stdin, server } => {
            let password = read_secret(&format!("password for {name}: "), password_stdin)?;
            let u = server.api()?.create_user(&CreateUser { name, password, display_name, admin }).await?;
            println!("created {}{}", u.name, if u.admin { " (administrator)" } else { "" });
        }
        UserCommand::List { server } => {
            for u in server.api()?.users().await? {
                let mut flags = vec![];
                if u.admin {
                    flags.push("admin");
                }
                if u.disabled {
                    flags.push("disabled");
                }
                println!("{:<24} {:<24} {}", u.name, u.display_name, flags.join(","));
            }
        }
        UserCommand::Disable { name, server } => set_disabled(&name, &server, true).await?,
        UserCommand::Enable { name, server } => set_disabled(&name, &server, false).await?,
        UserCommand::ResetPassword { name, password_stdin, server } => {
            let password = read_secret(&format!("new password for {name}: "), password_stdin)?;
            let u = server
                .api()?
                .update_user(&name, &UpdateUser { password: Some(password), ..Default::default() })
                .await?;
            println!("password of {} reset", u.name);
        }
    }
    Ok(())
}

async fn set_disabled(name: &str, server: &ServerArgs, disabled: bool) -> Result<(), WireError> {
    let u = server.api()?.update_user(name, &UpdateUser { disabled: Some(disabled), ..Default::default() }).await?;
    println!("{} is {}", u.name, if u.disabled { "disabled" } else { "enabled" });
    Ok(())
}
