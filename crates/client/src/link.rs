//! Meeting links: `https://HOST:PORT/m/ID` to view, plus `#presenter=SECRET` (the
//! meeting's presenter link) or `#share=PASS` (a person's link from "Share my desktop")
//! to present; and `deskshare://share?link=LINK&ca=PIN`, what the meeting page opens the
//! installed agent with.

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
    /// A share pass (`#share=`), if this is a person's link from "Share my desktop".
    pub share_pass: Option<String>,
}

/// What a `deskshare:` link asks for: share with `link`, trusting the server's
/// certificate by `ca` (a `sha256:` pin) when the server made it itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenLink {
    pub link: MeetingLink,
    pub ca: Option<String>,
}

impl OpenLink {
    /// Parses `deskshare://share?link=…[&ca=sha256:…]`.
    pub fn parse(s: &str) -> Result<Self, WireError> {
        let bad = |why: &str| WireError::new(ErrorCode::UrlInvalid, format!("'{s}': {why}"));
        let url = Url::parse(s).map_err(|e| bad(&e.to_string()))?;
        if url.scheme() != "deskshare" || url.host_str() != Some("share") {
            return Err(bad("a deskshare: link is deskshare://share?link=…"));
        }
        let (mut link, mut ca) = (None, None);
        for (k, v) in url.query_pairs() {
            match k.as_ref() {
                "link" => link = Some(v.into_owned()),
                "ca" if deskshare_proto::cert::parse_pin(&v).is_some() => ca = Some(v.into_owned()),
                "ca" => return Err(bad("its ca is not a sha256: pin")),
                _ => {}
            }
        }
        let link = MeetingLink::parse(&link.ok_or_else(|| bad("it has no link"))?)?;
        if link.secret.is_none() && link.share_pass.is_none() {
            return Err(bad("its link is not a presenter link"));
        }
        Ok(OpenLink { link, ca })
    }

    /// Whether `s` is a `deskshare:` link rather than an https one.
    pub fn is_one(s: &str) -> bool {
        s.get(..10).is_some_and(|p| p.eq_ignore_ascii_case("deskshare:"))
    }
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
        let share_pass = url.fragment().and_then(|f| f.strip_prefix("share=")).map(str::to_string);
        let mut base = url.clone();
        base.set_path("/");
        base.set_query(None);
        base.set_fragment(None);
        Ok(MeetingLink { base, id, secret, share_pass })
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
        let mine = MeetingLink::parse("https://h/m/x#share=s1.a.b").unwrap();
        assert_eq!((mine.secret, mine.share_pass.as_deref()), (None, Some("s1.a.b")));
    }

    #[test]
    fn parses_what_the_page_opens_the_agent_with() {
        let pin = format!("sha256:{}", "ab".repeat(32));
        let s = format!("deskshare://share?link=https%3A%2F%2Fh%3A8443%2Fm%2Fx%23share%3Ds1.a.b&ca={pin}");
        assert!(OpenLink::is_one(&s) && !OpenLink::is_one("https://h/m/x"));
        let open = OpenLink::parse(&s).unwrap();
        assert_eq!(open.link.share_pass.as_deref(), Some("s1.a.b"));
        assert_eq!(open.link.base.as_str(), "https://h:8443/");
        assert_eq!(open.ca, Some(pin));
        for bad in [
            "deskshare://share",
            "deskshare://other?link=https%3A%2F%2Fh%2Fm%2Fx%23share%3Ds",
            "deskshare://share?link=https%3A%2F%2Fh%2Fm%2Fx",
            "deskshare://share?link=https%3A%2F%2Fh%2Fm%2Fx%23share%3Ds&ca=.%2Fcert.pem",
            "deskshare://share?link=http%3A%2F%2Fh%2Fm%2Fx%23share%3Ds",
        ] {
            assert_eq!(OpenLink::parse(bad).unwrap_err().code, ErrorCode::UrlInvalid, "{bad}");
        }
    }
}
