//! Accounts, sign-in, meeting ownership and persistence, against a running server with a
//! real SQLite file.

mod common;

use common::*;

#[test]
fn accounts_meetings_and_restart() {
    let dir = workdir("accounts");
    let (admin, alice, bob) = (dir.join("cfg-admin"), dir.join("cfg-alice"), dir.join("cfg-bob"));
    let mut server = Server::start(&dir);

    // Users, made with the admin token.
    add_user(&admin, &server, "alice", "alice-password-1", &["--display-name", "Alex"]);
    add_user(&admin, &server, "bob", "bob-password-22", &["--display-name", "Alex"]); // same display name
    add_user(&admin, &server, "carol@a.example", "carol-password-333", &[]);
    add_user(&admin, &server, "carol@b.example", "carol-password-444", &[]);
    fails_with(
        cli(
            &admin,
            &server,
            &["admin", "user", "add", "Alice", "--password-stdin", "--server", &server.url, "--token", &server.token()],
            Some("another-password\n"),
        ),
        "USER_EXISTS",
    );
    let listing =
        ok(cli(&admin, &server, &["admin", "user", "list", "--server", &server.url, "--token", &server.token()], None));
    assert_eq!(listing.lines().count(), 4, "{listing}");

    // Sign-in: wrong password, then right; the CLI keeps the token (mode 0600).
    fails_with(login(&alice, &server, "alice", "wrong-password"), "BAD_CREDENTIALS");
    fails_with(login(&alice, &server, "nobody", "wrong-password"), "BAD_CREDENTIALS");
    ok(login(&alice, &server, "alice", "alice-password-1"));
    ok(login(&bob, &server, "bob", "bob-password-22"));
    let creds = alice.join("credentials.json");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&creds).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    // The --ca given at sign-in is remembered for that server: later commands need no
    // --ca (a self-signed server is the common first setup).
    let out = std::process::Command::new(BIN)
        .args(["meeting", "list"])
        .env("DESKSHARE_CONFIG", &alice)
        .env_remove("DESKSHARE_TOKEN")
        .current_dir("/")
        .output()
        .unwrap();
    assert!(out.status.success(), "no --ca needed after login: {}", String::from_utf8_lossy(&out.stderr));

    // Meetings belong to their organiser; same display names never share a meeting.
    let a = meeting_json(&ok(cli(
        &alice,
        &server,
        &["meeting", "create", "--title", "Alice's", "--passcode", "4711", "--json"],
        None,
    )));
    let b = meeting_json(&ok(cli(&bob, &server, &["meeting", "create", "--title", "Bob's", "--json"], None)));
    assert_ne!(a["id"], b["id"]);
    assert_ne!(a["join_url"], b["join_url"]);
    let a_id = a["id"].as_str().unwrap().to_string();
    let mine = ok(cli(&alice, &server, &["meeting", "list", "--json"], None));
    let mine: Vec<serde_json::Value> = serde_json::from_str(&mine).unwrap();
    assert_eq!(mine.len(), 1, "alice sees her meeting only");
    assert_eq!(mine[0]["id"], a["id"]);
    assert_eq!(mine[0]["organiser"], "alice");
    assert_eq!(mine[0]["has_passcode"], true);
    fails_with(cli(&bob, &server, &["meeting", "update", &a_id, "--title", "mine now"], None), "NOT_ORGANISER");
    fails_with(cli(&bob, &server, &["meeting", "delete", &a_id], None), "NOT_ORGANISER");
    fails_with(cli(&bob, &server, &["admin", "user", "list"], None), "ADMIN_REQUIRED");
    ok(cli(&alice, &server, &["meeting", "update", &a_id, "--title", "Alice's review"], None));

    // Users with the same name in different domains are different accounts.
    let (c1, c2) = (dir.join("cfg-c1"), dir.join("cfg-c2"));
    ok(login(&c1, &server, "carol@a.example", "carol-password-333"));
    ok(login(&c2, &server, "carol@b.example", "carol-password-444"));
    fails_with(login(&c1, &server, "carol@a.example", "carol-password-444"), "BAD_CREDENTIALS");
    let m1 = meeting_json(&ok(cli(&c1, &server, &["meeting", "create", "--json"], None)));
    let m2 = meeting_json(&ok(cli(&c2, &server, &["meeting", "create", "--json"], None)));
    assert_ne!(m1["join_url"], m2["join_url"]);

    // Passcode: none or a wrong one is refused; the right one gets in (and then waits for
    // a presenter, which is the next failure: NO_FRAME_TIMEOUT).
    let join = a["join_url"].as_str().unwrap();
    let guest = dir.join("cfg-guest");
    let view = |server: &Server, extra: &[&str]| {
        let mut args = vec!["view", join, "--snapshot", "/dev/null", "--timeout", "1"];
        args.extend_from_slice(extra);
        cli(&guest, server, &args, None)
    };
    fails_with(view(&server, &[]), "PASSCODE_INVALID");
    fails_with(view(&server, &["--passcode", "0000"]), "PASSCODE_INVALID");
    fails_with(view(&server, &["--passcode", "4711"]), "NO_FRAME_TIMEOUT");

    // Restart: users, sessions, meetings and passcodes survive; no password is stored in clear.
    server.proc.terminate();
    let db = std::fs::read(server.data.join("deskshare.db")).unwrap();
    let wal = std::fs::read(server.data.join("deskshare.db-wal")).unwrap_or_default();
    for secret in ["alice-password-1", "bob-password-22", "carol-password-333", "4711-never"] {
        let needle = secret.as_bytes();
        assert!(!db.windows(needle.len()).any(|w| w == needle), "{secret} in the database");
        assert!(!wal.windows(needle.len()).any(|w| w == needle), "{secret} in the WAL");
    }
    server = Server::restart(&dir, server);
    let after = ok(cli(&alice, &server, &["meeting", "show", &a_id, "--json"], None));
    let after: serde_json::Value = serde_json::from_str(&after).unwrap();
    assert_eq!(after["title"], "Alice's review");
    assert_eq!(after["has_passcode"], true);
    fails_with(view(&server, &[]), "PASSCODE_INVALID");
    ok(login(&bob, &server, "bob", "bob-password-22"));

    // Disabling a user ends their sessions and sign-ins.
    ok(cli(
        &admin,
        &server,
        &["admin", "user", "disable", "bob", "--server", &server.url, "--token", &server.token()],
        None,
    ));
    fails_with(login(&bob, &server, "bob", "bob-password-22"), "ACCOUNT_DISABLED");
    fails_with(cli(&bob, &server, &["meeting", "list"], None), "UNAUTHORIZED");
    ok(cli(
        &admin,
        &server,
        &[
            "admin",
            "user",
            "reset-password",
            "bob",
            "--password-stdin",
            "--server",
            &server.url,
            "--token",
            &server.token(),
        ],
        Some("new-bob-password\n"),
    ));
    ok(cli(
        &admin,
        &server,
        &["admin", "user", "enable", "bob", "--server", &server.url, "--token", &server.token()],
        None,
    ));
    ok(login(&bob, &server, "bob", "new-bob-password"));

    // Sign-in attempts are rate-limited per name and address.
    let mut codes = vec![];
    for _ in 0..7 {
        codes.push(login(&dir.join("cfg-spray"), &server, "carol@a.example", "guess-guess").2);
    }
    assert!(codes.iter().any(|c| c.contains("LOGIN_RATE_LIMITED")), "{codes:?}");

    // A meeting that expires in an hour is open now.
    let short = meeting_json(&ok(cli(&alice, &server, &["meeting", "create", "--expires-in", "3600", "--json"], None)));
    let short_join = short["join_url"].as_str().unwrap().to_string();
    let view_short = |server: &Server| {
        cli(&guest, server, &["view", &short_join, "--snapshot", "/dev/null", "--timeout", "2"], None)
    };
    let (_, _, before) = view_short(&server);
    assert!(!before.contains("MEETING_EXPIRED"), "{before}");

    // The organiser deletes the meeting.
    ok(cli(&alice, &server, &["meeting", "delete", &a_id], None));
    fails_with(view(&server, &["--passcode", "4711"]), "MEETING_NOT_FOUND");

    // Two hours later by the server's clock (restarted with it running ahead, rather
    // than a test waiting for real time), the meeting has expired; sign-ins, which last
    // 30 days, still work.
    server = Server::restart_with(&dir, server, &["--clock-offset", "7200"]);
    fails_with(view_short(&server), "MEETING_EXPIRED");
    ok(cli(&alice, &server, &["meeting", "list"], None));
    // 31 days later they have ended too: the saved token is refused, not taken as a guest.
    server = Server::restart_with(&dir, server, &["--clock-offset", &(31 * 24 * 3600).to_string()]);
    fails_with(cli(&alice, &server, &["meeting", "list"], None), "UNAUTHORIZED");
}

