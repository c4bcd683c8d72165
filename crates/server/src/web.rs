//! The browser client, embedded in the binary: plain ES modules, no build step.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;

use crate::error::ApiError;
use crate::state::AppState;
use deskshare_proto::{ErrorCode, WireError};

macro_rules! web_files {
    ($($path:literal),* $(,)?) => {
        /// Every file under `web/`, by path relative to it.
        pub const FILES: &[(&str, &[u8])] = &[$(($path, include_bytes!(concat!("../../../web/", $path)))),*];
    };
}

web_files!(
    "index.html",
    "meeting.html",
    "check.html",
    "setup.html",
    "app/setup.js",
    "app/copyable.js",
    "app/consent.js",
    "app/share-desktop.js",
    "app/toolbar.js",
    "app/style.css",
    "app/main.js",
    "app/page-state.js",
    "app/check.js",
    "app/session.js",
    "app/protocol.js",
    "app/errors.js",
    "app/report.js",
    "app/diagnosis.js",
    "app/attention.js",
    "app/view.js",
    "app/render-worker.js",
    "app/decoders/solid.js",
    "app/decoders/raw.js",
    "app/decoders/qoi.js",
    "app/decoders/palette.js",
    "app/decoders/inflate.js",
    "app/decoders/screen.js",
    "app/decoders/media.js",
    "app/dom.js",
    "app/worker-rpc.js",
    "app/control.js",
    "app/keys.js",
    "app/roster.js",
    "app/roster-list.js",
    "app/api.js",
    "app/chat.js",
    "app/join.js",
    "app/home.js",
    "app/present.js",
    "app/encode-worker.js",
    "app/encoders/qoi.js",
    "app/encoders/palette.js",
    "app/encoders/rects.js",
    "app/icon.svg",
);

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn serve(path: &str) -> Response {
    match FILES.iter().find(|(p, _)| *p == path) {
        Some((p, bytes)) => {
            let mut res = bytes.into_response();
            let h = res.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(p)));
            // Files change with the binary; a short cache keeps upgrades visible.
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            res
        }
        None => ApiError(WireError::new(ErrorCode::MeetingNotFound, "no such file")).into_response(),
    }
}

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(|| async { serve("index.html") }))
        .route("/m/{id}", get(|| async { serve("meeting.html") }))
        .route("/check", get(|| async { serve("check.html") }))
        .route("/setup", get(|| async { serve("setup.html") }))
        .route("/app/{*file}", get(|Path(file): Path<String>| async move { serve(&format!("app/{file}")) }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_web_file_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web");
        let mut on_disk = vec![];
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if !path.to_string_lossy().ends_with(".d.ts") && path.file_name().unwrap() != "jsconfig.json" {
                    on_disk.push(path.strip_prefix(&root).unwrap().to_string_lossy().into_owned());
                }
            }
        }
        for f in &on_disk {
            assert!(super::FILES.iter().any(|(p, _)| p == f), "web/{f} is not in web_files!");
        }
    }
}
