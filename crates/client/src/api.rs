//! REST calls, with the caller's token (admin token or a signed-in session) as bearer.

use deskshare_proto::api::{
    CreateMeeting, CreateUser, CreatedMeeting, ErrorBody, LoginRequest, LoginResponse, MeetingInfo, MeetingSummary,
    PolicyReport, SetPolicy, UpdateMeeting, UpdateUser, UserInfo,
};
use deskshare_proto::{ErrorCode, WireError};
use reqwest::Method;
use serde::de::DeserializeOwned;
use url::Url;

use crate::TlsOptions;
use crate::errors::classify;
use crate::proxy::Proxy;

/// A REST client for one server.
pub struct Api {
    base: Url,
    http: reqwest::Client,
    token: Option<String>,
    tls: TlsOptions,
}

/// Parses a server URL (`https://HOST:PORT`, any path ignored).
pub fn server_base(server: &str) -> Result<Url, WireError> {
    let mut base = Url::parse(server).map_err(|e| WireError::new(ErrorCode::UrlInvalid, format!("'{server}': {e}")))?;
    if base.scheme() != "https" {
        return Err(WireError::new(ErrorCode::UrlInvalid, format!("'{server}': the server URL starts with https://")));
    }
    base.set_path("/");
    base.set_query(None);
    base.set_fragment(None);
    Ok(base)
}

impl Api {
    pub fn new(server: &str, tls: &TlsOptions, token: Option<String>) -> Result<Self, WireError> {
        let base = server_base(server)?;
        // The same proxy rule as the WebSocket's (crate::proxy), not reqwest's own.
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured((*tls.client_config()?).clone())
            .timeout(std::time::Duration::from_secs(30))
            .no_proxy();
        let (host, _) = crate::dial::host_port(&base).map_err(WireError::from)?;
        if let Some(p) = Proxy::for_host(&host)? {
            let url = format!("http://{}", p.display());
            let bad = |e: reqwest::Error| WireError::new(ErrorCode::UrlInvalid, format!("proxy {url}: {e}"));
            let mut proxy = reqwest::Proxy::https(&url).map_err(bad)?;
            if let Some(auth) = p.basic_auth() {
                let value = format!("Basic {auth}").parse().map_err(|_| {
                    WireError::new(ErrorCode::UrlInvalid, "proxy credentials have characters a header cannot carry")
                })?;
                proxy = proxy.custom_http_auth(value);
            }
            builder = builder.proxy(proxy);
        }
        let http = builder.build().map_err(|e| WireError::new(ErrorCode::ServerError, e.to_string()))?;
        Ok(Api { base, http, token, tls: tls.clone() })
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl serde::Serialize>,
    ) -> Result<T, WireError> {
        self.call_with(method, path, body, &[]).await
    }

