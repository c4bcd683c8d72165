//! `deskshare admin user add|list|disable|enable|reset-password`.

use clap::Subcommand;
use deskshare_proto::WireError;
use deskshare_proto::api::{CreateUser, UpdateUser};

use super::{ServerArgs, read_secret};

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is asked for (or read from stdin).
    Add {
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
    /// Disable a user: they can no longer sign in, and their sessions end.
    Disable {
        name: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Enable a disabled user again.
    Enable {
        name: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Set a new password for a user.
    ResetPassword {
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
}

pub async fn run(command: AdminCommand) -> Result<(), WireError> {
    let AdminCommand::User { command } = command;
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
