//! The agent's input safety rules, without X: what a controller's events become as fake
//! input, and when the presenter's own hands take control back.
//!
//! Sans-IO like the control floor: events, X observations and time in, [`Action`]s out;
//! the injector thread (`inject.rs`) only translates X events into [`Observed`] and
//! performs the actions with XTest. The rules, each unit-tested below:
//!
//! - nothing is obeyed unless a grant is active ([`InputFilter::enable`]);
//! - pointer input outside the shared area is dropped (in program mode the rest of the
//!   desktop is not the controller's to touch);
//! - combinations that end the X session or switch virtual terminals (Ctrl+Alt+Backspace,
//!   Ctrl+Alt+F1..F12) never reach X;
//! - every key and button pressed is released when control ends, whichever way it ends;
//! - the take-back hotkey, and (with local take-back) any key, button or motion of the
//!   presenter's own devices, ends control at once; our own injected presses come back
//!   as raw events from the XTEST device and are told apart by counting them.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use deskshare_proto::keys::{self, keysym};
use deskshare_proto::{InputEvent, RevokeReason};

pub use crate::capture::Area;

/// Local pointer motion closer than this to a take-back is its tail, not a new one.
pub const LOCAL_DEBOUNCE: Duration = Duration::from_millis(250);

/// What fake input XTest sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fake {
    KeyPress(u8),
    KeyRelease(u8),
    ButtonPress(u8),
    ButtonRelease(u8),
    /// Pointer to root coordinates.
    Motion(i16, i16),
}

/// What the X side does, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Fake(Fake),
    /// Put `keysym` on the spare `keycode` (the keyboard lacks it), then wait for the
    /// server to take it, before the fake input that follows.
    MapSpare {
        keycode: u8,
        keysym: u32,
    },
    /// Program mode: raise the shared window and give it the keyboard.
    RaiseWindow,
}

/// What the X side saw that may mean the presenter wants control back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observed {
    /// The grabbed hotkey's keycode went down with these modifiers (`KeyButMask` bits).
    HotkeyPress {
        state: u16,
    },
    /// Raw events (XInput2) from device `device`.
    RawKey {
        device: u16,
        keycode: u8,
    },
    RawButton {
        device: u16,
    },
    RawMotion {
        device: u16,
    },
}

/// The keyboard as the X server maps it: the facts the rules need.
#[derive(Clone, Debug, Default)]
pub struct Keyboard {
    /// keysym -> (keycode, column: 0 plain, 1 shifted).
    pub keymap: HashMap<u32, (u8, usize)>,
    /// Empty keycodes for keysyms the keyboard lacks (as xdotool does), used in turn:
    /// a program reads the keyboard map when it gets to a key event, so a keycode
    /// remapped again right away would turn every earlier character into the last one
    /// ("Grüße" arriving as "Grßße"). In turn, a keycode is remapped only after every
    /// other spare one was.
    pub spare: Vec<u8>,
    pub shift: Option<u8>,
    /// Keycodes of modifier keys: pressing one alone is not "local input".
    pub modifiers: HashSet<u8>,
    /// The hotkey's keycode and its modifier mask.
    pub hotkey: u8,
    pub hotkey_mask: u16,
    /// XInput device ids of XTEST devices (where our own input comes from).
    pub xtest_devices: HashSet<u16>,
}

/// CapsLock and NumLock: X counts them as modifiers; the hotkey works whatever they are.
const LOCK_MASKS: u16 = 0x02 | 0x10;

/// The safety state of one injector.
#[derive(Debug)]
pub struct InputFilter {
    keyboard: Keyboard,
    area: Area,
    program_mode: bool,
    local_takeback: bool,
    enabled: bool,
    held_keys: Vec<u8>,
    held_buttons: Vec<u8>,
    /// Modifier keysyms the controller holds down, for the blocked-combination check.
    mods_down: HashSet<u32>,
    /// Key and button presses injected whose raw echo has not come back yet.
    key_echoes: u32,
    button_echoes: u32,
    last_takeback: Option<Instant>,
    /// Index in `keyboard.spare` of the next spare keycode to use.
    next_spare: usize,
}

