//! How a client reaches the server's one TLS port, hop by hop: resolve the name, connect
//! to an address (directly, or through an HTTP CONNECT proxy from `HTTPS_PROXY`), then
//! TLS. Each hop fails with its own [`DialError`], so a person is told *which* hop is
//! broken — the name, the port, the proxy or the certificate — rather than "cannot
//! connect". The agent, the CLI viewer and `deskshare doctor` all dial through here.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deskshare_proto::{ErrorCode, WireError};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use url::Url;

use crate::TlsOptions;
use crate::proxy::Proxy;

/// How long one TCP connect (to one address, or to the proxy) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the TLS handshake, or the proxy's answer to CONNECT, may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);
/// The proxy's answer head is at most this long.
const MAX_PROXY_ANSWER: usize = 16 * 1024;

pub use deskshare_proto::cert::{Certificate, date};

/// Which hop failed, and what was seen there.
#[derive(Clone, Debug, thiserror::Error)]
pub enum DialError {
    #[error("{host} does not resolve: {detail}")]
    NameNotResolved { host: String, detail: String },
    #[error("{addr} refused the connection{}", via(.proxy))]
    Refused { addr: String, proxy: bool },
    #[error("no answer from {addr} within {} s{}", .after.as_secs(), via(.proxy))]
    TimedOut { addr: String, after: Duration, proxy: bool },
    #[error("{addr}: {detail}{}", via(.proxy))]
    Unreachable { addr: String, detail: String, proxy: bool },
    #[error("the proxy {proxy} refused to connect to {target}: HTTP {status} {reason}")]
    ProxyRefused { proxy: String, target: String, status: u16, reason: String },
    #[error("the proxy {proxy} asks for credentials (HTTP 407)")]
    ProxyAuthRequired { proxy: String },
    #[error("the proxy {proxy} answered CONNECT with something that is not HTTP: {detail}")]
    ProxyBroken { proxy: String, detail: String },
    #[error("the server's certificate is not signed by an authority this client trusts ({})", cert_text(.cert))]
    Untrusted { cert: Option<Box<Certificate>>, detail: String },
    #[error("the server's certificate is not valid for '{host}' ({})", cert_text(.cert))]
    NameMismatch { host: String, cert: Option<Box<Certificate>> },
    #[error("the server's certificate is outside its validity dates ({})", cert_text(.cert))]
    Expired { cert: Option<Box<Certificate>> },
    #[error("TLS handshake failed: {detail}")]
    Handshake { detail: String },
    #[error("{0}")]
    Setup(WireError),
}

fn via(proxy: &bool) -> &'static str {
    if *proxy { " (the HTTPS proxy)" } else { "" }
}

fn cert_text(cert: &Option<Box<Certificate>>) -> String {
    cert.as_ref().map_or_else(|| "no certificate seen".to_string(), |c| c.summary())
}

impl DialError {
    pub fn code(&self) -> ErrorCode {
        match self {
            DialError::NameNotResolved { .. } => ErrorCode::NameNotResolved,
            DialError::Refused { proxy: true, .. }
            | DialError::TimedOut { proxy: true, .. }
            | DialError::Unreachable { proxy: true, .. } => ErrorCode::ProxyUnreachable,
            DialError::Refused { .. } => ErrorCode::ConnectionRefused,
            DialError::TimedOut { .. } => ErrorCode::ConnectTimeout,
            DialError::Unreachable { .. } | DialError::ProxyBroken { .. } => ErrorCode::ServerUnreachable,
            DialError::ProxyRefused { .. } => ErrorCode::ProxyRefused,
            DialError::ProxyAuthRequired { .. } => ErrorCode::ProxyAuthRequired,
            DialError::Untrusted { .. } => ErrorCode::TlsUntrusted,
            DialError::NameMismatch { .. } => ErrorCode::TlsNameMismatch,
            DialError::Expired { .. } => ErrorCode::TlsCertificateExpired,
            DialError::Handshake { .. } => ErrorCode::TlsHandshakeFailed,
            DialError::Setup(e) => e.code,
        }
    }
}

