//! The server's check of itself, at start and on `GET /api/admin/health`: does the
//! certificate name the public URL's host and for how long is it valid, and can the
//! public URL be reached from this machine when its host is this machine. The mistakes
//! that made the predecessors' edge servers unreachable, said plainly at start.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::Serialize;
use url::Url;

/// A certificate ending sooner than this is warned about.
pub const EXPIRY_WARNING: Duration = Duration::from_secs(14 * 24 * 3600);

/// How one check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

/// One check.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Check {
    pub name: &'static str,
    pub level: Level,
    pub detail: String,
}

/// Every check, and the worst of them.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    pub version: &'static str,
    pub public_url: String,
    pub level: Level,
    pub checks: Vec<Check>,
}

/// What the certificate says, read once at start.
#[derive(Clone, Debug)]
pub struct CertFacts {
    pub names: Vec<String>,
    pub not_after: i64,
    pub self_made: bool,
}

/// The certificate's names and end against the public URL and `now`.
pub fn certificate(cert: &CertFacts, public_host: &str, now: i64) -> Check {
    let host = public_host.trim_start_matches('[').trim_end_matches(']');
    let covers = cert.names.iter().any(|n| {
        n.eq_ignore_ascii_case(host)
            || n.strip_prefix("*.")
                .is_some_and(|d| host.split_once('.').is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(d)))
    });
    let left = cert.not_after - now;
    let whose = if cert.self_made { "self-signed (made by deskshare)" } else { "the administrator's" };
    let days = left.div_euclid(86_400);
    let (level, detail) = if !covers {
        (Level::Fail, format!("{whose} certificate names {}, not {host}", cert.names.join(", ")))
    } else if left <= 0 {
        (Level::Fail, format!("{whose} certificate for {host} has expired"))
    } else if left < EXPIRY_WARNING.as_secs() as i64 {
        (Level::Warn, format!("{whose} certificate for {host} ends in {days} day(s): renew it"))
    } else {
        (Level::Ok, format!("{whose} certificate names {host}, valid {days} more days"))
    };
    Check { name: "certificate", level, detail }
}

/// Whether an address belongs to this machine (a socket can be bound to it).
fn is_local(ip: IpAddr) -> bool {
    ip.is_loopback() || std::net::UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

/// Connects to the public URL's host and port where that host is this machine; says
/// nothing certain about other hosts (a proxy or a NAT in front), and says so.
pub async fn reachability(public_url: &Url) -> Check {
    let name = "reachable";
    let Some(host) = public_url.host_str().map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string()) else {
        return Check { name, level: Level::Fail, detail: "the public URL has no host".into() };
    };
    let port = public_url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = match tokio::net::lookup_host((host.as_str(), port)).await {
        Ok(a) => a.collect(),
        Err(e) => {
            return Check {
                name,
                level: Level::Warn,
                detail: format!("{host} does not resolve here ({e}): clients must resolve it elsewhere"),
            };
        }
    };
    let local: Vec<SocketAddr> = addrs.iter().copied().filter(|a| is_local(a.ip())).collect();
    if local.is_empty() {
        let list: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
        return Check {
            name,
            level: Level::Ok,
            detail: format!(
                "{host} resolves to {} (not this machine: a proxy or NAT in front is not checked from here)",
                list.join(", ")
            ),
        };
    }
    let mut failed = Vec::new();
    for a in &local {
        match tokio::time::timeout(Duration::from_secs(3), tokio::net::TcpStream::connect(a)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => failed.push(format!("{a}: {e}")),
            Err(_) => failed.push(format!("{a}: no answer in 3 s")),
        }
    }
    if failed.is_empty() {
        Check { name, level: Level::Ok, detail: format!("{host}:{port} answers from this machine") }
    } else {
        Check {
            name,
            level: Level::Fail,
            detail: format!(
                "{host}:{port} is this machine but does not answer ({}): is --listen on another address or port?",
                failed.join("; ")
            ),
        }
    }
}

/// Runs every check.
pub async fn check(cert: &CertFacts, public_url: &Url, now: i64) -> Health {
    let host = public_url.host_str().unwrap_or("");
    let checks = vec![certificate(cert, host, now), reachability(public_url).await];
    let level = checks.iter().map(|c| c.level).max_by_key(|l| *l as u8).unwrap_or(Level::Ok);
    Health { version: env!("CARGO_PKG_VERSION"), public_url: public_url.to_string(), level, checks }
}

/// `GET /api/admin/health`: the self-check, run now (administrators only).
#[utoipa::path(get, path = "/api/admin/health", tag = "admin", responses((status = 200, body = Health), (status = 401, body = deskshare_proto::api::ErrorBody), (status = 403, body = deskshare_proto::api::ErrorBody, description = "ADMIN_REQUIRED")))]
pub async fn endpoint(
    axum::extract::State(state): axum::extract::State<std::sync::Arc<crate::state::AppState>>,
    caller: crate::identity::Caller,
) -> Result<axum::Json<Health>, crate::error::ApiError> {
    caller.require_admin()?;
    Ok(axum::Json(check(&state.certificate, &state.public_url, state.clock.now()).await))
}

impl Health {
    /// One line a check, for the start-up output.
    pub fn lines(&self) -> Vec<String> {
        self.checks
            .iter()
            .map(|c| {
                let mark = match c.level {
                    Level::Ok => "ok",
                    Level::Warn => "WARNING",
                    Level::Fail => "PROBLEM",
                };
                format!("self-check {mark}: {}: {}", c.name, c.detail)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(names: &[&str], days: i64) -> CertFacts {
        CertFacts {
            names: names.iter().map(|s| s.to_string()).collect(),
            not_after: 1_000_000 + days * 86_400,
            self_made: false,
        }
    }

    #[test]
    fn the_certificate_must_name_the_host_and_not_end_soon() {
        let now = 1_000_000;
        assert_eq!(certificate(&cert(&["share.example.org"], 90), "share.example.org", now).level, Level::Ok);
        assert_eq!(certificate(&cert(&["*.example.org"], 90), "share.example.org", now).level, Level::Ok);
        assert_eq!(certificate(&cert(&["*.example.org"], 90), "a.b.example.org", now).level, Level::Fail);
        let wrong = certificate(&cert(&["other.example.org"], 90), "share.example.org", now);
        assert_eq!(wrong.level, Level::Fail);
        assert!(wrong.detail.contains("other.example.org"), "{}", wrong.detail);
        let soon = certificate(&cert(&["share.example.org"], 3), "share.example.org", now);
        assert_eq!(soon.level, Level::Warn);
        assert!(soon.detail.contains("3 day"), "{}", soon.detail);
        assert_eq!(certificate(&cert(&["share.example.org"], -1), "share.example.org", now).level, Level::Fail);
        assert_eq!(certificate(&cert(&["::1"], 90), "[::1]", now).level, Level::Ok);
    }

    #[tokio::test]
    async fn a_public_url_on_this_machine_is_dialled() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let up = reachability(&Url::parse(&format!("https://127.0.0.1:{port}/")).unwrap()).await;
        assert_eq!(up.level, Level::Ok, "{}", up.detail);
        drop(l);
        let down = reachability(&Url::parse(&format!("https://127.0.0.1:{port}/")).unwrap()).await;
        assert_eq!(down.level, Level::Fail, "{}", down.detail);
        assert!(down.detail.contains("--listen"), "{}", down.detail);
    }
}
