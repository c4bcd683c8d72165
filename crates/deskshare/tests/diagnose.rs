//! Failure reports and `deskshare admin diagnose`: three scripted report sets (one
//! person on one computer; every outside user; everyone) get the scoping table's
//! verdict; real failing clients report themselves (at once when the server can be
//! reached, later when it could not); reports are bounded and carry no name the client
//! chose.
//!
//! Inside and outside are real source addresses: the server takes 127.0.0.0/28 as its
//! internal network, and the "outside" people post from 127.0.1.x (all of 127/8 is
//! loopback).

mod common;

use std::net::IpAddr;

use common::attack::http_from;
use common::*;
use serde_json::{Value, json};

const INSIDE: &str = "127.0.0.0/28";

fn inside(n: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, n])
}

fn outside(n: u8) -> IpAddr {
    IpAddr::from([127, 0, 1, n])
}

fn report(code: &str, installation: &str, meeting: &str) -> Value {
    json!({
        "code": code, "client": "browser", "version": "0.1.0", "installation": installation,
        "meeting": meeting, "platform": "Chrome 131"
    })
}

/// Posts a report from `from`, signed in with `token` if given; the HTTP status.
async fn post(from: IpAddr, server: &Server, token: Option<&str>, body: &Value) -> u16 {
    let mut req = http_from(from).post(format!("{}api/reports", server.url)).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().status().as_u16()
}

async fn sign_in(server: &Server, name: &str) -> String {
    let res = http_from(inside(1))
        .post(format!("{}api/login", server.url))
        .json(&json!({ "name": name, "password": "password-1" }))
        .send()
        .await
        .unwrap();
    let v: Value = res.json().await.unwrap();
    v["token"].as_str().unwrap_or_else(|| panic!("login {name}: {v}")).to_string()
}