#[tokio::test(flavor = "multi_thread")]
async fn browser_sign_in_sets_a_locked_down_cookie_that_the_api_accepts() {
    let dir = workdir("cookie");
    let server = Server::start(&dir);
    add_user(&dir.join("cfg-admin"), &server, "zoe", "zoe-password", &[]);
    let tls = deskshare_client::TlsOptions { ca: Some(server.ca()), insecure: false };
    let http =
        reqwest::Client::builder().tls_backend_preconfigured((*tls.client_config().unwrap()).clone()).build().unwrap();
    let res = http
        .post(format!("{}api/login", server.url))
        .json(&serde_json::json!({ "name": "zoe", "password": "zoe-password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    for attr in ["deskshare_session=", "HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} in {cookie}");
    }
    let session = cookie.split(';').next().unwrap().to_string();
    let me = http.get(format!("{}api/me", server.url)).header("cookie", &session).send().await.unwrap();
    assert_eq!(me.status(), 200);
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["name"], "zoe");
    // The OpenAPI description is served too.
    let api: serde_json::Value =
        http.get(format!("{}api/openapi.json", server.url)).send().await.unwrap().json().await.unwrap();
    assert!(api["paths"]["/api/login"]["post"].is_object());
    // A page on another origin cannot sign the user out with the cookie, nor can a
    // cookie request without any Origin (browsers always send one).
    let origin = server.url.trim_end_matches('/').to_string();
    for foreign in [Some("https://127.0.0.1:1"), None] {
        let mut req = http.post(format!("{}api/logout", server.url)).header("cookie", &session);
        if let Some(o) = foreign {
            req = req.header("origin", o);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 403);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "ORIGIN_NOT_ALLOWED", "{foreign:?}");
    }
    let me = http.get(format!("{}api/me", server.url)).header("cookie", &session).send().await.unwrap();
    assert_eq!(me.status(), 200, "still signed in");
    // After sign-out from the server's own origin the cookie is cleared and no longer works.
    let out = http
        .post(format!("{}api/logout", server.url))
        .header("cookie", &session)
        .header("origin", &origin)
        .send()
        .await
        .unwrap();
    assert!(out.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    let me = http.get(format!("{}api/me", server.url)).header("cookie", &session).send().await.unwrap();
    assert_eq!(me.status(), 401);
}
