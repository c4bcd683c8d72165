//! What a server on the internet meets below the application: idle connections, floods
//! of sign-ins, unauthenticated bytes, viewers that stop reading. Each test failed
//! before the hardening it checks.

mod common;

use std::time::{Duration, Instant};

use common::attack::*;
use common::*;
use deskshare_client::session::{Incoming, Session};
use deskshare_client::{MeetingLink, TlsOptions};
use deskshare_proto::{ClientMessage, ErrorCode, MediaMessage, Role};
use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncReadExt;
use tokio_tungstenite::tungstenite::Message;

/// Longer than the server gives a turned-away connection for its TLS handshake.
const TURN_AWAY_HANDSHAKE: Duration = Duration::from_millis(1500);

/// Whether the server has closed this connection (EOF or reset), looking without waiting.
async fn closed_by_server(tcp: &mut tokio::net::TcpStream) -> bool {
    let mut b = [0u8; 64];
    match tokio::time::timeout(Duration::from_millis(20), tcp.read(&mut b)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(_)) => false,
        Err(_) => false, // still open, nothing to read
    }
}

async fn healthz_from(server: &Server, from: std::net::IpAddr) -> Result<String, reqwest::Error> {
    http_from(from).get(format!("{}healthz", server.url)).send().await?.text().await
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_connections_are_capped_timed_out_and_logged() {
    let dir = workdir("idle_connections");
    let server = Server::start_with(
        &dir,
        "127.0.0.1:0",
        &["--max-connections-per-address", "40", "--request-timeout", "8"],
        Some(256),
    );
    // serve raised nothing (soft = hard = 256) and fitted its cap under the limit.
    server.proc.wait_for("the limits", Duration::from_secs(5), |l| {
        (l == "limits: open files 256, connections 192 (40 per address)").then_some(())
    });

    // One attacking address holds at most its share; the rest are closed at once, or,
    // while few are, offered a TLS handshake to be told CONNECTION_LIMIT — which these,
    // saying nothing, do not take up within a second.
    let mut attacker = Vec::new();
    for _ in 0..100 {
        attacker.push(tcp_from(host(2), &server, None).await.unwrap());
    }
    tokio::time::sleep(TURN_AWAY_HANDSHAKE).await;
    let mut open = 0;
    for c in &mut attacker {
        if !closed_by_server(c).await {
            open += 1;
        }
    }
    assert_eq!(open, 40, "the per-address cap");
    assert_eq!(healthz_from(&server, host(1)).await.unwrap(), "ok", "a real client from elsewhere gets in");

    // Connections that finished TLS and then say nothing are closed at the header timeout,
    // like those that never started TLS.
    let connector = tokio_rustls::TlsConnector::from(tls());
    let mut quiet = Vec::new();
    for _ in 0..20 {
        let tcp = tcp_from(host(3), &server, None).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        quiet.push(connector.connect(name, tcp).await.expect("TLS completes"));
    }
    let started = Instant::now();
    let mut all_closed = false;
    while !all_closed && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut closed = 0;
        for c in &mut attacker {
            closed += usize::from(closed_by_server(c).await);
        }
        for c in &mut quiet {
            let mut b = [0u8; 16];
            if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(Duration::from_millis(10), c.read(&mut b)).await {
                closed += 1;
            }
        }
        all_closed = closed == attacker.len() + quiet.len();
    }
    assert!(all_closed, "every idle connection was closed by the server");

    // Many addresses together reach the total cap; the log says which cap, with its code.
    let mut crowd = Vec::new();
    for n in 10..15 {
        for _ in 0..40 {
            crowd.push(tcp_from(host(n), &server, None).await.unwrap());
        }
    }
    tokio::time::sleep(TURN_AWAY_HANDSHAKE).await;
    let mut open = 0;
    for c in &mut crowd {
        if !closed_by_server(c).await {
            open += 1;
        }
    }
    // At most the total cap (a few places may still be held by connections the server is
    // just closing), and far fewer than the 200 attempted.
    assert!((180..=192).contains(&open), "the total cap under the open-file limit: {open} open");
    let log = server.proc.stderr_lines().join("\n");
    assert!(log.contains("CONNECTION_LIMIT") && log.contains("--max-connections-per-address 40 reached"), "{log}");
    drop(crowd);
    eventually_async(|| async { healthz_from(&server, host(1)).await.is_ok_and(|b| b == "ok") }).await;
    assert!(
        server.proc.stderr_lines().iter().any(|l| l.contains("--max-connections 192 reached")),
        "the total cap is logged too"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_sign_ins_is_bounded_in_memory_and_every_answer_has_a_code() {
    let dir = workdir("sign_in_burst");
    let server = Server::start(&dir);
    let pid = server.proc.child.id();
    // Warm up: one sign-in, so the baseline includes one hash's worth of code and pages.
    let res = http_from(host(1))
        .post(format!("{}api/login", server.url))
        .json(&serde_json::json!({ "name": "nobody", "password": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(api_code(res).await, "BAD_CREDENTIALS");
    let (rss_before, peak_before) = memory_kib(pid);

    // 260 concurrent sign-ins with unknown names, 20 from each of 13 addresses (each
    // address's burst), so the hashing bound and not the rate limit is what is tested.
    let mut tasks = Vec::new();
    for n in 0..260u32 {
        let url = format!("{}api/login", server.url);
        let client = http_from(host(20 + (n / 20) as u8));
        tasks.push(tokio::spawn(async move {
            let res = client
                .post(url)
                .json(&serde_json::json!({ "name": format!("ghost{n}"), "password": "guess" }))
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), api_code(res).await)
        }));
    }
    let mut answers = std::collections::BTreeMap::new();
    for t in tasks {
        *answers.entry(t.await.unwrap()).or_insert(0) += 1;
    }
    for (status, code) in answers.keys() {
        assert!(
            [(401, "BAD_CREDENTIALS"), (503, "SERVER_BUSY")].contains(&(*status, code.as_str())),
            "{status} {code} in {answers:?}"
        );
    }
    assert!(answers.get(&(401, "BAD_CREDENTIALS".into())).is_some_and(|n| *n >= 16), "{answers:?}");
    let (rss_after, peak_after) = memory_kib(pid);
    eprintln!("RSS {rss_before} KiB -> peak {peak_after} KiB -> {rss_after} KiB; answers {answers:?}");
    // Unbounded, 260 × 19 MiB went past 4 GB. Bounded: 4 hashes at once.
    assert!(peak_after.saturating_sub(peak_before.max(rss_before)) < 160 * 1024, "peak {peak_after} KiB");
    assert!(rss_after.saturating_sub(rss_before) < 48 * 1024, "memory given back: {rss_before} -> {rss_after} KiB");
}

#[tokio::test(flavor = "multi_thread")]
async fn bytes_before_hello_are_bounded() {
    let dir = workdir("pre_hello");
    let server = Server::start(&dir);
    let (join, _) = server.create_meeting("pre-hello");
    let id = MeetingLink::parse(&join).unwrap().id;
    let pid = server.proc.child.id();
    let (rss_before, _) = memory_kib(pid);

    // 16 unauthenticated sockets on the presenting path each start a 30 MiB message.
    let mut tasks = Vec::new();
    for n in 0..16u8 {
        let ws = ws_from(host(40 + n), &server, &format!("api/meetings/{id}/ws?role=presenter"), &[]).await;
        tasks.push(tokio::spawn(async move {
            let (mut tx, mut rx) = ws.split();
            let sender = tokio::spawn(async move {
                let _ = tx.send(Message::Binary(vec![7u8; 30 * 1024 * 1024].into())).await;
            });
            let mut code = None;
            while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(20), rx.next()).await {
                if let Message::Text(t) = msg
                    && let Ok(deskshare_proto::ServerMessage::Error { code: c, .. }) =
                        deskshare_proto::ServerMessage::from_json(&t)
                {
                    code = Some(c);
                    break;
                }
            }
            sender.abort();
            code
        }));
    }
    let mut peak_rss = 0;
    for t in tasks {
        peak_rss = peak_rss.max(memory_kib(pid).0);
        // The error reaches the client unless the kernel resets the connection first
        // (the server stops reading mid-message); the log has every refusal.
        let told = t.await.unwrap();
        assert!(told.is_none() || told == Some(ErrorCode::MessageTooLarge), "{told:?}");
    }
    let refused = || {
        server
            .proc
            .stderr_lines()
            .iter()
            .filter(|l| l.contains("bytes before hello") && l.contains("MESSAGE_TOO_LARGE"))
            .count()
    };
    eventually("16 refusals in the log", Duration::from_secs(10), || refused() == 16);
    let (rss_after, _) = memory_kib(pid);
    eprintln!("RSS {rss_before} KiB -> {peak_rss} KiB during -> {rss_after} KiB");
    assert!(peak_rss.max(rss_after).saturating_sub(rss_before) < 64 * 1024, "16 × 30 MiB were not buffered");

    // On a watching connection, nothing past the control-message limit is read at all,
    // before or after hello.
    let mut ws = ws_from(host(60), &server, &format!("api/meetings/{id}/ws"), &[]).await;
    assert!(join_ok(&mut ws).await);
    let (mut tx, mut rx) = ws.split();
    let sender = tokio::spawn(async move { tx.send(Message::Text("x".repeat(1024 * 1024).into())).await });
    let mut told = None;
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(20), rx.next()).await {
        if let Message::Text(t) = msg
            && let Ok(deskshare_proto::ServerMessage::Error { code, .. }) =
                deskshare_proto::ServerMessage::from_json(&t)
        {
            told = Some(code);
            break;
        }
    }
    sender.abort();
    // The server cuts the connection with the rest of the message unread, so the kernel
    // may reset it before the client reads the error; the server's log always has it.
    assert!(told.is_none() || told == Some(ErrorCode::MessageTooLarge), "{told:?}");
    eventually("the refusal in the log", Duration::from_secs(10), || {
        server
            .proc
            .stderr_lines()
            .iter()
            .any(|l| l.contains("1048576 > 131072") && l.contains("code=MESSAGE_TOO_LARGE"))
    });
}

async fn join_ok(ws: &mut Ws) -> bool {
    join(ws, hello(Role::Viewer, None, None)).await.is_ok()
}

/// A keyframe of incompressible pixels covering the whole screen (RAW rectangles).
fn noise_frame(number: u64, width: u32, height: u32, seed: &mut u64) -> Vec<u8> {
    let pixels = (0..width * height)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            (*seed as u32) & 0x00ff_ffff
        })
        .collect();
    // A fresh encoder: every frame is a keyframe that restarts the stream.
    let mut frame = deskshare_codec::Encoder::new(1)
        .encode(deskshare_codec::Framebuffer::from_pixels(width, height, pixels), &[], std::time::Instant::now())
        .expect("a first frame");
    frame.header.frame = number;
    frame.encode()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_viewer_that_stops_reading_is_dropped_and_frees_its_place() {
    let dir = workdir("stalled_viewer");
    let server = Server::start_with(&dir, "127.0.0.1:0", &["--stall-timeout", "3"], None);
    let (join_url, presenter_url) = server.create_meeting("stall");
    let (link, plink) = (MeetingLink::parse(&join_url).unwrap(), MeetingLink::parse(&presenter_url).unwrap());
    let insecure = TlsOptions { ca: None, insecure: true };
    let mut presenter = Session::connect(&plink, &insecure, Role::Presenter, None).await.unwrap();

    // A viewer that reads and acks everything, counting frames.
    let mut good = Session::connect(&link, &insecure, Role::Viewer, Some("Good".into())).await.unwrap();
    let (frames_tx, frames_rx) = tokio::sync::watch::channel(0u64);
    tokio::spawn(async move {
        while let Ok(msg) = good.recv().await {
            if let Incoming::Media(MediaMessage::Frame(f)) = msg {
                let _ = good.send_control(&ClientMessage::Ack { frame: f.header.frame }).await;
                frames_tx.send_replace(f.header.frame);
            }
        }
    });
    // A viewer that says hello, then never reads again, with a tiny receive window.
    let tcp = tcp_from(host(7), &server, Some(4096)).await.unwrap();
    let mut stuck = ws_with(tcp, &server, &format!("api/meetings/{}/ws", link.id), &[]).await;
    assert!(join_ok(&mut stuck).await);

    let roster = || async {
        let res = http_from(host(1))
            .get(format!("{}api/meetings/{}/roster", server.url, link.id))
            .bearer_auth(server.token())
            .send()
            .await
            .unwrap();
        let v: serde_json::Value = res.json().await.unwrap();
        v.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert!(roster().await.contains(&"Tester".to_string()));

    // 1280×720 of noise is 2.7 MB a frame: the stuck viewer's socket fills at once.
    let mut seed = 0x9e3779b97f4a7c15u64;
    let mut number = 0;
    let stalled = loop {
        number += 1;
        presenter.send_binary(noise_frame(number, 1280, 720, &mut seed)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(250)).await;
        if server.proc.stderr_lines().iter().any(|l| l.contains("CONNECTION_STALLED")) {
            break true;
        }
        if number > 120 {
            break false;
        }
    };
    assert!(stalled, "the stuck viewer was dropped with CONNECTION_STALLED");
    eventually_async(|| async { !roster().await.contains(&"Tester".to_string()) }).await;
    assert!(roster().await.contains(&"Good".to_string()));

    // The reading viewer went on all along and still gets every new picture.
    let at_drop = *frames_rx.borrow();
    assert!(at_drop > 0, "the good viewer got frames while the other was stuck");
    for _ in 0..3 {
        number += 1;
        presenter.send_binary(noise_frame(number, 1280, 720, &mut seed)).await.unwrap();
    }
    let mut rx = frames_rx.clone();
    tokio::time::timeout(Duration::from_secs(20), rx.wait_for(|f| *f == number)).await.unwrap().unwrap();
}

async fn eventually_async<F: std::future::Future<Output = bool>>(mut f: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f().await {
        assert!(Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
