//! `deskshare doctor URL`: checks the path to a server hop by hop, from the machine it
//! runs on, and stops at the first broken hop with its code, cause and remedy. The hops
//! are the ones every client takes (crate::dial, crate::websocket), run one at a time so
//! each can be named: url → dns → tcp → proxy → tls → clock → http → websocket →
//! meeting → policy → media. A presenter's display is checked by the caller (the agent
//! knows X) and added with [`Report::push`].

use std::time::{Duration, Instant, SystemTime};

use deskshare_proto::api::MeetingInfo;
use deskshare_proto::{ErrorCode, WireError};
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use url::Url;

use crate::dial::{self, DialError};
use crate::proxy::Proxy;
use crate::{MeetingLink, TlsOptions};

/// Clocks further apart than this fail the clock step.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);
/// Pings for the round-trip figures.
const PINGS: usize = 20;
/// Bytes moved each way for the throughput figures.
const THROUGHPUT_BYTES: u64 = 4 * 1024 * 1024;

/// How a step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail,
    /// Not run: an earlier step failed, or it does not apply.
    Skip,
}

/// A failure as the report shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    pub code: ErrorCode,
    pub message: String,
    pub cause: &'static str,
    pub remedy: &'static str,
}

impl From<WireError> for Failure {
    fn from(e: WireError) -> Self {
        Failure { code: e.code, cause: e.code.cause(), remedy: e.code.remedy(), message: e.message }
    }
}

/// One hop checked.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub hop: &'static str,
    pub outcome: Outcome,
    /// One line: what was found.
    pub summary: String,
    /// Further lines: each address, the certificate, the figures.
    pub details: Vec<String>,
    pub failure: Option<Failure>,
    pub took_ms: u64,
}

/// Everything doctor found.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub target: String,
    pub client: String,
    pub steps: Vec<Step>,
    /// Every step passed (skipped ones that do not apply count as passed).
    pub ok: bool,
}

impl Report {
    fn new(target: &str) -> Report {
        Report {
            target: target.to_string(),
            client: concat!("deskshare/", env!("CARGO_PKG_VERSION")).into(),
            steps: Vec::new(),
            ok: true,
        }
    }

    /// Whether a step has failed (later steps are then skipped).
    pub fn failed(&self) -> bool {
        !self.ok
    }

    /// Adds a finished step.
    pub fn push(&mut self, step: Step) {
        if step.outcome == Outcome::Fail {
            self.ok = false;
        }
        self.steps.push(step);
    }

    /// The first failed step.
    pub fn failure(&self) -> Option<&Step> {
        self.steps.iter().find(|s| s.outcome == Outcome::Fail)
    }

    /// The report for people: a line a step, the failure's cause and remedy.
    pub fn text(&self) -> String {
        let mut out = format!("deskshare doctor {} ({})\n", self.target, self.client);
        for s in &self.steps {
            let mark = match s.outcome {
                Outcome::Pass => "ok  ",
                Outcome::Fail => "FAIL",
                Outcome::Skip => "skip",
            };
            out.push_str(&format!("{mark} {:<9} {}\n", s.hop, s.summary));
            for d in &s.details {
                out.push_str(&format!("               {d}\n"));
            }
            if let Some(f) = &s.failure {
                out.push_str(&format!(
                    "     error {}: {}\n     cause: {}\n     remedy: {}\n",
                    f.code, f.message, f.cause, f.remedy
                ));
            }
        }
        out.push_str(if self.ok { "all checks passed\n" } else { "a check failed: see FAIL above\n" });
        out
    }
}

/// A step in progress.
pub struct StepTimer {
    hop: &'static str,
    started: Instant,
    details: Vec<String>,
}

impl StepTimer {
    pub fn start(hop: &'static str) -> StepTimer {
        StepTimer { hop, started: Instant::now(), details: Vec::new() }
    }
    pub fn detail(&mut self, line: impl Into<String>) {
        self.details.push(line.into());
    }
    fn end(self, outcome: Outcome, summary: String, failure: Option<Failure>) -> Step {
        Step {
            hop: self.hop,
            outcome,
            summary,
            details: self.details,
            failure,
            took_ms: self.started.elapsed().as_millis() as u64,
        }
    }
    pub fn pass(self, summary: impl Into<String>) -> Step {
        self.end(Outcome::Pass, summary.into(), None)
    }
    pub fn fail(self, summary: impl Into<String>, error: impl Into<WireError>) -> Step {
        self.end(Outcome::Fail, summary.into(), Some(error.into().into()))
    }
    pub fn skip(self, summary: impl Into<String>) -> Step {
        self.end(Outcome::Skip, summary.into(), None)
    }
}

