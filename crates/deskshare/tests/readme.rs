//! README's Quick start, run as a person runs it: each command of its shell block as
//! written, one after the other, in a fresh directory — so the README cannot drift from
//! the CLI. Three things a person does by hand are done here: the binary is this test's
//! build (`cargo build --release` is the only line skipped, and `B` points at the build
//! under test), the two URLs a person copies from `meeting create` are filled into
//! `'PRESENTER_URL'` and `'JOIN_URL'`, and each program started in the background (or
//! left running, as `share`) is waited for until it is ready, as a person waits before
//! typing the next line.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

/// The commands of the first ```sh block after `heading`: comments and blank lines
/// dropped, `\` continuations joined.
fn commands(readme: &str, heading: &str) -> Vec<String> {
    let section = &readme[readme.find(heading).unwrap_or_else(|| panic!("README has no {heading}"))..];
    let block = section.split("```sh\n").nth(1).expect("a sh block").split("\n```").next().unwrap();
    let mut out = Vec::new();
    let mut pending = String::new();
    for line in block.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(head) => pending.push_str(head),
            None => {
                pending.push_str(line);
                out.push(std::mem::take(&mut pending));
            }
        }
    }
    out
}

fn bash(dir: &Path, prelude: &str, command: &str) -> Command {
    let mut c = Command::new("bash");
    c.arg("-c").arg(format!("set -e\n{prelude}\n{command}")).current_dir(dir).env_remove("DESKSHARE_TOKEN");
    c
}

#[test]
fn the_quick_start_runs_as_written() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap();
    let steps = commands(&readme, "## Quick start");
    let dir = workdir("readme_quick_start");
    let display = steps
        .iter()
        .find_map(|c| c.strip_prefix("Xvfb ").and_then(|r| r.split_whitespace().next()))
        .expect("the quick start starts an Xvfb")
        .to_string();
    let lock = format!("/tmp/.X{}-lock", display.trim_start_matches(':'));
    assert!(!Path::new(&lock).exists(), "display {display} is taken ({lock}); the quick start needs it");

    let mut prelude = String::new();
    let mut background: Vec<Proc> = Vec::new();
    let (mut join, mut presenter) = (None::<String>, None::<String>);
    let mut ran = Vec::new();
    for step in &steps {
        if step == "cargo build --release" {
            continue;
        }
        if step.starts_with("B=") {
            prelude.push_str(&format!("B={BIN}\n"));
            continue;
        }
        if step.starts_with("export ") {
            prelude.push_str(step);
            prelude.push('\n');
            continue;
        }
        let filled = step
            .replace("'PRESENTER_URL'", &format!("'{}'", presenter.clone().unwrap_or_default()))
            .replace("'JOIN_URL'", &format!("'{}'", join.clone().unwrap_or_default()));
        if step.contains("PRESENTER_URL") {
            assert!(presenter.is_some(), "PRESENTER_URL before meeting create printed it");
        }
        if let Some(cmd) = filled.strip_suffix('&').map(str::trim) {
            let p = Proc::spawn_logged(step, bash(&dir, &prelude, &format!("exec env {cmd}")).stdin(Stdio::null()));
            if cmd.contains(" serve ") {
                p.wait_for("serve listening", Duration::from_secs(30), |l| l.starts_with("listening on").then_some(()));
            } else if cmd.starts_with("Xvfb ") {
                eventually("the X server", Duration::from_secs(20), || Path::new(&lock).exists());
            } else if cmd.contains("xterm") {
                wait_for_window(&display, "xterm");
            }
            background.push(p);
        } else if step.contains(" share ") {
            // It shares until Ctrl-C; the next line is typed elsewhere meanwhile.
            let p = Proc::spawn_logged(step, bash(&dir, &prelude, &format!("exec env {filled}")).stdin(Stdio::null()));
            p.wait_for("sharing", Duration::from_secs(30), |l| l.starts_with("status sharing").then_some(()));
            background.push(p);
        } else {
            let out = bash(&dir, &prelude, &filled).output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(out.status.success(), "`{step}` failed: {}{stdout}", String::from_utf8_lossy(&out.stderr));
            for line in stdout.lines() {
                if let Some(u) = line.strip_prefix("join URL (for viewers):") {
                    join = Some(u.trim().to_string());
                }
                if let Some(u) = line.strip_prefix("presenter URL (keep it private):") {
                    presenter = Some(u.trim().to_string());
                }
            }
        }
        ran.push(step.clone());
    }
    assert!(ran.iter().any(|s| s.contains(" view ")), "the quick start ends by viewing: {ran:?}");
    // What the last line promised: the shared display as a picture, 1280x800.
    let png = std::fs::read(dir.join("screen.png")).expect("screen.png written");
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let info = decoder.read_info().unwrap();
    assert_eq!((info.info().width, info.info().height), (1280, 800));
    drop(background);
    let _ = std::fs::remove_file(&lock);
}
