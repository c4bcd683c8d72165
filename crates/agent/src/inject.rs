//! Input injection with XTest, and the take-back watch: the hotkey (XGrabKey) and local
//! input (XInput2 raw events from any device but the XTEST ones).
//!
//! Runs on its own thread with its own X connection. The rules (what is obeyed, what is
//! blocked, when control is taken back) are the pure [`InputFilter`]'s; this module
//! only reads the keyboard map, translates X events for it and performs its actions.
//! Take-back is enforced *here*: the moment the hotkey or local input is seen, this
//! thread stops injecting and releases every key and button it holds, before the async
//! side or the server hear of it.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use deskshare_proto::keys::{self, keysym};

pub use crate::capture::Area;
use crate::input_filter::{Action, Fake, InputFilter, Keyboard, Observed};
use deskshare_proto::{ErrorCode, InputEvent, RevokeReason, WireError};
use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::Event;
use x11rb::protocol::xinput::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{self, ConnectionExt as _, ModMask};
use x11rb::protocol::xtest::ConnectionExt as _;
use x11rb::rust_connection::RustConnection;

/// What the async side tells the injector.
#[derive(Debug)]
pub enum InjectCommand {
    /// A grant became active: obey input again.
    Enable,
    /// Inject these events (already admitted under the active grant).
    Events(Vec<InputEvent>),
    /// The grant ended: release everything held, obey nothing.
    Disable,
    /// The shared area moved or changed size (root coordinates).
    Area(Area),
}

/// A take-back hotkey: modifiers plus one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hotkey {
    pub modifiers: ModMask,
    pub keysym: u32,
    pub text: String,
}

impl Hotkey {
    /// Parses `ctrl+alt+space`-style combinations.
    pub fn parse(s: &str) -> Result<Hotkey, String> {
        let parts: Vec<&str> = s.split('+').map(str::trim).collect();
        let (key, mods) = parts.split_last().ok_or("empty hotkey")?;
        let mut modifiers = ModMask::from(0u16);
        for m in mods {
            modifiers |= match m.to_ascii_lowercase().as_str() {
                "ctrl" | "control" => ModMask::CONTROL,
                "alt" => ModMask::M1,
                "shift" => ModMask::SHIFT,
                "super" | "win" => ModMask::M4,
                other => {
                    return Err(format!("unknown modifier '{other}' (use ctrl, alt, shift, super)"));
                }
            };
        }
        let keysym = keys::keysym_from_name(key).ok_or_else(|| format!("unknown key '{key}'"))?;
        if mods.is_empty() {
            return Err("a take-back hotkey needs at least one modifier".into());
        }
        Ok(Hotkey { modifiers, keysym, text: s.to_string() })
    }
}

/// Injector options.
pub struct InjectOptions {
    pub display: Option<String>,
    pub hotkey: Hotkey,
    /// Local mouse or keyboard activity takes control back.
    pub local_takeback: bool,
    pub area: Area,
    /// In program mode, the shared window: raised and focused before input goes to it.
    pub window: Option<u32>,
}

/// Why the injector could not start or go on, each with its code (one mapping, here).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InjectError {
    #[error("cannot open the X display: {0}")]
    Connect(String),
    #[error("the display lacks XTEST, needed for control")]
    NoXtest,
    #[error("no key on this keyboard for take-back hotkey {0}")]
    HotkeyKeyMissing(String),
    #[error("take-back hotkey {hotkey} is taken by another program: {why}")]
    HotkeyTaken { hotkey: String, why: String },
    #[error("the X connection failed: {0}")]
    Lost(String),
}

impl InjectError {
    pub fn code(&self) -> ErrorCode {
        match self {
            InjectError::Connect(_) => ErrorCode::DisplayUnreachable,
            InjectError::NoXtest => ErrorCode::DisplayExtensionMissing,
            InjectError::HotkeyKeyMissing(_) => ErrorCode::HotkeyUnavailable,
            InjectError::HotkeyTaken { .. } => ErrorCode::HotkeyTaken,
            InjectError::Lost(_) => ErrorCode::DisplayLost,
        }
    }
}

impl From<InjectError> for WireError {
    fn from(e: InjectError) -> Self {
        WireError::new(e.code(), e.to_string())
    }
}

fn lost(e: impl std::fmt::Display) -> InjectError {
    InjectError::Lost(e.to_string())
}

// XTest event types (core protocol event codes).
const KEY_PRESS: u8 = 2;
const KEY_RELEASE: u8 = 3;
const BUTTON_PRESS: u8 = 4;
const BUTTON_RELEASE: u8 = 5;
const MOTION: u8 = 6;

/// How often the thread looks at X events while no command arrives.
const POLL: Duration = Duration::from_millis(10);

