//! `deskshare serve`.

use std::net::SocketAddr;
use std::path::PathBuf;

use deskshare_proto::WireError;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// Data directory: database, certificate, admin token.
    #[arg(long, default_value = "./deskshare-data")]
    data: PathBuf,
    /// The URL users reach this server at (its host goes into the certificate).
    #[arg(long)]
    public_url: Option<url::Url>,
}

pub async fn run(a: Args) -> Result<(), WireError> {
    let opts = deskshare_server::ServeOptions { listen: a.listen, data: a.data.clone(), public_url: a.public_url };
    let running = deskshare_server::start(opts).await?;
    println!("deskshare serving {} (certificate SHA-256 {})", running.url, running.fingerprint);
    println!("admin token in {}; certificate in {}", a.data.join("admin-token").display(), running.cert_path.display());
    running.serve_until(super::shutdown_signal()).await
}
