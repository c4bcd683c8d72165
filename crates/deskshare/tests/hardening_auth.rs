//! Guessing, cross-origin requests, sign-ins that end, and the data directory: each test
//! failed before the hardening it checks.

mod common;

use common::attack::*;
use common::*;
use deskshare_proto::{ErrorCode, Role, ServerMessage};

/// Creates a meeting through the API as the bearer of `token`.
async fn create(server: &Server, token: &str, body: serde_json::Value) -> serde_json::Value {
    let res = http_from(host(1))
        .post(format!("{}api/meetings", server.url))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn passcode_guessing_is_limited_per_address_and_per_meeting() {
    let dir = workdir("passcode_guessing");
    let server = Server::start(&dir);
    let m = create(&server, &server.token(), serde_json::json!({ "title": "secret", "passcode": "4711" })).await;
    let path = format!("api/meetings/{}/ws", m["id"].as_str().unwrap());
    let attempt = |from: u8, code: &'static str| {
        let path = path.clone();
        let server = &server;
        async move {
            let mut ws = ws_from(host(from), server, &path, &[]).await;
            join(&mut ws, hello(Role::Viewer, None, Some(code))).await.err()
        }
    };
    // Five wrong guesses from one address, then that address is told to wait, even
    // with the right passcode (it is not checked at all).
    for _ in 0..5 {
        assert_eq!(attempt(2, "0000").await, Some(ErrorCode::PasscodeInvalid));
    }
    assert_eq!(attempt(2, "0001").await, Some(ErrorCode::PasscodeRateLimited));
    assert_eq!(attempt(2, "4711").await, Some(ErrorCode::PasscodeRateLimited));
    // Someone else who knows it gets in.
    assert_eq!(attempt(3, "4711").await, None);
    // Guesses spread over addresses still count for the meeting: ten in all, then
    // everyone waits, so a 4-digit code takes days, not minutes.
    for n in 4..9 {
        assert_eq!(attempt(n, "1234").await, Some(ErrorCode::PasscodeInvalid));
    }
    assert_eq!(attempt(9, "4711").await, Some(ErrorCode::PasscodeRateLimited));
    let log = server.proc.stderr_lines().join("\n");
    assert!(log.contains("wrong passcode"), "wrong passcodes are logged with the address");
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_spraying_is_limited_and_cannot_lock_out_the_real_user() {
    let dir = workdir("sign_in_spray");
    let server = Server::start(&dir);
    add_user(&dir.join("cfg-admin"), &server, "alice", "alice-password", &[]);
    let login = |from: u8, name: String, password: &'static str| {
        let url = format!("{}api/login", server.url);
        async move {
            let res = http_from(host(from))
                .post(url)
                .json(&serde_json::json!({ "name": name, "password": password }))
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), api_code(res).await)
        }
    };
    // One address sprays one password over many names: limited after its burst.
    let mut codes = Vec::new();
    for i in 0..25 {
        codes.push(login(2, format!("user{i}"), "Summer2026!").await.1);
    }
    assert_eq!(codes.iter().filter(|c| *c == "BAD_CREDENTIALS").count(), 20, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| *c == "LOGIN_RATE_LIMITED").count(), 5, "{codes:?}");
    // Forty addresses fail on alice's name on purpose, at once: she is slowed down (by
    // a few seconds), not locked out.
    let attempts: Vec<_> = (10..50).map(|n| tokio::spawn(login(n, "alice".into(), "wrong"))).collect();
    for a in attempts {
        assert_eq!(a.await.unwrap().1, "BAD_CREDENTIALS");
    }
    assert_eq!(login(3, "alice".into(), "alice-password").await.0, 200, "the real user still signs in");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_on_another_origin_cannot_act_with_the_cookie() {
    let dir = workdir("foreign_origin");
    let server = Server::start(&dir);
    add_user(&dir.join("cfg-admin"), &server, "olga", "olga-password", &[]);
    let token = sign_in(&server, "olga", "olga-password").await;
    let cookie = format!("deskshare_session={token}");
    let m = create(&server, &token, serde_json::json!({ "title": "board" })).await;
    let id = m["id"].as_str().unwrap().to_string();
    let own = own_origin(&server);
    let foreign = "https://127.0.0.1:1".to_string(); // same site, another port
    let http = http_from(host(1));
    let with = |req: reqwest::RequestBuilder, origin: &str| req.header("cookie", &cookie).header("origin", origin);

    // The WebSocket: refused with its code, before anything is looked up.
    let mut ws =
        ws_from(host(1), &server, &format!("api/meetings/{id}/ws"), &[("cookie", &cookie), ("origin", &foreign)]).await;
    assert_eq!(join(&mut ws, hello(Role::Viewer, None, None)).await.err(), Some(ErrorCode::OriginNotAllowed));
    // Requests without a body: end, delete, create, logout.
    for (what, req) in [
        ("end", http.post(format!("{}api/meetings/{id}/end", server.url))),
        ("delete", http.delete(format!("{}api/meetings/{id}", server.url))),
        ("create", http.post(format!("{}api/meetings", server.url))),
        ("logout", http.post(format!("{}api/logout", server.url))),
    ] {
        let res = with(req, &foreign).send().await.unwrap();
        assert_eq!(res.status(), 403, "{what}");
        assert_eq!(api_code(res).await, "ORIGIN_NOT_ALLOWED", "{what}");
    }
    let info = http.get(format!("{}api/meetings/{id}", server.url)).send().await.unwrap();
    assert_eq!(info.status(), 200, "the meeting was neither ended nor deleted");
    let me = http.get(format!("{}api/me", server.url)).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(me.status(), 200, "still signed in");

    // The server's own pages may; so may bearer-token clients, from anywhere.
    let mut ws =
        ws_from(host(1), &server, &format!("api/meetings/{id}/ws"), &[("cookie", &cookie), ("origin", &own)]).await;
    match join(&mut ws, hello(Role::Viewer, None, None)).await {
        Ok(ServerMessage::Welcome { role, .. }) => assert_eq!(role, deskshare_proto::MeetingRole::Organiser),
        other => panic!("{other:?}"),
    }
    let res = http
        .post(format!("{}api/meetings", server.url))
        .bearer_auth(&token)
        .header("origin", &foreign)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "bearer clients are not checked");
    let res = with(http.delete(format!("{}api/meetings/{id}", server.url)), &own).send().await.unwrap();
    assert_eq!(res.status(), 204);
}

