//! The host agent behind `deskshare share`: captures the screen, encodes changed tiles
//! and uploads them, reconnecting on its own when the network or server blinks; and, when
//! its user consents, obeys a controller's mouse and keyboard until taken back.

pub mod capture;
pub mod consent;
mod control;
pub mod dialog;
pub mod inject;
pub mod input_filter;
mod status;
mod uploader;
pub mod windows;
pub mod x11;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use deskshare_client::{MeetingLink, TlsOptions};
use deskshare_proto::{ControlPolicy, ErrorCode, Role, WireError};
use tokio::sync::mpsc;

/// JPEG quality of lossy areas unless the presenter chooses another.
pub use deskshare_codec::DEFAULT_QUALITY;
pub use inject::Hotkey;
pub use status::ShareStats;

/// `deskshare share` options.
#[derive(Clone, Debug)]
pub struct ShareOptions {
    pub link: MeetingLink,
    pub tls: TlsOptions,
    /// X display name; `None` uses `$DISPLAY`.
    pub display: Option<String>,
    /// The screen, a monitor or a window.
    pub target: x11::Target,
    pub name: Option<String>,
    /// What to do when someone asks for control.
    pub control: ControlPolicy,
    /// The key combination that takes control back at once.
    pub hotkey: Hotkey,
    /// Whether the presenter's own mouse or keyboard activity takes control back.
    pub local_takeback: bool,
    /// Sign-in token: lets the organiser present without the presenter secret.
    pub token: Option<String>,
    /// JPEG quality of areas that keep changing; `None` sends everything exact.
    pub lossy_quality: Option<u8>,
    /// Video codecs the share may stream in, preferred first; the first the server and
    /// this machine both code is used. Empty: video areas go as JPEG.
    pub video: Vec<deskshare_proto::VideoCodec>,
    /// Bitrate of each video stream; `None`: by its area.
    pub video_kbps: Option<u32>,
    /// Take over from whoever presents now (`share --replace`), else refused with
    /// PRESENTER_ACTIVE.
    pub replace: bool,
}

impl ShareOptions {
    /// How the agent joins: as presenter, announcing its control policy.
    pub fn join(&self) -> deskshare_client::session::Join {
        deskshare_client::session::Join {
            name: self.name.clone(),
            control: Some(self.control),
            token: self.token.clone(),
            replace: self.replace,
            share: Some(match self.target {
                x11::Target::Window(_) => deskshare_proto::ShareKind::Program,
                _ => deskshare_proto::ShareKind::Desktop,
            }),
            ..deskshare_client::session::Join::as_role(Role::Presenter)
        }
    }
}

fn internal(e: impl std::fmt::Display) -> WireError {
    WireError::new(ErrorCode::ServerError, e.to_string())
}

/// Shares until `shutdown` resolves or a fatal error. Returns what was sent.
pub async fn share(
    opts: ShareOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<ShareStats, WireError> {
    if opts.link.secret.is_none() && opts.link.share_pass.is_none() && opts.token.is_none() {
        return Err(WireError::new(
            ErrorCode::PresenterSecretInvalid,
            "this is a viewer link; sharing needs the presenter URL (it ends in #presenter=...), your link from the meeting page's Share my desktop (#share=...), or signing in as the organiser",
        ));
    }
    // Check the link before touching the display: a wrong URL or secret is the likelier
    // mistake, and it should be named first, and ends the share. A server that cannot be
    // reached (not started yet, restarting, a network not up yet) is waited for, as a
    // lost connection is later.
    tokio::pin!(shutdown);
    let mut backoff = uploader::Backoff::new();
    let join = opts.join();
    let session = loop {
        let attempt = tokio::select! {
            s = deskshare_client::Session::open(&opts.link, &opts.tls, &join) => s,
            _ = &mut shutdown => return Ok(ShareStats::default()),
        };
        match attempt {
            Ok(s) => break s,
            Err(e) if uploader::is_fatal(e.code) => return Err(e),
            Err(e) => {
                let wait = backoff.next();
                eprintln!("{} (retrying in {} ms)", e.explain(), wait.as_millis());
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = &mut shutdown => return Ok(ShareStats::default()),
                }
            }
        }
    };
    let capture = x11::X11Capture::open(opts.display.as_deref(), opts.target)?;
    let area = capture::Capturer::area(&capture);

    // The injector thread: XTest, the take-back hotkey and the local-input watch.
    let (inject_tx, inject_rx) = std::sync::mpsc::channel();
    let (takeback_tx, takeback_rx) = mpsc::unbounded_channel();
    let inject_opts = inject::InjectOptions {
        display: opts.display.clone(),
        hotkey: opts.hotkey.clone(),
        local_takeback: opts.local_takeback,
        area,
        window: match opts.target {
            x11::Target::Window(w) => Some(w),
            _ => None,
        },
    };
    let injector = if opts.control == ControlPolicy::Never {
        drop(inject_rx);
        None
    } else {
        // Open the X connection and grab the hotkey before sharing starts, so a taken
        // hotkey is reported now rather than when someone is already in control.
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("inject".into())
            .spawn(move || {
                inject::run(inject_opts, inject_rx, ready_tx, move |reason| {
                    let _ = takeback_tx.send(reason);
                })
            })
            .map_err(internal)?;
        match ready_rx.recv() {
            Ok(Ok(())) => Some(handle),
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                return Err(handle.join().ok().and_then(Result::err).unwrap_or_else(|| internal("injector failed")));
            }
        }
    };

    let (tx, rx) = mpsc::channel(2);
    let capture_control = Arc::new(capture::CaptureControl::default());
    let thread_control = capture_control.clone();
    let coding = capture::Coding { lossy_quality: opts.lossy_quality, video_kbps: opts.video_kbps };
    let capture_thread = std::thread::Builder::new()
        .name("capture".into())
        .spawn(move || capture::run(capture, tx, thread_control, coding))
        .map_err(internal)?;
    let control = control::ControlSide::new(opts.control, inject_tx, opts.display.clone());
    let uploader = uploader::Uploader::new(&opts, rx, capture_control.clone(), control, takeback_rx);
    let result = uploader.run(session, shutdown).await;
    capture_control.stop.store(true, Ordering::Relaxed);
    // The uploader ended, so its channels are closed and both threads end on their own.
    let captured = tokio::task::spawn_blocking(move || capture_thread.join()).await;
    if let Some(h) = injector {
        let _ = tokio::task::spawn_blocking(move || h.join()).await;
    }
    match (result, captured) {
        (Err(e), _) => Err(e),
        (Ok(_), Ok(Ok(Err(e)))) => Err(e.into()),
        (Ok(stats), _) => Ok(stats),
    }
}
