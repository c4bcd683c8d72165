use super::*;

const XTEST: u16 = 8;
const REAL_KEYBOARD: u16 = 3;
const CTRL: u8 = 37;
const ALT: u8 = 64;
const SHIFT: u8 = 50;
const A: u8 = 38;
const F1: u8 = 67;
const BACKSPACE: u8 = 22;
const SPACE: u8 = 65;
const SPARE: u8 = 255;
const SPARE_2: u8 = 254;
/// ControlMask | Mod1Mask, as the hotkey ctrl+alt+space.
const CTRL_ALT: u16 = 0x04 | 0x08;

fn keyboard() -> Keyboard {
    let mut keymap = HashMap::new();
    keymap.insert(keysym::CONTROL_L, (CTRL, 0));
    keymap.insert(keysym::ALT_L, (ALT, 0));
    keymap.insert(keysym::SHIFT_L, (SHIFT, 0));
    keymap.insert(u32::from('a'), (A, 0));
    keymap.insert(u32::from('A'), (A, 1));
    keymap.insert(keysym::F1, (F1, 0));
    keymap.insert(keysym::BACKSPACE, (BACKSPACE, 0));
    keymap.insert(0x20, (SPACE, 0));
    Keyboard {
        keymap,
        spare: vec![SPARE, SPARE_2],
        shift: Some(SHIFT),
        modifiers: [CTRL, ALT, SHIFT].into(),
        hotkey: SPACE,
        hotkey_mask: CTRL_ALT,
        xtest_devices: [XTEST].into(),
    }
}

const AREA: Area = Area { x: 100, y: 50, width: 640, height: 400 };

fn filter() -> InputFilter {
    let mut f = InputFilter::new(keyboard(), AREA, false, true);
    assert!(f.enable().is_empty());
    f
}

fn key(sym: u32, down: bool) -> InputEvent {
    InputEvent::Key { keysym: sym, down }
}

fn presses(actions: &[Action]) -> Vec<u8> {
    actions.iter().filter_map(|a| if let Action::Fake(Fake::KeyPress(k)) = a { Some(*k) } else { None }).collect()
}

#[test]
fn nothing_is_obeyed_without_an_active_grant() {
    let mut f = InputFilter::new(keyboard(), AREA, false, true);
    assert!(f.input(key(u32::from('a'), true)).is_empty());
    assert!(f.input(InputEvent::Move { x: 10, y: 10 }).is_empty());
    assert!(f.input(InputEvent::Button { button: 1, down: true }).is_empty());
    f.enable();
    assert_eq!(f.input(key(u32::from('a'), true)), vec![Action::Fake(Fake::KeyPress(A))]);
    f.disable();
    assert!(f.input(key(u32::from('a'), true)).is_empty(), "nothing after the grant ended");
}

#[test]
fn session_ending_combinations_never_reach_x() {
    let mut f = filter();
    let mut sent = Vec::new();
    for e in [key(keysym::CONTROL_L, true), key(keysym::ALT_L, true)] {
        sent.extend(f.input(e));
    }
    for sym in [keysym::F1, keysym::BACKSPACE] {
        let out = f.input(key(sym, true));
        assert!(out.is_empty(), "ctrl+alt+{sym:#x} went through: {out:?}");
        assert!(f.input(key(sym, false)).is_empty(), "nor its release");
    }
    assert_eq!(presses(&sent), vec![CTRL, ALT]);
    // With Alt released, Ctrl+F1 is an ordinary shortcut.
    f.input(key(keysym::ALT_L, false));
    assert_eq!(presses(&f.input(key(keysym::F1, true))), vec![F1]);
}

#[test]
fn pointer_input_outside_the_shared_area_is_dropped() {
    let mut f = filter();
    assert_eq!(f.input(InputEvent::Move { x: 10, y: 20 }), vec![Action::Fake(Fake::Motion(110, 70))]);
    assert_eq!(f.input(InputEvent::Move { x: 639, y: 399 }), vec![Action::Fake(Fake::Motion(739, 449))]);
    for (x, y) in [(-1, 10), (10, -1), (640, 10), (10, 400), (i32::MAX, 0)] {
        assert!(f.input(InputEvent::Move { x, y }).is_empty(), "({x}, {y}) is outside");
    }
    // The area moves (a shared window dragged): coordinates follow it.
    f.set_area(Area { x: 0, y: 0, width: 100, height: 100 });
    assert!(f.input(InputEvent::Move { x: 200, y: 10 }).is_empty());
    assert_eq!(f.input(InputEvent::Move { x: 5, y: 6 }), vec![Action::Fake(Fake::Motion(5, 6))]);
}