/// What doctor was asked to check.
pub struct Target {
    pub base: Url,
    pub meeting: Option<String>,
    pub secret: Option<String>,
}

impl Target {
    /// A join link, a presenter link, or the server's address.
    pub fn parse(text: &str) -> Result<Target, WireError> {
        if let Ok(link) = MeetingLink::parse(text) {
            return Ok(Target { base: link.base, meeting: Some(link.id), secret: link.secret });
        }
        let base = crate::api::server_base(text)?;
        Ok(Target { base, meeting: None, secret: None })
    }

    pub fn is_presenter(&self) -> bool {
        self.secret.is_some()
    }
}

/// Runs the network steps against `url`. `token` is the caller's sign-in, for the policy
/// step.
pub async fn check(url: &str, tls: &TlsOptions, token: Option<String>) -> (Report, Option<Target>) {
    let mut report = Report::new(url);
    let step = StepTimer::start("url");
    let target = match Target::parse(url) {
        Ok(t) => t,
        Err(e) => {
            report.push(step.fail("not a deskshare URL", e));
            return (report, None);
        }
    };
    let what = match (&target.meeting, target.is_presenter()) {
        (Some(_), true) => "a presenter link",
        (Some(_), false) => "a join link",
        (None, _) => "a server address",
    };
    report.push(step.pass(format!("{what} for {}", target.base)));
    network(&mut report, &target, tls, token).await;
    (report, Some(target))
}

