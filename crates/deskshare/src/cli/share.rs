//! `deskshare share`.

use deskshare_agent::x11::Target;
use deskshare_client::MeetingLink;
use deskshare_client::link::OpenLink;
use deskshare_proto::{ControlPolicy, ErrorCode, VideoCodec, WireError};

use deskshare_proto::report::ClientKind;

use super::{Failure, ReportTo, TlsArgs, finish_flush, flush_reports, saved_token_for, shutdown_signal};

#[derive(clap::Args)]
pub struct Args {
    /// The presenter link printed by `meeting create` (it ends in #presenter=…), your own
    /// link from the meeting page's Share my desktop (#share=…), or the deskshare: link
    /// that page opens.
    #[arg(required_unless_present = "list_windows")]
    presenter_url: Option<String>,
    /// X display to share (default: $DISPLAY).
    #[arg(long)]
    display: Option<String>,
    /// Share one monitor: its number in `xrandr --listmonitors` (from 0).
    #[arg(long, conflicts_with_all = ["window", "window_name"])]
    monitor: Option<usize>,
    /// Share one program's window by id (from --list-windows; hex 0x… or decimal).
    #[arg(long, value_parser = parse_window_id, conflicts_with = "window_name")]
    window: Option<u32>,
    /// Share the first window whose title contains this text (case-insensitive).
    #[arg(long)]
    window_name: Option<String>,
    /// List the windows that can be shared, with ids and titles, and exit.
    #[arg(long)]
    list_windows: bool,
    /// Name shown to viewers.
    #[arg(long)]
    name: Option<String>,
    /// What to do when a participant asks for control: ask this terminal, grant
    /// automatically, or never allow it.
    #[arg(long, value_enum, default_value = "ask")]
    allow_control: AllowControl,
    /// Key combination that takes control back at once.
    #[arg(long, default_value = "ctrl+alt+space")]
    takeback_key: String,
    /// Do not take control back when this machine's own mouse or keyboard is used.
    #[arg(long)]
    no_local_takeback: bool,
    /// Take over from whoever presents in the meeting now. Without it a running share is
    /// never replaced: on a terminal you are asked, otherwise it fails with
    /// PRESENTER_ACTIVE naming who presents.
    #[arg(long)]
    replace: bool,
    /// Send every pixel exact in every update, also video (costs several times the
    /// bandwidth on moving pictures). By default areas that keep changing and have many
    /// colours go lossy and are refined to exact once still.
    #[arg(long, conflicts_with = "jpeg_quality")]
    lossless: bool,
    /// JPEG quality (1-100) of lossy areas.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=100), default_value_t = deskshare_agent::DEFAULT_QUALITY)]
    jpeg_quality: u8,
    /// Codec of a large area that keeps moving (a video playing): vp9 (sharpest colour),
    /// vp8, or off (JPEG a frame). auto: vp9, else vp8, whatever the server and this
    /// machine's libvpx both code. Viewers that cannot decode the codec get JPEG.
    #[arg(long, value_enum, default_value = "auto")]
    video: VideoChoice,
    /// Bitrate (kbit/s) of a video stream; by default about 0.12 bits a pixel a frame
    /// (0.7 Mbit/s for a 640x360 player).
    #[arg(long, value_parser = clap::value_parser!(u32).range(100..=100_000))]
    video_kbps: Option<u32>,
    #[command(flatten)]
    tls: TlsArgs,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum VideoChoice {
    Auto,
    Vp9,
    Vp8,
    Off,
}

impl VideoChoice {
    fn codecs(self) -> Vec<VideoCodec> {
        match self {
            VideoChoice::Auto => vec![VideoCodec::Vp9, VideoCodec::Vp8],
            VideoChoice::Vp9 => vec![VideoCodec::Vp9],
            VideoChoice::Vp8 => vec![VideoCodec::Vp8],
            VideoChoice::Off => Vec::new(),
        }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum AllowControl {
    Ask,
    Auto,
    Never,
}

fn parse_window_id(s: &str) -> Result<u32, String> {
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.map_err(|_| format!("'{s}' is not a window id (use the hex id from --list-windows)"))
}

pub async fn run(a: Args) -> Result<(), Failure> {
    if a.list_windows {
        for w in deskshare_agent::windows::list(a.display.as_deref()).map_err(WireError::from)? {
            println!("0x{:08x}  {}x{}+{}+{}  {}", w.id, w.width, w.height, w.x, w.y, w.title);
        }
        return Ok(());
    }
    let given = a.presenter_url.as_deref().unwrap_or_default();
    // A deskshare: link comes from a web page through the link handler: nobody typed
    // it, so the person at this screen says yes here before anything is shared.
    let (link, pinned, from_page) = if OpenLink::is_one(given) {
        super::handler::log_without_terminal();
        let open = OpenLink::parse(given)?;
        (open.link, open.ca, true)
    } else {
        super::handler::register_on_first_run();
        (MeetingLink::parse(given)?, None, false)
    };
    let target = match (a.monitor, a.window, &a.window_name) {
        (Some(n), _, _) => Target::Monitor(n),
        (_, Some(id), _) => Target::Window(id),
        (_, _, Some(pattern)) => {
            let w = deskshare_agent::windows::find_by_name(a.display.as_deref(), pattern).map_err(WireError::from)?;
            eprintln!("sharing window 0x{:08x} \"{}\"", w.id, w.title);
            Target::Window(w.id)
        }
        _ => Target::Screen,
    };
    let hotkey = deskshare_agent::Hotkey::parse(&a.takeback_key).map_err(|why| {
        WireError::new(ErrorCode::ArgumentInvalid, format!("--takeback-key {}: {why}", a.takeback_key))
    })?;
    let control = match a.allow_control {
        AllowControl::Ask => ControlPolicy::Ask,
        AllowControl::Auto => ControlPolicy::Auto,
        AllowControl::Never => ControlPolicy::Never,
    };
    let token = saved_token_for(&link);
    let mut tls = a.tls.for_server(link.base.as_str());
    if a.tls.ca.is_none() && !a.tls.insecure && pinned.is_some() {
        tls.ca = pinned.map(std::path::PathBuf::from);
    }
    if from_page && !confirm_on_screen(a.display.clone(), &link).await? {
        eprintln!("not shared: declined on the screen");
        return Ok(());
    }
    let flush = flush_reports(&link.base, &tls, token.clone());
    let report_to = ReportTo {
        server: link.base.clone(),
        tls: tls.clone(),
        token: token.clone(),
        kind: ClientKind::Agent,
        hop: None,
        meeting: Some(link.id.clone()),
    };
    let a_display = a.display.clone();
    let opts = deskshare_agent::ShareOptions {
        link,
        tls,
        display: a.display,
        target,
        name: a.name,
        control,
        hotkey,
        local_takeback: !a.no_local_takeback,
        token,
        lossy_quality: (!a.lossless).then_some(a.jpeg_quality),
        video: a.video.codecs(),
        video_kbps: a.video_kbps,
        replace: a.replace,
    };
    let mut result = deskshare_agent::share(opts.clone(), shutdown_signal()).await;
    if let Err(e) = &result
        && e.code == ErrorCode::PresenterActive
        && (if from_page { replace_on_screen(a_display.clone(), &e.message).await } else { ask_to_replace(&e.message) })
    {
        result =
            deskshare_agent::share(deskshare_agent::ShareOptions { replace: true, ..opts }, shutdown_signal()).await;
    }
    finish_flush(flush).await;
    result.map(|_| ()).map_err(|e| report_to.failed(e))
}

/// Asks on the display to be shared whether to share it, for a deskshare: link (on a
/// blocking thread: a person takes their time).
async fn confirm_on_screen(display: Option<String>, link: &MeetingLink) -> Result<bool, WireError> {
    let host = link.base.host_str().unwrap_or("the server").to_string();
    let question = deskshare_agent::dialog::Question {
        title: "Share this screen in a deskshare meeting?".into(),
        lines: vec![
            format!("Meeting {} on {host}, as you opened it from its page.", link.id),
            "Everyone in the meeting will see this screen until you stop.".into(),
        ],
        yes: "Share".into(),
        no: "Cancel".into(),
    };
    ask_on_screen(display, question).await.map_err(|e| WireError::new(ErrorCode::DisplayUnreachable, e))
}

async fn ask_on_screen(display: Option<String>, question: deskshare_agent::dialog::Question) -> Result<bool, String> {
    tokio::task::spawn_blocking(move || deskshare_agent::dialog::Dialog::ask(display.as_deref(), question))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

/// On the screen, for a deskshare: link: "NAME is presenting. Replace their share?".
async fn replace_on_screen(display: Option<String>, who: &str) -> bool {
    let question = deskshare_agent::dialog::Question {
        title: format!("{who}."),
        lines: vec!["Replace their share with this screen?".into()],
        yes: "Replace".into(),
        no: "Cancel".into(),
    };
    ask_on_screen(display, question).await.unwrap_or(false)
}

/// On a terminal: "NAME is presenting. Replace their share? [y/N]"; elsewhere no.
fn ask_to_replace(who: &str) -> bool {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("{who}. Replace their share with this one? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).is_ok() && matches!(line.trim(), "y" | "Y" | "yes")
}