/// The X side: performs what the [`InputFilter`] decides.
struct Injector {
    conn: RustConnection,
    root: xproto::Window,
    window: Option<u32>,
    per_keycode: usize,
    hotkey_keycode: u8,
    filter: InputFilter,
}

/// Runs the injector until `commands` closes. `ready` hears whether setup (X connection,
/// hotkey grab) worked; `takeback` gets each take-back's reason.
pub fn run(
    opts: InjectOptions,
    commands: Receiver<InjectCommand>,
    ready: std::sync::mpsc::Sender<Result<(), WireError>>,
    takeback: impl Fn(RevokeReason),
) -> Result<(), WireError> {
    let mut inj = match Injector::open(&opts) {
        Ok(i) => {
            let _ = ready.send(Ok(()));
            i
        }
        Err(e) => {
            let _ = ready.send(Err(e.clone().into()));
            return Err(e.into());
        }
    };
    loop {
        inj.drain_events(&takeback)?;
        let actions = match commands.recv_timeout(POLL) {
            Ok(InjectCommand::Enable) => {
                // The key or click that gave the grant (on the question window) was the
                // presenter's own input, made before the grant: it must not take the
                // grant back. A round trip makes the X server hand over every event it
                // made before now; they are judged while control is still off.
                inj.conn.get_input_focus().map_err(lost)?.reply().map_err(lost)?;
                inj.drain_events(&takeback)?;
                inj.filter.enable()
            }
            Ok(InjectCommand::Disable) => inj.filter.disable(),
            Ok(InjectCommand::Area(a)) => {
                inj.filter.set_area(a);
                Vec::new()
            }
            Ok(InjectCommand::Events(events)) => events.into_iter().flat_map(|e| inj.filter.input(e)).collect(),
            Err(RecvTimeoutError::Timeout) => Vec::new(),
            Err(RecvTimeoutError::Disconnected) => {
                let release = inj.filter.disable();
                inj.perform(&release)?;
                return Ok(());
            }
        };
        inj.perform(&actions)?;
    }
}

impl Injector {
    /// Judges every X event received so far: a take-back is acted on here first (the
    /// filter stopped obeying; everything held is let go), then reported.
    fn drain_events(&mut self, takeback: &impl Fn(RevokeReason)) -> Result<(), InjectError> {
        while let Some(ev) = self.conn.poll_for_event().map_err(lost)? {
            if let Some(seen) = self.observed(&ev)
                && let Some((reason, release)) = self.filter.observe(seen, Instant::now())
            {
                self.perform(&release)?;
                takeback(reason);
            }
        }
        Ok(())
    }

    fn open(opts: &InjectOptions) -> Result<Injector, InjectError> {
        let (conn, screen_num) =
            x11rb::connect(opts.display.as_deref()).map_err(|e| InjectError::Connect(e.to_string()))?;
        let root = conn.setup().roots[screen_num].root;
        if conn.extension_information(x11rb::protocol::xtest::X11_EXTENSION_NAME).map_err(lost)?.is_none() {
            return Err(InjectError::NoXtest);
        }
        let (min, max) = (conn.setup().min_keycode, conn.setup().max_keycode);
        let map = conn.get_keyboard_mapping(min, max - min + 1).map_err(lost)?.reply().map_err(lost)?;
        let per = usize::from(map.keysyms_per_keycode);
        let mut keyboard = Keyboard::default();
        for (i, syms) in map.keysyms.chunks(per).enumerate() {
            let keycode = min + i as u8;
            if syms.iter().all(|&s| s == 0) {
                keyboard.spare.push(keycode); // for keysyms not on the keyboard
            }
            for (col, &sym) in syms.iter().enumerate().take(2) {
                if sym != 0 {
                    keyboard.keymap.entry(sym).or_insert((keycode, col));
                }
            }
        }
        keyboard.shift = keyboard.keymap.get(&keysym::SHIFT_L).map(|k| k.0);
        keyboard.modifiers =
            keyboard.keymap.iter().filter(|(sym, _)| keys::is_modifier(**sym)).map(|(_, k)| k.0).collect();
        let hotkey_keycode = keyboard
            .keymap
            .get(&opts.hotkey.keysym)
            .map(|k| k.0)
            .ok_or_else(|| InjectError::HotkeyKeyMissing(opts.hotkey.text.clone()))?;
        keyboard.hotkey = hotkey_keycode;
        keyboard.hotkey_mask = opts.hotkey.modifiers.into();
        // Grab the hotkey with and without CapsLock and NumLock, which X counts as modifiers.
        for extra in [0u16, ModMask::LOCK.into(), ModMask::M2.into(), u16::from(ModMask::LOCK) | u16::from(ModMask::M2)]
        {
            conn.grab_key(
                false,
                root,
                opts.hotkey.modifiers | ModMask::from(extra),
                hotkey_keycode,
                xproto::GrabMode::ASYNC,
                xproto::GrabMode::ASYNC,
            )
            .map_err(lost)?
            .check()
            .map_err(|e| InjectError::HotkeyTaken { hotkey: opts.hotkey.text.clone(), why: e.to_string() })?;
        }
        if opts.local_takeback && conn.extension_information(xinput::X11_EXTENSION_NAME).map_err(lost)?.is_some() {
            conn.xinput_xi_query_version(2, 2).map_err(lost)?.reply().map_err(lost)?;
            let devices = conn.xinput_xi_query_device(xinput::Device::ALL).map_err(lost)?.reply().map_err(lost)?;
            for d in &devices.infos {
                if String::from_utf8_lossy(&d.name).contains("XTEST") {
                    keyboard.xtest_devices.insert(d.deviceid);
                }
            }
            let mask = xinput::XIEventMask::RAW_KEY_PRESS
                | xinput::XIEventMask::RAW_BUTTON_PRESS
                | xinput::XIEventMask::RAW_MOTION;
            conn.xinput_xi_select_events(
                root,
                &[xinput::EventMask { deviceid: xinput::Device::ALL_MASTER.into(), mask: vec![mask] }],
            )
            .map_err(lost)?;
        }
        conn.flush().map_err(lost)?;
        let filter = InputFilter::new(keyboard, opts.area, opts.window.is_some(), opts.local_takeback);
        Ok(Injector { conn, root, window: opts.window, per_keycode: per, hotkey_keycode, filter })
    }

