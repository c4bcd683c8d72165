//! Finding what to share: top-level windows with their titles, for `--list-windows`,
//! `--window` and `--window-name`.

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{self, AtomEnum, ConnectionExt as _};
use x11rb::rust_connection::RustConnection;

/// A top-level window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowInfo {
    pub id: u32,
    pub title: String,
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
}

use crate::capture::CaptureError;

fn lost(e: impl std::fmt::Display) -> CaptureError {
    CaptureError::lost(e)
}

/// The windows a person would call "programs": `_NET_CLIENT_LIST` when a window manager
/// keeps one, else the root's mapped children that have a title.
pub fn list(display: Option<&str>) -> Result<Vec<WindowInfo>, CaptureError> {
    let (conn, screen_num) = x11rb::connect(display).map_err(|e| CaptureError::Unreachable {
        display: display.map(str::to_string).or_else(|| std::env::var("DISPLAY").ok()).unwrap_or_default(),
        detail: e.to_string(),
    })?;
    let root = conn.setup().roots[screen_num].root;
    let atom = |name: &str| -> Result<u32, CaptureError> {
        Ok(conn.intern_atom(false, name.as_bytes()).map_err(lost)?.reply().map_err(lost)?.atom)
    };
    let client_list = atom("_NET_CLIENT_LIST")?;
    let from_wm: Vec<u32> = conn
        .get_property(false, root, client_list, AtomEnum::WINDOW, 0, 4096)
        .map_err(lost)?
        .reply()
        .map_err(lost)?
        .value32()
        .map(|v| v.collect())
        .unwrap_or_default();
    let managed = !from_wm.is_empty();
    let candidates =
        if !managed { conn.query_tree(root).map_err(lost)?.reply().map_err(lost)?.children } else { from_wm };
    let net_wm_name = atom("_NET_WM_NAME")?;
    let utf8 = atom("UTF8_STRING")?;
    let mut out = vec![];
    for id in candidates {
        let Ok(attrs) = conn.get_window_attributes(id).map_err(lost)?.reply() else {
            continue;
        };
        if attrs.map_state != xproto::MapState::VIEWABLE || attrs.class == xproto::WindowClass::INPUT_ONLY {
            continue;
        }
        let title = title(&conn, id, net_wm_name, utf8)?;
        // Without a window manager, untitled children of the root are mostly helpers.
        if title.is_empty() && !managed {
            continue;
        }
        let Ok(geo) = conn.get_geometry(id).map_err(lost)?.reply() else {
            continue;
        };
        let Ok(at) = conn.translate_coordinates(id, root, 0, 0).map_err(lost)?.reply() else {
            continue;
        };
        out.push(WindowInfo {
            id,
            title,
            x: at.dst_x.into(),
            y: at.dst_y.into(),
            width: geo.width.into(),
            height: geo.height.into(),
        });
    }
    Ok(out)
}

fn title(conn: &RustConnection, id: u32, net_wm_name: u32, utf8: u32) -> Result<String, CaptureError> {
    let p = conn.get_property(false, id, net_wm_name, utf8, 0, 1024).map_err(lost)?.reply().map_err(lost)?;
    if !p.value.is_empty() {
        return Ok(String::from_utf8_lossy(&p.value).into_owned());
    }
    let p = conn
        .get_property(false, id, AtomEnum::WM_NAME, AtomEnum::STRING, 0, 1024)
        .map_err(lost)?
        .reply()
        .map_err(lost)?;
    // WM_NAME is Latin-1.
    Ok(p.value.iter().map(|&b| char::from(b)).collect())
}

/// The first listed window whose title contains `pattern` (case-insensitive).
pub fn find_by_name(display: Option<&str>, pattern: &str) -> Result<WindowInfo, CaptureError> {
    let needle = pattern.to_lowercase();
    list(display)?
        .into_iter()
        .find(|w| w.title.to_lowercase().contains(&needle))
        .ok_or_else(|| CaptureError::NoWindowNamed(pattern.to_string()))
}
