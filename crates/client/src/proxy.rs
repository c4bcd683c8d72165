//! The HTTP CONNECT proxy a client goes through, from the environment as curl and most
//! tools read it: `HTTPS_PROXY` (or `https_proxy`), else `ALL_PROXY` (`all_proxy`), unless
//! `NO_PROXY` (`no_proxy`) names the host. The common corporate setup: only the proxy
//! may reach port 443 outside.

use base64::Engine;
use deskshare_proto::{ErrorCode, WireError};
use url::Url;

/// An HTTP proxy, with optional Basic credentials from its URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxy {
    pub host: String,
    pub port: u16,
    user: String,
    password: Option<String>,
}

impl Proxy {
    /// Parses `http://[USER[:PASSWORD]@]HOST[:PORT]` (port 3128 by default, as squid's);
    /// a bare `HOST:PORT` is taken as http.
    pub fn parse(text: &str) -> Result<Proxy, WireError> {
        let bad = |why: &str| WireError::new(ErrorCode::UrlInvalid, format!("proxy '{}': {why}", redact(text)));
        let with_scheme = if text.contains("://") { text.to_string() } else { format!("http://{text}") };
        let url = Url::parse(&with_scheme).map_err(|e| bad(&e.to_string()))?;
        if url.scheme() != "http" {
            return Err(bad("only http:// proxies (HTTP CONNECT) are supported"));
        }
        let host = url.host_str().ok_or_else(|| bad("no host"))?.trim_start_matches('[').trim_end_matches(']');
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        Ok(Proxy {
            host: host.to_string(),
            port: url.port().unwrap_or(3128),
            user: decode(url.username()),
            password: url.password().map(decode),
        })
    }

    /// The proxy for connections to `host`, from the process environment.
    pub fn for_host(host: &str) -> Result<Option<Proxy>, WireError> {
        let var = |names: &[&str]| names.iter().find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()));
        Proxy::choose(
            host,
            var(&["HTTPS_PROXY", "https_proxy"]).or_else(|| var(&["ALL_PROXY", "all_proxy"])).as_deref(),
            var(&["NO_PROXY", "no_proxy"]).as_deref(),
        )
    }

    /// The rule itself, without the environment: `proxy` unless `no_proxy` names `host`.
    pub fn choose(host: &str, proxy: Option<&str>, no_proxy: Option<&str>) -> Result<Option<Proxy>, WireError> {
        match proxy {
            Some(p) if !no_proxy.is_some_and(|n| bypasses(n, host)) => Proxy::parse(p.trim()).map(Some),
            _ => Ok(None),
        }
    }

    /// `Proxy-Authorization: Basic` value, when the URL carried a user.
    pub fn basic_auth(&self) -> Option<String> {
        if self.user.is_empty() {
            return None;
        }
        let pair = format!("{}:{}", self.user, self.password.as_deref().unwrap_or(""));
        Some(base64::engine::general_purpose::STANDARD.encode(pair))
    }

    /// `host:port` without credentials, for messages.
    pub fn display(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Whether a `NO_PROXY` list names `host`: `*`, the host itself, or a domain suffix
/// (`example.org` and `.example.org` both cover `a.example.org`). Ports in entries are
/// ignored, as most tools do.
fn bypasses(no_proxy: &str, host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    no_proxy.split(',').map(str::trim).filter(|e| !e.is_empty()).any(|entry| {
        if entry == "*" {
            return true;
        }
        let entry = entry.to_ascii_lowercase();
        // Drop a port, but not the colons of an IPv6 address.
        let entry = match entry.rsplit_once(':') {
            Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') => h.to_string(),
            _ => entry,
        };
        let entry = entry.trim_start_matches('[').trim_end_matches(']');
        let domain = entry.trim_start_matches('.');
        host == domain || host.ends_with(&format!(".{domain}"))
    })
}

/// A proxy URL with its password hidden, for messages.
fn redact(text: &str) -> String {
    match text.split_once('@') {
        Some((creds, rest)) => match creds.rsplit_once(':') {
            Some((user, _)) if !user.ends_with('/') => format!("{user}:***@{rest}"),
            _ => text.to_string(),
        },
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls_parse_with_credentials_and_default_port() {
        let p = Proxy::parse("http://alice:s%40cret@proxy.corp:8080").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("proxy.corp", 8080));
        assert_eq!(p.basic_auth().unwrap(), base64::engine::general_purpose::STANDARD.encode("alice:s@cret"));
        assert_eq!(p.display(), "proxy.corp:8080");
        let bare = Proxy::parse("10.0.0.1").unwrap();
        assert_eq!((bare.host.as_str(), bare.port, bare.basic_auth()), ("10.0.0.1", 3128, None));
        let e = Proxy::parse("socks5://u:pw@h:1080").unwrap_err();
        assert_eq!(e.code, ErrorCode::UrlInvalid);
        assert!(!e.message.contains("pw"), "the password is not repeated: {}", e.message);
    }

    #[test]
    fn no_proxy_names_hosts_domains_and_everything() {
        let p = Some("http://proxy:3128");
        let via = |host: &str, no: Option<&str>| Proxy::choose(host, p, no).unwrap().is_some();
        assert!(via("deskshare.example.org", None));
        assert!(!via("deskshare.example.org", Some("localhost, .example.org")));
        assert!(!via("deskshare.example.org", Some("example.org")));
        assert!(via("notexample.org", Some("example.org")), "a suffix is a domain, not a string");
        assert!(!via("10.1.2.3", Some("10.1.2.3:443")));
        assert!(!via("::1", Some("[::1]")));
        assert!(!via("anything", Some("*")));
        assert!(Proxy::choose("host", None, None).unwrap().is_none());
    }
}