async fn network(report: &mut Report, target: &Target, tls: &TlsOptions, token: Option<String>) {
    let (host, port) = match dial::host_port(&target.base) {
        Ok(hp) => hp,
        Err(e) => return report.push(StepTimer::start("url").fail("no host", e)),
    };
    let proxy = match Proxy::for_host(&host) {
        Ok(p) => p,
        Err(e) => return report.push(StepTimer::start("proxy").fail("HTTPS_PROXY does not parse", e)),
    };

    // dns and tcp: to the server, or to the proxy, which resolves the server itself.
    let (dns_host, dns_port, via) = match &proxy {
        Some(p) => (p.host.clone(), p.port, " (the proxy)"),
        None => (host.clone(), port, ""),
    };
    let mut step = StepTimer::start("dns");
    let addrs = match dial::resolve(&dns_host, dns_port).await {
        Ok(a) => a,
        Err(e) => {
            let e = match (&proxy, e) {
                (Some(_), DialError::NameNotResolved { host, detail }) => {
                    DialError::Unreachable { addr: host, detail: format!("does not resolve: {detail}"), proxy: true }
                }
                (_, e) => e,
            };
            return report.push(step.fail(format!("{dns_host}{via} does not resolve"), e));
        }
    };
    for a in &addrs {
        step.detail(a.ip().to_string());
    }
    report.push(step.pass(format!("{dns_host}{via} is {} address(es)", addrs.len())));

    let mut step = StepTimer::start("tcp");
    let (tcp, attempts) = dial::connect_any(&addrs, dial::CONNECT_TIMEOUT, proxy.is_some()).await;
    for a in &attempts {
        step.detail(match &a.error {
            None => format!("{} connected in {} ms", a.addr, a.took.as_millis()),
            Some(e) => format!("{} failed after {} ms: {e}", a.addr, a.took.as_millis()),
        });
    }
    let mut tcp = match tcp {
        Ok(t) => t,
        Err(e) => return report.push(step.fail(format!("no connection to port {dns_port}{via}"), e)),
    };
    report.push(step.pass(format!("port {dns_port}{via} is open")));

    let step = StepTimer::start("proxy");
    match &proxy {
        None => report.push(step.skip("none (HTTPS_PROXY and ALL_PROXY unset, or NO_PROXY names the host)")),
        Some(p) => match dial::proxy_tunnel(&mut tcp, p, &host, port).await {
            Ok(()) => report.push(step.pass(format!("{} opened a tunnel to {host}:{port}", p.display()))),
            Err(e) => return report.push(step.fail(format!("{} gives no tunnel to {host}:{port}", p.display()), e)),
        },
    }

    let mut step = StepTimer::start("tls");
    let mut stream = match dial::tls_handshake(tcp, &host, tls).await {
        Ok((stream, cert)) => {
            let (_, conn) = stream.get_ref();
            let version = conn.protocol_version().map_or_else(String::new, |v| format!("{v:?}"));
            if let Some(c) = &cert {
                step.detail(format!("SHA-256 {}", c.fingerprint));
                step.detail(format!("names: {}", c.names.join(", ")));
                step.detail(format!("issuer: {}", c.issuer));
                step.detail(format!("valid {} to {}", dial::date(c.not_before), dial::date(c.not_after)));
            }
            let trust = if tls.insecure {
                "not checked (--insecure)"
            } else if tls.ca.is_some() {
                "trusted by --ca"
            } else {
                "trusted by this system"
            };
            report.push(step.pass(format!("{version}, certificate valid for {host}, {trust}")));
            stream
        }
        Err(e) => {
            if let DialError::Untrusted { cert: Some(c), .. }
            | DialError::NameMismatch { cert: Some(c), .. }
            | DialError::Expired { cert: Some(c) } = &e
            {
                step.detail(format!("SHA-256 {}", c.fingerprint));
                step.detail(format!("names: {}", c.names.join(", ")));
                step.detail(format!("valid {} to {}", dial::date(c.not_before), dial::date(c.not_after)));
            }
            return report.push(step.fail("the handshake failed", e));
        }
    };

    // clock and http: one request for /healthz on this connection.
    let step = StepTimer::start("http");
    let sent_at = SystemTime::now();
    let head = match get_head(&mut stream, &host, "/healthz").await {
        Ok(h) => h,
        Err(e) => {
            report.push(StepTimer::start("clock").skip("no answer to read the server's time from"));
            return report.push(step.fail("no HTTP answer", e));
        }
    };
    let clock = StepTimer::start("clock");
    match head.date {
        Some(server) => {
            let skew = match server.duration_since(sent_at) {
                Ok(ahead) => ahead.as_secs() as i64,
                Err(behind) => -(behind.duration().as_secs() as i64),
            };
            let summary = match skew {
                s if s.abs() <= 1 => "this computer's clock agrees with the server's".to_string(),
                s if s > 0 => format!("the server's clock is {s} s ahead of this computer's"),
                s => format!("the server's clock is {} s behind this computer's", -s),
            };
            if skew.unsigned_abs() > MAX_CLOCK_SKEW.as_secs() {
                report.push(clock.fail(summary.clone(), WireError::new(ErrorCode::ClockSkew, summary)));
                report.push(step.skip("not checked: the clocks disagree"));
                return;
            }
            report.push(clock.pass(summary));
        }
        None => report.push(clock.skip("the server sent no Date header")),
    }
    match (head.status, &head.version) {
        (200, Some(v)) => report.push(step.pass(format!("/healthz answers: deskshare {v}"))),
        (status, Some(_)) if let Some(code) = head.code => {
            let what = format!("/healthz answered HTTP {status}: {}", code.cause());
            return report.push(step.fail(what.clone(), WireError::new(code, what)));
        }
        (status, version) => {
            let what = match version {
                Some(_) => format!("/healthz answered HTTP {status}"),
                None => format!("HTTP {status} from a server that is not deskshare (no X-Deskshare-Version)"),
            };
            return report.push(step.fail(what.clone(), WireError::new(ErrorCode::ServerUnreachable, what)));
        }
    }
    drop(stream);

    // websocket and media: the check socket, through the same path.
    let step = StepTimer::start("websocket");
    let mut url = target.base.join("api/check/ws").expect("path joins");
    url.set_scheme("wss").expect("wss is a scheme");
    let mut ws = match crate::websocket::open(&url, tls, None).await {
        Ok(ws) => {
            report.push(step.pass("the upgrade reached the server"));
            ws
        }
        Err(e) => return report.push(step.fail("no WebSocket", e)),
    };

    if let Some(id) = &target.meeting {
        meeting_steps(report, target, id, tls, token).await;
        if report.failed() {
            return;
        }
    } else {
        report.push(StepTimer::start("meeting").skip("no meeting in the URL"));
        report.push(StepTimer::start("policy").skip("no meeting in the URL"));
    }

    let step = StepTimer::start("media");
    match media(&mut ws).await {
        Ok(m) => {
            let mut step = step;
            step.detail(format!("round trip p50 {:.1} ms, p95 {:.1} ms ({PINGS} pings)", m.rtt_p50_ms, m.rtt_p95_ms));
            step.detail(format!(
                "to this computer {:.1} Mbit/s, to the server {:.1} Mbit/s",
                m.down_mbit_s, m.up_mbit_s
            ));
            report.push(step.pass(format!(
                "round trip {:.1} ms, {:.1} Mbit/s down, {:.1} Mbit/s up",
                m.rtt_p50_ms, m.down_mbit_s, m.up_mbit_s
            )))
        }
        Err(e) => report.push(step.fail("the connection check broke off", e)),
    }
    let _ = ws.close(None).await;
}