fn diagnose(admin: &std::path::Path, server: &Server, extra: &[&str]) -> Value {
    let token = server.token();
    let mut args = vec!["admin", "diagnose", "--server", &server.url, "--token", &token, "--json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&ok(cli(admin, server, &args, None))).unwrap()
}

fn layer(d: &Value) -> &str {
    d["verdict"]["layer"].as_str().unwrap_or_else(|| panic!("no verdict: {d:#}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn three_report_sets_get_the_scoping_tables_verdict() {
    let dir = workdir("diagnose_sets");
    let admin = dir.join("admin");
    let server = Server::start_with(&dir, "127.0.0.1:0", &["--internal-network", INSIDE], None);
    let mut tokens = Vec::new();
    for name in ["alice", "bea", "cem", "dan"] {
        add_user(&admin, &server, name, "password-1", &[]);
        tokens.push(sign_in(&server, name).await);
    }

    // 1. One person on one computer: alice, inside, three times the same failure.
    for _ in 0..3 {
        assert_eq!(
            post(inside(2), &server, Some(&tokens[0]), &report("WEBSOCKET_BLOCKED", "alice-pc-0001", "set-one")).await,
            204
        );
    }
    // 2. Every outside user: four guests from four outside addresses, each its own
    // computer, fail at the WebSocket; nobody inside reports anything.
    for n in 0..4u8 {
        let body = report("WEBSOCKET_BLOCKED", &format!("guest-laptop-{n:04}"), "set-two");
        assert_eq!(post(outside(10 + n), &server, None, &body).await, 204);
    }
    // 3. Everyone: three signed-in people inside and three guests outside cannot get a
    // trusted TLS connection (the certificate expired); they report once they get
    // through, saying how long ago it was.
    for n in 0..3u8 {
        let mut body = report("TLS_CERTIFICATE_EXPIRED", &format!("office-pc-{n:04}"), "set-three");
        body["age"] = json!(600);
        assert_eq!(post(inside(3 + n), &server, Some(&tokens[1 + n as usize]), &body).await, 204);
        let body = report("TLS_CERTIFICATE_EXPIRED", &format!("home-pc-{n:04}"), "set-three");
        assert_eq!(post(outside(20 + n), &server, None, &body).await, 204);
    }

    let one = diagnose(&admin, &server, &["--meeting", "set-one"]);
    assert_eq!(layer(&one), "client-machine", "{one:#}");
    assert_eq!(one["spread"]["reports"], 3);
    assert_eq!((one["spread"]["people"].as_u64(), one["spread"]["computers"].as_u64()), (Some(1), Some(1)));
    assert_eq!(one["groups"][0]["people"], json!(["alice"]), "the name is the sign-in's");

    let two = diagnose(&admin, &server, &["--meeting", "set-two"]);
    assert_eq!(layer(&two), "network-path", "{two:#}");
    assert_eq!((two["spread"]["inside"].as_u64(), two["spread"]["outside"].as_u64()), (Some(0), Some(4)));
    assert!(two["verdict"]["summary"].as_str().unwrap().contains("outside"), "{two:#}");

    let three = diagnose(&admin, &server, &["--meeting", "set-three"]);
    assert_eq!(layer(&three), "server", "{three:#}");
    assert_eq!((three["spread"]["inside"].as_u64(), three["spread"]["outside"].as_u64()), (Some(3), Some(3)));
    assert_eq!(three["spread"]["people"], 6);
    let group = &three["groups"][0];
    assert_eq!(group["hop"], "tls");
    assert!(group["first"].as_i64().unwrap() < group["last"].as_i64().unwrap() - 500, "aged reports keep their time");

    // The whole window: the failure most people share leads (six people at TLS), and
    // every failure is listed.
    let all = diagnose(&admin, &server, &["--since", "1h"]);
    assert_eq!(layer(&all), "server");
    assert_eq!(all["groups"].as_array().unwrap().len(), 2);
    assert_eq!(all["spread"]["reports"], 13);

    // The text for a person says the same.
    let token = server.token();
    let text = ok(cli(
        &admin,
        &server,
        &["admin", "diagnose", "--server", &server.url, "--token", &token, "--meeting", "set-two"],
        None,
    ));
    assert!(text.contains("likely layer: network path"), "{text}");
    assert!(
        text.contains(
            "WEBSOCKET_BLOCKED at websocket: 4 reports, 4 people, 4 computers (0 inside, 4 outside; browser 4)"
        ),
        "{text}"
    );

    // Only administrators see it; a window is checked before it is sent.
    let bea = dir.join("bea");
    ok(login(&bea, &server, "bea", "password-1"));
    fails_with(cli(&bea, &server, &["admin", "diagnose", "--server", &server.url], None), "ADMIN_REQUIRED");
    fails_with(
        cli(&admin, &server, &["admin", "diagnose", "--server", &server.url, "--token", &token, "--since", "1y"], None),
        "ARGUMENT_INVALID",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_are_bounded_and_checked() {
    let dir = workdir("diagnose_bounds");
    let admin = dir.join("admin");
    let server = Server::start_with(&dir, "127.0.0.1:0", &["--internal-network", INSIDE], None);
    // A name in the body is refused (the name is the sign-in's), as any field the
    // report does not have (422: it is not a report).
    let mut body = report("CONNECTION_LOST", "some-computer-01", "m");
    body["user"] = json!("ceo");
    assert_eq!(post(inside(2), &server, None, &body).await, 422);
    // A wrong token does not stop a report (the failure may be the sign-in): it is
    // anonymous.
    assert_eq!(
        post(inside(2), &server, Some("not-a-token"), &report("SESSION_EXPIRED", "some-computer-01", "m")).await,
        204
    );
    // Malformed fields.
    assert_eq!(post(inside(2), &server, None, &report("not a code", "some-computer-01", "m")).await, 400);
    assert_eq!(post(inside(2), &server, None, &report("TLS_UNTRUSTED", "x", "m")).await, 400);
    // Too large.
    let mut big = report("TLS_UNTRUSTED", "some-computer-01", "m");
    big["detail"] = json!("x".repeat(8000));
    assert_eq!(post(inside(2), &server, None, &big).await, 413);
    // One address gets a burst, then is told to wait; another address is not affected.
    let mut statuses = Vec::new();
    for _ in 0..25 {
        statuses.push(post(inside(7), &server, None, &report("CONNECTION_LOST", "flooding-pc-01", "flood")).await);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 204).count(), 20, "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429));
    assert_eq!(post(inside(8), &server, None, &report("CONNECTION_LOST", "other-pc-0001", "flood")).await, 204);
    let d = diagnose(&admin, &server, &["--meeting", "flood"]);
    assert_eq!(d["spread"]["reports"], 21);
    let d = diagnose(&admin, &server, &["--meeting", "m"]);
    assert_eq!(d["spread"]["reports"], 1);
    assert_eq!(d["groups"][0]["people"], json!([]), "the wrong token's report is anonymous");
    // The metrics count them by code.
    let metrics = http_from(inside(1))
        .get(format!("{}metrics", server.url))
        .bearer_auth(server.token())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("failure_reports_total{code=\"CONNECTION_LOST\"} 21"), "{metrics}");
}

#[test]
fn failing_clients_report_themselves_now_or_once_they_get_through() {
    let dir = workdir("diagnose_clients");
    let admin = dir.join("admin");
    let server = Server::start_with(&dir, "127.0.0.1:0", &["--internal-network", "127.0.0.1"], None);
    let (join, _) = server.create_meeting("guests out");
    let token = server.token();
    ok(cli(
        &admin,
        &server,
        &["admin", "policy", "set", "allow-anonymous", "off", "--server", &server.url, "--token", &token],
        None,
    ));
    let meeting = join.rsplit('/').next().unwrap().to_string();

    // A guest viewer is refused by policy: the server can be reached, so the report goes
    // at once, and the person is told.
    let guest = dir.join("guest");
    let r = cli(&guest, &server, &["view", &join, "--timeout", "5"], None);
    assert!(r.2.contains("reported to"), "{}", r.2);
    fails_with(r, "ANONYMOUS_NOT_ALLOWED");

    // A viewer that does not trust the certificate cannot report: it keeps the report…
    let out = std::process::Command::new(BIN)
        .args(["view", &join, "--timeout", "5"])
        .env("DESKSHARE_CONFIG", &guest)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error TLS_UNTRUSTED") && stderr.contains("waits until"), "{stderr}");
    assert!(guest.join("pending-reports.json").exists());
    // …and a later command that gets through (a doctor with the right --ca) sends it.
    let r = cli(&guest, &server, &["doctor", &server.url], None);
    assert!(r.0, "{}", r.1);
    assert!(!guest.join("pending-reports.json").exists(), "the kept report was sent");

    let d = diagnose(&admin, &server, &["--meeting", &meeting]);
    let codes: Vec<(&str, &str, u64)> = d["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["code"].as_str().unwrap(), g["hop"].as_str().unwrap(), g["spread"]["inside"].as_u64().unwrap()))
        .collect();
    assert!(codes.contains(&("ANONYMOUS_NOT_ALLOWED", "policy", 1)), "{codes:?}");
    assert!(codes.contains(&("TLS_UNTRUSTED", "tls", 1)), "{codes:?}");
    assert_eq!(d["spread"]["computers"], 1, "one config directory is one computer: {d:#}");
    assert!(d["groups"].as_array().unwrap().iter().all(|g| g["clients"] == json!([["viewer", 1]])), "{d:#}");

    // With reports turned off nothing is sent or kept.
    let quiet = dir.join("quiet");
    let out = std::process::Command::new(BIN)
        .args(["view", &join, "--timeout", "5"])
        .env("DESKSHARE_CONFIG", &quiet)
        .env("DESKSHARE_NO_REPORTS", "1")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("report"));
    assert!(!quiet.join("pending-reports.json").exists());
}
