//! `deskshare loadtest`.

use std::time::Duration;

use deskshare_client::MeetingLink;
use deskshare_client::loadtest::{LoadOptions, LoadReport, run as load};
use deskshare_proto::{ErrorCode, WireError};

use super::TlsArgs;

#[derive(clap::Args)]
pub struct Args {
    /// The meeting's join link (https://HOST:PORT/m/ID).
    join_url: String,
    /// How many viewers join.
    #[arg(long, default_value_t = 100)]
    viewers: usize,
    /// Seconds to measure once every viewer is in.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// How many of the viewers decode every frame exactly (the others count and ack).
    #[arg(long, default_value_t = 0)]
    decode: usize,
    /// Viewers joining per second (default: all at once).
    #[arg(long)]
    ramp: Option<f64>,
    /// At the end, compare the decoding viewers' pictures with this X display.
    #[arg(long, value_name = "DISPLAY")]
    compare_display: Option<String>,
    /// Seconds the screen must be still at the end before comparing.
    #[arg(long, default_value_t = 1.0)]
    settle: f64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    tls: TlsArgs,
}

/// The report with the display comparison, as printed.
#[derive(serde::Serialize)]
struct Printed {
    #[serde(flatten)]
    report: LoadReport,
    /// Decoding viewers whose picture equals the display, when compared.
    exact: Option<usize>,
}

pub async fn run(a: Args) -> Result<(), WireError> {
    let opts = LoadOptions {
        link: MeetingLink::parse(&a.join_url)?,
        tls: a.tls.into(),
        viewers: a.viewers,
        duration: Duration::from_secs(a.duration),
        decode: a.decode.min(a.viewers),
        ramp: a.ramp,
        settle: Duration::from_secs_f64(a.settle.clamp(0.1, 60.0)),
    };
    let result = load(opts).await?;
    let exact = match &a.compare_display {
        Some(display) => {
            let shown = grab(display)?;
            Some(result.pictures.iter().filter(|p| **p == shown).count())
        }
        None => None,
    };
    let r = &result.report;
    let short = r.connected < r.viewers
        || !r.errors.is_empty()
        || r.at_last_frame < r.connected
        || r.decoded_ok < r.decoders
        || exact.is_some_and(|n| n < r.decoders);
    let printed = Printed { report: result.report, exact };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&printed).expect("report serialises"));
    } else {
        print_text(&printed);
    }
    if short {
        return Err(WireError::bare(ErrorCode::LoadtestShortfall));
    }
    Ok(())
}

fn grab(display: &str) -> Result<deskshare_client::loadtest::Framebuffer, WireError> {
    use deskshare_agent::capture::Capturer;
    let mut cap = deskshare_agent::x11::X11Capture::open(Some(display), deskshare_agent::x11::Target::Screen)?;
    Ok(cap.grab()?)
}

fn print_text(p: &Printed) {
    let r = &p.report;
    println!(
        "viewers: {} of {} connected{}",
        r.connected,
        r.viewers,
        match r.connect_all_s {
            Some(s) => format!(", all in {s:.1} s"),
            None => String::new(),
        }
    );
    let u = &r.updates_per_s;
    println!(
        "updates/s per viewer over {:.1} s: min {:.1}, p10 {:.1}, median {:.1}, mean {:.1} (the screen changed {:.1} times a second)",
        r.duration_s, u.min, u.p10, u.median, u.mean, r.versions_per_s
    );
    println!("bytes/s to all viewers: {:.0} ({:.1} MB/s)", r.bytes_per_s, r.bytes_per_s / 1e6);
    let l = &r.latency_ms;
    println!(
        "latency capture to receipt (ms, {} frames): p50 {:.1}, p90 {:.1}, p99 {:.1}, max {:.1}",
        l.samples, l.p50, l.p90, l.p99, l.max
    );
    println!(
        "keyframe first: {}; last frame {} reached by {}; teardown {:.2} s",
        r.keyframes, r.last_frame, r.at_last_frame, r.teardown_s
    );
    if r.decoders > 0 {
        let exact = p.exact.map_or(String::new(), |n| format!(", {n} equal to the display"));
        println!("decoders: {} of {} decoded every frame{exact}", r.decoded_ok, r.decoders);
    }
    if r.errors.is_empty() {
        println!("errors: none");
    } else {
        let list: Vec<String> = r.errors.iter().map(|(c, n)| format!("{c} {n}")).collect();
        println!("errors: {}", list.join(", "));
    }
}
