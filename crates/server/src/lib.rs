//! The deskshare server: one TLS port serving the web client, the REST API and the
//! WebSocket sessions, with the screen cache and per-viewer pumps inside.

mod attempts;
pub mod auth;
mod chat;
pub mod clock;
pub mod connections;
mod control;
mod datadir;
pub mod error;
pub mod forwarded;
pub mod hashing;
pub mod health;
pub mod http;
pub mod hub;
pub mod identity;
mod meetings;
pub mod metrics;
mod openapi;
mod origin;
pub mod policy;
pub mod ranges;
mod reports;
pub mod service;
mod setup;
mod share_link;
pub mod state;
pub mod store;
pub mod tls;
mod turn_away;
mod users;
mod web;
mod ws;

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use deskshare_proto::{ErrorCode, WireError};
use rand::RngCore;
use tokio::sync::watch;
use url::Url;

/// `deskshare serve` options.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub data: PathBuf,
    /// The URL users reach the server at; defaults to `https://<listen address>/`.
    pub public_url: Option<Url>,
    /// Origins besides the public URL's from which browser pages may act with a cookie.
    pub allowed_origins: Vec<Url>,
    pub connections: connections::ConnectionLimits,
    /// Password and passcode hashes that may run at once.
    pub hash_permits: usize,
    /// Meetings one organiser may keep.
    pub max_meetings_per_user: u32,
    /// Also serve `/metrics` in plain HTTP, to anyone, on this address (for a scraper
    /// on a monitoring network); on the main port it needs the admin token.
    pub metrics_listen: Option<SocketAddr>,
    /// The server's clock: the system's, or shifted (`serve --clock-offset`, for tests and
    /// for reproducing a machine whose clock is off).
    pub clock: clock::Clock,
    /// Reverse proxies whose X-Forwarded-For is believed (`serve --behind-proxy`).
    pub proxies: forwarded::TrustedProxies,
    /// The organisation's own networks (`serve --internal-network`): failure reports
    /// from them count as inside.
    pub internal: ranges::AddressRanges,
}

impl ServeOptions {
    /// The defaults `deskshare serve` uses, for this address and data directory.
    pub fn new(listen: SocketAddr, data: PathBuf) -> Self {
        ServeOptions {
            listen,
            data,
            public_url: None,
            allowed_origins: Vec::new(),
            connections: connections::ConnectionLimits::default(),
            hash_permits: hashing::DEFAULT_HASH_PERMITS,
            max_meetings_per_user: 500,
            metrics_listen: None,
            clock: clock::Clock::system(),
            proxies: forwarded::TrustedProxies::default(),
            internal: ranges::AddressRanges::default(),
        }
    }
}

/// A server that is listening and ready to serve.
pub struct Running {
    pub url: Url,
    pub fingerprint: String,
    pub local_addr: SocketAddr,
    pub cert_path: PathBuf,
    /// The open-file limit in force (each connection is one file).
    pub open_files: u64,
    /// The connection caps in force (`max_total` lowered to fit the open-file limit).
    pub connection_limits: connections::ConnectionLimits,
    /// While the server has no administrator: the one-time link that makes the first.
    pub setup_url: Option<Url>,
    listener: std::net::TcpListener,
    metrics_listener: Option<std::net::TcpListener>,
    tls: Arc<rustls::ServerConfig>,
    state: Arc<state::AppState>,
    shutdown_tx: watch::Sender<bool>,
}

fn coded(code: ErrorCode, msg: impl std::fmt::Display) -> WireError {
    WireError::new(code, msg.to_string())
}

