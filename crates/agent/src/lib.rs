//! The host agent behind `deskshare share`: captures the screen, encodes changed tiles
//! and uploads them, reconnecting on its own when the network or server blinks.

pub mod capture;
mod status;
mod uploader;
pub mod x11;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use deskshare_client::{MeetingLink, TlsOptions};
use deskshare_proto::{ErrorCode, WireError};
use tokio::sync::mpsc;

pub use status::ShareStats;

/// `deskshare share` options.
#[derive(Clone, Debug)]
pub struct ShareOptions {
    pub link: MeetingLink,
    pub tls: TlsOptions,
    /// X display name; `None` uses `$DISPLAY`.
    pub display: Option<String>,
    pub name: Option<String>,
}

/// Shares until `shutdown` resolves or a fatal error. Returns what was sent.
pub async fn share(
    opts: ShareOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<ShareStats, WireError> {
    if opts.link.secret.is_none() {
        return Err(WireError::new(
            ErrorCode::PresenterSecretInvalid,
            "this is a viewer link; sharing needs the presenter URL (it ends in #presenter=...)",
        ));
    }
    // Check the link before touching the display: a wrong URL or secret is the likelier
    // mistake, and it should be named first. Startup failures are final; only a session
    // that worked once is retried.
    let session = deskshare_client::Session::connect(
        &opts.link,
        &opts.tls,
        deskshare_proto::Role::Presenter,
        opts.name.clone(),
    )
    .await?;
    let capture = x11::X11Capture::open(opts.display.as_deref())?;
    let (tx, rx) = mpsc::channel(2);
    let control = Arc::new(capture::CaptureControl::default());
    let thread_control = control.clone();
    let capture_thread = std::thread::Builder::new()
        .name("capture".into())
        .spawn(move || capture::run(capture, tx, thread_control))
        .map_err(|e| WireError::new(ErrorCode::ServerError, e.to_string()))?;
    let result = uploader::run(&opts, session, rx, control.clone(), shutdown).await;
    control.stop.store(true, Ordering::Relaxed);
    // The uploader ended, so the channel is closed and the thread ends at its next send.
    let captured = tokio::task::spawn_blocking(move || capture_thread.join()).await;
    match (result, captured) {
        (Err(e), _) => Err(e),
        (Ok(_), Ok(Ok(Err(e)))) => Err(e),
        (Ok(stats), _) => Ok(stats),
    }
}
