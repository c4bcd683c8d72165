//! Meeting links: `https://HOST:PORT/m/ID` to view, plus `#presenter=SECRET` to present.

use deskshare_proto::{ErrorCode, WireError};
use url::Url;

/// A parsed join or presenter URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeetingLink {
    /// `https://HOST:PORT/`.
    pub base: Url,
    pub id: String,
    /// The presenter secret, if this is a presenter URL.
    pub secret: Option<String>,
}

impl MeetingLink {
    pub fn parse(s: &str) -> Result<Self, WireError> {
        let bad = |why: &str| WireError::new(ErrorCode::UrlInvalid, format!("'{s}': {why}"));
        let url = Url::parse(s).map_err(|e| bad(&e.to_string()))?;
        if url.scheme() != "https" {
            return Err(bad("deskshare URLs start with https://"));
        }
        let segments: Vec<&str> =
            url.path_segments().map(|s| s.filter(|p| !p.is_empty()).collect()).unwrap_or_default();
        let id = match segments.as_slice() {
            ["m", id] => id.to_string(),
            _ => return Err(bad("expected the path /m/MEETING_ID")),
        };
        let secret = url.fragment().and_then(|f| f.strip_prefix("presenter=")).map(str::to_string);
        let mut base = url.clone();
        base.set_path("/");
        base.set_query(None);
        base.set_fragment(None);
        Ok(MeetingLink { base, id, secret })
    }

    /// The WebSocket URL of this meeting, for watching.
    pub fn ws_url(&self) -> Url {
        let mut url = self.base.join(&format!("api/meetings/{}/ws", self.id)).expect("path joins");
        url.set_scheme("wss").expect("wss is a valid scheme");
        url
    }

    /// The WebSocket URL for presenting: `?role=presenter` tells the server to accept
    /// screen-sized messages on this connection (others carry control messages only).
    pub fn presenter_ws_url(&self) -> Url {
        let mut url = self.ws_url();
        url.set_query(Some("role=presenter"));
        url
    }

    /// The viewer URL, without any secret.
    pub fn join_url(&self) -> Url {
        self.base.join(&format!("m/{}", self.id)).expect("path joins")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_join_and_presenter_urls() {
        let l = MeetingLink::parse("https://h.example:8443/m/abc#presenter=s3").unwrap();
        assert_eq!(l.id, "abc");
        assert_eq!(l.secret.as_deref(), Some("s3"));
        assert_eq!(l.ws_url().as_str(), "wss://h.example:8443/api/meetings/abc/ws");
        assert_eq!(l.join_url().as_str(), "https://h.example:8443/m/abc");
        assert_eq!(MeetingLink::parse("https://h/m/x").unwrap().secret, None);
        for bad in ["http://h/m/x", "https://h/x", "https://h/m/", "nonsense", "https://h/m/x/y"] {
            assert_eq!(MeetingLink::parse(bad).unwrap_err().code, ErrorCode::UrlInvalid, "{bad}");
        }
    }
}