/// Prepares the data directory, database, certificate and listener.
pub async fn start(opts: ServeOptions) -> Result<Running, WireError> {
    let data = &opts.data;
    let lock = datadir::open(data)?;
    hashing::return_memory_after_use();
    let db_path = data.join("deskshare.db");
    let store = store::Store::open_sqlite(&db_path, opts.clock).await.map_err(|e| match e {
        store::StoreError::Corrupt { .. } => coded(ErrorCode::DatabaseCorrupt, e),
        other => coded(ErrorCode::DataDirUnusable, format!("{}: {other}", db_path.display())),
    })?;
    let open_files = connections::raise_open_file_limit();
    let mut limits = opts.connections;
    // Leave room for the database, the certificate and the log.
    let fits = (open_files.saturating_sub(64) as usize).max(16);
    if limits.max_total > fits {
        tracing::warn!(
            open_files,
            "--max-connections {} lowered to {fits} to fit the open-file limit",
            limits.max_total
        );
        limits.max_total = fits;
    }
    let admin_token = admin_token(data)?;
    let metrics_listener = match opts.metrics_listen {
        Some(addr) => {
            let l = std::net::TcpListener::bind(addr)
                .map_err(|e| coded(ErrorCode::ListenFailed, format!("--metrics-listen {addr}: {e}")))?;
            l.set_nonblocking(true).map_err(|e| coded(ErrorCode::ListenFailed, e))?;
            Some(l)
        }
        None => None,
    };

    let listener = listen(opts.listen).map_err(|e| coded(ErrorCode::ListenFailed, format!("{}: {e}", opts.listen)))?;
    let local_addr = listener.local_addr().map_err(|e| coded(ErrorCode::ListenFailed, e))?;

    let public_url = match &opts.public_url {
        Some(u) => u.clone(),
        None => {
            let host = match local_addr.ip() {
                ip if ip.is_unspecified() => "localhost".to_string(),
                IpAddr::V6(ip) => format!("[{ip}]"),
                ip => ip.to_string(),
            };
            Url::parse(&format!("https://{host}:{}/", local_addr.port())).expect("URL from address parses")
        }
    };
    let public_host =
        public_url.host_str().ok_or_else(|| coded(ErrorCode::UrlInvalid, "--public-url has no host"))?.to_string();
    let mut hosts = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    let bare_host = public_host.trim_start_matches('[').trim_end_matches(']').to_string();
    if !hosts.contains(&bare_host) {
        hosts.push(bare_host.clone());
    }
    let identity = tls::load_or_create(data, &bare_host, &hosts).map_err(|e| match e {
        tls::TlsSetupError::NameMismatch { .. } => coded(ErrorCode::CertificateMismatch, e),
        other => coded(ErrorCode::DataDirUnusable, other),
    })?;

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let metrics = Arc::new(metrics::Metrics::default());
    let state = Arc::new(state::AppState {
        store,
        clock: opts.clock,
        proxies: opts.proxies.clone(),
        certificate: identity.facts.clone(),
        certificate_pin: identity.facts.self_made.then(|| deskshare_proto::cert::pin(&identity.fingerprint)),
        setup: setup::SetupCode::default(),
        hub: hub::Hub::new(metrics.clone()),
        passes: deskshare_meeting::pass::PassKey::derive(admin_token.as_bytes()),
        admin_token,
        origins: origin::Origins::new(&public_url, &opts.allowed_origins),
        public_url: public_url.clone(),
        attempts: attempts::Attempts::default(),
        reports: reports::ReportIntake::new(opts.internal.clone()),
        hasher: hashing::SecretHasher::new(opts.hash_permits, hashing::DEFAULT_QUEUE_WAIT),
        connections: connections::ConnectionTracker::behind(limits, opts.proxies.clone()),
        max_meetings_per_user: opts.max_meetings_per_user,
        metrics,
        shutdown: shutdown_rx,
        _data_lock: lock,
    });
    let no_admin =
        !state.store.users().await.map_err(|e| coded(ErrorCode::DataDirUnusable, e))?.iter().any(|u| u.is_admin);
    let setup_url = no_admin.then(|| {
        let mut url = public_url.join("setup").expect("a path joins");
        url.set_fragment(Some(&state.setup.issue()));
        url
    });
    Ok(Running {
        setup_url,
        open_files,
        connection_limits: limits,
        url: public_url,
        fingerprint: identity.fingerprint,
        local_addr,
        cert_path: identity.cert_path,
        listener,
        metrics_listener,
        tls: identity.config,
        state,
        shutdown_tx,
    })
}

