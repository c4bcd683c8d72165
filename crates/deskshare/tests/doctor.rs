//! `deskshare doctor`: a healthy path passes every step, and each induced fault is named
//! at its hop with its code — a name that does not resolve, a closed port, an untrusted
//! or misnamed certificate, a skewed clock, an expired meeting, a policy that keeps
//! guests out, a full meeting. (Faults that need root — a filtered port, proxies, an
//! expired certificate served by a real server — are in doctor_net.rs.)

mod common;

use std::process::Command;

use common::doctoring::{broken_hop, doctor, step};
use common::*;
use serde_json::Value;

fn ca(server: &Server) -> String {
    server.ca().display().to_string()
}

/// The fingerprint `serve` printed at start.
fn printed_fingerprint(server: &Server) -> String {
    let line = server.proc.lines().into_iter().find(|l| l.starts_with("deskshare serving")).unwrap();
    line.split("SHA-256 ").nth(1).unwrap().trim_end_matches(')').to_string()
}

#[test]
fn a_healthy_path_passes_every_step_including_the_presenters_display() {
    let dir = workdir("doctor_ok");
    let x = Xvfb::start(640, 400).unwrap();
    let server = Server::start(&dir);
    let (join, presenter) = server.create_meeting("doctor");
    let (ok, report) = doctor(&presenter, &["--ca", &ca(&server), "--display", &x.display], &[]);
    assert!(ok, "{report:#}");
    let hops: Vec<&str> = report["steps"].as_array().unwrap().iter().map(|s| s["hop"].as_str().unwrap()).collect();
    assert_eq!(
        hops,
        ["url", "dns", "tcp", "proxy", "tls", "clock", "http", "websocket", "meeting", "policy", "media", "display"]
    );
    assert_eq!(step(&report, "proxy")["outcome"], "skip", "no proxy in the environment");
    let tls = step(&report, "tls")["details"].to_string();
    assert!(tls.contains(&printed_fingerprint(&server)), "the certificate shown is the server's: {tls}");
    let media = step(&report, "media")["details"].to_string();
    assert!(media.contains("round trip p50") && media.contains("Mbit/s"), "{media}");
    let display = step(&report, "display")["details"].to_string();
    for ext in ["DAMAGE", "XFIXES", "MIT-SHM", "XTEST", "RANDR", "Composite"] {
        assert!(display.contains(ext), "{ext} in {display}");
    }
    assert!(!display.contains("MISSING"), "Xvfb has every extension: {display}");

    // A join link checks the same hops, without the display.
    let (ok, report) = doctor(&join, &["--ca", &ca(&server)], &[]);
    assert!(ok, "{report:#}");
    assert!(report["steps"].as_array().unwrap().iter().all(|s| s["hop"] != "display"));
    // The text report says the same to a person.
    let out = Command::new(BIN).args(["doctor", &join, "--ca", &ca(&server)]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("all checks passed"), "{text}");
}