#[test]
fn take_back_releases_everything_held_and_stops_obeying() {
    let t0 = Instant::now();
    let mut f = filter();
    f.input(key(keysym::CONTROL_L, true));
    f.input(key(u32::from('a'), true));
    f.input(InputEvent::Button { button: 1, down: true });
    f.input(InputEvent::Button { button: 3, down: true });
    let (reason, actions) = f.observe(Observed::HotkeyPress { state: CTRL_ALT }, t0).expect("a take-back");
    assert_eq!(reason, RevokeReason::Hotkey);
    assert_eq!(
        actions,
        [Fake::KeyRelease(CTRL), Fake::KeyRelease(A), Fake::ButtonRelease(1), Fake::ButtonRelease(3)].map(Action::Fake)
    );
    assert!(!f.enabled());
    assert!(f.input(key(u32::from('a'), true)).is_empty(), "input after the take-back is dropped");
    // Nothing is held any more: a second release does nothing.
    assert!(f.disable().is_empty());
}

#[test]
fn disabling_releases_everything_held() {
    let mut f = filter();
    f.input(key(keysym::SHIFT_L, true));
    f.input(InputEvent::Button { button: 2, down: true });
    assert_eq!(f.disable(), [Fake::KeyRelease(SHIFT), Fake::ButtonRelease(2)].map(Action::Fake));
    // A release for a press that never went through is not sent either.
    f.enable();
    assert!(f.input(InputEvent::Button { button: 2, down: false }).is_empty());
    assert!(f.input(key(u32::from('a'), false)).is_empty());
}

#[test]
fn the_hotkey_needs_its_modifiers_whatever_caps_and_num_lock() {
    let t0 = Instant::now();
    let mut f = filter();
    assert!(f.observe(Observed::HotkeyPress { state: 0x04 }, t0).is_none(), "ctrl+space is not ctrl+alt+space");
    let locked = CTRL_ALT | 0x02 | 0x10;
    assert_eq!(f.observe(Observed::HotkeyPress { state: locked }, t0).map(|r| r.0), Some(RevokeReason::Hotkey));
    // The hotkey works even while nobody is in control (it is harmless then).
    let mut idle = InputFilter::new(keyboard(), AREA, false, true);
    assert!(idle.observe(Observed::HotkeyPress { state: CTRL_ALT }, t0).is_some());
}

#[test]
fn our_own_injected_presses_are_not_local_input_but_the_presenters_are() {
    let t0 = Instant::now();
    let mut f = filter();
    f.input(key(u32::from('a'), true));
    f.input(InputEvent::Button { button: 1, down: true });
    // Their echoes come back from the XTEST device: not a take-back.
    assert!(f.observe(Observed::RawKey { device: XTEST, keycode: A }, t0).is_none());
    assert!(f.observe(Observed::RawButton { device: XTEST }, t0).is_none());
    assert!(f.observe(Observed::RawMotion { device: XTEST }, t0).is_none());
    // A second XTEST press we did not cause (another XTest client): the presenter.
    assert_eq!(
        f.observe(Observed::RawKey { device: XTEST, keycode: A }, t0).map(|r| r.0),
        Some(RevokeReason::LocalInput)
    );
    // A real keyboard, button or pointer: the presenter.
    for ev in [
        Observed::RawKey { device: REAL_KEYBOARD, keycode: A },
        Observed::RawButton { device: REAL_KEYBOARD },
        Observed::RawMotion { device: REAL_KEYBOARD },
    ] {
        let mut f = filter();
        assert_eq!(f.observe(ev, t0).map(|r| r.0), Some(RevokeReason::LocalInput), "{ev:?}");
    }
    // Shifted symbols inject two presses: both echoes are ours.
    let mut f = filter();
    assert_eq!(presses(&f.input(key(u32::from('A'), true))), vec![SHIFT, A]);
    for keycode in [SHIFT, A] {
        assert!(f.observe(Observed::RawKey { device: XTEST, keycode }, t0).is_none());
    }
}

#[test]
fn modifiers_and_the_hotkey_key_alone_are_not_local_input() {
    let t0 = Instant::now();
    let mut f = filter();
    for keycode in [CTRL, ALT, SHIFT, SPACE] {
        assert!(f.observe(Observed::RawKey { device: REAL_KEYBOARD, keycode }, t0).is_none(), "keycode {keycode}");
    }
}

#[test]
fn local_input_counts_only_with_local_take_back_and_while_someone_controls() {
    let t0 = Instant::now();
    let mut off = InputFilter::new(keyboard(), AREA, false, false);
    off.enable();
    assert!(off.observe(Observed::RawKey { device: REAL_KEYBOARD, keycode: A }, t0).is_none());
    assert!(off.observe(Observed::RawMotion { device: REAL_KEYBOARD }, t0).is_none());
    let mut idle = InputFilter::new(keyboard(), AREA, false, true);
    assert!(idle.observe(Observed::RawMotion { device: REAL_KEYBOARD }, t0).is_none(), "no grant, nothing to take");
}

