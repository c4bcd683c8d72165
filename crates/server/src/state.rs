//! What every request handler and session may use: the store, the live meetings, the
//! limits. Built once by `serve`, shared as `Arc<AppState>`.

use tokio::sync::watch;
use url::Url;

use crate::hub::Hub;
use crate::store::Store;

/// Everything a request handler may need.
pub struct AppState {
    pub store: Store,
    /// The one clock: expiry, sign-in lifetimes and chat times read it.
    pub clock: crate::clock::Clock,
    /// Reverse proxies whose X-Forwarded-For is believed.
    pub proxies: crate::forwarded::TrustedProxies,
    pub hub: Hub,
    pub admin_token: String,
    /// Signs the admission passes of welcomes (derived from the admin token).
    pub passes: deskshare_meeting::pass::PassKey,
    /// The certificate's names and end, for the self-check.
    pub certificate: crate::health::CertFacts,
    /// `sha256:HEX` of the certificate when the server made it itself: what the agent's
    /// command pins (`--ca sha256:…`), as browsers were told to accept it by hand.
    pub certificate_pin: Option<String>,
    /// The first-start setup code, while no administrator exists (see `setup.rs`).
    pub setup: crate::setup::SetupCode,
    pub public_url: Url,
    /// Pages of these origins may act with a user's cookie.
    pub origins: crate::origin::Origins,
    /// Sign-in and passcode guessing limits.
    pub attempts: crate::attempts::Attempts,
    /// Failure reports: the per-address limit and the organisation's ranges.
    pub reports: crate::reports::ReportIntake,
    /// The one bounded way to hash passwords and passcodes.
    pub hasher: crate::hashing::SecretHasher,
    /// Open connections, their caps and read budgets.
    pub connections: std::sync::Arc<crate::connections::ConnectionTracker>,
    pub max_meetings_per_user: u32,
    /// What `/metrics` reports.
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
    /// Becomes `true` when the server begins shutting down.
    pub shutdown: watch::Receiver<bool>,
    /// Held while the server runs: one server per data directory.
    pub(crate) _data_lock: crate::datadir::DataDirLock,
}
