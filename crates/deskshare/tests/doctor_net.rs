//! Connectivity faults that need real network parts (and root): a filtered port, an
//! HTTPS proxy that refuses, wants credentials or is not there, a reverse proxy that
//! strips the WebSocket upgrade — each named by `deskshare doctor` at its hop — and a
//! machine whose only way out is a CONNECT proxy, where the agent and the CLI viewer
//! still work.

mod common;

use std::time::Duration;

use common::net::{Filtered, Namespace, Nginx, Tinyproxy, free_port, require_root};
use common::*;
use serde_json::Value;

fn doctor_json(out: std::process::Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("doctor prints JSON ({e}): {text}\n{}", String::from_utf8_lossy(&out.stderr)))
}

fn doctor(url: &str, ca: &std::path::Path, env: &[(&str, &str)]) -> Value {
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["doctor", url, "--json", "--ca"]).arg(ca).env_remove("HTTPS_PROXY").env_remove("ALL_PROXY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    doctor_json(cmd.output().unwrap())
}

fn broken_hop(report: &Value) -> (String, String) {
    let steps = report["steps"].as_array().unwrap();
    let s = steps.iter().find(|s| s["outcome"] == "fail").unwrap_or_else(|| panic!("a step fails: {report:#}"));
    (s["hop"].as_str().unwrap().to_string(), s["failure"]["code"].as_str().unwrap().to_string())
}

fn outcome<'a>(report: &'a Value, hop: &str) -> &'a Value {
    &report["steps"].as_array().unwrap().iter().find(|s| s["hop"] == hop).unwrap()["outcome"]
}

#[test]
fn a_filtered_port_times_out_at_the_tcp_hop() {
    require_root();
    let dir = workdir("doctor_filtered");
    let port = free_port();
    let _filter = Filtered::port(port);
    let r = doctor(&format!("https://127.0.0.1:{port}/"), &dir.join("none.pem"), &[]);
    assert_eq!(broken_hop(&r), ("tcp".into(), "CONNECT_TIMEOUT".into()));
}

#[test]
fn proxies_that_refuse_want_credentials_or_are_absent_are_named() {
    require_root();
    let dir = workdir("doctor_proxy");
    let server = Server::start(&dir);
    let (join, _) = server.create_meeting("through a proxy");

    // A proxy that allows CONNECT to port 443 only, as many do.
    let strict = Tinyproxy::start(&dir, "127.0.0.1", "127.0.0.1", &[443], None);
    let r = doctor(&join, &server.ca(), &[("HTTPS_PROXY", &strict.url())]);
    assert_eq!(broken_hop(&r), ("proxy".into(), "PROXY_REFUSED".into()));

    // A proxy that wants a user name and password: refused without, through with.
    let guarded = Tinyproxy::start(&dir, "127.0.0.1", "127.0.0.1", &[], Some(("ann", "proxy-pass")));
    let r = doctor(&join, &server.ca(), &[("HTTPS_PROXY", &guarded.url())]);
    assert_eq!(broken_hop(&r), ("proxy".into(), "PROXY_AUTH_REQUIRED".into()));
    let with_creds = guarded.url().replace("http://", "http://ann:proxy-pass@");
    let r = doctor(&join, &server.ca(), &[("HTTPS_PROXY", &with_creds)]);
    assert_eq!(r["ok"], true, "{r:#}");
    assert_eq!(outcome(&r, "proxy"), "pass");
    assert_eq!(outcome(&r, "media"), "pass", "the screen's path works through the tunnel");

    // NO_PROXY names the server: straight there, the proxy is not asked.
    let r = doctor(&join, &server.ca(), &[("HTTPS_PROXY", &strict.url()), ("NO_PROXY", "localhost,127.0.0.1")]);
    assert_eq!(r["ok"], true, "{r:#}");
    assert_eq!(outcome(&r, "proxy"), "skip");

    // HTTPS_PROXY names a proxy that is not there.
    let gone = format!("http://127.0.0.1:{}", free_port());
    let r = doctor(&join, &server.ca(), &[("ALL_PROXY", &gone)]);
    assert_eq!(broken_hop(&r), ("tcp".into(), "PROXY_UNREACHABLE".into()));
}

#[test]
fn a_reverse_proxy_that_strips_the_upgrade_is_named_at_the_websocket_hop() {
    require_root();
    let dir = workdir("doctor_nginx");
    let server = Server::start(&dir);
    let (join, _) = server.create_meeting("behind nginx");
    let upstream = server.url.trim_end_matches('/').to_string();
    let nginx = Nginx::start(&dir, &server.ca(), &server.data.join("tls/key.pem"), &upstream);
    let port = server.url.rsplit(':').next().unwrap().trim_end_matches('/').to_string();
    let via_nginx = join.replace(&format!(":{port}/"), &format!(":{}/", nginx.port));
    let r = doctor(&via_nginx, &server.ca(), &[]);
    assert_eq!(outcome(&r, "http"), "pass", "plain requests pass nginx: {r:#}");
    assert_eq!(broken_hop(&r), ("websocket".into(), "WEBSOCKET_BLOCKED".into()));
    // The viewer says the same.
    let (_, _, stderr) = cli(&dir.join("cfg"), &server, &["view", &via_nginx, "--snapshot", "/dev/null"], None);
    assert!(stderr.contains("error WEBSOCKET_BLOCKED"), "{stderr}");
}

#[test]
fn agent_and_viewer_work_where_only_the_proxy_gets_out() {
    require_root();
    let dir = workdir("proxy_only");
    let x = Xvfb::start(640, 400).unwrap();
    let _picture = PictureWindow::show(&x.display, 40, 30, 400, 300, 11).unwrap();
    let server = Server::start(&dir);
    let (join, presenter) = server.create_meeting("proxy only");
    // Inside the namespace the server's address is its own loopback: nothing there.
    let ns = Namespace::create("proxy");
    let proxy = Tinyproxy::start(&dir, &ns.host_ip, &format!("{}/24", ns.inside_ip), &[], None);
    let inside = |program: &str| {
        let mut c = ns.command(program);
        c.env_remove("HTTPS_PROXY").env_remove("ALL_PROXY").env_remove("DESKSHARE_TOKEN");
        c
    };
    let direct = doctor_json(inside(BIN).args(["doctor", &join, "--json", "--ca"]).arg(server.ca()).output().unwrap());
    assert_eq!(broken_hop(&direct), ("tcp".into(), "CONNECTION_REFUSED".into()), "no direct way out");

    let mut share = inside(BIN);
    share
        .args(["share", &presenter, "--display", &x.display, "--allow-control", "never", "--ca"])
        .arg(server.ca())
        .env("HTTPS_PROXY", proxy.url());
    let share = Proc::spawn("share", &mut share);
    share.wait_for("sharing", Duration::from_secs(30), |l| l.starts_with("status sharing").then_some(()));

    let snapshot = dir.join("through-proxy.png");
    eventually("the viewer behind the proxy to see the exact screen", Duration::from_secs(60), || {
        let out = inside(BIN)
            .args(["view", &join, "--settle", "1000", "--timeout", "20", "--snapshot"])
            .arg(&snapshot)
            .arg("--ca")
            .arg(server.ca())
            .env("HTTPS_PROXY", proxy.url())
            .output()
            .unwrap();
        assert!(out.status.success(), "view through the proxy: {}", String::from_utf8_lossy(&out.stderr));
        Image::read_png(&snapshot).unwrap().diff_count(&grab(&x.display).unwrap()) == 0
    });
    assert!(share.lines().iter().all(|l| field(l, "reconnects").is_none_or(|n| n == 0)), "{:?}", share.lines());
}