impl From<DialError> for WireError {
    fn from(e: DialError) -> Self {
        match e {
            DialError::Setup(w) => w,
            other => WireError::new(other.code(), other.to_string()),
        }
    }
}

/// One TCP connect attempt, as doctor reports it.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub addr: SocketAddr,
    pub took: Duration,
    /// `None`: connected.
    pub error: Option<DialError>,
}

/// The host and port of an `https://` URL.
pub fn host_port(url: &Url) -> Result<(String, u16), DialError> {
    let host = url
        .host_str()
        .ok_or_else(|| DialError::Setup(WireError::new(ErrorCode::UrlInvalid, format!("'{url}' has no host"))))?;
    let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
    Ok((host, url.port_or_known_default().unwrap_or(443)))
}

/// Resolves `host` (an IP literal resolves to itself).
pub async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, DialError> {
    match tokio::net::lookup_host((host, port)).await {
        Ok(addrs) => {
            let addrs: Vec<SocketAddr> = addrs.collect();
            if addrs.is_empty() {
                Err(DialError::NameNotResolved { host: host.into(), detail: "no addresses".into() })
            } else {
                Ok(addrs)
            }
        }
        Err(e) => Err(DialError::NameNotResolved { host: host.into(), detail: e.to_string() }),
    }
}

/// Connects to one address within `timeout`.
pub async fn connect(addr: SocketAddr, timeout: Duration, proxy: bool) -> Result<TcpStream, DialError> {
    let label = addr.to_string();
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Err(_) => Err(DialError::TimedOut { addr: label, after: timeout, proxy }),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            Err(DialError::Refused { addr: label, proxy })
        }
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::TimedOut => {
            Err(DialError::TimedOut { addr: label, after: timeout, proxy })
        }
        Ok(Err(e)) => Err(DialError::Unreachable { addr: label, detail: e.to_string(), proxy }),
        Ok(Ok(s)) => {
            let _ = s.set_nodelay(true);
            Ok(s)
        }
    }
}

/// Tries each address in turn; the first that connects wins. Every attempt is kept.
pub async fn connect_any(
    addrs: &[SocketAddr],
    timeout: Duration,
    proxy: bool,
) -> (Result<TcpStream, DialError>, Vec<Attempt>) {
    let mut attempts = Vec::new();
    let mut last = None;
    for &addr in addrs {
        let started = Instant::now();
        match connect(addr, timeout, proxy).await {
            Ok(s) => {
                attempts.push(Attempt { addr, took: started.elapsed(), error: None });
                return (Ok(s), attempts);
            }
            Err(e) => {
                attempts.push(Attempt { addr, took: started.elapsed(), error: Some(e.clone()) });
                last = Some(e);
            }
        }
    }
    let err = last.unwrap_or_else(|| DialError::Unreachable { addr: "-".into(), detail: "no address".into(), proxy });
    (Err(err), attempts)
}

/// Asks `proxy` (already connected as `tcp`) for a tunnel to `host:port`.
pub async fn proxy_tunnel(tcp: &mut TcpStream, proxy: &Proxy, host: &str, port: u16) -> Result<(), DialError> {
    let target = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(auth) = proxy.basic_auth() {
        request.push_str(&format!("Proxy-Authorization: Basic {auth}\r\n"));
    }
    request.push_str("\r\n");
    let name = proxy.display();
    let broken = |detail: String| DialError::ProxyBroken { proxy: name.clone(), detail };
    let exchange = async {
        tcp.write_all(request.as_bytes()).await.map_err(|e| broken(e.to_string()))?;
        // Read byte by byte up to the blank line: nothing of the tunnel may be consumed.
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            if head.len() >= MAX_PROXY_ANSWER {
                return Err(broken("answer head too long".into()));
            }
            let mut b = [0u8; 1];
            match tcp.read(&mut b).await {
                Ok(0) => return Err(broken("closed the connection without an answer".into())),
                Ok(_) => head.push(b[0]),
                Err(e) => return Err(broken(e.to_string())),
            }
        }
        Ok(head)
    };
    let head = tokio::time::timeout(HANDSHAKE_TIMEOUT, exchange).await.map_err(|_| DialError::TimedOut {
        addr: name.clone(),
        after: HANDSHAKE_TIMEOUT,
        proxy: true,
    })??;
    let text = String::from_utf8_lossy(&head);
    let status_line = text.lines().next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let (version, status, reason) = (parts.next(), parts.next(), parts.next().unwrap_or("").trim());
    let status: u16 = match (version, status.and_then(|s| s.parse().ok())) {
        (Some(v), Some(s)) if v.starts_with("HTTP/1.") => s,
        _ => return Err(broken(format!("'{status_line}'"))),
    };
    match status {
        200..=299 => Ok(()),
        407 => Err(DialError::ProxyAuthRequired { proxy: name }),
        _ => Err(DialError::ProxyRefused { proxy: name, target, status, reason: reason.to_string() }),
    }
}