impl InputFilter {
    pub fn new(keyboard: Keyboard, area: Area, program_mode: bool, local_takeback: bool) -> Self {
        InputFilter {
            keyboard,
            area,
            program_mode,
            local_takeback,
            enabled: false,
            held_keys: Vec::new(),
            held_buttons: Vec::new(),
            mods_down: HashSet::new(),
            key_echoes: 0,
            button_echoes: 0,
            last_takeback: None,
            next_spare: 0,
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// A grant became active: obey input from now on.
    pub fn enable(&mut self) -> Vec<Action> {
        self.enabled = true;
        if self.program_mode { vec![Action::RaiseWindow] } else { Vec::new() }
    }

    /// The grant ended (or the injector stops): obey nothing, let go of everything held.
    pub fn disable(&mut self) -> Vec<Action> {
        self.enabled = false;
        self.release_all()
    }

    /// The shared area moved or changed size (root coordinates).
    pub fn set_area(&mut self, area: Area) {
        self.area = area;
    }

    /// What a controller's event becomes; nothing while no grant is active.
    pub fn input(&mut self, e: InputEvent) -> Vec<Action> {
        let mut out = Vec::new();
        if !self.enabled {
            return out;
        }
        match e {
            InputEvent::Move { x, y } => {
                let a = self.area;
                if x < 0 || y < 0 || x >= a.width as i32 || y >= a.height as i32 {
                    return out;
                }
                let (rx, ry) = (a.x + x, a.y + y);
                let clamp = |v: i32| v.clamp(0, i16::MAX.into()) as i16;
                out.push(Action::Fake(Fake::Motion(clamp(rx), clamp(ry))));
            }
            InputEvent::Button { button, down } => self.button(button, down, &mut out),
            InputEvent::Wheel { dx, dy } => {
                for (n, pos, neg) in [(dy, 5u8, 4u8), (dx, 7, 6)] {
                    let b = if n > 0 { pos } else { neg };
                    for _ in 0..n.unsigned_abs() {
                        self.button(b, true, &mut out);
                        self.button(b, false, &mut out);
                    }
                }
            }
            InputEvent::Key { keysym: sym, down } => {
                if down && self.program_mode && self.held_keys.is_empty() {
                    out.push(Action::RaiseWindow);
                }
                self.key(sym, down, &mut out);
            }
        }
        self.count_echoes(&out);
        out
    }

    /// Whether what X reported means the presenter's user wants control back, at `now`;
    /// if so, control is already over here (nothing more is obeyed) and the actions
    /// release everything held.
    pub fn observe(&mut self, ev: Observed, now: Instant) -> Option<(RevokeReason, Vec<Action>)> {
        let reason = self.takeback_reason(ev, now)?;
        self.enabled = false;
        self.last_takeback = Some(now);
        Some((reason, self.release_all()))
    }

    fn takeback_reason(&mut self, ev: Observed, now: Instant) -> Option<RevokeReason> {
        let watching = self.local_takeback && self.enabled;
        let xtest = &self.keyboard.xtest_devices;
        // An XTEST press we injected comes back once: that one is not local input.
        let foreign = |device: u16, echoes: &mut u32| {
            if xtest.contains(&device) && *echoes > 0 {
                *echoes -= 1;
                false
            } else {
                true
            }
        };
        match ev {
            Observed::HotkeyPress { state } => {
                let mask = self.keyboard.hotkey_mask;
                (state & !LOCK_MASKS & mask == mask).then_some(RevokeReason::Hotkey)
            }
            Observed::RawKey { device, keycode } => {
                let counts = keycode != self.keyboard.hotkey && !self.keyboard.modifiers.contains(&keycode);
                (foreign(device, &mut self.key_echoes) && watching && counts).then_some(RevokeReason::LocalInput)
            }
            Observed::RawButton { device } => {
                (foreign(device, &mut self.button_echoes) && watching).then_some(RevokeReason::LocalInput)
            }
            Observed::RawMotion { device } => (watching
                && !xtest.contains(&device)
                && self.last_takeback.is_none_or(|t| now.saturating_duration_since(t) > LOCAL_DEBOUNCE))
            .then_some(RevokeReason::LocalInput),
        }
    }

    fn count_echoes(&mut self, actions: &[Action]) {
        for a in actions {
            match a {
                Action::Fake(Fake::KeyPress(_)) => self.key_echoes += 1,
                Action::Fake(Fake::ButtonPress(_)) => self.button_echoes += 1,
                _ => {}
            }
        }
    }

    fn button(&mut self, b: u8, down: bool, out: &mut Vec<Action>) {
        if down && self.program_mode && self.held_buttons.is_empty() {
            out.push(Action::RaiseWindow);
        }
        if down {
            self.held_buttons.push(b);
            out.push(Action::Fake(Fake::ButtonPress(b)));
        } else if let Some(i) = self.held_buttons.iter().position(|&h| h == b) {
            self.held_buttons.remove(i);
            out.push(Action::Fake(Fake::ButtonRelease(b)));
        } // else: a release for a press we never injected
    }

    /// Combinations that end the X session or switch virtual terminals.
    fn blocked(&self, sym: u32) -> bool {
        let ctrl = self.mods_down.contains(&keysym::CONTROL_L) || self.mods_down.contains(&keysym::CONTROL_R);
        let alt =
            [keysym::ALT_L, keysym::ALT_R, keysym::META_L, keysym::META_R].iter().any(|k| self.mods_down.contains(k));
        ctrl && alt && (sym == keysym::BACKSPACE || (keysym::F1..=keysym::F12).contains(&sym))
    }

    /// The next spare keycode in turn that is not held down.
    fn take_spare(&mut self) -> Option<u8> {
        let n = self.keyboard.spare.len();
        for i in 0..n {
            let at = (self.next_spare + i) % n;
            let keycode = self.keyboard.spare[at];
            if !self.held_keys.contains(&keycode) {
                self.next_spare = (at + 1) % n;
                return Some(keycode);
            }
        }
        None
    }

    fn key(&mut self, sym: u32, down: bool, out: &mut Vec<Action>) {
        if keys::is_modifier(sym) {
            if down {
                self.mods_down.insert(sym);
            } else {
                self.mods_down.remove(&sym);
            }
        } else if down && self.blocked(sym) {
            tracing::warn!(keysym = sym, "blocked a session-ending key combination");
            return;
        }
        let (keycode, column) = match self.keyboard.keymap.get(&sym) {
            Some(&k) => k,
            None => {
                if !down {
                    // Its press was never sent (a release without a press): nothing to do.
                    return;
                }
                let Some(spare) = self.take_spare() else {
                    tracing::warn!(keysym = sym, "dropped a key this keyboard lacks (no spare keycode to map it to)");
                    return;
                };
                self.keyboard.keymap.retain(|_, v| v.0 != spare);
                self.keyboard.keymap.insert(sym, (spare, 0));
                out.push(Action::MapSpare { keycode: spare, keysym: sym });
                (spare, 0)
            }
        };
        if !down {
            return self.release_key(keycode, out);
        }
        // A shifted symbol typed without Shift held (e.g. "A" from a script): add Shift.
        let shift_held = self.mods_down.contains(&keysym::SHIFT_L) || self.mods_down.contains(&keysym::SHIFT_R);
        let add_shift = column == 1 && !shift_held && !keys::is_modifier(sym);
        match (add_shift, self.keyboard.shift) {
            (true, Some(shift)) => out.extend(
                [Fake::KeyPress(shift), Fake::KeyPress(keycode), Fake::KeyRelease(keycode), Fake::KeyRelease(shift)]
                    .map(Action::Fake),
            ),
            _ => {
                self.held_keys.push(keycode);
                out.push(Action::Fake(Fake::KeyPress(keycode)));
            }
        }
    }

    fn release_key(&mut self, keycode: u8, out: &mut Vec<Action>) {
        if let Some(i) = self.held_keys.iter().position(|&k| k == keycode) {
            self.held_keys.remove(i);
            out.push(Action::Fake(Fake::KeyRelease(keycode)));
        }
    }

    fn release_all(&mut self) -> Vec<Action> {
        let keys = std::mem::take(&mut self.held_keys).into_iter().map(Fake::KeyRelease);
        let buttons = std::mem::take(&mut self.held_buttons).into_iter().map(Fake::ButtonRelease);
        self.mods_down.clear();
        keys.chain(buttons).map(Action::Fake).collect()
    }
}

#[cfg(test)]
mod tests;
