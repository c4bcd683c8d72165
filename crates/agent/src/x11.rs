//! X11 capture: MIT-SHM for pixels, DAMAGE as the hint, XFIXES for the cursor, RandR
//! (and the root's ConfigureNotify) for size changes.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use deskshare_codec::Framebuffer;
use deskshare_proto::{CursorPosition, CursorShape, ErrorCode, MAX_CURSOR_EDGE, WireError};
use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::Event;
use x11rb::protocol::damage::{self, ConnectionExt as _};
use x11rb::protocol::randr::{self, ConnectionExt as _};
use x11rb::protocol::shm::{self, ConnectionExt as _};
use x11rb::protocol::xfixes::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{self, ConnectionExt as _, ImageFormat};
use x11rb::rust_connection::RustConnection;

use crate::capture::{Capturer, Changes};

fn lost(e: impl std::fmt::Display) -> WireError {
    WireError::new(ErrorCode::DisplayLost, e.to_string())
}

/// A shared memory segment the X server fills with GetImage results.
struct ShmSegment {
    seg: shm::Seg,
    ptr: *mut u8,
    len: usize,
}

impl ShmSegment {
    fn create(conn: &RustConnection, len: usize) -> Result<ShmSegment, WireError> {
        let seg = conn.generate_id().map_err(lost)?;
        let reply = conn
            .shm_create_segment(seg, len as u32, false)
            .map_err(lost)?
            .reply()
            .map_err(lost)?;
        let fd: OwnedFd = reply.shm_fd;
        // SAFETY: mapping a fresh shared-memory fd of `len` bytes read-only; the mapping is
        // owned by this struct and unmapped in Drop, after which `ptr` is never used.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(lost(std::io::Error::last_os_error()));
        }
        Ok(ShmSegment {
            seg,
            ptr: ptr.cast(),
            len,
        })
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

/// Captures the whole X screen.
pub struct X11Capture {
    conn: RustConnection,
    root: xproto::Window,
    width: u16,
    height: u16,
    shm: Option<ShmSegment>,
    damage: damage::Damage,
}

// The raw pointer in ShmSegment is only touched by the thread that owns the capture.
unsafe impl Send for X11Capture {}

impl X11Capture {
    /// Opens `display` (or `$DISPLAY`) and sets up damage, cursor and size tracking.
    pub fn open(display: Option<&str>) -> Result<X11Capture, WireError> {
        let name = display
            .map(str::to_string)
            .or_else(|| std::env::var("DISPLAY").ok())
            .unwrap_or_default();
        let (conn, screen_num) = x11rb::connect(display).map_err(|e| {
            WireError::new(
                ErrorCode::DisplayUnreachable,
                format!("display '{name}': {e}"),
            )
        })?;
        let screen = conn.setup().roots[screen_num].clone();
        let root = screen.root;
        check_format(&conn, &screen)?;
        let missing = |ext: &str| {
            WireError::new(
                ErrorCode::DisplayExtensionMissing,
                format!("display '{name}' lacks {ext}"),
            )
        };
        for ext in [damage::X11_EXTENSION_NAME, xfixes::X11_EXTENSION_NAME] {
            if conn.extension_information(ext).map_err(lost)?.is_none() {
                return Err(missing(ext));
            }
        }
        conn.xfixes_query_version(5, 0)
            .map_err(lost)?
            .reply()
            .map_err(lost)?;
        conn.damage_query_version(1, 1)
            .map_err(lost)?
            .reply()
            .map_err(lost)?;
        let damage = conn.generate_id().map_err(lost)?;
        conn.damage_create(damage, root, damage::ReportLevel::NON_EMPTY)
            .map_err(lost)?;
        conn.xfixes_select_cursor_input(root, xfixes::CursorNotifyMask::DISPLAY_CURSOR)
            .map_err(lost)?;
        conn.change_window_attributes(
            root,
            &xproto::ChangeWindowAttributesAux::new()
                .event_mask(xproto::EventMask::STRUCTURE_NOTIFY),
        )
        .map_err(lost)?;
        if conn
            .extension_information(randr::X11_EXTENSION_NAME)
            .map_err(lost)?
            .is_some()
        {
            conn.randr_query_version(1, 5)
                .map_err(lost)?
                .reply()
                .map_err(lost)?;
            conn.randr_select_input(root, randr::NotifyMask::SCREEN_CHANGE)
                .map_err(lost)?;
        }
        let use_shm = conn
            .extension_information(shm::X11_EXTENSION_NAME)
            .map_err(lost)?
            .is_some()
            && conn
                .shm_query_version()
                .map_err(lost)?
                .reply()
                .is_ok_and(|v| (v.major_version, v.minor_version) >= (1, 2));
        let mut cap = X11Capture {
            conn,
            root,
            width: 0,
            height: 0,
            shm: None,
            damage,
        };
        cap.refresh_size(use_shm)?;
        Ok(cap)
    }

    /// Re-reads the root size and resizes the shared memory segment to match.
    fn refresh_size(&mut self, use_shm: bool) -> Result<bool, WireError> {
        let geo = self
            .conn
            .get_geometry(self.root)
            .map_err(lost)?
            .reply()
            .map_err(lost)?;
        let changed = (geo.width, geo.height) != (self.width, self.height);
        if changed {
            self.width = geo.width;
            self.height = geo.height;
            if let Some(old) = self.shm.take() {
                old.destroy(&self.conn);
            }
            if use_shm {
                let len = usize::from(geo.width) * usize::from(geo.height) * 4;
                self.shm = Some(ShmSegment::create(&self.conn, len)?);
            }
        }
        Ok(changed)
    }

