//! Behind a reverse proxy (`serve --behind-proxy CIDR`): the TCP peer is the proxy, and
//! the person is named in `X-Forwarded-For`. Only peers in the trusted ranges may say so;
//! from anyone else the header is ignored, or anyone could pick the address their
//! sign-in and passcode attempts are counted against. Trusted proxies are also exempt
//! from the per-address connection cap: all their users share their address.

use std::net::IpAddr;
use std::sync::Arc;

use crate::ranges::AddressRanges;
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// The reverse proxies whose forwarding headers are believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(AddressRanges);

/// The address a request is from: the person's, as far as trusted proxies tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl TrustedProxies {
    pub fn parse(ranges: &[String]) -> Result<TrustedProxies, String> {
        AddressRanges::parse(ranges).map(TrustedProxies)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.contains(ip)
    }

    /// The client of a request from `peer` with these `X-Forwarded-For` values: walking
    /// from the right (the nearest hop), the first address not a trusted proxy. A peer
    /// that is not trusted is the client, whatever it claims.
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<IpAddr> =
            forwarded_for.iter().flat_map(|v| v.split(',')).filter_map(|h| h.trim().parse::<IpAddr>().ok()).collect();
        hops.iter().rev().copied().find(|ip| !self.trusts(*ip)).or(hops.first().copied()).unwrap_or(peer)
    }
}

/// Puts the [`ClientAddr`] on every request.
pub async fn client_addr(State(state): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    if let Some(peer) = peer {
        let values: Vec<&str> =
            req.headers().get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
        let client = state.proxies.client(peer, &values);
        if client != peer {
            let proto = req.headers().get("x-forwarded-proto").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::debug!(%peer, %client, proto, "forwarded by a trusted proxy");
        }
        req.extensions_mut().insert(ClientAddr(client));
    }
    next.run(req).await
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let fallback = || {
            parts
                .extensions
                .get::<ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip())
                .unwrap_or(IpAddr::from([0, 0, 0, 0]))
        };
        Ok(parts.extensions.get::<ClientAddr>().copied().unwrap_or_else(|| ClientAddr(fallback())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_trusted_peers_name_the_client() {
        let t = TrustedProxies::parse(&["10.0.0.0/8, 192.0.2.7".into()]).unwrap();
        // A direct client cannot choose its address.
        assert_eq!(t.client(ip("198.51.100.9"), &["203.0.113.1"]), ip("198.51.100.9"));
        // Through the proxy: the address it saw (the rightmost untrusted hop), not what
        // the client put in front of it.
        assert_eq!(t.client(ip("192.0.2.7"), &["203.0.113.1, 198.51.100.9"]), ip("198.51.100.9"));
        assert_eq!(t.client(ip("10.1.1.1"), &["198.51.100.9", "10.2.2.2"]), ip("198.51.100.9"));
        // Only proxies in the chain: the first hop.
        assert_eq!(t.client(ip("10.1.1.1"), &["10.3.3.3"]), ip("10.3.3.3"));
        // A trusted peer with no header is itself.
        assert_eq!(t.client(ip("10.1.1.1"), &[]), ip("10.1.1.1"));
        assert_eq!(t.client(ip("10.1.1.1"), &["not an address"]), ip("10.1.1.1"));
        assert!(TrustedProxies::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(TrustedProxies::default().is_empty());
    }
}