#[tokio::test(flavor = "multi_thread")]
async fn disabling_a_user_or_resetting_the_password_ends_their_sessions_and_connections() {
    let dir = workdir("sessions_end");
    let server = Server::start(&dir);
    let admin = dir.join("cfg-admin");
    add_user(&admin, &server, "bob", "bob-password", &[]);
    let m = create(&server, &server.token(), serde_json::json!({ "title": "sync" })).await;
    let path = format!("api/meetings/{}/ws", m["id"].as_str().unwrap());
    let me = |token: String| {
        let url = format!("{}api/me", server.url);
        async move { http_from(host(1)).get(url).bearer_auth(token).send().await.unwrap().status().as_u16() }
    };

    for (action, args, code) in [
        ("reset", vec!["admin", "user", "reset-password", "bob", "--password-stdin"], ErrorCode::SessionExpired),
        ("disable", vec!["admin", "user", "disable", "bob"], ErrorCode::AccountDisabled),
    ] {
        let token = sign_in(&server, "bob", "bob-password").await;
        let auth = format!("Bearer {token}");
        let mut ws = ws_from(host(1), &server, &path, &[("authorization", &auth)]).await;
        assert!(join(&mut ws, hello(Role::Viewer, None, None)).await.is_ok(), "{action}: bob joins");
        let mut cli_args: Vec<&str> = args.clone();
        let t = server.token();
        cli_args.extend(["--server", &server.url, "--token", &t]);
        ok(cli(&admin, &server, &cli_args, Some("bob-password\n")));
        assert_eq!(error_code(&mut ws).await, Some(code), "{action}: the open connection ends at once");
        assert_eq!(me(token).await, 401, "{action}: the sign-in no longer works");
    }
}

