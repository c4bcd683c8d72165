//! What the hardening tests attack with: raw connections from chosen loopback
//! addresses (127.0.0.0/8 is all loopback, so each test "host" has its own address),
//! HTTP clients with cookies and Origins, and the server's memory as the kernel counts it.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use deskshare_client::TlsOptions;
use deskshare_proto::{ClientMessage, ErrorCode, PROTOCOL_VERSION, Role, ServerMessage};
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::Server;

pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// A loopback address of its own for test host `n`.
pub fn host(n: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, n])
}

pub fn server_addr(server: &Server) -> SocketAddr {
    server.url.trim_start_matches("https://").trim_end_matches('/').parse().unwrap()
}

/// The server's own origin, as its pages send it.
pub fn own_origin(server: &Server) -> String {
    server.url.trim_end_matches('/').to_string()
}

pub fn tls() -> Arc<rustls::ClientConfig> {
    TlsOptions { ca: None, insecure: true }.client_config().unwrap()
}

/// An HTTP client whose connections come from `from`.
pub fn http_from(from: IpAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured((*tls()).clone())
        .local_address(from)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A TCP connection to the server from `from`, with an optional small receive buffer (a
/// peer that reads slowly or not at all).
pub async fn tcp_from(from: IpAddr, server: &Server, recv_buffer: Option<u32>) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    if let Some(n) = recv_buffer {
        socket.set_recv_buffer_size(n)?;
    }
    socket.bind(SocketAddr::new(from, 0))?;
    socket.connect(server_addr(server)).await
}

/// A WebSocket to `path` (e.g. `api/meetings/ID/ws?role=presenter`) from `from`, with
/// extra request headers (Cookie, Origin).
pub async fn ws_from(from: IpAddr, server: &Server, path: &str, headers: &[(&str, &str)]) -> Ws {
    ws_with(tcp_from(from, server, None).await.unwrap(), server, path, headers).await
}

pub async fn ws_with(tcp: TcpStream, server: &Server, path: &str, headers: &[(&str, &str)]) -> Ws {
    let url = format!("{}{path}", server.url.replacen("https://", "wss://", 1));
    let mut req = url.into_client_request().unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
    }
    let mut cfg = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default();
    cfg.max_message_size = None;
    cfg.max_frame_size = None;
    let connector = tokio_tungstenite::Connector::Rustls(tls());
    tokio_tungstenite::client_async_tls_with_config(req, tcp, Some(cfg), Some(connector)).await.unwrap().0
}

/// A hello from "Tester".
pub fn hello(role: Role, secret: Option<String>, passcode: Option<&str>) -> Message {
    hello_as(role, Some("Tester"), secret, passcode)
}

/// A hello with the given display name (`None`: let the server name the participant).
pub fn hello_as(role: Role, name: Option<&str>, secret: Option<String>, passcode: Option<&str>) -> Message {
    let msg = ClientMessage::Hello {
        protocol: PROTOCOL_VERSION,
        role,
        name: name.map(str::to_string),
        secret,
        client: None,
        control: None,
        passcode: passcode.map(str::to_string),
        share: None,
        on_behalf: None,
        rejoin: None,
        pass: None,
        replace: false,
        as_guest: false,
        video: vec![],
        share_pass: None,
    };
    Message::Text(msg.to_json().into())
}

/// What the server answered a hello with: its welcome, or its error code.
pub async fn answer(ws: &mut Ws) -> Result<ServerMessage, ErrorCode> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await.expect("the server answers within 20 s") {
            Some(Ok(Message::Text(t))) => match ServerMessage::from_json(&t).unwrap() {
                ServerMessage::Error { code, .. } => return Err(code),
                w @ ServerMessage::Welcome { .. } => return Ok(w),
                _ => continue,
            },
            Some(Ok(Message::Close(frame))) => panic!("closed without an error message: {frame:?}"),
            Some(Ok(_)) => continue,
            other => panic!("connection ended without an answer: {other:?}"),
        }
    }
}

/// Sends a hello and returns what the server answered.
pub async fn join(ws: &mut Ws, hello_msg: Message) -> Result<ServerMessage, ErrorCode> {
    ws.send(hello_msg).await.unwrap();
    answer(ws).await
}

/// Reads until the server's error (or the end, or 30 s in all); returns the code.
pub async fn error_code(ws: &mut Ws) -> Option<ErrorCode> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, ws.next()).await {
        if let Message::Text(t) = msg
            && let Ok(ServerMessage::Error { code, .. }) = ServerMessage::from_json(&t)
        {
            return Some(code);
        }
    }
    None
}

/// `VmRSS` and `VmHWM` (peak) of a process, in KiB.
pub fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("{name} in /proc/{pid}/status"))
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Signs in through the API; returns the session token (the cookie's value).
pub async fn sign_in(server: &Server, name: &str, password: &str) -> String {
    let res = http_from(host(1))
        .post(format!("{}api/login", server.url))
        .json(&serde_json::json!({ "name": name, "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "sign-in of {name}");
    let v: serde_json::Value = res.json().await.unwrap();
    v["token"].as_str().unwrap().to_string()
}

/// The `error.code` of a JSON error response.
pub async fn api_code(res: reqwest::Response) -> String {
    let v: serde_json::Value = res.json().await.unwrap();
    v["error"]["code"].as_str().unwrap_or_default().to_string()
}
