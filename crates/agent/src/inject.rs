//! Input injection with XTest, and the take-back watch: the hotkey (XGrabKey) and local
//! input (XInput2 raw events from any device but the XTEST ones).
//!
//! Runs on its own thread with its own X connection. Take-back is enforced *here*: the
//! moment the hotkey or local input is seen, this thread stops injecting and releases
//! every key and button it holds, before the async side or the server hear of it.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use deskshare_proto::keys::{self, keysym};

pub use crate::capture::Area;
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

fn lost(e: impl std::fmt::Display) -> WireError {
    WireError::new(ErrorCode::DisplayLost, e.to_string())
}

// XTest event types (core protocol event codes).
const KEY_PRESS: u8 = 2;
const KEY_RELEASE: u8 = 3;
const BUTTON_PRESS: u8 = 4;
const BUTTON_RELEASE: u8 = 5;
const MOTION: u8 = 6;

/// How often the thread looks at X events while no command arrives.
const POLL: Duration = Duration::from_millis(10);
/// Local pointer motion closer than this to our own injection is taken as its echo.
const LOCAL_DEBOUNCE: Duration = Duration::from_millis(250);

struct Injector {
    conn: RustConnection,
    root: xproto::Window,
    area: Area,
    window: Option<u32>,
    enabled: bool,
    /// keysym -> (keycode, column in the keyboard map).
    keymap: HashMap<u32, (u8, usize)>,
    per_keycode: usize,
    scratch: Option<u8>,
    shift_keycode: Option<u8>,
    held_keys: Vec<u8>,
    held_buttons: Vec<u8>,
    /// Modifier keysyms the controller holds down, for the blocked-combination check.
    mods_down: HashSet<u32>,
    hotkey_keycode: u8,
    hotkey: Hotkey,
    xtest_devices: HashSet<u16>,
    last_takeback: Option<Instant>,
    /// Key and button presses injected whose raw echo has not come back yet.
    key_echoes: Cell<u32>,
    button_echoes: Cell<u32>,
    modifier_keycodes: HashSet<u8>,
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
            let _ = ready.send(Err(e.clone()));
            return Err(e);
        }
    };
    loop {
        while let Some(ev) = inj.conn.poll_for_event().map_err(lost)? {
            if let Some(reason) = inj.takeback_reason(&ev, opts.local_takeback) {
                // Act here first: stop obeying and let go of everything held.
                inj.enabled = false;
                inj.release_all()?;
                inj.last_takeback = Some(Instant::now());
                takeback(reason);
            }
        }
        match commands.recv_timeout(POLL) {
            Ok(InjectCommand::Enable) => {
                inj.enabled = true;
                inj.raise_window()?;
            }
            Ok(InjectCommand::Disable) => {
                inj.enabled = false;
                inj.release_all()?;
            }
            Ok(InjectCommand::Area(a)) => inj.area = a,
            Ok(InjectCommand::Events(events)) if inj.enabled => {
                for e in events {
                    inj.inject(e)?;
                }
                inj.conn.flush().map_err(lost)?;
            }
            Ok(InjectCommand::Events(_)) => {} // not enabled: dropped
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                inj.release_all()?;
                return Ok(());
            }
        }
    }
}