#[test]
fn one_server_per_data_directory_and_a_lost_or_damaged_database_is_noticed() {
    let dir = workdir("data_dir");
    let server = Server::start(&dir);
    // A second server on the same directory is refused and names the first.
    let stderr = serve_fails(&server.data, "DATA_DIR_IN_USE");
    assert!(stderr.contains(&format!("process {}", server.proc.child.id())), "{stderr}");
    // Private: the directory 0700, the database and its WAL 0600.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&server.data), 0o700);
    for f in ["deskshare.db", "deskshare.db-wal", "admin-token"] {
        assert_eq!(mode(&server.data.join(f)), 0o600, "{f}");
    }

    // The database deleted under the running server: changes are refused with a code,
    // and the log says why, instead of vanishing.
    let admin = dir.join("cfg-admin");
    std::fs::remove_file(server.data.join("deskshare.db")).unwrap();
    let r = cli(&admin, &server, &["meeting", "create", "--server", &server.url, "--token", &server.token()], None);
    fails_with(r, "STORAGE_LOST");
    assert!(server.proc.stderr_lines().iter().any(|l| l.contains("STORAGE_LOST")));
    drop(server);

    // Garbage inside a database file is found at start.
    let damaged = workdir("data_dir_damaged");
    let s = Server::start(&damaged);
    drop(s);
    let db = damaged.join("data/deskshare.db");
    // The newest pages may sit in the write-ahead log (the server was killed); without it,
    // the main file is what SQLite reads. Its 100-byte header stays, its pages are junk.
    for wal in ["deskshare.db-wal", "deskshare.db-shm"] {
        let _ = std::fs::remove_file(damaged.join("data").join(wal));
    }
    let mut bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() >= 4096 && bytes.starts_with(b"SQLite format 3\0"));
    for b in &mut bytes[100..] {
        *b = 0xA5;
    }
    std::fs::write(&db, &bytes).unwrap();
    serve_fails(&damaged.join("data"), "DATABASE_CORRUPT");
    // A header that is not SQLite's at all.
    std::fs::write(&db, vec![0x42u8; 16384]).unwrap();
    serve_fails(&damaged.join("data"), "DATABASE_CORRUPT");
}

/// Runs `deskshare serve` on `data`, which must refuse to start with `code`; returns stderr.
fn serve_fails(data: &std::path::Path, code: &str) -> String {
    let out = std::process::Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success() && stderr.contains(&format!("error {code}")), "{stderr}");
    stderr
}

#[tokio::test(flavor = "multi_thread")]
async fn small_holes_are_closed() {
    let dir = workdir("small_holes");
    let server = Server::start_with(&dir, "127.0.0.1:0", &["--max-meetings-per-user", "3"], None);
    add_user(&dir.join("cfg-admin"), &server, "carol", "carol-password", &["--display-name", "Carol\u{202E}nimda"]);
    let http = http_from(host(1));

    // A body that does not parse is the documented JSON error, not text.
    let res = http
        .post(format!("{}api/login", server.url))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    assert_eq!(api_code(res).await, "MESSAGE_MALFORMED");
    // HSTS everywhere; the sign-in answer (a token) is never cached.
    let res = http
        .post(format!("{}api/login", server.url))
        .json(&serde_json::json!({ "name": "carol", "password": "carol-password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert!(res.headers()["strict-transport-security"].to_str().unwrap().starts_with("max-age="));
    let token = res.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    let page = http.get(&server.url).send().await.unwrap();
    assert!(page.headers().contains_key("strict-transport-security"));

    // Direction overrides do not survive in names and titles.
    let me: serde_json::Value =
        http.get(format!("{}api/me", server.url)).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["display_name"], "Carolnimda");
    let m = create(&server, &token, serde_json::json!({ "title": "Q4\u{202E}fdp.exe\u{2066}" })).await;
    assert_eq!(m["title"], "Q4fdp.exe");
    let mut ws = ws_from(host(1), &server, &format!("api/meetings/{}/ws", m["id"].as_str().unwrap()), &[]).await;
    join(&mut ws, hello_as(Role::Viewer, Some("\u{202E}Guest\u{200F}"), None, None)).await.unwrap();
    let roster: serde_json::Value = http
        .get(format!("{}api/meetings/{}/roster", server.url, m["id"].as_str().unwrap()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(roster.as_array().unwrap().iter().any(|p| p["name"] == "Guest"), "{roster}");

    // A quota of meetings per organiser, and lists by the page.
    create(&server, &token, serde_json::json!({ "title": "two" })).await;
    create(&server, &token, serde_json::json!({ "title": "three" })).await;
    let res = http.post(format!("{}api/meetings", server.url)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(api_code(res).await, "MEETING_QUOTA_EXCEEDED");
    let page = |q: &str| {
        let req = http.get(format!("{}api/meetings?{q}", server.url)).bearer_auth(&token);
        async move {
            let v: serde_json::Value = req.send().await.unwrap().json().await.unwrap();
            v.as_array().unwrap().iter().map(|m| m["title"].as_str().unwrap().to_string()).collect::<Vec<_>>()
        }
    };
    let all = page("").await;
    assert_eq!(all.len(), 3);
    assert_eq!(page("limit=2").await, all[..2].to_vec());
    assert_eq!(page("limit=2&offset=2").await, all[2..].to_vec());
}
