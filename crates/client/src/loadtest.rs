//! `deskshare loadtest`: many viewers of one meeting from one process, to measure what a
//! server gives each of them. Viewers ack every frame as it arrives (as a browser does
//! after drawing); only `decode` of them decode, so the load is the server's, not ours.
//! Latency is the frame header's capture time against this machine's clock: exact when
//! the agent runs on the same machine, as in the benchmarks.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use deskshare_codec::Decoder;
pub use deskshare_codec::Framebuffer;
use deskshare_proto::media::capture_clock;
use deskshare_proto::{ClientMessage, ErrorCode, MediaMessage, Role, WireError};
use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::sync::watch;

use crate::session::{Incoming, Join, Session};
use crate::{MeetingLink, TlsOptions};

/// Longest latency recorded (longer ones count as this): a minute, in microseconds.
const MAX_LATENCY_US: u64 = 60_000_000;

#[derive(Clone, Debug)]
pub struct LoadOptions {
    pub link: MeetingLink,
    pub tls: TlsOptions,
    pub viewers: usize,
    /// How long to measure once every viewer is connected.
    pub duration: Duration,
    /// How many viewers decode every frame (their pictures come back in the result).
    pub decode: usize,
    /// Viewers connected per second; `None`: all at once.
    pub ramp: Option<f64>,
    /// After measuring, how long the screen must have been still for the end (at most
    /// ten times this).
    pub settle: Duration,
}

