//! Bad input is rejected with its code, and the server keeps serving other meetings.

mod common;

use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use deskshare_client::session::{Incoming, Session};
use deskshare_client::{MeetingLink, TlsOptions};
use deskshare_proto::{
    ClientMessage, ErrorCode, FrameHeader, FrameMessage, InputEvent, MAX_INPUT_EVENTS, MAX_MESSAGE_BYTES, MediaMessage,
    Op, PixelRect, RectEncoding, Role, ServerMessage,
};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn insecure() -> TlsOptions {
    TlsOptions { ca: None, insecure: true }
}

async fn raw_ws(link: &MeetingLink, role: Role) -> Ws {
    let url = if role == Role::Presenter { link.presenter_ws_url() } else { link.ws_url() };
    let connector = tokio_tungstenite::Connector::Rustls(insecure().client_config().unwrap());
    let mut cfg = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default();
    cfg.max_message_size = None;
    cfg.max_frame_size = None;
    tokio_tungstenite::connect_async_tls_with_config(url.as_str(), Some(cfg), true, Some(connector)).await.unwrap().0
}

fn hello(role: Role, secret: Option<String>) -> Message {
    common::attack::hello_as(role, None, secret, None)
}

/// Reads until the server's error message; returns its code (and checks the close reason).
async fn expect_error(ws: &mut Ws) -> ErrorCode {
    let mut code = None;
    while let Some(msg) = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("server answers") {
        match msg {
            Ok(Message::Text(t)) => {
                if let ServerMessage::Error { code: c, .. } = ServerMessage::from_json(&t).unwrap() {
                    code = Some(c);
                }
            }
            Ok(Message::Close(Some(frame))) => {
                let c = code.expect("error message before close");
                assert_eq!(frame.reason.as_str(), c.as_str(), "close reason carries the code");
                return c;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    code.expect("an error message")
}

/// A session that got its welcome, ready for bad input.
async fn welcomed(link: &MeetingLink, role: Role) -> Ws {
    let mut ws = raw_ws(link, role).await;
    ws.send(hello(role, link.secret.clone())).await.unwrap();
    match ws.next().await.unwrap().unwrap() {
        Message::Text(t) => assert!(matches!(ServerMessage::from_json(&t).unwrap(), ServerMessage::Welcome { .. })),
        other => panic!("expected welcome, got {other:?}"),
    }
    ws
}

/// A presenter's first frame of a 128x64 screen, and a delta that paints a 9x19 cell.
fn frames() -> (Vec<u8>, Vec<u8>) {
    let mut enc = deskshare_codec::Encoder::new(6);
    let mut fb = deskshare_codec::Framebuffer::from_pixels(128, 64, vec![0x010101; 128 * 64]);
    let key = enc.encode(fb.clone(), &[], std::time::Instant::now()).unwrap().encode();
    fb.fill(PixelRect::new(70, 20, 9, 19), 0x090909);
    (key, enc.encode(fb, &[], std::time::Instant::now()).unwrap().encode())
}

/// A frame of hand-made ops and data.
fn frame(keyframe: bool, ops: Vec<Op>, data: &[u8]) -> Vec<u8> {
    let header = FrameHeader { keyframe, restart: keyframe, frame: 1, width: 128, height: 64, ..Default::default() };
    FrameMessage { header, ops, data: Bytes::copy_from_slice(data), images: vec![], videos: vec![] }.encode()
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_rejected_with_codes_and_other_meetings_go_on() {
    let dir = workdir("bad_input");
    let server = Server::start(&dir);
    let (join_a, presenter_a) = server.create_meeting("target of bad input");
    let (join_b, presenter_b) = server.create_meeting("bystander");
    let (a, pa) = (MeetingLink::parse(&join_a).unwrap(), MeetingLink::parse(&presenter_a).unwrap());
    let (b, pb) = (MeetingLink::parse(&join_b).unwrap(), MeetingLink::parse(&presenter_b).unwrap());

    // Meeting B runs normally throughout.
    let mut presenter = Session::connect(&pb, &insecure(), Role::Presenter, None).await.unwrap();
    let (key, delta) = frames();
    presenter.send_binary(key.clone()).await.unwrap();
    let mut viewer = Session::connect(&b, &insecure(), Role::Viewer, None).await.unwrap();
    let first = next_frame(&mut viewer).await;
    assert!(first.header.keyframe);
    viewer.send_control(&ClientMessage::Ack { frame: first.header.frame }).await.unwrap();

    // Handshake refusals.
    let mut unknown = a.clone();
    unknown.id = "0123456789abcdef01234567".into();
    let mut ws = raw_ws(&unknown, Role::Viewer).await;
    ws.send(hello(Role::Viewer, None)).await.unwrap();
    assert_eq!(expect_error(&mut ws).await, ErrorCode::MeetingNotFound);
    unknown.id = "ALICE".into(); // a name is never an id
    let mut ws = raw_ws(&unknown, Role::Viewer).await;
    ws.send(hello(Role::Viewer, None)).await.unwrap();
    assert_eq!(expect_error(&mut ws).await, ErrorCode::MeetingNotFound);

    let mut ws = raw_ws(&a, Role::Presenter).await;
    ws.send(hello(Role::Presenter, Some("not-the-secret".into()))).await.unwrap();
    assert_eq!(expect_error(&mut ws).await, ErrorCode::PresenterSecretInvalid);
    let mut ws = raw_ws(&a, Role::Presenter).await;
    ws.send(hello(Role::Presenter, None)).await.unwrap();
    assert_eq!(expect_error(&mut ws).await, ErrorCode::PresenterSecretInvalid);

    let mut ws = raw_ws(&a, Role::Viewer).await;
    ws.send(Message::Text(r#"{"type":"hello","protocol":99,"role":"viewer"}"#.into())).await.unwrap();
    assert_eq!(expect_error(&mut ws).await, ErrorCode::ProtocolVersionMismatch);

    let mut ws = raw_ws(&a, Role::Viewer).await;
    ws.send(Message::Text(r#"{"type":"teleport"}"#.into())).await.unwrap();
    assert_eq!(expect_error(&mut ws).await, ErrorCode::MessageUnknownType);

    let mut ws = raw_ws(&a, Role::Viewer).await;
    ws.send(Message::Text(r#"{"type":"hello","protocol":2,"#.into())).await.unwrap();
    assert_eq!(expect_error(&mut ws).await, ErrorCode::MessageMalformed);

    let mut ws = raw_ws(&a, Role::Viewer).await;
    ws.send(Message::Binary(key.clone().into())).await.unwrap();
    assert_eq!(expect_error(&mut ws).await, ErrorCode::ProtocolViolation);

    // Bad media from an authenticated presenter.
    let good = key.clone();
    let solid = |x, y, w, h| Op::Rect { rect: PixelRect::new(x, y, w, h), encoding: RectEncoding::Solid, len: 3 };
    let deflated = deskshare_codec::stream::Deflater::new(6).segment(&[1, 2, 3]);
    let cases: Vec<(&str, Vec<u8>, ErrorCode)> = vec![
        ("truncated frame", good[..good.len() - 2].to_vec(), ErrorCode::MessageMalformed),
        ("unknown kind", vec![0x7f, 0, 0, 0], ErrorCode::MessageUnknownType),
        ("empty message", vec![], ErrorCode::MessageMalformed),
        ("oversized", vec![0x01; MAX_MESSAGE_BYTES + 4096], ErrorCode::MessageTooLarge),
        (
            "raw rect of the wrong size",
            frame(true, vec![Op::Rect { rect: PixelRect::new(0, 0, 4, 4), encoding: RectEncoding::Raw, len: 7 }], &[1]),
            ErrorCode::TileCorrupt,
        ),
        ("rect outside the screen", frame(true, vec![solid(120, 0, 9, 9)], &deflated), ErrorCode::MessageMalformed),
        ("corrupt deflate data", frame(true, vec![solid(0, 0, 9, 9)], &[0xff, 0xff, 0xff]), ErrorCode::TileCorrupt),
        (
            "data shorter than declared",
            frame(true, vec![solid(0, 0, 9, 9), solid(9, 0, 9, 9)], &deflated),
            ErrorCode::TileCorrupt,
        ),
        (
            "screen too large",
            {
                let mut f = vec![0x01, 0, 1];
                deskshare_proto::media::put_varint(&mut f, 9000);
                f.extend([1, 0, 0, 0, 0, 0, 0]);
                f
            },
            ErrorCode::ScreenTooLarge,
        ),
        ("delta before any keyframe", delta.clone(), ErrorCode::ProtocolViolation),
    ];
    for (what, bytes, code) in cases {
        let mut ws = welcomed(&pa, Role::Presenter).await;
        let _ = ws.send(Message::Binary(bytes.into())).await;
        assert_eq!(expect_error(&mut ws).await, code, "{what}");
    }
    let mut ws = welcomed(&pa, Role::Presenter).await;
    ws.send(Message::Text(r#"{"type":"ack","frame":1}"#.into())).await.unwrap();
    assert_eq!(expect_error(&mut ws).await, ErrorCode::ProtocolViolation, "presenters do not ack");

    // Bad input from viewers.
    let mut ws = welcomed(&a, Role::Viewer).await;
    ws.send(Message::Text(r#"{"type":"ack","frame":99}"#.into())).await.unwrap();
    assert_eq!(expect_error(&mut ws).await, ErrorCode::ProtocolViolation, "ack of an unsent frame");
    // Input: more events than one message may carry is refused; a flood is rate-limited.
    let key = |down| InputEvent::Key { keysym: 0x61, down };
    let mut ws = welcomed(&a, Role::Viewer).await;
    let too_many = ClientMessage::Input { events: vec![key(true); MAX_INPUT_EVENTS + 1] };
    ws.send(Message::Text(too_many.to_json().into())).await.unwrap();
    assert_eq!(expect_error(&mut ws).await, ErrorCode::MessageTooLarge, "oversized input message");
    let mut flood = Session::connect(&a, &insecure(), Role::Viewer, None).await.unwrap();
    let batch = ClientMessage::Input { events: vec![key(true); MAX_INPUT_EVENTS] };
    for _ in 0..8 {
        flood.send_control(&batch).await.unwrap();
    }
    let mut refusals = vec![];
    while refusals.len() < 8 {
        if let Incoming::Control(ServerMessage::Refused { code, .. }) =
            tokio::time::timeout(Duration::from_secs(10), flood.recv()).await.unwrap().unwrap()
        {
            refusals.push(code)
        }
    }
    assert_eq!(refusals[0], ErrorCode::NotController, "within the budget: refused for holding no grant");
    assert!(refusals.contains(&ErrorCode::InputRateLimited), "a flood is rate-limited: {refusals:?}");

    let mut ws = welcomed(&a, Role::Viewer).await;
    ws.send(Message::Binary(good.clone().into())).await.unwrap();
    assert_eq!(expect_error(&mut ws).await, ErrorCode::ProtocolViolation, "viewers send no media");

    // Meeting B never noticed: its viewer, on the same connection, gets the next frame.
    presenter.send_binary(delta).await.unwrap();
    let next = next_frame(&mut viewer).await;
    let painted = next.ops.iter().map(Op::target).collect::<Vec<_>>();
    assert_eq!((next.header.frame, painted), (2, vec![PixelRect::new(70, 20, 9, 19)]));
}

async fn next_frame(session: &mut Session) -> FrameMessage {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), session.recv()).await.expect("a frame arrives").unwrap() {
            Incoming::Media(MediaMessage::Frame(f)) => return f,
            _ => continue,
        }
    }
}

/// Runs the CLI and returns (success, stderr).
fn cli(args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn assert_cli_code(args: &[&str], code: ErrorCode) {
    let (ok, stderr) = cli(args);
    assert!(!ok, "{args:?} should fail");
    assert!(stderr.contains(&format!("error {code}")), "{args:?}: expected {code} in {stderr}");
    assert!(stderr.contains(code.remedy()), "{args:?}: the remedy is printed");
}

#[test]
fn cli_errors_print_their_codes() {
    let dir = workdir("cli_errors");
    let server = Server::start(&dir);
    let (join, presenter) = server.create_meeting("cli errors");
    let ca = server.ca();
    let ca = ca.to_str().unwrap();
    let unknown = format!("{}m/0123456789abcdef01234567", server.url);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(server.data.join("admin-token")).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "the admin token is readable by its owner only");

    assert_cli_code(&["view", &unknown, "--ca", ca, "--snapshot", "/tmp/never.png"], ErrorCode::MeetingNotFound);
    assert_cli_code(&["view", &join, "--snapshot", "/tmp/never.png"], ErrorCode::TlsUntrusted);
    assert_cli_code(
        &[
            "view",
            "https://127.0.0.1:1/m/0123456789abcdef01234567",
            "--insecure",
            "--snapshot",
            "/tmp/x.png",
            "--timeout",
            "1",
        ],
        ErrorCode::ConnectionRefused,
    );
    assert_cli_code(&["view", "http://example/m/x"], ErrorCode::UrlInvalid);
    assert_cli_code(
        &["view", &join, "--ca", ca, "--snapshot", "/tmp/never.png", "--timeout", "2"],
        ErrorCode::NoFrameTimeout,
    );
    let wrong = format!("{join}#presenter=0000");
    assert_cli_code(&["share", &wrong, "--ca", ca, "--display", ":0"], ErrorCode::PresenterSecretInvalid);
    assert_cli_code(&["share", &join, "--ca", ca], ErrorCode::PresenterSecretInvalid);
    assert_cli_code(&["share", &presenter, "--ca", ca, "--display", ":9999"], ErrorCode::DisplayUnreachable);
    let (ok, stderr) = cli(&["meeting", "create", "--server", &server.url, "--ca", ca, "--token", "wrong"]);
    assert!(!ok && stderr.contains("error UNAUTHORIZED"), "{stderr}");
}