    /// Waits until the X connection has something to read, or `timeout`.
    fn wait_readable(&self, timeout: Duration) {
        let mut pfd = libc::pollfd {
            fd: self.conn.stream().as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        unsafe {
            libc::poll(
                &mut pfd,
                1,
                timeout.as_millis().min(i32::MAX as u128) as i32,
            )
        };
    }
}

fn check_format(conn: &RustConnection, screen: &xproto::Screen) -> Result<(), WireError> {
    let bpp = conn
        .setup()
        .pixmap_formats
        .iter()
        .find(|f| f.depth == screen.root_depth)
        .map(|f| f.bits_per_pixel);
    let visual = screen
        .allowed_depths
        .iter()
        .flat_map(|d| &d.visuals)
        .find(|v| v.visual_id == screen.root_visual);
    let ok = screen.root_depth >= 24
        && bpp == Some(32)
        && conn.setup().image_byte_order == xproto::ImageOrder::LSB_FIRST
        && visual.is_some_and(|v| {
            v.red_mask == 0xff0000 && v.green_mask == 0xff00 && v.blue_mask == 0xff
        });
    if ok {
        Ok(())
    } else {
        Err(WireError::new(
            ErrorCode::DisplayFormatUnsupported,
            format!(
                "root depth {} with {:?} bits per pixel",
                screen.root_depth, bpp
            ),
        ))
    }
}

impl Capturer for X11Capture {
    fn size(&self) -> (u32, u32) {
        (self.width.into(), self.height.into())
    }

    fn wait(&mut self, timeout: Duration) -> Result<Changes, WireError> {
        let mut changes = Changes::default();
        let mut waited = false;
        loop {
            match self.conn.poll_for_event().map_err(lost)? {
                Some(Event::DamageNotify(_)) => changes.damaged = true,
                Some(Event::XfixesCursorNotify(_)) => changes.cursor_shape = true,
                Some(Event::RandrScreenChangeNotify(_)) | Some(Event::ConfigureNotify(_)) => {
                    changes.resized = true
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
            self.conn
                .damage_subtract(self.damage, x11rb::NONE, x11rb::NONE)
                .map_err(lost)?;
        }
        if changes.resized {
            let use_shm = self.shm.is_some();
            changes.resized = self.refresh_size(use_shm)?;
            changes.damaged |= changes.resized;
        }
        Ok(changes)
    }

    fn grab(&mut self) -> Result<Framebuffer, WireError> {
        let (w, h) = (self.width, self.height);
        let mut pixels = Vec::with_capacity(usize::from(w) * usize::from(h));
        let data;
        let bytes: &[u8] = if let Some(seg) = &self.shm {
            self.conn
                .shm_get_image(
                    self.root,
                    0,
                    0,
                    w,
                    h,
                    !0,
                    ImageFormat::Z_PIXMAP.into(),
                    seg.seg,
                    0,
                )
                .map_err(lost)?
                .reply()
                .map_err(lost)?;
            seg.bytes()
        } else {
            data = self
                .conn
                .get_image(ImageFormat::Z_PIXMAP, self.root, 0, 0, w, h, !0)
                .map_err(lost)?
                .reply()
                .map_err(lost)?
                .data;
            &data
        };
        let need = usize::from(w) * usize::from(h) * 4;
        if bytes.len() < need {
            return Err(lost(format!(
                "image of {} bytes, expected {need}",
                bytes.len()
            )));
        }
        pixels.extend(
            bytes[..need]
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], 0])),
        );
        Ok(Framebuffer::from_pixels(w.into(), h.into(), pixels))
    }

    fn cursor_shape(&mut self) -> Result<Option<CursorShape>, WireError> {
        let img = self
            .conn
            .xfixes_get_cursor_image()
            .map_err(lost)?
            .reply()
            .map_err(lost)?;
        let (cw, ch) = (
            img.width.min(MAX_CURSOR_EDGE as u16),
            img.height.min(MAX_CURSOR_EDGE as u16),
        );
        if cw == 0
            || ch == 0
            || img.cursor_image.len() < usize::from(img.width) * usize::from(img.height)
        {
            return Ok(None);
        }
        let mut rgba = Vec::with_capacity(usize::from(cw) * usize::from(ch) * 4);
        for y in 0..usize::from(ch) {
            for x in 0..usize::from(cw) {
                let p = img.cursor_image[y * usize::from(img.width) + x];
                let a = (p >> 24) as u8;
                // XFIXES gives premultiplied ARGB; the protocol carries straight alpha.
                let un = |c: u32| {
                    if a == 0 {
                        0
                    } else {
                        ((c & 0xff) * 255 / u32::from(a)).min(255) as u8
                    }
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

    fn pointer(&mut self) -> Result<CursorPosition, WireError> {
        let p = self
            .conn
            .query_pointer(self.root)
            .map_err(lost)?
            .reply()
            .map_err(lost)?;
        Ok(CursorPosition {
            x: p.root_x.into(),
            y: p.root_y.into(),
            visible: p.same_screen,
        })
    }
}
