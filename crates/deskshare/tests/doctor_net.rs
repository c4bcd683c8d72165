//! Connectivity faults that need real network parts (and root): a filtered port, an
//! HTTPS proxy that refuses, wants credentials or is not there, a reverse proxy that
//! strips the WebSocket upgrade — each named by `deskshare doctor` at its hop — and a
//! machine whose only way out is a CONNECT proxy, where the agent and the CLI viewer
//! still work.

mod common;

use std::time::Duration;

use common::doctoring::{broken_hop, report_of, step};
use common::net::{Filtered, Namespace, Nginx, Tinyproxy, free_port, require_root};
use common::*;
use serde_json::Value;

fn doctor(url: &str, ca: &std::path::Path, env: &[(&str, &str)]) -> Value {
    let ca = ca.display().to_string();
    common::doctoring::doctor(url, &["--ca", &ca], env).1
}

fn outcome<'a>(report: &'a Value, hop: &str) -> &'a Value {
    &step(report, hop)["outcome"]
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
    let nginx = Nginx::start(&dir, free_port(), &server.ca(), &server.data.join("tls/key.pem"), &upstream, false);
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
    let direct = report_of(inside(BIN).args(["doctor", &join, "--json", "--ca"]).arg(server.ca()));
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

/// `deskshare login` as `name` through `url` with a forwarded-for header, over the REST
/// API: the error code, if any.
async fn login_from(http: &reqwest::Client, url: &str, name: &str, forwarded_for: &str) -> Option<String> {
    let res = http
        .post(format!("{url}api/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&serde_json::json!({ "name": name, "password": "wrong-password" }))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    body["error"]["code"].as_str().map(str::to_string)
}

#[tokio::test(flavor = "multi_thread")]
async fn behind_a_tls_terminating_reverse_proxy_everything_works_and_attempts_count_per_person() {
    require_root();
    let dir = workdir("behind_proxy");
    let nginx_port = free_port();
    let public = format!("https://127.0.0.1:{nginx_port}/");
    let server =
        Server::start_with(&dir, "127.0.0.1:0", &["--public-url", &public, "--behind-proxy", "127.0.0.1/32"], None);
    let listen = server.proc.lines().iter().find_map(|l| l.strip_prefix("listening on ").map(str::to_string)).unwrap();
    let _nginx = Nginx::start(
        &dir,
        nginx_port,
        &server.ca(),
        &server.data.join("tls/key.pem"),
        &format!("https://{listen}"),
        true,
    );
    let (join, _) = server.create_meeting("behind nginx");
    assert!(join.starts_with(&public), "links name the proxy: {join}");

    // Every hop passes through nginx, the WebSocket and the media check included.
    let r = doctor(&join, &server.ca(), &[]);
    assert_eq!(r["ok"], true, "{r:#}");

    // Sign-in attempts count per person (the forwarded address), not per proxy: five
    // wrong passwords from one address lock that address out, not the other one.
    let tls = deskshare_client::TlsOptions { ca: Some(server.ca()), insecure: false };
    let http =
        reqwest::Client::builder().tls_backend_preconfigured((*tls.client_config().unwrap()).clone()).build().unwrap();
    let mut codes = Vec::new();
    for _ in 0..6 {
        codes.push(login_from(&http, &public, "zed", "203.0.113.1").await);
    }
    assert_eq!(codes.last().unwrap().as_deref(), Some("LOGIN_RATE_LIMITED"), "{codes:?}");
    assert_eq!(login_from(&http, &public, "zed", "203.0.113.2").await.as_deref(), Some("BAD_CREDENTIALS"));

    // Straight to the server from an address that is not the proxy (127.0.0.2), the same
    // header is not believed: the client is itself, locked out whatever it claims.
    let untrusted = reqwest::Client::builder()
        .tls_backend_preconfigured((*tls.client_config().unwrap()).clone())
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let direct = format!("https://{listen}/");
    for _ in 0..6 {
        login_from(&untrusted, &direct, "yan", "198.51.100.1").await;
    }
    assert_eq!(login_from(&untrusted, &direct, "yan", "198.51.100.2").await.as_deref(), Some("LOGIN_RATE_LIMITED"));
}