async fn meeting_steps(report: &mut Report, target: &Target, id: &str, tls: &TlsOptions, token: Option<String>) {
    let step = StepTimer::start("meeting");
    let api = match crate::api::Api::new(target.base.as_str(), tls, token.clone()) {
        Ok(a) => a,
        Err(e) => return report.push(step.fail("no API client", e)),
    };
    let info: MeetingInfo = match api.meeting_info(id, target.secret.as_deref()).await {
        Ok(i) => i,
        Err(e) => return report.push(step.fail(format!("meeting {id}"), e)),
    };
    let mut step = step;
    step.detail(format!(
        "{}, {} viewer(s), presenter {}",
        if info.passcode_required { "passcode needed" } else { "no passcode needed" },
        info.viewers,
        if info.presenter_online { "sharing" } else { "not sharing" }
    ));
    step.detail(if info.guests_allowed { "guests may join" } else { "guests may not join: sign in" });
    report.push(step.pass(format!("'{}' exists and has not expired", info.title)));

    let mut step = StepTimer::start("policy");
    let who = if token.is_some() { "you (signed in)" } else { "a guest" };
    let a = &info.access;
    step.detail(match a.join {
        None if a.lobby => "may join, after waiting in the lobby".to_string(),
        None => "may join".to_string(),
        Some(c) => format!("may not join: {c}"),
    });
    if target.is_presenter() {
        step.detail(match a.present {
            None => "may present".to_string(),
            Some(c) => format!("may not present: {c}"),
        });
    }
    step.detail(match a.control {
        None => "may be given control".to_string(),
        Some(c) => format!("may not be given control: {c}"),
    });
    let refusal = a.join.or(if target.is_presenter() { a.present } else { None });
    match refusal {
        None => report.push(step.pass(format!("{who} may {}", if target.is_presenter() { "present" } else { "join" }))),
        Some(code) => {
            let what = format!("{who} would be refused with {code}");
            report.push(step.fail(what.clone(), WireError::new(code, what)))
        }
    }
}

/// Round trip and throughput over the check socket.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct MediaFigures {
    pub rtt_p50_ms: f64,
    pub rtt_p95_ms: f64,
    pub down_mbit_s: f64,
    pub up_mbit_s: f64,
}