impl Running {
    /// The self-check (certificate, reachability), run once the port listens.
    pub async fn self_check(&self) -> health::Health {
        health::check(&self.state.certificate, &self.state.public_url, self.state.clock.now()).await
    }

    /// Serves until `shutdown` resolves, then tells every session and drains for a moment.
    pub async fn serve_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), WireError> {
        let handle = axum_server::Handle::new();
        let app = http::router(self.state.clone());
        let limits = self.state.connections.limits();
        let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(
            axum_server::tls_rustls::RustlsConfig::from_config(self.tls.clone()),
        )
        .handshake_timeout(limits.handshake_timeout)
        .acceptor(connections::LimitAcceptor {
            tracker: self.state.connections.clone(),
            turn_away: turn_away::TurnAway::new(self.tls.clone(), self.state.clock),
        });
        let mut server = axum_server::from_tcp(self.listener)
            .map_err(|e| coded(ErrorCode::ListenFailed, e))?
            .acceptor(acceptor)
            .handle(handle.clone());
        server
            .http_builder()
            .http1()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .max_buf_size(64 * 1024);
        if let Some(l) = self.metrics_listener {
            let l = tokio::net::TcpListener::from_std(l).map_err(|e| coded(ErrorCode::ListenFailed, e))?;
            let app = axum::Router::new()
                .route("/metrics", axum::routing::get(metrics::scrape_open))
                .with_state(self.state.clone());
            let mut stop = self.state.shutdown.clone();
            tokio::spawn(async move {
                let until = async move {
                    let _ = stop.wait_for(|s| *s).await;
                };
                if let Err(e) = axum::serve(l, app).with_graceful_shutdown(until).await {
                    tracing::error!(code = %ErrorCode::ListenFailed, "metrics listener: {e}");
                }
            });
        }
        let trimmed = self.state.clone();
        tokio::spawn(async move {
            // After many connections closed (a large meeting ended), give the freed memory
            // back to the system: the allocator keeps it otherwise.
            let mut tick = tokio::time::interval(Duration::from_secs(10));
            let mut before = 0;
            loop {
                tick.tick().await;
                let (http, ws) = trimmed.connections.by_state();
                let open = http + ws;
                if open + 64 < before {
                    release_free_memory();
                }
                before = open;
            }
        });
        let watched = self.state.clone();
        tokio::spawn(async move {
            // Notices a deleted database even while nothing is written (logged once).
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            while watched.store.watch_file() {
                tick.tick().await;
            }
        });
        let shutdown_tx = self.shutdown_tx;
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down");
            let _ = shutdown_tx.send(true);
            handle.graceful_shutdown(Some(Duration::from_secs(3)));
        });
        server
            .serve(app.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .await
            .map_err(|e| coded(ErrorCode::ListenFailed, e))
    }
}

/// Reads `DATA/admin-token`, creating it (mode 0600) on first start.
fn admin_token(data: &std::path::Path) -> Result<String, WireError> {
    let path = data.join("admin-token");
    match std::fs::read_to_string(&path) {
        Ok(t) if !t.trim().is_empty() => Ok(t.trim().to_string()),
        _ => {
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            let token = hex::encode(bytes);
            tls::write_private(&path, format!("{token}\n").as_bytes())
                .map_err(|e| coded(ErrorCode::DataDirUnusable, format!("{}: {e}", path.display())))?;
            Ok(token)
        }
    }
}

/// Returns free heap memory to the system (glibc keeps it in its arenas otherwise).
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Connections the kernel queues for accepting. The default (128) overflows when
/// hundreds of viewers join at once on a busy machine: their SYNs are dropped and they
/// wait a second or more to retry. The kernel caps it at `net.core.somaxconn`.
const LISTEN_BACKLOG: u32 = 4096;

/// A non-blocking listener on `addr` with [`LISTEN_BACKLOG`].
fn listen(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)?.into_std()
}
