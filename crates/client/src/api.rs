//! REST calls.

use deskshare_proto::api::{CreateMeeting, CreatedMeeting, ErrorBody};
use deskshare_proto::{ErrorCode, WireError};
use url::Url;

use crate::TlsOptions;
use crate::errors::classify;

/// A REST client for one server.
pub struct Api {
    base: Url,
    http: reqwest::Client,
}

impl Api {
    pub fn new(server: &str, tls: &TlsOptions) -> Result<Self, WireError> {
        let mut base =
            Url::parse(server).map_err(|e| WireError::new(ErrorCode::UrlInvalid, format!("'{server}': {e}")))?;
        if base.scheme() != "https" {
            return Err(WireError::new(
                ErrorCode::UrlInvalid,
                format!("'{server}': the server URL starts with https://"),
            ));
        }
        base.set_path("/");
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured((*tls.client_config()?).clone())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| WireError::new(ErrorCode::ServerError, e.to_string()))?;
        Ok(Api { base, http })
    }

    pub async fn create_meeting(&self, token: &str, title: Option<&str>) -> Result<CreatedMeeting, WireError> {
        let url = self.base.join("api/meetings").expect("path joins");
        let res = self
            .http
            .post(url.clone())
            .bearer_auth(token)
            .json(&CreateMeeting { title: title.map(str::to_string), expires_in: None })
            .send()
            .await
            .map_err(|e| classify(&e, url.as_str()))?;
        decode(res).await
    }
}

async fn decode<T: serde::de::DeserializeOwned>(res: reqwest::Response) -> Result<T, WireError> {
    let status = res.status();
    let body = res.bytes().await.map_err(|e| classify(&e, "reading response"))?;
    if status.is_success() {
        serde_json::from_slice(&body)
            .map_err(|e| WireError::new(ErrorCode::MessageMalformed, format!("server answer: {e}")))
    } else {
        match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(b) => Err(b.error.error),
            Err(_) => Err(WireError::new(ErrorCode::ServerError, format!("HTTP {status}"))),
        }
    }
}
