//! Text people type that other people see: names, titles, chat.
//!
//! Control characters and Unicode's invisible direction controls are removed before such
//! text is stored or shown. A right-to-left override (U+202E) in a display name lets
//! "Alice\u{202E}nimda" render as "Aliceadmin"; an isolate left open reorders everything
//! after it in the roster. Letters of right-to-left scripts are kept: they need no
//! control characters to show correctly.

/// Unicode's explicit bidirectional formatting characters (UAX #9, table 1) and the
/// implicit marks. None of them is needed to write any language.
pub fn is_direction_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// One line of text (a name or a title): without control and direction characters,
/// trimmed, at most `max_chars` characters.
pub fn clean_line(text: &str, max_chars: usize) -> String {
    let kept: String = text.chars().filter(|&c| !c.is_control() && !is_direction_control(c)).take(max_chars).collect();
    kept.trim().to_string()
}

/// Text that may span lines (chat): newlines and tabs stay, other control and direction
/// characters go.
pub fn clean_text(text: &str) -> String {
    text.chars().filter(|&c| !is_direction_control(c) && (!c.is_control() || c == '\n' || c == '\t')).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_overrides_and_controls_go_letters_stay() {
        assert_eq!(clean_line(" Alice\u{202E}nimda\u{0007} ", 64), "Alicenimda");
        assert_eq!(clean_line("\u{2067}שלום\u{2069} مرحبا", 64), "שלום مرحبا");
        assert_eq!(clean_line("Grüße € 中文", 4), "Grüß");
        assert_eq!(clean_text("a\u{200F}\nb\tc\u{0000}"), "a\nb\tc");
    }

    proptest::proptest! {
        #[test]
        fn cleaned_text_has_no_direction_controls(s in "\\PC*") {
            let line = clean_line(&s, 64);
            proptest::prop_assert!(line.chars().count() <= 64);
            proptest::prop_assert!(!line.chars().any(|c| c.is_control() || is_direction_control(c)));
            proptest::prop_assert!(!clean_text(&s).chars().any(is_direction_control));
        }
    }
}