#[test]
fn each_broken_hop_is_named_with_its_code() {
    let dir = workdir("doctor_faults");
    let admin = dir.join("cfg-admin");
    let server = Server::start_on(&dir, "0.0.0.0:0");
    let (join, _) = server.create_meeting("doctor faults");
    let port = join.split(':').nth(2).unwrap().split('/').next().unwrap().to_string();
    let id = join.rsplit('/').next().unwrap().to_string();
    let at = |host: &str| format!("https://{host}:{port}/m/{id}");
    let with_ca = ["--ca".to_string(), ca(&server)];
    let with_ca: Vec<&str> = with_ca.iter().map(String::as_str).collect();

    // A meeting that expires a second from now, checked last (the server's clock decides).
    let token = server.token();
    let short = ok(cli(
        &admin,
        &server,
        &["meeting", "create", "--expires-in", "1", "--json", "--server", &server.url, "--token", &token],
        None,
    ));
    let short_id = meeting_json(&short)["id"].as_str().unwrap().to_string();

    // The name does not resolve.
    let (passed, r) = doctor(&at("no-such-host.invalid"), &with_ca, &[]);
    assert!(!passed);
    assert_eq!(broken_hop(&r), ("dns".into(), "NAME_NOT_RESOLVED".into()));

    // Nothing listens on the port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (_, r) = doctor(&format!("https://127.0.0.1:{closed}/m/{id}"), &with_ca, &[]);
    assert_eq!(broken_hop(&r), ("tcp".into(), "CONNECTION_REFUSED".into()));

    // The certificate is not trusted (no --ca): the report shows its fingerprint, the
    // one `serve` printed, so a person can compare.
    let (_, r) = doctor(&at("127.0.0.1"), &[], &[]);
    assert_eq!(broken_hop(&r), ("tls".into(), "TLS_UNTRUSTED".into()));
    assert!(step(&r, "tls")["details"].to_string().contains(&printed_fingerprint(&server)), "{r:#}");

    // The certificate does not name the host dialled: the names it has are listed.
    let (_, r) = doctor(&at("127.0.0.2"), &with_ca, &[]);
    assert_eq!(broken_hop(&r), ("tls".into(), "TLS_NAME_MISMATCH".into()));
    assert!(step(&r, "tls")["details"].to_string().contains("localhost, 127.0.0.1, ::1"), "{r:#}");

    // A meeting that does not exist.
    let (_, r) = doctor(&format!("https://127.0.0.1:{port}/m/000000000000000000000000"), &with_ca, &[]);
    assert_eq!(broken_hop(&r), ("meeting".into(), "MEETING_NOT_FOUND".into()));

    // Guests are not allowed: the policy step says a guest would be refused.
    let policy = |name: &str, value: &str, scope: &[&str]| {
        let mut args = vec!["admin", "policy", "set", name, value, "--server", &server.url];
        let token = server.token();
        args.extend_from_slice(&["--token", &token]);
        args.extend_from_slice(scope);
        ok(cli(&admin, &server, &args, None));
    };
    policy("allow-anonymous", "off", &[]);
    let (_, r) = doctor(&at("127.0.0.1"), &with_ca, &[]);
    assert_eq!(broken_hop(&r), ("policy".into(), "ANONYMOUS_NOT_ALLOWED".into()));
    policy("allow-anonymous", "on", &[]);

    // The meeting is full: one person in, room for one.
    policy("max-participants", "1", &["--meeting", &id]);
    let mut viewer = Command::new(BIN);
    viewer.args(["view", &join, "--name", "first", "--timeout", "60", "--snapshot", "/dev/null", "--ca", &ca(&server)]);
    let _first = Proc::spawn("viewer", &mut viewer);
    eventually(
        "the first viewer in, and doctor saying the meeting is full",
        std::time::Duration::from_secs(30),
        || {
            let (passed, r) = doctor(&at("127.0.0.1"), &with_ca, &[]);
            !passed && broken_hop(&r) == ("policy".into(), "MEETING_FULL".into())
        },
    );

    // The meeting has expired.
    let expired = format!("https://127.0.0.1:{port}/m/{short_id}");
    eventually("the short meeting to expire", std::time::Duration::from_secs(30), || {
        let (passed, r) = doctor(&expired, &with_ca, &[]);
        !passed && broken_hop(&r) == ("meeting".into(), "MEETING_EXPIRED".into())
    });
}

#[test]
fn a_skewed_clock_is_named() {
    let dir = workdir("doctor_clock");
    let server = Server::start_with(&dir, "127.0.0.1:0", &["--clock-offset", "3600"], None);
    let (join, _) = server.create_meeting("clock");
    let (ok, r) = doctor(&join, &["--ca", &ca(&server)], &[]);
    assert!(!ok);
    assert_eq!(broken_hop(&r), ("clock".into(), "CLOCK_SKEW".into()));
    let summary = step(&r, "clock")["summary"].as_str().unwrap().to_string();
    assert!(summary.contains("ahead"), "{summary}");
}