async fn media(ws: &mut crate::websocket::Ws) -> Result<MediaFigures, WireError> {
    let lost = |e: tokio_tungstenite::tungstenite::Error| WireError::new(ErrorCode::ConnectionLost, e.to_string());
    let timeout = Duration::from_secs(20);
    let next_text = async |ws: &mut crate::websocket::Ws| -> Result<(serde_json::Value, u64), WireError> {
        let mut binary = 0u64;
        loop {
            let msg = tokio::time::timeout(timeout, ws.next())
                .await
                .map_err(|_| WireError::new(ErrorCode::ConnectionLost, "the check went silent"))?;
            match msg {
                Some(Ok(Message::Text(t))) => {
                    let v: serde_json::Value = serde_json::from_str(&t)
                        .map_err(|e| WireError::new(ErrorCode::MessageMalformed, e.to_string()))?;
                    if v["type"] == "error" {
                        let code = v["code"].as_str().and_then(ErrorCode::parse).unwrap_or(ErrorCode::ServerError);
                        return Err(WireError::new(code, v["message"].as_str().unwrap_or("").to_string()));
                    }
                    return Ok((v, binary));
                }
                Some(Ok(Message::Binary(b))) => binary += b.len() as u64,
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(lost(e)),
                None => return Err(WireError::new(ErrorCode::ConnectionLost, "the server closed the check")),
            }
        }
    };
    let mut rtts = Vec::with_capacity(PINGS);
    for seq in 0..PINGS as u64 {
        let sent = Instant::now();
        ws.send(Message::Text(format!(r#"{{"type":"ping","seq":{seq}}}"#).into())).await.map_err(lost)?;
        let (v, _) = next_text(ws).await?;
        if v["type"] != "pong" || v["seq"] != seq {
            return Err(WireError::new(ErrorCode::ProtocolViolation, format!("expected pong {seq}, got {v}")));
        }
        rtts.push(sent.elapsed().as_secs_f64() * 1000.0);
    }
    rtts.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| rtts[((rtts.len() - 1) as f64 * p).round() as usize];

    let started = Instant::now();
    ws.send(Message::Text(format!(r#"{{"type":"download","bytes":{THROUGHPUT_BYTES}}}"#).into()))
        .await
        .map_err(lost)?;
    let (v, got) = next_text(ws).await?;
    if v["type"] != "downloaded" || got != THROUGHPUT_BYTES {
        return Err(WireError::new(ErrorCode::ProtocolViolation, format!("download: {got} bytes, then {v}")));
    }
    let down = mbit_s(got, started.elapsed());

    let started = Instant::now();
    let chunk = bytes::Bytes::from(vec![0x5au8; 64 * 1024]);
    let mut sent = 0u64;
    while sent < THROUGHPUT_BYTES {
        ws.feed(Message::Binary(chunk.clone())).await.map_err(lost)?;
        sent += chunk.len() as u64;
    }
    ws.send(Message::Text(r#"{"type":"uploaded"}"#.into())).await.map_err(lost)?;
    let (v, _) = next_text(ws).await?;
    if v["type"] != "uploaded" || v["bytes"] != sent {
        return Err(WireError::new(ErrorCode::ProtocolViolation, format!("upload of {sent} bytes: {v}")));
    }
    let up = mbit_s(sent, started.elapsed());
    Ok(MediaFigures { rtt_p50_ms: pct(0.5), rtt_p95_ms: pct(0.95), down_mbit_s: down, up_mbit_s: up })
}

fn mbit_s(bytes: u64, took: Duration) -> f64 {
    bytes as f64 * 8.0 / 1e6 / took.as_secs_f64().max(1e-6)
}

/// The head of an HTTP/1.1 answer.
struct Head {
    status: u16,
    date: Option<SystemTime>,
    version: Option<String>,
    /// The server's error code (`X-Deskshare-Error`) of an answer that is one.
    code: Option<ErrorCode>,
}

/// `GET path` on an open TLS stream; reads the answer head (at most 16 KiB).
async fn get_head<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    stream: &mut S,
    host: &str,
    path: &str,
) -> Result<Head, WireError> {
    let lost = |e: std::io::Error| WireError::new(ErrorCode::ConnectionLost, e.to_string());
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    let exchange = async {
        stream.write_all(request.as_bytes()).await.map_err(lost)?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            if buf.len() > 16 * 1024 {
                return Err(WireError::new(ErrorCode::MessageMalformed, "an answer head over 16 KiB"));
            }
            let n = stream.read(&mut chunk).await.map_err(lost)?;
            if n == 0 {
                return Err(WireError::new(ErrorCode::ConnectionLost, "the connection closed before an answer"));
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        Ok(buf)
    };
    let buf = tokio::time::timeout(Duration::from_secs(15), exchange)
        .await
        .map_err(|_| WireError::new(ErrorCode::ConnectionLost, format!("no answer to GET {path} within 15 s")))??;
    let text = String::from_utf8_lossy(&buf);
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| WireError::new(ErrorCode::MessageMalformed, "the answer is not HTTP"))?;
    let mut head = Head { status, date: None, version: None, code: None };
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "date" => head.date = httpdate::parse_http_date(value.trim()).ok(),
                "x-deskshare-version" => head.version = Some(value.trim().to_string()),
                "x-deskshare-error" => head.code = ErrorCode::parse(value.trim()),
                _ => {}
            }
        }
    }
    Ok(head)
}
