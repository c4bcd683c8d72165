//! `deskshare login` and `deskshare logout`: a saved sign-in per server.

use deskshare_client::api::{Api, server_base};
use deskshare_client::credentials::{Credentials, Saved};
use deskshare_proto::WireError;

use super::{TlsArgs, read_secret};

#[derive(clap::Args)]
pub struct LoginArgs {
    /// Server URL, e.g. https://share.example.org:8443
    server: String,
    /// User name (asked for when missing).
    #[arg(long)]
    name: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
    #[command(flatten)]
    tls: TlsArgs,
}

#[derive(clap::Args)]
pub struct LogoutArgs {
    /// Server URL (default: the last one signed in to).
    server: Option<String>,
    #[command(flatten)]
    tls: TlsArgs,
}

pub async fn login(a: LoginArgs) -> Result<(), WireError> {
    let name = match a.name {
        Some(n) => n,
        None => {
            eprint!("name: ");
            let mut s = String::new();
            std::io::stdin()
                .read_line(&mut s)
                .map_err(|e| WireError::new(deskshare_proto::ErrorCode::ArgumentInvalid, e.to_string()))?;
            s.trim().to_string()
        }
    };
    let password = read_secret("password: ", a.password_stdin)?;
    let api = Api::new(&a.server, &a.tls.clone().into(), None)?;
    let res = api.login(&name, &password).await?;
    let base = server_base(&a.server)?.to_string();
    let mut creds = Credentials::load();
    // Remembered as an absolute path: later commands run from anywhere.
    let ca = a.tls.ca.as_ref().map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()));
    creds.servers.insert(base.clone(), Saved { name: res.user.name.clone(), token: res.token, ca });
    creds.default = Some(base.clone());
    let path = creds.save()?;
    println!("signed in to {base} as {} (saved in {})", res.user.name, path.display());
    Ok(())
}

pub async fn logout(a: LogoutArgs) -> Result<(), WireError> {
    let mut creds = Credentials::load();
    let base = match &a.server {
        Some(s) => server_base(s)?.to_string(),
        None => match creds.default.clone() {
            Some(d) => d,
            None => {
                println!("not signed in");
                return Ok(());
            }
        },
    };
    if let Some(saved) = creds.servers.remove(&base) {
        // End the session on the server too; a server that is gone cannot keep it alive.
        let tls = if a.tls.ca.is_none() && !a.tls.insecure {
            deskshare_client::TlsOptions { ca: saved.ca.clone(), insecure: false }
        } else {
            a.tls.into()
        };
        if let Ok(api) = Api::new(&base, &tls, Some(saved.token)) {
            let _ = api.logout().await;
        }
    }
    if creds.default.as_deref() == Some(base.as_str()) {
        creds.default = creds.servers.keys().next().cloned();
    }
    creds.save()?;
    println!("signed out of {base}");
    Ok(())
}
