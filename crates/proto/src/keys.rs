//! Key names and X keysyms, shared by the CLI's input scripts and the agent's hotkey.
//!
//! Input travels as keysyms (not keycodes) so the presenter's keyboard layout decides
//! which physical key produces a character.

/// Keysyms of modifier keys.
pub mod keysym {
    pub const SHIFT_L: u32 = 0xffe1;
    pub const SHIFT_R: u32 = 0xffe2;
    pub const CONTROL_L: u32 = 0xffe3;
    pub const CONTROL_R: u32 = 0xffe4;
    pub const META_L: u32 = 0xffe7;
    pub const META_R: u32 = 0xffe8;
    pub const ALT_L: u32 = 0xffe9;
    pub const ALT_R: u32 = 0xffea;
    pub const SUPER_L: u32 = 0xffeb;
    pub const SUPER_R: u32 = 0xffec;
    pub const BACKSPACE: u32 = 0xff08;
    pub const RETURN: u32 = 0xff0d;
    pub const F1: u32 = 0xffbe;
    pub const F12: u32 = 0xffc9;
}

const NAMED: &[(&str, u32)] = &[
    ("space", 0x20),
    ("return", keysym::RETURN),
    ("enter", keysym::RETURN),
    ("tab", 0xff09),
    ("escape", 0xff1b),
    ("esc", 0xff1b),
    ("backspace", keysym::BACKSPACE),
    ("delete", 0xffff),
    ("insert", 0xff63),
    ("home", 0xff50),
    ("end", 0xff57),
    ("pageup", 0xff55),
    ("pagedown", 0xff56),
    ("left", 0xff51),
    ("up", 0xff52),
    ("right", 0xff53),
    ("down", 0xff54),
    ("pause", 0xff13),
    ("scrolllock", 0xff14),
    ("menu", 0xff67),
    ("ctrl", keysym::CONTROL_L),
    ("control", keysym::CONTROL_L),
    ("alt", keysym::ALT_L),
    ("shift", keysym::SHIFT_L),
    ("super", keysym::SUPER_L),
    ("win", keysym::SUPER_L),
    ("meta", keysym::META_L),
];

/// The keysym for a key name (`a`, `Return`, `F5`, `space`, `ctrl`, …), case-insensitive
/// for names, exact for single characters.
pub fn keysym_from_name(name: &str) -> Option<u32> {
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return keysym_for_char(c);
    }
    let lower = name.to_ascii_lowercase();
    if let Some(n) = lower.strip_prefix('f').and_then(|n| n.parse::<u32>().ok())
        && (1..=12).contains(&n)
    {
        return Some(keysym::F1 + n - 1);
    }
    NAMED.iter().find(|(n, _)| *n == lower).map(|(_, k)| *k)
}

/// The keysym that types `c`: Latin-1 maps to itself, other Unicode to `0x0100_0000 + c`.
pub fn keysym_for_char(c: char) -> Option<u32> {
    match c {
        '\n' => Some(keysym::RETURN),
        '\t' => Some(0xff09),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => None,
        c if (c as u32) <= 0xff => Some(c as u32),
        c => Some(0x0100_0000 + c as u32),
    }
}

/// Whether `keysym` is a Control, Alt, Shift, Super or Meta key.
pub fn is_modifier(k: u32) -> bool {
    (keysym::SHIFT_L..=keysym::SUPER_R).contains(&k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_chars() {
        assert_eq!(keysym_from_name("a"), Some(0x61));
        assert_eq!(keysym_from_name("A"), Some(0x41));
        assert_eq!(keysym_from_name("Return"), Some(keysym::RETURN));
        assert_eq!(keysym_from_name("F12"), Some(keysym::F12));
        assert_eq!(keysym_from_name("f13"), None);
        assert_eq!(keysym_from_name("ctrl"), Some(keysym::CONTROL_L));
        assert_eq!(keysym_from_name("nonsense"), None);
        assert_eq!(keysym_for_char('é'), Some(0xe9));
        assert_eq!(keysym_for_char('€'), Some(0x0100_20ac));
        assert_eq!(keysym_for_char('\u{7}'), None);
        assert!(is_modifier(keysym::ALT_R) && !is_modifier(0x61));
    }
}