/// What one run measured.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LoadReport {
    pub viewers: usize,
    /// Viewers that were welcomed.
    pub connected: usize,
    /// From the first dial to the last welcome.
    pub connect_all_s: Option<f64>,
    pub duration_s: f64,
    /// Updates per viewer per second while measuring: lowest, 10th percentile, median.
    pub updates_per_s: Spread,
    /// How often the server's screen changed while measuring (new versions a second, as
    /// the newest frame any viewer got says): a viewer that keeps up gets every one, so
    /// `updates_per_s` over this is the share a viewer got.
    pub versions_per_s: f64,
    /// Bytes per second to all viewers together while measuring.
    pub bytes_per_s: f64,
    /// Capture to receipt, in milliseconds, over every frame received while measuring.
    pub latency_ms: Latency,
    /// Viewers whose first frame was a keyframe.
    pub keyframes: usize,
    /// The newest frame any viewer had at the end, and how many had it.
    pub last_frame: u64,
    pub at_last_frame: usize,
    /// Decoding viewers, and how many decoded every frame without error.
    pub decoders: usize,
    pub decoded_ok: usize,
    /// Viewers that ended early, by error code.
    pub errors: BTreeMap<String, u64>,
    /// From closing every connection to the last one closed.
    pub teardown_s: f64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Spread {
    pub min: f64,
    pub p10: f64,
    pub median: f64,
    pub mean: f64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Latency {
    pub samples: u64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// The report and the pictures of the decoding viewers at the end.
pub struct LoadResult {
    pub report: LoadReport,
    pub pictures: Vec<Framebuffer>,
}

/// What every viewer adds to, read by the coordinator.
#[derive(Default)]
struct Counters {
    updates: AtomicU64,
    bytes: AtomicU64,
    last_frame: AtomicU64,
    /// When this viewer last received a frame, as milliseconds since the run began.
    last_at_ms: AtomicU64,
}

struct Shared {
    started: Instant,
    /// Latency samples are taken only while measuring.
    measuring: std::sync::atomic::AtomicBool,
    latency: Mutex<Histogram<u64>>,
    errors: Mutex<BTreeMap<String, u64>>,
    welcomed: AtomicU64,
    last_welcome_ms: AtomicU64,
}

impl Shared {
    fn error(&self, code: ErrorCode) {
        *self.errors.lock().expect("errors lock").entry(code.to_string()).or_default() += 1;
    }
}

/// How one viewer ended.
struct ViewerEnd {
    decoding: bool,
    keyframe_first: bool,
    picture: Option<Framebuffer>,
    decode_failed: bool,
}

pub async fn run(opts: LoadOptions) -> Result<LoadResult, WireError> {
    if opts.viewers == 0 {
        return Err(WireError::new(ErrorCode::ArgumentInvalid, "--viewers must be at least 1"));
    }
    let shared = Arc::new(Shared {
        started: Instant::now(),
        measuring: false.into(),
        latency: Mutex::new(Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("histogram bounds")),
        errors: Mutex::default(),
        welcomed: AtomicU64::new(0),
        last_welcome_ms: AtomicU64::new(0),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let counters: Vec<Arc<Counters>> = (0..opts.viewers).map(|_| Arc::default()).collect();
    let mut tasks = Vec::with_capacity(opts.viewers);
    for (i, c) in counters.iter().enumerate() {
        if let Some(rate) = opts.ramp.filter(|r| *r > 0.0) {
            let at = shared.started + Duration::from_secs_f64(i as f64 / rate);
            tokio::time::sleep_until(at.into()).await;
        }
        let decode = i < opts.decode;
        let (opts, shared, c, stop) = (opts.clone(), shared.clone(), c.clone(), stop_rx.clone());
        tasks.push(tokio::spawn(viewer(i, opts, shared, c, stop, decode)));
    }
    // Every viewer welcomed (or failed): then measure.
    let failed = || shared.errors.lock().expect("errors lock").values().sum::<u64>();
    let give_up = Instant::now() + Duration::from_secs(120);
    while (shared.welcomed.load(Ordering::Relaxed) + failed()) < opts.viewers as u64 && Instant::now() < give_up {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let connected = shared.welcomed.load(Ordering::Relaxed) as usize;
    let connect_all_s = (connected == opts.viewers)
        .then(|| Duration::from_millis(shared.last_welcome_ms.load(Ordering::Relaxed)).as_secs_f64());
    let totals = |what: fn(&Counters) -> &AtomicU64| -> Vec<u64> {
        counters.iter().map(|c| what(c).load(Ordering::Relaxed)).collect()
    };
    eprintln!("loadtest: {connected} of {} viewers in; measuring for {} s", opts.viewers, opts.duration.as_secs_f64());
    let (updates0, bytes0) = (totals(|c| &c.updates), totals(|c| &c.bytes));
    let newest = || counters.iter().map(|c| c.last_frame.load(Ordering::Relaxed)).max().unwrap_or(0);
    let version0 = newest();
    shared.measuring.store(true, Ordering::Relaxed);
    let window = Instant::now();
    tokio::time::sleep(opts.duration).await;
    shared.measuring.store(false, Ordering::Relaxed);
    let measured = window.elapsed().as_secs_f64();
    let (updates1, bytes1) = (totals(|c| &c.updates), totals(|c| &c.bytes));
    let versions = newest() - version0;
    // The end: the screen still (no viewer got a frame) for `settle`.
    let settle_ms = opts.settle.as_millis() as u64;
    let give_up = Instant::now() + opts.settle * 10;
    loop {
        let now_ms = shared.started.elapsed().as_millis() as u64;
        let newest = counters.iter().map(|c| c.last_at_ms.load(Ordering::Relaxed)).max().unwrap_or(0);
        if now_ms.saturating_sub(newest) >= settle_ms || Instant::now() >= give_up {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let last_frames = totals(|c| &c.last_frame);
    let last_frame = last_frames.iter().copied().max().unwrap_or(0);
    let teardown = Instant::now();
    stop_tx.send_replace(true);
    let mut ends = Vec::new();
    for t in tasks {
        if let Ok(Some(end)) = t.await {
            ends.push(end);
        }
    }
    let teardown_s = teardown.elapsed().as_secs_f64();
    let per_viewer: Vec<f64> =
        updates1.iter().zip(&updates0).map(|(b, a)| (b - a) as f64 / measured.max(1e-9)).collect();
    let bytes: u64 = bytes1.iter().zip(&bytes0).map(|(b, a)| b - a).sum();
    let latency = shared.latency.lock().expect("latency lock").clone();
    let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
    let decoders: Vec<&ViewerEnd> = ends.iter().filter(|e| e.decoding).collect();
    let report = LoadReport {
        viewers: opts.viewers,
        connected,
        connect_all_s,
        duration_s: measured,
        updates_per_s: spread(per_viewer),
        versions_per_s: versions as f64 / measured.max(1e-9),
        bytes_per_s: bytes as f64 / measured.max(1e-9),
        latency_ms: Latency {
            samples: latency.len(),
            p50: ms(0.5),
            p90: ms(0.9),
            p99: ms(0.99),
            max: latency.max() as f64 / 1000.0,
        },
        keyframes: ends.iter().filter(|e| e.keyframe_first).count(),
        last_frame,
        at_last_frame: last_frames.iter().filter(|&&f| f == last_frame && f > 0).count(),
        decoders: decoders.len(),
        decoded_ok: decoders.iter().filter(|e| !e.decode_failed && e.picture.is_some()).count(),
        errors: shared.errors.lock().expect("errors lock").clone(),
        teardown_s,
    };
    let pictures = ends.into_iter().filter_map(|e| e.picture).collect();
    Ok(LoadResult { report, pictures })
}

fn spread(mut v: Vec<f64>) -> Spread {
    if v.is_empty() {
        return Spread::default();
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    Spread { min: v[0], p10: at(0.1), median: at(0.5), mean: v.iter().sum::<f64>() / v.len() as f64 }
}

/// One viewer: joins, acks every frame, counts; `None` if it never got in.
async fn viewer(
    i: usize,
    opts: LoadOptions,
    shared: Arc<Shared>,
    counters: Arc<Counters>,
    mut stop: watch::Receiver<bool>,
    decode: bool,
) -> Option<ViewerEnd> {
    let join = Join { name: Some(format!("Load {}", i + 1)), ..Join::as_role(Role::Viewer) };
    let mut session = match Session::open(&opts.link, &opts.tls, &join).await {
        Ok(s) => s,
        Err(e) => {
            shared.error(e.code);
            return None;
        }
    };
    shared.welcomed.fetch_add(1, Ordering::Relaxed);
    shared.last_welcome_ms.fetch_max(shared.started.elapsed().as_millis() as u64, Ordering::Relaxed);
    let mut decoder = decode.then(Decoder::new);
    let mut end = ViewerEnd { decoding: decode, keyframe_first: false, picture: None, decode_failed: false };
    let mut first = true;
    loop {
        let before = session.received_bytes;
        let msg = tokio::select! {
            msg = session.recv() => msg,
            _ = stop.changed() => break,
        };
        counters.bytes.fetch_add(session.received_bytes - before, Ordering::Relaxed);
        let frame = match msg {
            Ok(Incoming::Media(MediaMessage::Frame(f))) => f,
            Ok(_) => continue,
            Err(e) => {
                shared.error(e.code);
                break;
            }
        };
        if first {
            end.keyframe_first = frame.header.keyframe;
            first = false;
        }
        if frame.header.captured_us != 0 && shared.measuring.load(Ordering::Relaxed) {
            let us = capture_clock(SystemTime::now()).wrapping_sub(frame.header.captured_us);
            let _ = shared.latency.lock().expect("latency lock").record(u64::from(us).clamp(1, MAX_LATENCY_US));
        }
        if let Some(d) = &mut decoder
            && d.apply(&frame).is_err()
        {
            end.decode_failed = true;
            decoder = None;
        }
        counters.updates.fetch_add(1, Ordering::Relaxed);
        counters.last_frame.store(frame.header.frame, Ordering::Relaxed);
        counters.last_at_ms.store(shared.started.elapsed().as_millis() as u64, Ordering::Relaxed);
        if session.send_control(&ClientMessage::Ack { frame: frame.header.frame }).await.is_err() {
            shared.error(ErrorCode::ConnectionLost);
            break;
        }
    }
    end.picture = decoder.and_then(|d| d.screen().cloned());
    session.close().await;
    Some(end)
}
