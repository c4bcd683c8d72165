//! `--since 1h`: how far back to look.

/// The longest window: reports are not kept longer than this anyway.
pub const MAX_SINCE_SECONDS: u64 = 90 * 24 * 3600;

/// Parses `45s`, `30m`, `1h`, `2d`, `1w` or plain seconds into seconds (at most
/// [`MAX_SINCE_SECONDS`]).
pub fn parse_since(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: u64 = number.parse().map_err(|_| format!("'{text}' is not a duration like 30m, 1h or 2d"))?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(format!("'{text}': the unit is s, m, h, d or w")),
    };
    match n.checked_mul(scale) {
        Some(0) => Err("the window must be longer than 0".to_string()),
        Some(s) if s <= MAX_SINCE_SECONDS => Ok(s),
        _ => Err(format!("'{text}' is longer than the 90 days reports are kept")),
    }
}