    async fn call_with<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl serde::Serialize>,
        headers: &[(&str, &str)],
    ) -> Result<T, WireError> {
        let url = self.base.join(path).expect("path joins");
        let mut req = self.http.request(method, url.clone());
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = match req.send().await {
            Ok(res) => res,
            Err(e) if e.is_connect() || e.is_timeout() => return Err(self.name_the_hop(&e, &url).await),
            Err(e) => return Err(classify(&e, url.as_str())),
        };
        let status = res.status();
        let bytes = res.bytes().await.map_err(|e| classify(&e, "reading response"))?;
        if status.is_success() {
            let bytes = if bytes.is_empty() { &b"null"[..] } else { &bytes[..] };
            serde_json::from_slice(bytes)
                .map_err(|e| WireError::new(ErrorCode::MessageMalformed, format!("server answer: {e}")))
        } else {
            match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(b) => Err(b.error.error),
                Err(_) => Err(WireError::new(ErrorCode::ServerError, format!("HTTP {status}"))),
            }
        }
    }

    /// A request that could not connect: dial the server hop by hop to say which hop
    /// failed (the name, the port, the proxy, the certificate), as the WebSocket does.
    async fn name_the_hop(&self, e: &reqwest::Error, url: &Url) -> WireError {
        match crate::dial::dial(&self.base, &self.tls).await {
            Err(hop) => hop.into(),
            Ok(_) => classify(e, url.as_str()),
        }
    }

    pub async fn login(&self, name: &str, password: &str) -> Result<LoginResponse, WireError> {
        let req = LoginRequest { name: name.to_string(), password: password.to_string() };
        self.call(Method::POST, "api/login", Some(&req)).await
    }

    /// The public facts of a meeting and what this caller may do in it; with the
    /// presenter secret, whether presenting would be allowed.
    pub async fn meeting_info(&self, id: &str, secret: Option<&str>) -> Result<MeetingInfo, WireError> {
        let headers: Vec<(&str, &str)> = secret.map(|s| ("x-deskshare-presenter-secret", s)).into_iter().collect();
        self.call_with(Method::GET, &format!("api/meetings/{id}"), None::<&()>, &headers).await
    }

    pub async fn logout(&self) -> Result<serde_json::Value, WireError> {
        self.call(Method::POST, "api/logout", None::<&()>).await
    }

    pub async fn create_meeting(&self, req: &CreateMeeting) -> Result<CreatedMeeting, WireError> {
        self.call(Method::POST, "api/meetings", Some(req)).await
    }

    /// Every meeting of the caller, page by page (the server sends at most 500 at once).
    pub async fn meetings(&self) -> Result<Vec<MeetingSummary>, WireError> {
        const PAGE: usize = 500;
        let mut all = Vec::new();
        loop {
            let path = format!("api/meetings?limit={PAGE}&offset={}", all.len());
            let page: Vec<MeetingSummary> = self.call(Method::GET, &path, None::<&()>).await?;
            let last = page.len() < PAGE;
            all.extend(page);
            if last {
                return Ok(all);
            }
        }
    }

    pub async fn meeting(&self, id: &str) -> Result<MeetingSummary, WireError> {
        self.call(Method::GET, &format!("api/meetings/{id}/details"), None::<&()>).await
    }

    pub async fn update_meeting(&self, id: &str, req: &UpdateMeeting) -> Result<MeetingSummary, WireError> {
        self.call(Method::PATCH, &format!("api/meetings/{id}"), Some(req)).await
    }

    pub async fn delete_meeting(&self, id: &str) -> Result<(), WireError> {
        self.call::<serde_json::Value>(Method::DELETE, &format!("api/meetings/{id}"), None::<&()>).await.map(|_| ())
    }

    /// Everyone in a live meeting, its lobby included (organisers and presenters).
    pub async fn roster(&self, id: &str) -> Result<Vec<deskshare_proto::RosterEntry>, WireError> {
        self.call(Method::GET, &format!("api/meetings/{id}/roster"), None::<&()>).await
    }

    /// The meeting's chat as kept.
    pub async fn chat(&self, id: &str) -> Result<Vec<deskshare_proto::ChatLine>, WireError> {
        self.call(Method::GET, &format!("api/meetings/{id}/chat"), None::<&()>).await
    }

    /// admit, deny, promote, demote or remove a participant of a live meeting.
    pub async fn act(
        &self,
        id: &str,
        participant: deskshare_proto::ParticipantId,
        action: &str,
    ) -> Result<Vec<deskshare_proto::RosterEntry>, WireError> {
        self.call(Method::POST, &format!("api/meetings/{id}/participants/{participant}/{action}"), None::<&()>).await
    }

    /// A presenter link naming the signed-in caller, its `deskshare:` form and the
    /// command that shares with it (what the page's Share my desktop opens).
    pub async fn share_link(&self, id: &str) -> Result<deskshare_proto::api::ShareLink, WireError> {
        self.call(Method::POST, &format!("api/meetings/{id}/share-link"), None::<&()>).await
    }

    /// Ends a meeting for everyone connected.
    pub async fn end_meeting(&self, id: &str) -> Result<(), WireError> {
        self.call::<serde_json::Value>(Method::POST, &format!("api/meetings/{id}/end"), None::<&()>).await.map(|_| ())
    }

    pub async fn create_user(&self, req: &CreateUser) -> Result<UserInfo, WireError> {
        self.call(Method::POST, "api/admin/users", Some(req)).await
    }

    pub async fn users(&self) -> Result<Vec<UserInfo>, WireError> {
        self.call(Method::GET, "api/admin/users", None::<&()>).await
    }

    /// The policies at one level: global, a user's, or a meeting's.
    pub async fn policies(&self, user: Option<&str>, meeting: Option<&str>) -> Result<PolicyReport, WireError> {
        let mut url = self.base.join("api/admin/policies").expect("path joins");
        if let Some(u) = user {
            url.query_pairs_mut().append_pair("user", u);
        }
        if let Some(m) = meeting {
            url.query_pairs_mut().append_pair("meeting", m);
        }
        self.call(Method::GET, &url[url::Position::BeforePath..][1..], None::<&()>).await
    }

    pub async fn set_policy(&self, req: &SetPolicy) -> Result<PolicyReport, WireError> {
        self.call(Method::PUT, "api/admin/policies", Some(req)).await
    }

    pub async fn update_user(&self, name: &str, req: &UpdateUser) -> Result<UserInfo, WireError> {
        self.call(Method::PATCH, &format!("api/admin/users/{name}"), Some(req)).await
    }

    /// `POST /api/reports`: one failure report (see `crate::report`).
    pub async fn report(&self, r: &deskshare_proto::report::FailureReport) -> Result<(), WireError> {
        self.call::<serde_json::Value>(Method::POST, "api/reports", Some(r)).await.map(|_| ())
    }

    /// `GET /api/admin/diagnose`: the failures reported since `since` (e.g. `1h`) and the
    /// scoping verdict.
    pub async fn diagnose(
        &self,
        since: &str,
        meeting: Option<&str>,
    ) -> Result<deskshare_proto::report::Diagnosis, WireError> {
        let mut url = self.base.join("api/admin/diagnose").expect("path joins");
        url.query_pairs_mut().append_pair("since", since);
        if let Some(m) = meeting {
            url.query_pairs_mut().append_pair("meeting", m);
        }
        self.call(Method::GET, &url[url::Position::BeforePath..][1..], None::<&()>).await
    }
}
