//! X11 capture of the whole screen, one RandR monitor or one window: MIT-SHM for pixels,
//! DAMAGE as the hint, XFIXES for the cursor, RandR and ConfigureNotify for size changes,
//! Composite so a shared window's own pixels are read even where others cover it.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use deskshare_codec::Framebuffer;
use deskshare_proto::{CursorPosition, CursorShape, MAX_CURSOR_EDGE};
use x11rb::connection::{Connection, RequestConnection};
use x11rb::errors::ReplyError;
use x11rb::protocol::Event;
use x11rb::protocol::composite::{self, ConnectionExt as _};
use x11rb::protocol::damage::{self, ConnectionExt as _};
use x11rb::protocol::randr::{self, ConnectionExt as _};
use x11rb::protocol::shm::{self, ConnectionExt as _};
use x11rb::protocol::xfixes::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{self, ConnectionExt as _, ImageFormat};
use x11rb::rust_connection::RustConnection;

use crate::capture::{Area, CaptureError, Capturer, Changes};

fn lost(e: impl std::fmt::Display) -> CaptureError {
    CaptureError::lost(e)
}

/// A shared memory segment the X server fills with GetImage results.
struct ShmSegment {
    seg: shm::Seg,
    ptr: *mut u8,
    len: usize,
}

impl ShmSegment {
    fn create(conn: &RustConnection, len: usize) -> Result<ShmSegment, CaptureError> {
        let seg = conn.generate_id().map_err(lost)?;
        let reply = conn.shm_create_segment(seg, len as u32, false).map_err(lost)?.reply().map_err(lost)?;
        let fd: OwnedFd = reply.shm_fd;
        // SAFETY: mapping a fresh shared-memory fd of `len` bytes read-only; the mapping is
        // owned by this struct and unmapped in Drop, after which `ptr` is never used.
        let ptr =
            unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_SHARED, fd.as_raw_fd(), 0) };
        if ptr == libc::MAP_FAILED {
            return Err(lost(std::io::Error::last_os_error()));
        }
        Ok(ShmSegment { seg, ptr: ptr.cast(), len })
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` maps `len` readable bytes for the lifetime of `self`.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    fn destroy(self, conn: &RustConnection) {
        let _ = conn.shm_detach(self.seg);
    }
}

impl Drop for ShmSegment {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `create` mapped.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// What to share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The whole X screen.
    Screen,
    /// One RandR monitor, by its index in `xrandr --listmonitors`.
    Monitor(usize),
    /// One top-level window, its own pixels only (Composite), wherever it moves.
    Window(u32),
}

/// Captures the screen, one monitor or one window.
pub struct X11Capture {
    conn: RustConnection,
    root: xproto::Window,
    target: Target,
    /// The shared area in root coordinates.
    area: Area,
    /// Where pixels are read: the root (screen, monitor) or the window's pixmap, and the
    /// offset of the area inside it.
    drawable: xproto::Drawable,
    src: (i16, i16),
    window_pixmap: Option<xproto::Pixmap>,
    window_size: (u16, u16, u16),
    shm: Option<ShmSegment>,
    use_shm: bool,
    damage: damage::Damage,
    /// Top-level windows where the X server last put them, and where they were at the
    /// last grab: a window that moved between two grabs is a hint for the encoder's copy
    /// search (confirmed pixel by pixel there, never trusted).
    windows: HashMap<xproto::Window, (i16, i16)>,
    windows_at_grab: HashMap<xproto::Window, (i16, i16)>,
}

// The raw pointer in ShmSegment is only touched by the thread that owns the capture.
unsafe impl Send for X11Capture {}

impl X11Capture {
    /// Opens `display` (or `$DISPLAY`) and sets up damage, cursor and size tracking for
    /// `target`.
    pub fn open(display: Option<&str>, target: Target) -> Result<X11Capture, CaptureError> {
        let name = display.map(str::to_string).or_else(|| std::env::var("DISPLAY").ok()).unwrap_or_default();
        let (conn, screen_num) = x11rb::connect(display)
            .map_err(|e| CaptureError::Unreachable { display: name.clone(), detail: e.to_string() })?;
        let screen = conn.setup().roots[screen_num].clone();
        let root = screen.root;
        check_format(&conn, &screen)?;
        let missing = |extension| CaptureError::ExtensionMissing { display: name.clone(), extension };
        let mut needed = vec![damage::X11_EXTENSION_NAME, xfixes::X11_EXTENSION_NAME];
        match target {
            Target::Monitor(_) => needed.push(randr::X11_EXTENSION_NAME),
            Target::Window(_) => needed.push(composite::X11_EXTENSION_NAME),
            Target::Screen => {}
        }
        for ext in needed {
            if conn.extension_information(ext).map_err(lost)?.is_none() {
                return Err(missing(ext));
            }
        }
        conn.xfixes_query_version(5, 0).map_err(lost)?.reply().map_err(lost)?;
        conn.damage_query_version(1, 1).map_err(lost)?.reply().map_err(lost)?;
        conn.xfixes_select_cursor_input(root, xfixes::CursorNotifyMask::DISPLAY_CURSOR).map_err(lost)?;
        // Substructure too: the top-level windows' moves are hints for copies.
        conn.change_window_attributes(
            root,
            &xproto::ChangeWindowAttributesAux::new()
                .event_mask(xproto::EventMask::STRUCTURE_NOTIFY | xproto::EventMask::SUBSTRUCTURE_NOTIFY),
        )
        .map_err(lost)?;
        let mut windows = HashMap::new();
        // Sharing one program, its own moves are the area's, not hints.
        if matches!(target, Target::Screen | Target::Monitor(_)) {
            for w in conn.query_tree(root).map_err(lost)?.reply().map_err(lost)?.children {
                if let Ok(Ok(g)) = conn.get_geometry(w).map(|c| c.reply()) {
                    windows.insert(w, (g.x, g.y));
                }
            }
        }
        if conn.extension_information(randr::X11_EXTENSION_NAME).map_err(lost)?.is_some() {
            conn.randr_query_version(1, 5).map_err(lost)?.reply().map_err(lost)?;
            conn.randr_select_input(root, randr::NotifyMask::SCREEN_CHANGE).map_err(lost)?;
        }
        let damaged = match target {
            Target::Window(w) => {
                conn.composite_query_version(0, 4).map_err(lost)?.reply().map_err(lost)?;
                let gone = |e: ReplyError| CaptureError::WindowNotFound { window: w, detail: e.to_string() };
                conn.get_window_attributes(w).map_err(lost)?.reply().map_err(gone)?;
                // Automatic redirection keeps the window on screen as before while its own
                // pixels live in a pixmap, so whatever overlaps it never leaks in.
                conn.composite_redirect_window(w, composite::Redirect::AUTOMATIC).map_err(lost)?;
                conn.change_window_attributes(
                    w,
                    &xproto::ChangeWindowAttributesAux::new().event_mask(xproto::EventMask::STRUCTURE_NOTIFY),
                )
                .map_err(lost)?;
                w
            }
            _ => root,
        };
        let damage = conn.generate_id().map_err(lost)?;
        conn.damage_create(damage, damaged, damage::ReportLevel::NON_EMPTY).map_err(lost)?;
        let use_shm = conn.extension_information(shm::X11_EXTENSION_NAME).map_err(lost)?.is_some()
            && conn
                .shm_query_version()
                .map_err(lost)?
                .reply()
                .is_ok_and(|v| (v.major_version, v.minor_version) >= (1, 2));
        let mut cap = X11Capture {
            conn,
            root,
            target,
            area: Area { x: 0, y: 0, width: 0, height: 0 },
            drawable: root,
            src: (0, 0),
            window_pixmap: None,
            window_size: (0, 0, 0),
            shm: None,
            use_shm,
            damage,
            windows_at_grab: windows.clone(),
            windows,
        };
        cap.refresh_area()?;
        Ok(cap)
    }

    /// Re-reads where the shared area is and how big; resizes the shared memory segment
    /// and re-names the window pixmap as needed. Returns whether the size changed.
    fn refresh_area(&mut self) -> Result<bool, CaptureError> {
        let area = match self.target {
            Target::Screen => {
                let geo = self.conn.get_geometry(self.root).map_err(lost)?.reply().map_err(lost)?;
                Area { x: 0, y: 0, width: geo.width.into(), height: geo.height.into() }
            }
            Target::Monitor(n) => {
                let monitors =
                    self.conn.randr_get_monitors(self.root, true).map_err(lost)?.reply().map_err(lost)?.monitors;
                let m = monitors.get(n).ok_or(CaptureError::MonitorNotFound { asked: n, have: monitors.len() })?;
                self.src = (m.x, m.y);
                Area { x: m.x.into(), y: m.y.into(), width: m.width.into(), height: m.height.into() }
            }
            Target::Window(w) => {
                let gone = |e: ReplyError| CaptureError::WindowGone { window: w, detail: e.to_string() };
                let geo = self.conn.get_geometry(w).map_err(lost)?.reply().map_err(gone)?;
                let at = self.conn.translate_coordinates(w, self.root, 0, 0).map_err(lost)?.reply().map_err(gone)?;
                let size = (geo.width, geo.height, geo.border_width);
                if self.window_pixmap.is_none() || size != self.window_size {
                    // A resized window gets a new pixmap: name it again.
                    if let Some(old) = self.window_pixmap.take() {
                        let _ = self.conn.free_pixmap(old);
                    }
                    let pixmap = self.conn.generate_id().map_err(lost)?;
                    self.conn.composite_name_window_pixmap(w, pixmap).map_err(lost)?.check().map_err(gone)?;
                    self.window_pixmap = Some(pixmap);
                    self.window_size = size;
                }
                self.drawable = self.window_pixmap.expect("named above");
                self.src = (geo.border_width as i16, geo.border_width as i16);
                Area { x: at.dst_x.into(), y: at.dst_y.into(), width: geo.width.into(), height: geo.height.into() }
            }
        };
        let resized = (area.width, area.height) != (self.area.width, self.area.height);
        self.area = area;
        if resized {
            if let Some(old) = self.shm.take() {
                old.destroy(&self.conn);
            }
            if self.use_shm {
                self.shm = Some(ShmSegment::create(&self.conn, area.width as usize * area.height as usize * 4)?);
            }
        }
        Ok(resized)
    }

    /// Waits until the X connection has something to read, or `timeout`.
    fn wait_readable(&self, timeout: Duration) {
        let mut pfd = libc::pollfd { fd: self.conn.stream().as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd for the duration of the call.
        unsafe { libc::poll(&mut pfd, 1, timeout.as_millis().min(i32::MAX as u128) as i32) };
    }
}

fn check_format(conn: &RustConnection, screen: &xproto::Screen) -> Result<(), CaptureError> {
    let bpp = conn.setup().pixmap_formats.iter().find(|f| f.depth == screen.root_depth).map(|f| f.bits_per_pixel);
    let visual = screen.allowed_depths.iter().flat_map(|d| &d.visuals).find(|v| v.visual_id == screen.root_visual);
    let ok = screen.root_depth >= 24
        && bpp == Some(32)
        && conn.setup().image_byte_order == xproto::ImageOrder::LSB_FIRST
        && visual.is_some_and(|v| v.red_mask == 0xff0000 && v.green_mask == 0xff00 && v.blue_mask == 0xff);
    if ok {
        Ok(())
    } else {
        Err(CaptureError::FormatUnsupported(format!("root depth {} with {:?} bits per pixel", screen.root_depth, bpp)))
    }
}

impl Capturer for X11Capture {
    fn area(&self) -> Area {
        self.area
    }

    fn move_hints(&mut self) -> Vec<(i32, i32)> {
        let mut hints = Vec::new();
        for (w, &(x, y)) in &self.windows {
            if let Some(&(x0, y0)) = self.windows_at_grab.get(w) {
                let d = (i32::from(x) - i32::from(x0), i32::from(y) - i32::from(y0));
                if d != (0, 0) && !hints.contains(&d) {
                    hints.push(d);
                }
            }
        }
        self.windows_at_grab.clone_from(&self.windows);
        hints
    }

    fn wait(&mut self, timeout: Duration) -> Result<Changes, CaptureError> {
        let mut changes = Changes::default();
        let mut waited = false;
        let window = match self.target {
            Target::Window(w) => Some(w),
            _ => None,
        };
        loop {
            match self.conn.poll_for_event().map_err(lost)? {
                Some(Event::DamageNotify(_)) => changes.damaged = true,
                Some(Event::XfixesCursorNotify(_)) => changes.cursor_shape = true,
                Some(Event::ConfigureNotify(e)) if e.window != self.root && e.window != window.unwrap_or(0) => {
                    if matches!(self.target, Target::Screen | Target::Monitor(_)) {
                        self.windows.insert(e.window, (e.x, e.y));
                    }
                }
                Some(Event::DestroyNotify(e)) if self.windows.remove(&e.window).is_some() => {
                    self.windows_at_grab.remove(&e.window);
                }
                Some(Event::RandrScreenChangeNotify(_)) | Some(Event::ConfigureNotify(_)) => changes.resized = true,
                Some(Event::DestroyNotify(e)) if Some(e.window) == window => {
                    return Err(CaptureError::WindowGone { window: e.window, detail: "closed".into() });
                }
                Some(_) => {}
                None if changes.any() || waited => break,
                None => {
                    self.wait_readable(timeout);
                    waited = true;
                }
            }
        }
        if changes.damaged {
            // Re-arm the NonEmpty report; the full compare finds what changed.
            self.conn.damage_subtract(self.damage, x11rb::NONE, x11rb::NONE).map_err(lost)?;
        }
        // A window can move without any event reaching us (a window manager moves its
        // frame), so its place is checked every time.
        if changes.resized || window.is_some() {
            let before = self.area;
            changes.resized = self.refresh_area()?;
            changes.damaged |= changes.resized;
            changes.moved = self.area != before;
        }
        Ok(changes)
    }

    fn grab(&mut self) -> Result<Framebuffer, CaptureError> {
        let (w, h) = (self.area.width as u16, self.area.height as u16);
        let (sx, sy) = self.src;
        let mut pixels = Vec::with_capacity(usize::from(w) * usize::from(h));
        let data;
        let failed = |e: ReplyError| match self.target {
            Target::Window(window) => CaptureError::WindowGone { window, detail: e.to_string() },
            _ => lost(e),
        };
        let bytes: &[u8] = if let Some(seg) = &self.shm {
            self.conn
                .shm_get_image(self.drawable, sx, sy, w, h, !0, ImageFormat::Z_PIXMAP.into(), seg.seg, 0)
                .map_err(lost)?
                .reply()
                .map_err(failed)?;
            seg.bytes()
        } else {
            data = self
                .conn
                .get_image(ImageFormat::Z_PIXMAP, self.drawable, sx, sy, w, h, !0)
                .map_err(lost)?
                .reply()
                .map_err(failed)?
                .data;
            &data
        };
        let need = usize::from(w) * usize::from(h) * 4;
        if bytes.len() < need {
            return Err(lost(format!("image of {} bytes, expected {need}", bytes.len())));
        }
        pixels.extend(bytes[..need].chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], 0])));
        Ok(Framebuffer::from_pixels(w.into(), h.into(), pixels))
    }

    fn cursor_shape(&mut self) -> Result<Option<CursorShape>, CaptureError> {
        let img = self.conn.xfixes_get_cursor_image().map_err(lost)?.reply().map_err(lost)?;
        let (cw, ch) = (img.width.min(MAX_CURSOR_EDGE as u16), img.height.min(MAX_CURSOR_EDGE as u16));
        if cw == 0 || ch == 0 || img.cursor_image.len() < usize::from(img.width) * usize::from(img.height) {
            return Ok(None);
        }
        let mut rgba = Vec::with_capacity(usize::from(cw) * usize::from(ch) * 4);
        for y in 0..usize::from(ch) {
            for x in 0..usize::from(cw) {
                let p = img.cursor_image[y * usize::from(img.width) + x];
                let a = (p >> 24) as u8;
                // XFIXES gives premultiplied ARGB; the protocol carries straight alpha.
                let un = |c: u32| {
                    if a == 0 { 0 } else { ((c & 0xff) * 255 / u32::from(a)).min(255) as u8 }
                };
                rgba.extend_from_slice(&[un(p >> 16), un(p >> 8), un(p), a]);
            }
        }
        Ok(Some(CursorShape {
            serial: img.cursor_serial,
            width: cw,
            height: ch,
            hot_x: img.xhot.min(cw - 1),
            hot_y: img.yhot.min(ch - 1),
            rgba: rgba.into(),
        }))
    }

    fn pointer(&mut self) -> Result<CursorPosition, CaptureError> {
        let p = self.conn.query_pointer(self.root).map_err(lost)?.reply().map_err(lost)?;
        let (x, y) = (i32::from(p.root_x) - self.area.x, i32::from(p.root_y) - self.area.y);
        let inside = x >= 0 && y >= 0 && x < self.area.width as i32 && y < self.area.height as i32;
        Ok(CursorPosition { x, y, visible: p.same_screen && inside })
    }
}

/// What `deskshare doctor` reports of a presenter's display.
#[derive(Clone, Debug)]
pub struct DisplayProbe {
    pub name: String,
    pub width: u16,
    pub height: u16,
    /// Each extension the agent uses, whether the display has it, and what needs it.
    pub extensions: Vec<(&'static str, bool, &'static str)>,
    /// Keycodes with no symbol: where characters the keyboard lacks are mapped for a
    /// controller's typing.
    pub spare_keycodes: usize,
    pub keycodes: usize,
}

/// Opens `display` and reads what sharing and control need from it. Fails as opening
/// a capture would: unreachable, unsupported format, or DAMAGE/XFIXES missing.
pub fn probe(display: Option<&str>) -> Result<DisplayProbe, CaptureError> {
    let name = display.map(str::to_string).or_else(|| std::env::var("DISPLAY").ok()).unwrap_or_default();
    let (conn, screen_num) = x11rb::connect(display)
        .map_err(|e| CaptureError::Unreachable { display: name.clone(), detail: e.to_string() })?;
    let screen = conn.setup().roots[screen_num].clone();
    check_format(&conn, &screen)?;
    let wanted: [(&'static str, &'static str); 6] = [
        (damage::X11_EXTENSION_NAME, "sharing (change hints)"),
        (xfixes::X11_EXTENSION_NAME, "sharing (the cursor)"),
        (shm::X11_EXTENSION_NAME, "fast capture (without it, slower copies)"),
        (x11rb::protocol::xtest::X11_EXTENSION_NAME, "remote control"),
        (randr::X11_EXTENSION_NAME, "sharing one monitor, following resizes"),
        (composite::X11_EXTENSION_NAME, "sharing one program"),
    ];
    let mut extensions = Vec::new();
    for (ext, why) in wanted {
        let present = conn.extension_information(ext).map_err(lost)?.is_some();
        if !present && (ext == damage::X11_EXTENSION_NAME || ext == xfixes::X11_EXTENSION_NAME) {
            return Err(CaptureError::ExtensionMissing { display: name, extension: ext });
        }
        extensions.push((ext, present, why));
    }
    let (min, max) = (conn.setup().min_keycode, conn.setup().max_keycode);
    let count = max - min + 1;
    let map = conn.get_keyboard_mapping(min, count).map_err(lost)?.reply().map_err(lost)?;
    let per = usize::from(map.keysyms_per_keycode).max(1);
    let spare = map.keysyms.chunks(per).filter(|syms| syms.iter().all(|&s| s == 0)).count();
    Ok(DisplayProbe {
        name,
        width: screen.width_in_pixels,
        height: screen.height_in_pixels,
        extensions,
        spare_keycodes: spare,
        keycodes: usize::from(count),
    })
}
