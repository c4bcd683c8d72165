//! A small question window on the shared display itself: "Ana asks to control this
//! screen — Allow / Deny", or "Share this screen in …? — Share / Cancel".
//!
//! Consent belongs where the presenter is. A terminal prompt works only when the agent
//! was started from one, and nobody watches a terminal during a meeting; Lync asked on
//! the sharer's screen, so does this. The window is plain X11 (core fonts and drawing on
//! its own connection and thread): no toolkit, nothing to install beyond the X server's
//! fonts. It is reachable by keyboard (it takes the focus when it appears; Tab and the
//! arrows move between the buttons, Enter or Space presses the focused one, Escape
//! answers no; the safe answer has the focus first) and by mouse (press and release on
//! a button).
//!
//! The person asking cannot answer it: no input of theirs is injected before a grant,
//! and the grant needs this answer (or the presenter's own meeting page).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::xproto::{self, ConnectionExt as _, EventMask, InputFocus, PropMode, WindowClass};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

use crate::capture::Area;

/// The window's title prefix: tests and window managers find it by this.
pub const TITLE_PREFIX: &str = "deskshare: ";

/// What to ask.
#[derive(Clone, Debug)]
pub struct Question {
    /// The first line, in the window and its title.
    pub title: String,
    /// Further lines of explanation.
    pub lines: Vec<String>,
    /// The button that says yes ("Allow").
    pub yes: String,
    /// The button that says no ("Deny"); it has the focus first.
    pub no: String,
}

/// Why the window could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum DialogError {
    #[error("cannot open the X display for the question window: {0}")]
    Connect(String),
    #[error("the question window failed: {0}")]
    X(String),
}

fn x_err(e: impl std::fmt::Display) -> DialogError {
    DialogError::X(e.to_string())
}

/// An open question window. Dropping it closes the window (the question was answered
/// elsewhere or withdrawn).
pub struct Dialog {
    close: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Dialog {
    /// Shows `question` on `display`, centred on `area` (the shared area; the screen if
    /// `None`). `answered` is called once with the person's answer, from the window's
    /// thread; not at all if the dialog is dropped first.
    pub fn open(
        display: Option<&str>,
        area: Option<Area>,
        question: Question,
        answered: impl FnOnce(bool) + Send + 'static,
    ) -> Result<Dialog, DialogError> {
        let (conn, screen) = x11rb::connect(display).map_err(|e| DialogError::Connect(e.to_string()))?;
        let window = Window::create(conn, screen, area, question)?;
        let close = Arc::new(AtomicBool::new(false));
        let stop = close.clone();
        let thread = std::thread::Builder::new()
            .name("dialog".into())
            .spawn(move || {
                if let Ok(Some(answer)) = window.run(&stop) {
                    answered(answer);
                }
            })
            .map_err(x_err)?;
        Ok(Dialog { close, thread: Some(thread) })
    }

    /// Shows `question` and waits for the answer (no when the window cannot be shown is
    /// the caller's choice: this returns the error).
    pub fn ask(display: Option<&str>, question: Question) -> Result<bool, DialogError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let dialog = Dialog::open(display, None, question, move |a| {
            let _ = tx.send(a);
        })?;
        let answer = rx.recv().unwrap_or(false);
        drop(dialog);
        Ok(answer)
    }
}

