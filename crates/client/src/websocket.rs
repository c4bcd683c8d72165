//! The WebSocket hop: an HTTP/1.1 upgrade over a dialled TLS connection. A refusal by
//! the server keeps its code; a plain HTTP answer without the upgrade means something on
//! the way (a reverse proxy, a filtering proxy) did not pass WebSocket through.

use std::time::Duration;

use deskshare_proto::api::ErrorBody;
use deskshare_proto::{ErrorCode, MAX_MESSAGE_BYTES, WireError};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use url::Url;

use crate::TlsOptions;
use crate::dial;

/// A client's WebSocket to the server.
pub type Ws = WebSocketStream<TlsStream<TcpStream>>;

/// How long the server may take to answer the upgrade.
const UPGRADE_TIMEOUT: Duration = Duration::from_secs(15);

/// Dials `url`'s server and upgrades to WebSocket, with `bearer` as the Authorization.
pub async fn open(url: &Url, tls: &TlsOptions, bearer: Option<&str>) -> Result<Ws, WireError> {
    let mut request =
        url.as_str().into_client_request().map_err(|e| WireError::new(ErrorCode::UrlInvalid, e.to_string()))?;
    if let Some(token) = bearer {
        let value = format!("Bearer {token}").parse().map_err(|_| {
            WireError::new(ErrorCode::ArgumentInvalid, "the token has characters a header cannot carry")
        })?;
        request.headers_mut().insert(http::header::AUTHORIZATION, value);
    }
    let stream = dial::dial(url, tls).await?;
    let mut config = WebSocketConfig::default();
    config.max_message_size = Some(MAX_MESSAGE_BYTES + 1024);
    config.max_frame_size = Some(MAX_MESSAGE_BYTES + 1024);
    let upgrade = tokio_tungstenite::client_async_with_config(request, stream, Some(config));
    let (ws, _) = tokio::time::timeout(UPGRADE_TIMEOUT, upgrade)
        .await
        .map_err(|_| WireError::new(ErrorCode::ConnectionLost, format!("{url}: no answer to the WebSocket upgrade")))?
        .map_err(upgrade_error)?;
    Ok(ws)
}

/// Names a failed upgrade: the server's own coded refusal, or a blocked upgrade.
pub fn upgrade_error(e: tokio_tungstenite::tungstenite::Error) -> WireError {
    use tokio_tungstenite::tungstenite::Error;
    match e {
        Error::Http(res) => {
            let status = res.status();
            if let Some(body) = res.body().as_deref()
                && let Ok(b) = serde_json::from_slice::<ErrorBody>(body)
            {
                return b.error.error;
            }
            let server = res.headers().get(http::header::SERVER).and_then(|v| v.to_str().ok()).unwrap_or("unknown");
            WireError::new(
                ErrorCode::WebsocketBlocked,
                format!("HTTP {status} (server: {server}) answered the WebSocket upgrade, not deskshare"),
            )
        }
        other => WireError::new(ErrorCode::ConnectionLost, format!("WebSocket upgrade: {other}")),
    }
}