/// Records the certificate the server presented, whatever the verdict: a failed check
/// is reported with the fingerprint and names the person can compare.
#[derive(Debug)]
struct Recording {
    inner: Arc<dyn rustls::client::danger::ServerCertVerifier>,
    seen: Mutex<Option<CertificateDer<'static>>>,
}

impl rustls::client::danger::ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        *self.seen.lock().expect("not poisoned") = Some(end_entity.clone().into_owned());
        self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Runs the TLS handshake over `tcp` for `host`.
pub async fn tls_handshake(
    tcp: TcpStream,
    host: &str,
    tls: &TlsOptions,
) -> Result<(TlsStream<TcpStream>, Option<Certificate>), DialError> {
    let verifier = Arc::new(Recording { inner: tls.verifier().map_err(DialError::Setup)?, seen: Mutex::new(None) });
    let mut config = rustls::ClientConfig::builder()
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| DialError::Setup(WireError::new(ErrorCode::UrlInvalid, format!("'{host}': {e}"))))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let result = tokio::time::timeout(HANDSHAKE_TIMEOUT, connector.connect(name, tcp)).await;
    let cert = verifier.seen.lock().expect("not poisoned").as_ref().and_then(|d| Certificate::parse(d.as_ref()));
    match result {
        Err(_) => {
            Err(DialError::Handshake { detail: format!("no handshake within {} s", HANDSHAKE_TIMEOUT.as_secs()) })
        }
        Ok(Ok(stream)) => Ok((stream, cert)),
        Ok(Err(e)) => Err(tls_failure(&e, host, cert)),
    }
}

/// Names a failed handshake by the certificate error inside it.
fn tls_failure(e: &std::io::Error, host: &str, cert: Option<Certificate>) -> DialError {
    let cert = cert.map(Box::new);
    use rustls::CertificateError as C;
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    match inner {
        Some(rustls::Error::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. })) => {
            DialError::NameMismatch { host: host.into(), cert }
        }
        Some(rustls::Error::InvalidCertificate(
            C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. },
        )) => DialError::Expired { cert },
        Some(rustls::Error::InvalidCertificate(other)) => DialError::Untrusted { cert, detail: format!("{other:?}") },
        _ => DialError::Handshake { detail: e.to_string() },
    }
}

/// Dials `base`'s host and port: through the proxy the environment names for it, or
/// directly to each address in turn; then TLS. (`deskshare doctor` runs the same steps
/// one at a time, to report each.)
pub async fn dial(base: &Url, tls: &TlsOptions) -> Result<TlsStream<TcpStream>, DialError> {
    let (host, port) = host_port(base)?;
    let proxy = Proxy::for_host(&host).map_err(DialError::Setup)?;
    let mut tcp = match &proxy {
        Some(p) => {
            let addrs = resolve(&p.host, p.port).await.map_err(|e| match e {
                DialError::NameNotResolved { host, detail } => {
                    DialError::Unreachable { addr: host, detail: format!("does not resolve: {detail}"), proxy: true }
                }
                other => other,
            })?;
            connect_any(&addrs, CONNECT_TIMEOUT, true).await.0?
        }
        None => connect_any(&resolve(&host, port).await?, CONNECT_TIMEOUT, false).await.0?,
    };
    if let Some(p) = &proxy {
        proxy_tunnel(&mut tcp, p, &host, port).await?;
    }
    Ok(tls_handshake(tcp, &host, tls).await?.0)
}
