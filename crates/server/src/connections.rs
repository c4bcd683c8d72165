//! Every TCP connection the server holds has a place, a cap and a timeout.
//!
//! An attacker on the internet opens connections and says nothing: 500 idle
//! connections stayed open for minutes, and under the usual 1,024 open-file limit a
//! thousand of them kept every real client out, with nothing logged. Here:
//! - a connection is admitted only while the server holds fewer than `max_total`
//!   connections and its address fewer than `max_per_address` (else it is turned away —
//!   answered `503 CONNECTION_LIMIT` while few are, closed at once past that, see
//!   `turn_away` — and the log says which cap, at most every 10 s);
//! - TLS must complete within the handshake timeout, a request's headers within
//!   `header_timeout` (hyper's timer, which also runs while a kept-alive connection
//!   waits for its next request), and no connection may go `idle_timeout` without
//!   sending a byte once it carries a WebSocket (peers answer the server's pings every
//!   10 s, so live ones never do), nor `header_timeout` while it carries HTTP;
//! - until its hello is accepted, a WebSocket may read only a small budget of bytes,
//!   so nobody unauthenticated makes the server buffer a 64 MiB message.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use deskshare_proto::ErrorCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Caps and timeouts for connections (`deskshare serve` flags).
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    pub max_total: usize,
    pub max_per_address: usize,
    pub handshake_timeout: Duration,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    /// A WebSocket send that makes no progress this long ends its session: the peer
    /// stopped reading (`CONNECTION_STALLED`), and its place is freed.
    pub stall_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_total: 4096,
            max_per_address: 256,
            handshake_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            stall_timeout: Duration::from_secs(20),
        }
    }
}

/// What the server knows about one open connection, shared between its stream and the
/// request handlers (found by peer address).
#[derive(Debug, Default)]
pub struct ConnMeter {
    read: AtomicU64,
    /// Total bytes this connection may have read; `u64::MAX` for no limit.
    read_limit: AtomicU64,
    over_budget: AtomicBool,
    /// Upgraded to a WebSocket: may stay quiet up to the idle timeout (its peer answers
    /// pings) rather than the header timeout.
    long_lived: AtomicBool,
}

impl ConnMeter {
    fn new() -> Self {
        ConnMeter { read_limit: AtomicU64::new(u64::MAX), ..Default::default() }
    }

    /// From now on, at most `bytes` more may be read (TLS records included).
    pub fn limit_reads(&self, bytes: u64) {
        self.read_limit.store(self.read.load(Ordering::Relaxed).saturating_add(bytes), Ordering::Relaxed);
    }

    /// Lifts the read limit.
    pub fn unlimit_reads(&self) {
        self.read_limit.store(u64::MAX, Ordering::Relaxed);
    }

    /// The connection now carries a WebSocket session.
    pub fn mark_long_lived(&self) {
        self.long_lived.store(true, Ordering::Relaxed);
    }

    /// Whether a read failed because the budget ran out.
    pub fn over_budget(&self) -> bool {
        self.over_budget.load(Ordering::Relaxed)
    }
}

#[derive(Default)]
struct Counts {
    total: usize,
    per_address: HashMap<IpAddr, usize>,
    meters: HashMap<SocketAddr, Arc<ConnMeter>>,
}

/// Counts open connections against the caps.
pub struct ConnectionTracker {
    limits: ConnectionLimits,
    /// Trusted reverse proxies: all their users share their address, so the
    /// per-address cap does not apply to them (the total cap does).
    proxies: crate::forwarded::TrustedProxies,
    counts: Mutex<Counts>,
    /// When each cap was last logged (`[total, per address]`).
    last_warning: Mutex<[Option<Instant>; 2]>,
}

/// Which cap refused a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Total,
    PerAddress,
}

impl ConnectionTracker {
    pub fn new(limits: ConnectionLimits) -> Arc<Self> {
        Self::behind(limits, crate::forwarded::TrustedProxies::default())
    }

    /// A tracker that does not cap connections per address from trusted `proxies`.
    pub fn behind(limits: ConnectionLimits, proxies: crate::forwarded::TrustedProxies) -> Arc<Self> {
        Arc::new(ConnectionTracker { limits, proxies, counts: Mutex::default(), last_warning: Mutex::new([None; 2]) })
    }

    pub fn limits(&self) -> ConnectionLimits {
        self.limits
    }