impl Injector {
    fn open(opts: &InjectOptions) -> Result<Injector, WireError> {
        let (conn, screen_num) = x11rb::connect(opts.display.as_deref())
            .map_err(|e| WireError::new(ErrorCode::DisplayUnreachable, e.to_string()))?;
        let root = conn.setup().roots[screen_num].root;
        if conn.extension_information(x11rb::protocol::xtest::X11_EXTENSION_NAME).map_err(lost)?.is_none() {
            return Err(WireError::new(
                ErrorCode::DisplayExtensionMissing,
                "the display lacks XTEST, needed for control",
            ));
        }
        let (min, max) = (conn.setup().min_keycode, conn.setup().max_keycode);
        let map = conn.get_keyboard_mapping(min, max - min + 1).map_err(lost)?.reply().map_err(lost)?;
        let per = usize::from(map.keysyms_per_keycode);
        let mut keymap = HashMap::new();
        let mut scratch = None;
        for (i, syms) in map.keysyms.chunks(per).enumerate() {
            let keycode = min + i as u8;
            if syms.iter().all(|&s| s == 0) {
                scratch = Some(keycode); // the last empty keycode, for keysyms not on the keyboard
            }
            for (col, &sym) in syms.iter().enumerate().take(2) {
                if sym != 0 {
                    keymap.entry(sym).or_insert((keycode, col));
                }
            }
        }
        let shift_keycode = keymap.get(&keysym::SHIFT_L).map(|k| k.0);
        let modifier_keycodes = keymap.iter().filter(|(sym, _)| keys::is_modifier(**sym)).map(|(_, k)| k.0).collect();
        let hotkey_keycode = keymap.get(&opts.hotkey.keysym).map(|k| k.0).ok_or_else(|| {
            WireError::new(
                ErrorCode::DisplayExtensionMissing,
                format!("no key for take-back hotkey {}", opts.hotkey.text),
            )
        })?;
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
            .map_err(|e| {
                WireError::new(
                    ErrorCode::HotkeyTaken,
                    format!("take-back hotkey {} is taken by another program: {e}", opts.hotkey.text),
                )
            })?;
        }
        let mut xtest_devices = HashSet::new();
        if opts.local_takeback && conn.extension_information(xinput::X11_EXTENSION_NAME).map_err(lost)?.is_some() {
            conn.xinput_xi_query_version(2, 2).map_err(lost)?.reply().map_err(lost)?;
            let devices = conn.xinput_xi_query_device(xinput::Device::ALL).map_err(lost)?.reply().map_err(lost)?;
            for d in &devices.infos {
                if String::from_utf8_lossy(&d.name).contains("XTEST") {
                    xtest_devices.insert(d.deviceid);
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
        Ok(Injector {
            conn,
            root,
            area: opts.area,
            window: opts.window,
            enabled: false,
            keymap,
            per_keycode: per,
            scratch,
            shift_keycode,
            held_keys: vec![],
            held_buttons: vec![],
            mods_down: HashSet::new(),
            hotkey_keycode,
            hotkey: opts.hotkey.clone(),
            xtest_devices,
            last_takeback: None,
            key_echoes: Cell::new(0),
            button_echoes: Cell::new(0),
            modifier_keycodes,
        })
    }

    /// Whether `ev` means the presenter's user wants control back.
    ///
    /// Local input is a press or motion from a real device, or a key or button press from
    /// an XTEST device that this injector did not cause (another XTest client, as on a
    /// headless server). Our own presses are recognised by counting their echoes.
    /// Modifier keys and the hotkey's own key do not count: pressing the hotkey is
    /// reported as the hotkey.
    fn takeback_reason(&mut self, ev: &Event, local: bool) -> Option<RevokeReason> {
        let foreign = |device: u16, echoes: &Cell<u32>| {
            if self.xtest_devices.contains(&device) && echoes.get() > 0 {
                echoes.set(echoes.get() - 1);
                false
            } else {
                true
            }
        };
        let watching = local && self.enabled;
        match ev {
            Event::KeyPress(k) if k.detail == self.hotkey_keycode => {
                let relevant = u16::from(k.state) & !(u16::from(ModMask::LOCK) | u16::from(ModMask::M2));
                (relevant & u16::from(self.hotkey.modifiers) == u16::from(self.hotkey.modifiers))
                    .then_some(RevokeReason::Hotkey)
            }
            Event::XinputRawKeyPress(e) => {
                let keycode = e.detail as u8;
                let counts = keycode != self.hotkey_keycode && !self.modifier_keycodes.contains(&keycode);
                (foreign(e.sourceid, &self.key_echoes) && watching && counts).then_some(RevokeReason::LocalInput)
            }
            Event::XinputRawButtonPress(e) => {
                (foreign(e.sourceid, &self.button_echoes) && watching).then_some(RevokeReason::LocalInput)
            }
            Event::XinputRawMotion(e)
                if watching
                    && !self.xtest_devices.contains(&e.sourceid)
                    && self.last_takeback.is_none_or(|t| t.elapsed() > LOCAL_DEBOUNCE) =>
            {
                Some(RevokeReason::LocalInput)
            }
            _ => None,
        }
    }

    fn fake(&self, kind: u8, detail: u8, x: i16, y: i16) -> Result<(), WireError> {
        self.conn.xtest_fake_input(kind, detail, x11rb::CURRENT_TIME, self.root, x, y, 0).map_err(lost)?;
        match kind {
            KEY_PRESS => self.key_echoes.set(self.key_echoes.get() + 1),
            BUTTON_PRESS => self.button_echoes.set(self.button_echoes.get() + 1),
            _ => {}
        }
        Ok(())
    }

    fn inject(&mut self, e: InputEvent) -> Result<(), WireError> {
        match e {
            InputEvent::Move { x, y } => {
                let a = self.area;
                // Input outside the shared area is dropped: in program mode the rest of
                // the desktop is not the controller's to touch.
                if x < 0 || y < 0 || x >= a.width as i32 || y >= a.height as i32 {
                    return Ok(());
                }
                let (rx, ry) = (a.x + x, a.y + y);
                self.fake(MOTION, 0, rx.clamp(0, i16::MAX.into()) as i16, ry.clamp(0, i16::MAX.into()) as i16)
            }
            InputEvent::Button { button, down } => self.button(button, down),
            InputEvent::Wheel { dx, dy } => {
                let steps = [(dy, 5u8, 4u8), (dx, 7, 6)];
                for (n, pos, neg) in steps {
                    let b = if n > 0 { pos } else { neg };
                    for _ in 0..n.unsigned_abs() {
                        self.button(b, true)?;
                        self.button(b, false)?;
                    }
                }
                Ok(())
            }
            InputEvent::Key { keysym: sym, down } => {
                if down && self.window.is_some() && self.held_keys.is_empty() {
                    self.raise_window()?;
                }
                self.key(sym, down)
            }
        }
    }

    /// Program mode: bring the shared window to the front and give it the keyboard, so
    /// input meant for it cannot land in another program.
    fn raise_window(&self) -> Result<(), WireError> {
        if let Some(w) = self.window {
            let aux = xproto::ConfigureWindowAux::new().stack_mode(xproto::StackMode::ABOVE);
            self.conn.configure_window(w, &aux).map_err(lost)?;
            self.conn.set_input_focus(xproto::InputFocus::PARENT, w, x11rb::CURRENT_TIME).map_err(lost)?;
            self.conn.flush().map_err(lost)?;
        }
        Ok(())
    }

    fn button(&mut self, b: u8, down: bool) -> Result<(), WireError> {
        if down && self.window.is_some() && self.held_buttons.is_empty() {
            self.raise_window()?;
        }
        if down {
            self.held_buttons.push(b);
        } else if let Some(i) = self.held_buttons.iter().position(|&h| h == b) {
            self.held_buttons.remove(i);
        } else {
            return Ok(()); // a release for a press we never injected
        }
        self.fake(if down { BUTTON_PRESS } else { BUTTON_RELEASE }, b, 0, 0)
    }

    /// Combinations that end the X session or switch virtual terminals are never injected.
    fn blocked(&self, sym: u32) -> bool {
        let ctrl = self.mods_down.contains(&keysym::CONTROL_L) || self.mods_down.contains(&keysym::CONTROL_R);
        let alt =
            [keysym::ALT_L, keysym::ALT_R, keysym::META_L, keysym::META_R].iter().any(|k| self.mods_down.contains(k));
        ctrl && alt && (sym == keysym::BACKSPACE || (keysym::F1..=keysym::F12).contains(&sym))
    }

    fn key(&mut self, sym: u32, down: bool) -> Result<(), WireError> {
        if keys::is_modifier(sym) {
            if down {
                self.mods_down.insert(sym);
            } else {
                self.mods_down.remove(&sym);
            }
        } else if down && self.blocked(sym) {
            tracing::warn!(keysym = sym, "blocked a session-ending key combination");
            return Ok(());
        }
        let (keycode, column) = match self.keymap.get(&sym) {
            Some(&k) => k,
            None => (self.map_scratch(sym)?, 0),
        };
        if !down {
            if let Some(i) = self.held_keys.iter().position(|&k| k == keycode) {
                self.held_keys.remove(i);
                return self.fake(KEY_RELEASE, keycode, 0, 0);
            }
            return Ok(());
        }
        // A shifted symbol typed without Shift held (e.g. "A" from a script): add Shift.
        let shift_held = self.mods_down.contains(&keysym::SHIFT_L) || self.mods_down.contains(&keysym::SHIFT_R);
        let add_shift = column == 1 && !shift_held && !keys::is_modifier(sym);
        match (add_shift, self.shift_keycode) {
            (true, Some(shift)) => {
                self.fake(KEY_PRESS, shift, 0, 0)?;
                self.fake(KEY_PRESS, keycode, 0, 0)?;
                self.fake(KEY_RELEASE, keycode, 0, 0)?;
                self.fake(KEY_RELEASE, shift, 0, 0)
            }
            _ => {
                self.held_keys.push(keycode);
                self.fake(KEY_PRESS, keycode, 0, 0)
            }
        }
    }

    /// Puts a keysym the keyboard lacks on the spare keycode (as xdotool does).
    fn map_scratch(&mut self, sym: u32) -> Result<u8, WireError> {
        let Some(code) = self.scratch else {
            return Err(WireError::new(ErrorCode::DisplayExtensionMissing, "no spare keycode to type this character"));
        };
        let syms = vec![sym; self.per_keycode];
        self.conn.change_keyboard_mapping(1, code, self.per_keycode as u8, &syms).map_err(lost)?;
        self.conn.sync_roundtrip()?;
        self.keymap.retain(|_, v| v.0 != code);
        self.keymap.insert(sym, (code, 0));
        Ok(code)
    }

    fn release_all(&mut self) -> Result<(), WireError> {
        for k in std::mem::take(&mut self.held_keys) {
            self.fake(KEY_RELEASE, k, 0, 0)?;
        }
        for b in std::mem::take(&mut self.held_buttons) {
            self.fake(BUTTON_RELEASE, b, 0, 0)?;
        }
        self.mods_down.clear();
        self.conn.flush().map_err(lost)
    }
}

trait SyncRoundtrip {
    fn sync_roundtrip(&self) -> Result<(), WireError>;
}

impl SyncRoundtrip for RustConnection {
    fn sync_roundtrip(&self) -> Result<(), WireError> {
        self.get_input_focus().map_err(lost)?.reply().map_err(lost)?;
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
