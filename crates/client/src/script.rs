//! Input scripts for `deskshare view --input-script FILE`: one step a line.
//!
//! ```text
//! # comments and blank lines are ignored
//! move 120 80          pointer to (120, 80) in the shared area's pixels
//! click [left|middle|right|N]
//! down [button]        press (and `up [button]` to release) a mouse button
//! scroll DY [DX]       wheel notches; positive scrolls down / right
//! type Hello, world    the rest of the line, literally
//! key ctrl+shift+t     a key combination; also Return, Escape, F5, space, …
//! wait 250             milliseconds
//! ```

use std::time::Duration;

use deskshare_proto::keys::{keysym_for_char, keysym_from_name};
use deskshare_proto::{ErrorCode, InputEvent, WireError};

/// One script step: events to send, or a pause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Send(Vec<InputEvent>),
    Wait(Duration),
}

fn button(name: Option<&str>) -> Result<u8, String> {
    match name.unwrap_or("left") {
        "left" => Ok(1),
        "middle" => Ok(2),
        "right" => Ok(3),
        n => n.parse::<u8>().ok().filter(|b| matches!(b, 1..=3 | 8 | 9)).ok_or(format!("unknown button '{n}'")),
    }
}

fn key_events(combo: &str) -> Result<Vec<InputEvent>, String> {
    let syms = combo
        .split('+')
        .map(|k| keysym_from_name(k.trim()).ok_or(format!("unknown key '{k}'")))
        .collect::<Result<Vec<u32>, String>>()?;
    let mut ev: Vec<InputEvent> = syms.iter().map(|&k| InputEvent::Key { keysym: k, down: true }).collect();
    ev.extend(syms.iter().rev().map(|&k| InputEvent::Key { keysym: k, down: false }));
    Ok(ev)
}

/// Parses a script. Errors name the line.
pub fn parse(text: &str) -> Result<Vec<Step>, WireError> {
    let mut steps = vec![];
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (cmd, rest) = line.split_once(' ').unwrap_or((line, ""));
        let args: Vec<&str> = rest.split_whitespace().collect();
        let num = |i: usize| -> Result<i32, String> {
            args.get(i)
                .ok_or(format!("'{cmd}' needs more numbers"))?
                .parse()
                .map_err(|_| format!("'{}' is not a number", args[i]))
        };
        let step = match cmd {
            "move" if args.len() != 2 => Err("move needs X and Y".to_string()),
            "move" => num(0).and_then(|x| Ok(Step::Send(vec![InputEvent::Move { x, y: num(1)? }]))),
            "click" => button(args.first().copied()).map(|b| {
                Step::Send(vec![
                    InputEvent::Button { button: b, down: true },
                    InputEvent::Button { button: b, down: false },
                ])
            }),
            "down" | "up" => button(args.first().copied())
                .map(|b| Step::Send(vec![InputEvent::Button { button: b, down: cmd == "down" }])),
            "scroll" => num(0).and_then(|dy| {
                let dx = if args.len() > 1 { num(1)? } else { 0 };
                Ok(Step::Send(vec![InputEvent::Wheel { dx, dy }]))
            }),
            "type" => rest
                .chars()
                .map(|c| keysym_for_char(c).ok_or(format!("cannot type {c:?}")))
                .collect::<Result<Vec<u32>, String>>()
                .map(|syms| {
                    Step::Send(
                        syms.into_iter()
                            .flat_map(|k| {
                                [InputEvent::Key { keysym: k, down: true }, InputEvent::Key { keysym: k, down: false }]
                            })
                            .collect(),
                    )
                }),
            "key" => key_events(rest.trim()).map(Step::Send),
            "wait" => num(0).map(|ms| Step::Wait(Duration::from_millis(ms.max(0) as u64))),
            other => Err(format!("unknown command '{other}' (move, click, down, up, scroll, type, key, wait)")),
        }
        .map_err(|why| WireError::new(ErrorCode::ArgumentInvalid, format!("input script line {}: {why}", n + 1)))?;
        if let Step::Send(ev) = &step {
            for e in ev {
                e.validate().map_err(|e| {
                    WireError::new(ErrorCode::ArgumentInvalid, format!("input script line {}: {}", n + 1, e.message))
                })?;
            }
        }
        steps.push(step);
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_command() {
        let s = parse("# hi\nmove 10 20\nclick\nclick right\ntype Hi\nkey ctrl+c\nwait 50\nscroll 2\n\n").unwrap();
        assert_eq!(s[0], Step::Send(vec![InputEvent::Move { x: 10, y: 20 }]));
        assert_eq!(
            s[2],
            Step::Send(vec![
                InputEvent::Button { button: 3, down: true },
                InputEvent::Button { button: 3, down: false }
            ])
        );
        let Step::Send(typed) = &s[3] else { panic!() };
        assert_eq!(typed.len(), 4);
        assert_eq!(typed[0], InputEvent::Key { keysym: 'H' as u32, down: true });
        let Step::Send(combo) = &s[4] else { panic!() };
        assert_eq!(combo[0], InputEvent::Key { keysym: 0xffe3, down: true });
        assert_eq!(combo[3], InputEvent::Key { keysym: 0xffe3, down: false });
        assert_eq!(s[5], Step::Wait(Duration::from_millis(50)));
        assert_eq!(s[6], Step::Send(vec![InputEvent::Wheel { dx: 0, dy: 2 }]));
    }

    #[test]
    fn errors_name_the_line() {
        for (bad, line) in [("move 1", 1), ("\njump 3", 2), ("click 4", 1), ("key ctrl+nokey", 1), ("wait x", 1)] {
            let e = parse(bad).unwrap_err();
            assert!(e.message.contains(&format!("line {line}")), "{bad}: {}", e.message);
        }
    }
}