    /// Takes a place for a connection from `peer`, or says which cap is reached.
    pub fn admit(self: &Arc<Self>, peer: SocketAddr) -> Result<Place, Refusal> {
        let mut c = self.counts.lock().expect("connection counts");
        if c.total >= self.limits.max_total {
            return Err(Refusal::Total);
        }
        let proxy = self.proxies.trusts(peer.ip());
        let here = c.per_address.entry(peer.ip()).or_default();
        if *here >= self.limits.max_per_address && !proxy {
            return Err(Refusal::PerAddress);
        }
        *here += 1;
        c.total += 1;
        let meter = Arc::new(ConnMeter::new());
        c.meters.insert(peer, meter.clone());
        Ok(Place { tracker: self.clone(), peer, meter })
    }

    /// The meter of the open connection from `peer`.
    pub fn meter(&self, peer: SocketAddr) -> Option<Arc<ConnMeter>> {
        self.counts.lock().expect("connection counts").meters.get(&peer).cloned()
    }

    /// Open connections by what they carry: `(plain HTTP, WebSocket)`.
    pub fn by_state(&self) -> (usize, usize) {
        let c = self.counts.lock().expect("connection counts");
        let ws = c.meters.values().filter(|m| m.long_lived.load(Ordering::Relaxed)).count();
        (c.meters.len() - ws, ws)
    }

    /// Open connections in total and from `ip`.
    pub fn open(&self, ip: IpAddr) -> (usize, usize) {
        let c = self.counts.lock().expect("connection counts");
        (c.total, c.per_address.get(&ip).copied().unwrap_or(0))
    }

    fn warn(&self, peer: SocketAddr, why: Refusal) {
        let mut last = self.last_warning.lock().expect("warning clock");
        let last = &mut last[why as usize];
        if last.is_some_and(|t| t.elapsed() < Duration::from_secs(10)) {
            return;
        }
        *last = Some(Instant::now());
        let (total, here) = self.open(peer.ip());
        let cap = match why {
            Refusal::Total => format!("--max-connections {}", self.limits.max_total),
            Refusal::PerAddress => format!("--max-connections-per-address {}", self.limits.max_per_address),
        };
        tracing::warn!(code = %ErrorCode::ConnectionLimit, peer = %peer.ip(), open = total, from_address = here,
            "connection refused: {cap} reached (further refusals for this cap in the next 10 s are not logged)");
    }
}

/// A connection's place; given back when the connection closes.
pub struct Place {
    tracker: Arc<ConnectionTracker>,
    peer: SocketAddr,
    meter: Arc<ConnMeter>,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut c = self.tracker.counts.lock().expect("connection counts");
        c.total -= 1;
        if let Some(n) = c.per_address.get_mut(&self.peer.ip()) {
            *n -= 1;
            if *n == 0 {
                c.per_address.remove(&self.peer.ip());
            }
        }
        c.meters.remove(&self.peer);
    }
}

/// The TCP stream of an admitted connection: counts what it reads against its budget and
/// fails a read after a quiet spell: the header timeout while it carries HTTP (hyper's
/// own header timer starts only once a first byte told it the HTTP version, so a
/// connection that completes TLS and says nothing would otherwise stay for ever), the
/// idle timeout once it carries a WebSocket.
pub struct MeteredStream {
    inner: TcpStream,
    place: Place,
    quiet_http: Duration,
    quiet_websocket: Duration,
    last_read: Instant,
    idle_timer: Pin<Box<tokio::time::Sleep>>,
}

impl MeteredStream {
    fn new(inner: TcpStream, place: Place, limits: &ConnectionLimits) -> Self {
        let now = Instant::now();
        MeteredStream {
            inner,
            place,
            quiet_http: limits.header_timeout,
            quiet_websocket: limits.idle_timeout,
            last_read: now,
            idle_timer: Box::pin(tokio::time::sleep(limits.header_timeout)),
        }
    }

    fn quiet_limit(&self) -> Duration {
        if self.place.meter.long_lived.load(Ordering::Relaxed) { self.quiet_websocket } else { self.quiet_http }
    }
}