#[test]
fn motion_right_after_a_take_back_is_its_tail() {
    let t0 = Instant::now();
    let mut f = filter();
    f.observe(Observed::RawButton { device: REAL_KEYBOARD }, t0).expect("a take-back");
    // Control is given again at once; the hand still on the mouse does not end it...
    f.enable();
    assert!(f.observe(Observed::RawMotion { device: REAL_KEYBOARD }, t0 + Duration::from_millis(200)).is_none());
    // ...but motion after the debounce does.
    let later = t0 + LOCAL_DEBOUNCE + Duration::from_millis(1);
    assert!(f.observe(Observed::RawMotion { device: REAL_KEYBOARD }, later).is_some());
}

#[test]
fn keys_the_keyboard_lacks_go_on_the_spare_keycode_or_are_dropped() {
    let mut f = filter();
    let euro = 0x20ac;
    assert_eq!(
        f.input(key(euro, true)),
        vec![Action::MapSpare { keycode: SPARE, keysym: euro }, Action::Fake(Fake::KeyPress(SPARE))]
    );
    assert_eq!(f.input(key(euro, false)), vec![Action::Fake(Fake::KeyRelease(SPARE))]);
    // Mapped once, it is on the keyboard now.
    assert_eq!(f.input(key(euro, true)), vec![Action::Fake(Fake::KeyPress(SPARE))]);
    assert_eq!(f.input(key(euro, false)), vec![Action::Fake(Fake::KeyRelease(SPARE))]);
    // The next such key goes on the next spare keycode, so the first one's mapping is
    // still there while a slow program reads its press...
    let yen = 0xa5;
    assert_eq!(f.input(key(yen, true))[0], Action::MapSpare { keycode: SPARE_2, keysym: yen });
    f.input(key(yen, false));
    // ...and the keycodes are taken in turn.
    let ae = 0xe4;
    assert_eq!(f.input(key(ae, true))[0], Action::MapSpare { keycode: SPARE, keysym: ae });
    assert_eq!(f.input(key(euro, true))[0], Action::MapSpare { keycode: SPARE_2, keysym: euro });
    // A spare keycode held down is not taken from under the finger: with ä and € both
    // held, a third such key is dropped; once ä is let go, its keycode is free.
    let eszett = 0xdf;
    assert!(f.input(key(eszett, true)).is_empty(), "both spare keycodes held: dropped");
    assert_eq!(f.input(key(ae, false)), vec![Action::Fake(Fake::KeyRelease(SPARE))]);
    assert_eq!(f.input(key(eszett, true))[0], Action::MapSpare { keycode: SPARE, keysym: eszett });
    // Without a spare keycode: dropped, the rest goes on.
    let mut kb = keyboard();
    kb.spare = Vec::new();
    let mut g = InputFilter::new(kb, AREA, false, true);
    g.enable();
    assert!(g.input(key(euro, true)).is_empty());
    assert_eq!(presses(&g.input(key(u32::from('a'), true))), vec![A]);
}

#[test]
fn a_shifted_symbol_without_shift_held_gets_shift() {
    let mut f = filter();
    assert_eq!(
        f.input(key(u32::from('A'), true)),
        [Fake::KeyPress(SHIFT), Fake::KeyPress(A), Fake::KeyRelease(A), Fake::KeyRelease(SHIFT)].map(Action::Fake)
    );
    f.input(key(keysym::SHIFT_L, true));
    assert_eq!(f.input(key(u32::from('A'), true)), vec![Action::Fake(Fake::KeyPress(A))], "Shift is held already");
}

#[test]
fn program_mode_raises_the_window_before_input_goes_to_it() {
    let mut f = InputFilter::new(keyboard(), AREA, true, true);
    assert_eq!(f.enable(), vec![Action::RaiseWindow]);
    let first = f.input(key(u32::from('a'), true));
    assert_eq!(first[0], Action::RaiseWindow);
    // Not again while a key is held (a chord goes to one window).
    assert!(!f.input(key(u32::from('b'), true)).contains(&Action::RaiseWindow));
    assert_eq!(f.input(InputEvent::Button { button: 1, down: true })[0], Action::RaiseWindow);
}

#[test]
fn the_wheel_is_button_clicks() {
    let mut f = filter();
    let out = f.input(InputEvent::Wheel { dx: -1, dy: 2 });
    use Fake::*;
    assert_eq!(
        out,
        [ButtonPress(5), ButtonRelease(5), ButtonPress(5), ButtonRelease(5), ButtonPress(6), ButtonRelease(6)]
            .map(Action::Fake)
    );
}