#[test]
fn an_expired_certificate_is_named() {
    // An administrator's own certificate (not one deskshare made: that one is renewed
    // at start) that ended in 2021.
    let dir = workdir("doctor_expired");
    let tls = dir.join("data/tls");
    std::fs::create_dir_all(&tls).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    std::fs::write(tls.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(tls.join("key.pem"), key.serialize_pem()).unwrap();
    let server = Server::start(&dir);
    let (join, _) = server.create_meeting_insecure("expired");
    let (passed, r) = doctor(&join, &["--ca", &ca(&server)], &[]);
    assert!(!passed);
    assert_eq!(broken_hop(&r), ("tls".into(), "TLS_CERTIFICATE_EXPIRED".into()));
    let details = step(&r, "tls")["details"].to_string();
    assert!(details.contains("2021"), "the dates are shown: {details}");
    // The server said so itself at start.
    server.proc.wait_for("the certificate self-check", std::time::Duration::from_secs(20), |l| {
        l.starts_with("self-check").then_some(()).filter(|_| l.contains("certificate"))
    });
    let lines = server.proc.lines();
    assert!(
        lines.iter().any(|l| l.starts_with("self-check PROBLEM: certificate:") && l.contains("has expired")),
        "{lines:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_checks_itself_at_start_and_on_request() {
    // The public URL names a port nobody listens on: the classic edge-server mistake.
    let dir = workdir("self_check");
    let wrong_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let public = format!("https://127.0.0.1:{wrong_port}/");
    let server = Server::start_with(&dir, "127.0.0.1:0", &["--public-url", &public], None);
    server.proc.wait_for("with the last self-check", std::time::Duration::from_secs(20), |l| {
        l.starts_with("self-check").then_some(()).filter(|_| l.contains("reachable"))
    });
    let lines = server.proc.lines();
    assert!(lines.iter().any(|l| l.starts_with("self-check ok: certificate:")), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.starts_with("self-check PROBLEM: reachable:") && l.contains(&wrong_port.to_string())),
        "{lines:?}"
    );
    // The same on the API, for administrators only. (The listen address, not the
    // public URL, since that is the point.)
    let actual = server.proc.lines().iter().find_map(|l| l.strip_prefix("listening on ").map(str::to_string));
    let base = actual.unwrap_or_else(|| panic!("serve prints the address it listens on: {lines:?}"));
    let tls = deskshare_client::TlsOptions { ca: Some(server.ca()), insecure: false };
    let http =
        reqwest::Client::builder().tls_backend_preconfigured((*tls.client_config().unwrap()).clone()).build().unwrap();
    let url = format!("https://{base}/api/admin/health");
    let anonymous = http.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let health: Value = http.get(&url).bearer_auth(server.token()).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["level"], "fail", "{health:#}");
    let names: Vec<&str> = health["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["certificate", "reachable"]);
    assert_eq!(health["checks"][1]["level"], "fail");
}

#[test]
fn a_server_at_its_connection_cap_says_so_instead_of_failing_tls() {
    let dir = workdir("doctor_full_server");
    let admin = dir.join("admin");
    let server = Server::start_with(
        &dir,
        "127.0.0.1:0",
        &["--max-connections-per-address", "2", "--request-timeout", "60"],
        None,
    );
    let (join, _) = server.create_meeting("a full server");
    let addr = server.url.trim_start_matches("https://").trim_end_matches('/').to_string();
    // Two connections from this address that say nothing hold its cap.
    let held: Vec<std::net::TcpStream> = (0..2).map(|_| std::net::TcpStream::connect(&addr).unwrap()).collect();
    eventually("the cap to be held", std::time::Duration::from_secs(10), || {
        let (passed, r) = doctor(&join, &["--ca", &ca(&server)], &[]);
        !passed && broken_hop(&r) == ("http".into(), "CONNECTION_LIMIT".into())
    });
    let (_, r) = doctor(&join, &["--ca", &ca(&server)], &[]);
    assert_eq!(step(&r, "tls")["outcome"], "pass", "TLS itself is fine: {r:#}");
    assert!(step(&r, "http")["summary"].as_str().unwrap().contains("as many connections as it allows"), "{r:#}");
    // The REST client (every CLI command) names it too.
    let token = server.token();
    fails_with(
        cli(&admin, &server, &["meeting", "list", "--server", &server.url, "--token", &token], None),
        "CONNECTION_LIMIT",
    );
    // Once they go, everything passes again.
    drop(held);
    eventually("the cap to be free", std::time::Duration::from_secs(10), || {
        doctor(&join, &["--ca", &ca(&server)], &[]).0
    });
}