impl AsyncRead for MeteredStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let n = (buf.filled().len() - before) as u64;
                if n > 0 {
                    this.last_read = Instant::now();
                    let meter = &this.place.meter;
                    let read = meter.read.fetch_add(n, Ordering::Relaxed) + n;
                    if read > meter.read_limit.load(Ordering::Relaxed) {
                        meter.over_budget.store(true, Ordering::Relaxed);
                        return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, "read budget exceeded")));
                    }
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => {
                // The timer is moved only when it would fire early, not on every read.
                let deadline = tokio::time::Instant::from_std(this.last_read + this.quiet_limit());
                if this.idle_timer.deadline() != deadline {
                    this.idle_timer.as_mut().reset(deadline);
                }
                match this.idle_timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "idle connection"))),
                    Poll::Pending => Poll::Pending,
                }
            }
            other => other,
        }
    }
}

impl AsyncWrite for MeteredStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

use std::future::Future as _;

/// The acceptor below TLS: admits each TCP connection, or turns it away (with a coded
/// answer while few are being turned away, else closed).
#[derive(Clone)]
pub struct LimitAcceptor {
    pub tracker: Arc<ConnectionTracker>,
    pub turn_away: crate::turn_away::TurnAway,
}

impl<S: Send + 'static> axum_server::accept::Accept<TcpStream, S> for LimitAcceptor {
    type Stream = MeteredStream;
    type Service = S;
    type Future = std::future::Ready<io::Result<(MeteredStream, S)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let peer = match stream.peer_addr() {
            Ok(p) => p,
            Err(e) => return std::future::ready(Err(e)),
        };
        let _ = stream.set_nodelay(true);
        std::future::ready(match self.tracker.admit(peer) {
            Ok(place) => Ok((MeteredStream::new(stream, place, &self.tracker.limits), service)),
            Err(why) => {
                self.tracker.warn(peer, why);
                self.turn_away.answer(stream, why);
                Err(io::Error::other("connection cap reached"))
            }
        })
    }
}

/// Raises this process's open-file soft limit to its hard limit (each connection is a
/// file) and returns the limit in force.
pub fn raise_open_file_limit() -> u64 {
    // SAFETY: getrlimit/setrlimit read and write a plain struct owned here.
    unsafe {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
        lim.rlim_cur
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(ip: u8, port: u16) -> SocketAddr {
        SocketAddr::from(([10, 0, 0, ip], port))
    }

    #[test]
    fn a_trusted_proxy_is_capped_only_in_total() {
        let proxies = crate::forwarded::TrustedProxies::parse(&["10.0.0.1".into()]).unwrap();
        let limits = ConnectionLimits { max_total: 5, max_per_address: 1, ..Default::default() };
        let t = ConnectionTracker::behind(limits, proxies);
        let held: Vec<Place> = (1..=3).map(|port| t.admit(addr(1, port)).unwrap()).collect();
        assert_eq!(held.len(), 3, "the proxy carries many users");
        let _other = t.admit(addr(2, 1)).unwrap();
        assert_eq!(t.admit(addr(2, 2)).err(), Some(Refusal::PerAddress), "others keep their cap");
        let _fourth = t.admit(addr(1, 4)).unwrap();
        assert_eq!(t.admit(addr(1, 9)).err(), Some(Refusal::Total));
    }

    #[test]
    fn caps_per_address_and_in_total_and_places_come_back() {
        let t = ConnectionTracker::new(ConnectionLimits { max_total: 3, max_per_address: 2, ..Default::default() });
        let a = t.admit(addr(1, 1)).unwrap();
        let _b = t.admit(addr(1, 2)).unwrap();
        assert_eq!(t.admit(addr(1, 3)).err(), Some(Refusal::PerAddress));
        let _c = t.admit(addr(2, 1)).unwrap();
        assert_eq!(t.admit(addr(3, 1)).err(), Some(Refusal::Total));
        assert!(t.meter(addr(1, 1)).is_some());
        drop(a);
        assert!(t.meter(addr(1, 1)).is_none());
        assert_eq!(t.open(addr(1, 0).ip()), (2, 1));
        assert!(t.admit(addr(1, 4)).is_ok(), "a closed connection's place is free again");
    }

    #[test]
    fn read_budget() {
        let m = ConnMeter::new();
        m.read.store(1000, Ordering::Relaxed);
        m.limit_reads(64);
        assert_eq!(m.read_limit.load(Ordering::Relaxed), 1064);
        m.unlimit_reads();
        assert_eq!(m.read_limit.load(Ordering::Relaxed), u64::MAX);
    }
}
