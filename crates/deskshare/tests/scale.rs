//! A meeting of a thousand viewers, with real parts: Xvfb, an xterm typed into, `deskshare
//! share`, and `deskshare loadtest` joining 1000 viewers from one process. Counts, not
//! timings: every viewer in, a keyframe first and the last frame for each, three
//! decoding viewers exact, the presenter still sharing, and the server answering after
//! they all left. Then `/metrics` and JSON logs.

mod common;

use std::io::BufRead;
use std::process::{Command, Stdio};

use common::*;

const VIEWERS: usize = 1000;

#[test]
fn a_thousand_viewers_watch_a_typing_presenter_and_the_server_stays_up() {
    let dir = workdir("thousand");
    let x = Xvfb::start(1280, 720).unwrap();
    let _term = xterm(&x.display, "150x40+0+0", "echo 'a thousand viewers'; exec cat");
    let server = Server::start_with(
        &dir,
        "127.0.0.1:0",
        &["--max-connections", "4000", "--max-connections-per-address", "4000"],
        None,
    );
    let admin = dir.join("cfg-admin");
    let token = server.token();
    let set = ["admin", "policy", "set", "max-participants", "2000", "--server", &server.url, "--token", &token];
    ok(cli(&admin, &server, &set, None));
    let (join, presenter) = server.create_meeting("thousand");
    let mut share = server.share(&presenter, &x.display, &[]);

    let mut load = Command::new(BIN)
        .args(["loadtest", &join, "--viewers", &VIEWERS.to_string(), "--duration", "8", "--ramp", "250"])
        .args(["--decode", "3", "--compare-display", &x.display, "--json", "--ca"])
        .arg(server.ca())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Type while they watch: from the moment all are in, for about four seconds.
    let mut err = std::io::BufReader::new(load.stderr.take().unwrap());
    let mut line = String::new();
    while err.read_line(&mut line).unwrap() > 0 && !line.contains("measuring") {
        line.clear();
    }
    assert!(line.contains(&format!("{VIEWERS} of {VIEWERS} viewers in")), "{line}");
    xdotool(&x.display, &["mousemove", "300", "200"]);
    xdotool(&x.display, &["type", "--delay", "100", "the quick brown fox jumps over the lazy dog"]);
    let out = load.wait_with_output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("loadtest report ({e}): {}", String::from_utf8_lossy(&out.stdout));
    });
    assert!(out.status.success(), "loadtest: {report}");
    let n = |k: &str| report[k].as_u64().unwrap_or_else(|| panic!("{k} in {report}"));
    assert_eq!(n("connected"), VIEWERS as u64);
    assert_eq!(n("keyframes"), VIEWERS as u64, "every viewer's first frame is a keyframe");
    assert_eq!(n("at_last_frame"), VIEWERS as u64, "every viewer got the last frame");
    assert_eq!((n("decoders"), n("decoded_ok"), n("exact")), (3, 3, 3), "the decoding viewers equal the display");
    assert_eq!(report["errors"], serde_json::json!({}));
    assert!(report["updates_per_s"]["min"].as_f64().unwrap() > 0.0, "every viewer got updates while typing");
    assert!(n("last_frame") > 1, "typing made frames");

    // The presenter never left, and after everyone did, the server answers and a new
    // viewer gets the exact screen at once.
    assert!(share.child.try_wait().unwrap().is_none(), "the agent is still sharing");
    let said = [share.lines(), share.stderr_lines()].concat();
    assert!(said.iter().all(|l| !l.contains("MESSAGE_TOO_LARGE") && !l.contains("reconnecting")), "{said:?}");
    let health = Command::new("curl")
        .args(["-sf", "--cacert"])
        .arg(server.ca())
        .arg(format!("{}healthz", server.url))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(health.stdout).unwrap(), "ok");
    server.snapshot_matching(&join, &dir.join("after.png"), || grab(&x.display).unwrap());
    share.terminate();
}

#[test]
fn metrics_count_what_happens_and_logs_can_be_json() {
    let dir = workdir("metrics");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let metrics_addr = format!("127.0.0.1:{port}");
    let server =
        Server::start_with(&dir, "127.0.0.1:0", &["--log-format", "json", "--metrics-listen", &metrics_addr], None);
    let (join, presenter) = server.create_meeting("metrics");
    let x = Xvfb::start(320, 200).unwrap();
    let mut share = server.share(&presenter, &x.display, &[]);
    server.snapshot(&join, &dir.join("seen.png"));
    // A refused join is counted by its code.
    let bad = join.replace(&join[join.len() - 6..], "zzzzzz");
    let refused = Command::new(BIN)
        .args(["view", &bad, "--timeout", "5", "--snapshot"])
        .arg(dir.join("x.png"))
        .arg("--ca")
        .arg(server.ca())
        .output()
        .unwrap();
    assert!(!refused.status.success());

    let get = |url: &str, token: Option<&str>| {
        let mut c = Command::new("curl");
        c.args(["-s", "-w", "\n%{http_code}", "--cacert"]).arg(server.ca()).arg(url);
        if let Some(t) = token {
            c.args(["-H", &format!("Authorization: Bearer {t}")]);
        }
        let out = String::from_utf8(c.output().unwrap().stdout).unwrap();
        let (body, status) = out.rsplit_once('\n').unwrap();
        (status.to_string(), body.to_string())
    };
    // On the main port only with the admin token.
    let (status, body) = get(&format!("{}metrics", server.url), None);
    assert_eq!(status, "403", "{body}");
    assert!(body.contains("ADMIN_REQUIRED"));
    let (status, text) = get(&format!("{}metrics", server.url), Some(&server.token()));
    assert_eq!(status, "200");
    let value = |text: &str, name: &str| -> f64 {
        let line = text.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name} in:\n{text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert!(value(&text, "deskshare_frames_in_total") >= 1.0);
    assert!(value(&text, "deskshare_frames_out_total") >= 1.0);
    assert!(value(&text, "deskshare_bytes_out_total") > 0.0);
    assert!(value(&text, "deskshare_joins_total") >= 2.0, "the presenter and the viewer");
    assert_eq!(value(&text, "deskshare_meetings"), 1.0);
    assert!(value(&text, "deskshare_viewer_rtt_seconds_count") >= 1.0);
    assert!(value(&text, "deskshare_admission_seconds_count") >= 3.0, "two joins and a refusal");
    assert!(value(&text, "deskshare_errors_total{code=\"MEETING_NOT_FOUND\"}") >= 1.0);
    assert!(value(&text, "deskshare_process_resident_memory_bytes") > 1e6);
    assert!(value(&text, "deskshare_connections{state=\"websocket\"}") >= 1.0, "the agent's connection");
    // On --metrics-listen to anyone, in plain HTTP.
    let (status, open) = get(&format!("http://{metrics_addr}/metrics"), None);
    assert_eq!(status, "200");
    assert!(open.contains("deskshare_frames_in_total"));
    assert!(open.ends_with("# EOF\n") || open.ends_with("# EOF"), "OpenMetrics ends with EOF");

    // JSON logs, a session's lines carrying its meeting and participant.
    let logs = server.proc.stderr_lines();
    let parsed: Vec<serde_json::Value> = logs.iter().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert_eq!(parsed.len(), logs.len(), "every log line is JSON: {logs:?}");
    let id = join.rsplit('/').next().unwrap().split('?').next().unwrap();
    assert!(
        parsed.iter().any(|v| v["span"]["meeting"] == id && v["span"]["participant"].is_string()),
        "a line in a session's span: {logs:?}"
    );
    share.terminate();
}