impl Drop for Dialog {
    fn drop(&mut self) {
        self.close.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Which button has the focus.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Button {
    Yes,
    No,
}

const PAD: i16 = 14;
const BUTTON_W: u16 = 96;
const BUTTON_H: u16 = 28;
/// How often the window looks for events while none come.
const POLL: Duration = Duration::from_millis(15);

// Keysyms the window understands.
const XK_TAB: u32 = 0xff09;
const XK_ISO_LEFT_TAB: u32 = 0xfe20;
const XK_LEFT: u32 = 0xff51;
const XK_RIGHT: u32 = 0xff53;
const XK_RETURN: u32 = 0xff0d;
const XK_KP_ENTER: u32 = 0xff8d;
const XK_SPACE: u32 = 0x20;
const XK_ESCAPE: u32 = 0xff1b;

struct Window {
    conn: RustConnection,
    id: xproto::Window,
    gc: xproto::Gcontext,
    question: Question,
    width: u16,
    height: u16,
    char_width: i16,
    ascent: i16,
    line_height: i16,
    colours: Colours,
    focus: Button,
    pressed: Option<Button>,
    delete_window: xproto::Atom,
    /// keycode → keysym (first column), read once.
    keysyms: Vec<u32>,
    min_keycode: u8,
}

struct Colours {
    background: u32,
    text: u32,
    accent: u32,
    white: u32,
}

impl Window {
    fn create(
        conn: RustConnection,
        screen_num: usize,
        area: Option<Area>,
        question: Question,
    ) -> Result<Window, DialogError> {
        let screen = &conn.setup().roots[screen_num];
        let (root, colormap) = (screen.root, screen.default_colormap);
        let (screen_w, screen_h) = (screen.width_in_pixels, screen.height_in_pixels);
        let font = conn.generate_id().map_err(x_err)?;
        // A Unicode core font (xfonts-base), else the server's default "fixed".
        let unicode = conn
            .open_font(font, b"-misc-fixed-medium-r-semicondensed--13-120-75-75-c-60-iso10646-1")
            .map_err(x_err)?
            .check()
            .is_ok();
        if !unicode {
            conn.open_font(font, b"fixed").map_err(x_err)?.check().map_err(x_err)?;
        }
        let info = conn.query_font(font).map_err(x_err)?.reply().map_err(x_err)?;
        let char_width = info.max_bounds.character_width.max(1);
        let (ascent, descent) = (info.font_ascent, info.font_descent);
        let line_height = ascent + descent + 4;
        let colour = |r: u16, g: u16, b: u16| -> Result<u32, DialogError> {
            Ok(conn.alloc_color(colormap, r, g, b).map_err(x_err)?.reply().map_err(x_err)?.pixel)
        };
        let colours = Colours {
            background: colour(0xf4f4, 0xf4f4, 0xf6f6)?,
            text: colour(0x1a1a, 0x1a1a, 0x1a1a)?,
            accent: colour(0x1f1f, 0x5f5f, 0xbfbf)?,
            white: screen.white_pixel,
        };
        let longest = std::iter::once(&question.title).chain(&question.lines).map(|l| l.chars().count()).max();
        let text_w = longest.unwrap_or(0) as i32 * i32::from(char_width);
        let width = (text_w + 2 * i32::from(PAD)).clamp(2 * i32::from(BUTTON_W) + 3 * i32::from(PAD), 900) as u16;
        let lines = 1 + question.lines.len() as i16;
        let height = (PAD * 2 + lines * line_height + PAD + BUTTON_H as i16) as u16;
        let area = area.unwrap_or(Area { x: 0, y: 0, width: screen_w.into(), height: screen_h.into() });
        let x = area.x + (area.width as i32 - i32::from(width)).max(0) / 2;
        let y = area.y + (area.height as i32 - i32::from(height)).max(0) / 3;

        let id = conn.generate_id().map_err(x_err)?;
        let events = EventMask::EXPOSURE
            | EventMask::KEY_PRESS
            | EventMask::BUTTON_PRESS
            | EventMask::BUTTON_RELEASE
            | EventMask::STRUCTURE_NOTIFY;
        conn.create_window(
            x11rb::COPY_DEPTH_FROM_PARENT,
            id,
            root,
            x as i16,
            y as i16,
            width,
            height,
            1,
            WindowClass::INPUT_OUTPUT,
            x11rb::COPY_FROM_PARENT,
            &xproto::CreateWindowAux::new()
                .background_pixel(colours.background)
                .border_pixel(colours.text)
                .event_mask(events),
        )
        .map_err(x_err)?;
        let title = format!("{TITLE_PREFIX}{}", question.title);
        let atom = |name: &[u8]| -> Result<xproto::Atom, DialogError> {
            Ok(conn.intern_atom(false, name).map_err(x_err)?.reply().map_err(x_err)?.atom)
        };
        let utf8 = atom(b"UTF8_STRING")?;
        conn.change_property8(
            PropMode::REPLACE,
            id,
            xproto::AtomEnum::WM_NAME,
            xproto::AtomEnum::STRING,
            title.as_bytes(),
        )
        .map_err(x_err)?;
        conn.change_property8(PropMode::REPLACE, id, atom(b"_NET_WM_NAME")?, utf8, title.as_bytes()).map_err(x_err)?;
        conn.change_property8(
            PropMode::REPLACE,
            id,
            xproto::AtomEnum::WM_CLASS,
            xproto::AtomEnum::STRING,
            b"deskshare\0deskshare\0",
        )
        .map_err(x_err)?;
        let window_type = atom(b"_NET_WM_WINDOW_TYPE")?;
        let dialog_type = atom(b"_NET_WM_WINDOW_TYPE_DIALOG")?;
        conn.change_property32(PropMode::REPLACE, id, window_type, xproto::AtomEnum::ATOM, &[dialog_type])
            .map_err(x_err)?;
        let (state, above) = (atom(b"_NET_WM_STATE")?, atom(b"_NET_WM_STATE_ABOVE")?);
        conn.change_property32(PropMode::REPLACE, id, state, xproto::AtomEnum::ATOM, &[above]).map_err(x_err)?;
        let (protocols, delete_window) = (atom(b"WM_PROTOCOLS")?, atom(b"WM_DELETE_WINDOW")?);
        conn.change_property32(PropMode::REPLACE, id, protocols, xproto::AtomEnum::ATOM, &[delete_window])
            .map_err(x_err)?;

        let gc = conn.generate_id().map_err(x_err)?;
        conn.create_gc(
            gc,
            id,
            &xproto::CreateGCAux::new().font(font).foreground(colours.text).background(colours.background),
        )
        .map_err(x_err)?;
        let setup = conn.setup();
        let (min_keycode, max_keycode) = (setup.min_keycode, setup.max_keycode);
        let map = conn
            .get_keyboard_mapping(min_keycode, max_keycode - min_keycode + 1)
            .map_err(x_err)?
            .reply()
            .map_err(x_err)?;
        let per = usize::from(map.keysyms_per_keycode).max(1);
        let keysyms = map.keysyms.chunks(per).map(|c| c[0]).collect();
        conn.map_window(id).map_err(x_err)?;
        conn.flush().map_err(x_err)?;
        Ok(Window {
            conn,
            id,
            gc,
            question,
            width,
            height,
            char_width,
            ascent,
            line_height,
            colours,
            focus: Button::No,
            pressed: None,
            delete_window,
            keysyms,
            min_keycode,
        })
    }

    /// Where a button is: (x, y) of its top-left corner.
    fn button_at(&self, b: Button) -> (i16, i16) {
        let y = self.height as i16 - PAD - BUTTON_H as i16;
        let right = self.width as i16 - PAD - BUTTON_W as i16;
        match b {
            Button::No => (right, y),
            Button::Yes => (right - PAD - BUTTON_W as i16, y),
        }
    }

    fn hit(&self, x: i16, y: i16) -> Option<Button> {
        [Button::Yes, Button::No].into_iter().find(|&b| {
            let (bx, by) = self.button_at(b);
            x >= bx && x < bx + BUTTON_W as i16 && y >= by && y < by + BUTTON_H as i16
        })
    }

    fn text(&self, x: i16, y: i16, s: &str) -> Result<(), DialogError> {
        let chars: Vec<xproto::Char2b> = s
            .chars()
            .take(255)
            .map(|c| {
                let c = u16::try_from(u32::from(c)).unwrap_or(u16::from(b'?'));
                xproto::Char2b { byte1: (c >> 8) as u8, byte2: c as u8 }
            })
            .collect();
        self.conn.image_text16(self.id, self.gc, x, y, &chars).map_err(x_err)?;
        Ok(())
    }

    fn draw(&self) -> Result<(), DialogError> {
        let c = &self.conn;
        c.clear_area(false, self.id, 0, 0, 0, 0).map_err(x_err)?;
        let set = |fg: u32, bg: u32| c.change_gc(self.gc, &xproto::ChangeGCAux::new().foreground(fg).background(bg));
        set(self.colours.text, self.colours.background).map_err(x_err)?;
        let mut y = PAD + self.ascent;
        self.text(PAD, y, &self.question.title)?;
        for line in &self.question.lines {
            y += self.line_height;
            self.text(PAD, y, line)?;
        }
        for (b, label) in [(Button::Yes, &self.question.yes), (Button::No, &self.question.no)] {
            let (bx, by) = self.button_at(b);
            let rect = xproto::Rectangle { x: bx, y: by, width: BUTTON_W, height: BUTTON_H };
            let focused = self.focus == b;
            let (fill, ink) = if focused {
                (self.colours.accent, self.colours.white)
            } else {
                (self.colours.white, self.colours.text)
            };
            set(fill, fill).map_err(x_err)?;
            c.poly_fill_rectangle(self.id, self.gc, &[rect]).map_err(x_err)?;
            set(self.colours.text, fill).map_err(x_err)?;
            c.poly_rectangle(
                self.id,
                self.gc,
                &[xproto::Rectangle { width: BUTTON_W - 1, height: BUTTON_H - 1, ..rect }],
            )
            .map_err(x_err)?;
            set(ink, fill).map_err(x_err)?;
            let text_w = label.chars().count() as i16 * self.char_width;
            let tx = bx + (BUTTON_W as i16 - text_w) / 2;
            let ty = by + (BUTTON_H as i16 + self.ascent) / 2 - 1;
            self.text(tx, ty, label)?;
        }
        set(self.colours.text, self.colours.background).map_err(x_err)?;
        c.flush().map_err(x_err)?;
        Ok(())
    }

    fn keysym(&self, keycode: u8) -> u32 {
        keycode.checked_sub(self.min_keycode).and_then(|i| self.keysyms.get(usize::from(i))).copied().unwrap_or(0)
    }

    /// Runs until an answer (`Some`), or `stop` (`None`). The focus goes back where it
    /// was when the window closes.
    fn run(mut self, stop: &AtomicBool) -> Result<Option<bool>, DialogError> {
        let before = self.conn.get_input_focus().map_err(x_err)?.reply().map_err(x_err)?.focus;
        let answer = self.events(stop);
        let now_focus = self.conn.get_input_focus().ok().and_then(|c| c.reply().ok()).map(|r| r.focus);
        if now_focus == Some(self.id) && before != self.id {
            let _ = self.conn.set_input_focus(InputFocus::POINTER_ROOT, before, x11rb::CURRENT_TIME);
        }
        let _ = self.conn.destroy_window(self.id);
        let _ = self.conn.flush();
        answer
    }

    fn events(&mut self, stop: &AtomicBool) -> Result<Option<bool>, DialogError> {
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(None);
            }
            let Some(event) = self.conn.poll_for_event().map_err(x_err)? else {
                std::thread::sleep(POLL);
                continue;
            };
            match event {
                Event::Expose(e) if e.count == 0 => self.draw()?,
                Event::MapNotify(_) => {
                    // A consent question deserves the keyboard; the focus goes back after.
                    let _ = self.conn.set_input_focus(InputFocus::PARENT, self.id, x11rb::CURRENT_TIME);
                    self.conn.flush().map_err(x_err)?;
                }
                Event::KeyPress(k) => match self.keysym(k.detail) {
                    XK_TAB | XK_ISO_LEFT_TAB | XK_LEFT | XK_RIGHT => {
                        self.focus = if self.focus == Button::Yes { Button::No } else { Button::Yes };
                        self.draw()?;
                    }
                    XK_RETURN | XK_KP_ENTER | XK_SPACE => return Ok(Some(self.focus == Button::Yes)),
                    XK_ESCAPE => return Ok(Some(false)),
                    _ => {}
                },
                Event::ButtonPress(b) if b.detail == 1 => self.pressed = self.hit(b.event_x, b.event_y),
                Event::ButtonRelease(b) if b.detail == 1 => {
                    let on = self.hit(b.event_x, b.event_y);
                    if on.is_some() && on == self.pressed.take() {
                        return Ok(Some(on == Some(Button::Yes)));
                    }
                }
                Event::ClientMessage(m) if m.format == 32 && m.data.as_data32()[0] == self.delete_window => {
                    return Ok(Some(false));
                }
                _ => {}
            }
        }
    }
}
