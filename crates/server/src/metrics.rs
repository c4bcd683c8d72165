//! `/metrics`: what the server does, in the Prometheus (OpenMetrics) text format. Counters
//! are bumped where things happen; gauges (meetings, people, connections, the database
//! pool, the process) are read when scraped.
//!
//! Served on the main port to the admin token only, or to anyone on `--metrics-listen`
//! (an address only the monitoring can reach).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use deskshare_proto::{ErrorCode, WireError};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    pub code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabel {
    pub event: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabel {
    pub state: String,
}

/// Every metric, registered once.
pub struct Metrics {
    registry: Registry,
    pub frames_in: Counter,
    pub bytes_in: Counter,
    pub frames_out: Counter,
    pub bytes_out: Counter,
    /// Tile versions superseded before a viewer could get them.
    pub skipped_tiles: Counter,
    pub viewer_rtt: Histogram,
    /// From a hello to the decision: mostly database reads, so pool waits show here.
    pub admission: Histogram,
    pub control_events: Family<EventLabel, Counter>,
    /// Sessions refused or ended, and API requests refused, by code.
    pub errors: Family<CodeLabel, Counter>,
    /// Failure reports clients sent, by code (codes this server does not know as OTHER).
    failure_reports: Family<CodeLabel, Counter>,
    pub joins: Counter,
    meetings: Gauge,
    participants: Gauge,
    viewers: Gauge,
    connections: Family<StateLabel, Gauge>,
    db_connections: Family<StateLabel, Gauge>,
    resident_memory: Gauge,
    cpu_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    open_fds: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("deskshare");
        let viewer_rtt = Histogram::new([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]);
        let admission = Histogram::new([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 2.0, 5.0, 15.0]);
        let m = Metrics {
            registry: Registry::default(),
            admission,
            frames_in: Counter::default(),
            bytes_in: Counter::default(),
            frames_out: Counter::default(),
            bytes_out: Counter::default(),
            skipped_tiles: Counter::default(),
            viewer_rtt,
            control_events: Family::default(),
            errors: Family::default(),
            failure_reports: Family::default(),
            joins: Counter::default(),
            meetings: Gauge::default(),
            participants: Gauge::default(),
            viewers: Gauge::default(),
            connections: Family::default(),
            db_connections: Family::default(),
            resident_memory: Gauge::default(),
            cpu_seconds: Gauge::default(),
            open_fds: Gauge::default(),
        };
        registry.register("frames_in", "Frames received from presenters", m.frames_in.clone());
        registry.register("bytes_in", "Bytes of frames received from presenters", m.bytes_in.clone());
        registry.register("frames_out", "Screen updates sent to viewers", m.frames_out.clone());
        registry.register("bytes_out", "Bytes of screen updates sent to viewers", m.bytes_out.clone());
        registry.register(
            "skipped_tiles",
            "Tile versions superseded before a viewer got them",
            m.skipped_tiles.clone(),
        );
        registry.register("viewer_rtt_seconds", "Viewers' send-to-ack time of screen updates", m.viewer_rtt.clone());
        registry.register(
            "admission_seconds",
            "From a hello to its admission or refusal (database reads and pool waits, passcode checks)",
            m.admission.clone(),
        );
        registry.register(
            "control_events",
            "Control floor events (ask, refused, changed, ended)",
            m.control_events.clone(),
        );
        registry.register(
            "errors",
            "Sessions refused or ended, and API requests refused, by error code",
            m.errors.clone(),
        );
        registry.register(
            "failure_reports",
            "Failure reports clients sent (POST /api/reports), by error code",
            m.failure_reports.clone(),
        );
        registry.register("joins", "Participants that joined a meeting (the lobby included)", m.joins.clone());
        registry.register("meetings", "Live meetings", m.meetings.clone());
        registry.register("participants", "People in live meetings, the lobby included", m.participants.clone());
        registry.register("viewers", "Viewer connections watching a screen", m.viewers.clone());
        registry.register("connections", "Open connections by state (http, websocket)", m.connections.clone());
        registry.register(
            "db_connections",
            "Database pool connections by state (idle, busy)",
            m.db_connections.clone(),
        );
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory of the server process",
            m.resident_memory.clone(),
        );
        registry.register(
            "process_cpu_seconds",
            "CPU time the server process used (user and system)",
            m.cpu_seconds.clone(),
        );
        registry.register("process_open_fds", "Open file descriptors of the server process", m.open_fds.clone());
        Metrics { registry, ..m }
    }
}

