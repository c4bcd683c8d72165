//! `deskshare serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use deskshare_proto::WireError;
use deskshare_server::connections::ConnectionLimits;

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
    /// Another origin (https://HOST[:PORT]) whose pages may act with a signed-in user's
    /// cookie, e.g. an intranet portal that embeds the join form. Repeatable.
    #[arg(long = "allowed-origin", value_name = "ORIGIN")]
    allowed_origins: Vec<url::Url>,
    /// Most connections held at once (lowered to fit the open-file limit).
    #[arg(long, default_value_t = ConnectionLimits::default().max_total)]
    max_connections: usize,
    /// Most connections held at once from one IP address (an office behind one NAT
    /// address needs about two per person).
    #[arg(long, default_value_t = ConnectionLimits::default().max_per_address)]
    max_connections_per_address: usize,
    /// Seconds a connection may take for its TLS handshake, and for each request's headers.
    #[arg(long, default_value_t = 10)]
    request_timeout: u64,
    /// Seconds a connection may stay silent (live clients answer pings every 10 s).
    #[arg(long, default_value_t = 60)]
    idle_timeout: u64,
    /// Seconds a client may take no data before it is dropped (a viewer that stopped
    /// reading frees its place).
    #[arg(long, default_value_t = 20)]
    stall_timeout: u64,
    /// Password and passcode checks that may run at once (each takes 19 MiB).
    #[arg(long, default_value_t = deskshare_server::hashing::DEFAULT_HASH_PERMITS)]
    max_hashing: usize,
    /// Meetings one organiser may keep.
    #[arg(long, default_value_t = 500)]
    max_meetings_per_user: u32,
    /// Also serve /metrics (Prometheus text format) in plain HTTP to anyone on this
    /// address, e.g. 127.0.0.1:9100; on the main port /metrics needs the admin token.
    #[arg(long, value_name = "ADDR")]
    metrics_listen: Option<SocketAddr>,
    /// Trust X-Forwarded-For (and -Proto) from these reverse proxies (addresses or CIDR
    /// ranges, repeatable or comma-separated): sign-in and passcode attempts count per
    /// forwarded address, and the proxies are exempt from the per-address connection cap.
    /// Set --public-url to the proxy's URL.
    #[arg(long, value_name = "CIDR")]
    behind_proxy: Vec<String>,
    /// The organisation's own networks (addresses or CIDR ranges, repeatable or
    /// comma-separated): failure reports from them count as inside, the rest as outside,
    /// so `deskshare admin diagnose` can tell a broken way in from a broken server.
    #[arg(long, value_name = "CIDR")]
    internal_network: Vec<String>,
    /// Run the server's clock this many seconds ahead (negative: behind) of the
    /// machine's: meeting and sign-in expiry, chat times. A testing and support aid for
    /// reproducing a skewed clock without changing the machine's.
    #[arg(long, hide = true, value_name = "SECONDS", allow_hyphen_values = true)]
    clock_offset: Option<i64>,
}

pub async fn run(a: Args) -> Result<(), WireError> {
    let mut opts = deskshare_server::ServeOptions::new(a.listen, a.data.clone());
    opts.public_url = a.public_url;
    opts.allowed_origins = a.allowed_origins;
    opts.connections = ConnectionLimits {
        max_total: a.max_connections.max(1),
        max_per_address: a.max_connections_per_address.max(1),
        handshake_timeout: Duration::from_secs(a.request_timeout.max(1)),
        header_timeout: Duration::from_secs(a.request_timeout.max(1)),
        idle_timeout: Duration::from_secs(a.idle_timeout.max(15)),
        stall_timeout: Duration::from_secs(a.stall_timeout.max(1)),
    };
    opts.hash_permits = a.max_hashing.max(1);
    opts.max_meetings_per_user = a.max_meetings_per_user;
    opts.metrics_listen = a.metrics_listen;
    opts.proxies = deskshare_server::forwarded::TrustedProxies::parse(&a.behind_proxy)
        .map_err(|e| WireError::new(deskshare_proto::ErrorCode::ArgumentInvalid, format!("--behind-proxy: {e}")))?;
    opts.internal = deskshare_server::ranges::AddressRanges::parse(&a.internal_network)
        .map_err(|e| WireError::new(deskshare_proto::ErrorCode::ArgumentInvalid, format!("--internal-network: {e}")))?;
    if let Some(secs) = a.clock_offset {
        tracing::warn!("the server's clock runs {secs} s off the machine's (--clock-offset)");
        opts.clock = deskshare_server::clock::Clock::offset_by(secs);
    }
    let running = deskshare_server::start(opts).await?;
    println!("deskshare serving {} (certificate SHA-256 {})", running.url, running.fingerprint);
    println!("admin token in {}; certificate in {}", a.data.join("admin-token").display(), running.cert_path.display());
    let l = running.connection_limits;
    println!(
        "limits: open files {}, connections {} ({} per address)",
        running.open_files, l.max_total, l.max_per_address
    );
    println!("listening on {}", running.local_addr);
    if let Some(setup) = &running.setup_url {
        println!("no administrator yet: open {setup} in a browser to make the first one (the link works once)");
        println!(
            "  or: deskshare admin user add NAME --admin --server {} --token \"$(cat {})\"",
            running.url,
            a.data.join("admin-token").display()
        );
    }
    let health = running.self_check().await;
    for line in health.lines() {
        println!("{line}");
    }
    running.serve_until(super::shutdown_signal()).await
}