    /// An X event as the filter sees it, if it is one it cares about.
    fn observed(&self, ev: &Event) -> Option<Observed> {
        match ev {
            Event::KeyPress(k) if k.detail == self.hotkey_keycode => {
                Some(Observed::HotkeyPress { state: u16::from(k.state) })
            }
            Event::XinputRawKeyPress(e) => Some(Observed::RawKey { device: e.sourceid, keycode: e.detail as u8 }),
            Event::XinputRawButtonPress(e) => Some(Observed::RawButton { device: e.sourceid }),
            Event::XinputRawMotion(e) => Some(Observed::RawMotion { device: e.sourceid }),
            _ => None,
        }
    }

    fn perform(&self, actions: &[Action]) -> Result<(), InjectError> {
        if actions.is_empty() {
            return Ok(());
        }
        for a in actions {
            match *a {
                Action::Fake(f) => {
                    let (kind, detail, x, y) = match f {
                        Fake::KeyPress(k) => (KEY_PRESS, k, 0, 0),
                        Fake::KeyRelease(k) => (KEY_RELEASE, k, 0, 0),
                        Fake::ButtonPress(b) => (BUTTON_PRESS, b, 0, 0),
                        Fake::ButtonRelease(b) => (BUTTON_RELEASE, b, 0, 0),
                        Fake::Motion(x, y) => (MOTION, 0, x, y),
                    };
                    self.conn.xtest_fake_input(kind, detail, x11rb::CURRENT_TIME, self.root, x, y, 0).map_err(lost)?;
                }
                Action::MapSpare { keycode, keysym } => {
                    let syms = vec![keysym; self.per_keycode];
                    self.conn.change_keyboard_mapping(1, keycode, self.per_keycode as u8, &syms).map_err(lost)?;
                    // The mapping must be in place before the key is pressed.
                    self.conn.get_input_focus().map_err(lost)?.reply().map_err(lost)?;
                }
                Action::RaiseWindow => self.raise_window()?,
            }
        }
        self.conn.flush().map_err(lost)
    }

    /// Program mode: bring the shared window to the front and give it the keyboard, so
    /// input meant for it cannot land in another program.
    fn raise_window(&self) -> Result<(), InjectError> {
        if let Some(w) = self.window {
            let aux = xproto::ConfigureWindowAux::new().stack_mode(xproto::StackMode::ABOVE);
            self.conn.configure_window(w, &aux).map_err(lost)?;
            self.conn.set_input_focus(xproto::InputFocus::PARENT, w, x11rb::CURRENT_TIME).map_err(lost)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hotkeys_parse() {
        let h = Hotkey::parse("ctrl+alt+space").unwrap();
        assert_eq!((u16::from(h.modifiers), h.keysym), (u16::from(ModMask::CONTROL | ModMask::M1), 0x20));
        assert_eq!(Hotkey::parse("super+F12").unwrap().keysym, keysym::F12);
        assert!(Hotkey::parse("space").is_err(), "a bare key would fire while typing");
        assert!(Hotkey::parse("hyper+x").is_err());
        assert!(Hotkey::parse("ctrl+nokey").is_err());
    }
}