impl Metrics {
    /// Counts an error by its code.
    pub fn error(&self, code: ErrorCode) {
        self.errors.get_or_create(&CodeLabel { code: code.to_string() }).inc();
    }

    /// Counts a client's failure report; a code this server does not know is OTHER, so
    /// clients cannot grow the label set.
    pub fn failure_reported(&self, code: &str) {
        let code = ErrorCode::parse(code).map_or("OTHER", |c| c.as_str());
        self.failure_reports.get_or_create(&CodeLabel { code: code.to_string() }).inc();
    }

    pub fn control_event(&self, event: &str) {
        self.control_events.get_or_create(&EventLabel { event: event.to_string() }).inc();
    }

    /// Reads the gauges and writes everything out.
    fn render(&self, state: &AppState) -> String {
        let live = state.hub.all();
        self.meetings.set(live.len() as i64);
        self.participants.set(live.iter().map(|m| m.participant_count() as i64).sum());
        self.viewers.set(live.iter().map(|m| i64::from(m.viewer_count())).sum());
        let (http, websocket) = state.connections.by_state();
        self.connections.get_or_create(&StateLabel { state: "http".into() }).set(http as i64);
        self.connections.get_or_create(&StateLabel { state: "websocket".into() }).set(websocket as i64);
        let (size, idle) = state.store.pool_state();
        self.db_connections.get_or_create(&StateLabel { state: "idle".into() }).set(idle as i64);
        self.db_connections
            .get_or_create(&StateLabel { state: "busy".into() })
            .set((size as usize).saturating_sub(idle) as i64);
        let process = Process::read();
        self.resident_memory.set(process.rss_bytes as i64);
        self.cpu_seconds.set(process.cpu_seconds);
        self.open_fds.set(process.open_fds as i64);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String");
        out
    }
}

/// What /proc says about this process (zeros where it cannot be read).
#[derive(Default)]
struct Process {
    rss_bytes: u64,
    cpu_seconds: f64,
    open_fds: u64,
}

impl Process {
    fn read() -> Self {
        let mut p = Process::default();
        // SAFETY: sysconf only reads a constant of the system.
        let (hz, page) = unsafe { (libc::sysconf(libc::_SC_CLK_TCK), libc::sysconf(libc::_SC_PAGESIZE)) };
        if let Ok(stat) = std::fs::read_to_string("/proc/self/stat")
            && let Some((_, rest)) = stat.rsplit_once(')')
        {
            // Fields after the name: state is 3, utime 14, stime 15, rss 24 (1-based).
            let f: Vec<&str> = rest.split_whitespace().collect();
            let num = |i: usize| f.get(i - 3).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            if hz > 0 {
                p.cpu_seconds = (num(14) + num(15)) as f64 / hz as f64;
            }
            p.rss_bytes = num(24) * page.max(0) as u64;
        }
        p.open_fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64);
        p
    }
}

/// `GET /metrics` on the main port: the admin token only.
pub async fn scrape(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let token =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if !token.is_some_and(|t| crate::identity::same_secret(t, &state.admin_token)) {
        return ApiError(WireError::new(
            ErrorCode::AdminRequired,
            "/metrics needs the admin token (or --metrics-listen)",
        ))
        .into_response();
    }
    exposition(&state)
}

/// `GET /metrics` on `--metrics-listen`: anyone who can reach that address.
pub async fn scrape_open(State(state): State<Arc<AppState>>) -> Response {
    exposition(&state)
}

fn exposition(state: &AppState) -> Response {
    let body = state.metrics.render(state);
    let mut res = body.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    res
}

/// Counts every error answer of the API by its code (set by [`ApiError`]).
pub async fn count_errors(
    State(state): State<Arc<AppState>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let res = next.run(req).await;
    if let Some(code) = res.extensions().get::<ErrorCode>() {
        state.metrics.error(*code);
    }
    res
}
