//! Turning a connection away at a cap with a reason, not a reset.
//!
//! Closed at accept, a connection over `--max-connections` (or the per-address cap)
//! looks to its client like a broken TLS handshake: the browser says nothing useful and
//! `deskshare doctor` blames TLS. So a few refused connections at a time — at most
//! [`AT_ONCE`], each for at most [`TIME`] — get a TLS handshake and one plain answer,
//! `503` with the `CONNECTION_LIMIT` error body, to whatever request they make (a
//! WebSocket upgrade included). Past that bound they are closed at once as before: a
//! flood of connections costs the server no more than the bound.

use std::sync::Arc;
use std::time::Duration;

use deskshare_proto::api::ErrorBody;
use deskshare_proto::{ErrorCode, WireError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::clock::Clock;
use crate::connections::Refusal;

/// Refused connections answered at once; the rest are closed unanswered.
pub const AT_ONCE: usize = 32;
/// The longest one answer may take, handshake included.
pub const TIME: Duration = Duration::from_secs(3);
/// The longest its TLS handshake may take: a client says hello at once, so a silent
/// connection gives its place back soon.
pub const HANDSHAKE_TIME: Duration = Duration::from_secs(1);
/// The most of a request read before answering.
const HEAD_BYTES: usize = 8 * 1024;

/// Answers refused connections, within its bounds.
#[derive(Clone)]
pub struct TurnAway {
    tls: tokio_rustls::TlsAcceptor,
    permits: Arc<Semaphore>,
    clock: Clock,
}

impl TurnAway {
    pub fn new(tls: Arc<rustls::ServerConfig>, clock: Clock) -> Self {
        TurnAway { tls: tls.into(), permits: Arc::new(Semaphore::new(AT_ONCE)), clock }
    }

    /// Answers `stream` with the reason in the background, or drops it when
    /// [`AT_ONCE`] answers are already under way.
    pub fn answer(&self, stream: TcpStream, why: Refusal) {
        let Ok(permit) = self.permits.clone().try_acquire_owned() else { return };
        let tls = self.tls.clone();
        let answer = response(why, self.clock.system_time());
        tokio::spawn(async move {
            let _permit = permit;
            let _ = tokio::time::timeout(TIME, respond(tls, stream, answer)).await;
        });
    }
}

/// The answer's bytes: a complete HTTP/1.1 response that closes the connection, with
/// the headers `deskshare doctor` reads (the server's time and version, the code).
pub fn response(why: Refusal, now: std::time::SystemTime) -> Vec<u8> {
    let detail = match why {
        Refusal::Total => "the server holds as many connections as --max-connections allows",
        Refusal::PerAddress => "this address holds as many connections as --max-connections-per-address allows",
    };
    let body = serde_json::to_vec(&ErrorBody::from(WireError::new(ErrorCode::ConnectionLimit, detail)))
        .expect("an error body serialises");
    let mut out = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         date: {}\r\nx-deskshare-version: {}\r\nx-deskshare-error: {}\r\n\
         retry-after: 10\r\ncache-control: no-store\r\nconnection: close\r\n\r\n",
        body.len(),
        httpdate::fmt_http_date(now),
        env!("CARGO_PKG_VERSION"),
        ErrorCode::ConnectionLimit.as_str(),
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

async fn respond(tls: tokio_rustls::TlsAcceptor, stream: TcpStream, answer: Vec<u8>) -> std::io::Result<()> {
    let mut conn = tokio::time::timeout(HANDSHAKE_TIME, tls.accept(stream)).await.map_err(std::io::Error::other)??;
    // Read the request head (or what fits), so the client is not reset mid-send.
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while head.len() < HEAD_BYTES && !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    conn.write_all(&answer).await?;
    conn.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_a_complete_response_with_the_coded_body() {
        let r = String::from_utf8(response(Refusal::PerAddress, std::time::SystemTime::now())).unwrap();
        let (head, body) = r.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        assert!(head.contains("x-deskshare-error: CONNECTION_LIMIT\r\n"));
        let parsed: ErrorBody = serde_json::from_str(body).unwrap();
        assert_eq!(parsed.error.error.code, ErrorCode::ConnectionLimit);
        assert!(parsed.error.error.message.contains("--max-connections-per-address"));
    }
}
