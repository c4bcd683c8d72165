//! `deskshare install-handler`: registers this binary as the opener of `deskshare:`
//! links, so the meeting page's "Share my desktop" starts the agent with one click.
//!
//! The freedesktop way, which xdg-open, browsers and desktops all follow: a desktop
//! entry `deskshare.desktop` in `$XDG_DATA_HOME/applications` (default
//! `~/.local/share/applications`) declaring `MimeType=x-scheme-handler/deskshare;`, and
//! the default for that type in `$XDG_CONFIG_HOME/mimeapps.list` (default
//! `~/.config/mimeapps.list`). Nothing outside the user's own directories is touched.

use std::path::{Path, PathBuf};

use deskshare_proto::{ErrorCode, WireError};

/// The desktop entry's file name (also its id in mimeapps.list).
pub const DESKTOP_FILE: &str = "deskshare.desktop";
const MIME: &str = "x-scheme-handler/deskshare";

#[derive(clap::Args)]
pub struct Args {
    /// Print where the handler would go and what it runs, and change nothing.
    #[arg(long)]
    dry_run: bool,
}

/// Where the two files go, from the XDG environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Places {
    pub desktop_entry: PathBuf,
    pub mimeapps: PathBuf,
}

impl Places {
    pub fn from_env() -> Result<Places, WireError> {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let dir = |var: &str, fallback: &str| -> Result<PathBuf, WireError> {
            match std::env::var_os(var).filter(|v| !v.is_empty()) {
                Some(v) => Ok(PathBuf::from(v)),
                None => home.as_ref().map(|h| h.join(fallback)).ok_or_else(|| {
                    WireError::new(ErrorCode::ArgumentInvalid, format!("neither ${var} nor $HOME is set"))
                }),
            }
        };
        Ok(Places {
            desktop_entry: dir("XDG_DATA_HOME", ".local/share")?.join("applications").join(DESKTOP_FILE),
            mimeapps: dir("XDG_CONFIG_HOME", ".config")?.join("mimeapps.list"),
        })
    }
}

/// The desktop entry that opens `deskshare:` links with `exe share %u`.
pub fn desktop_entry(exe: &Path) -> String {
    // Exec quoting per the Desktop Entry Specification, only where needed: the path in
    // double quotes, with `"`, `` ` ``, `$` and `\` escaped. (xdg-open's own parser
    // takes the first word as it is, so a plain path stays plain.)
    let path = exe.to_string_lossy();
    let plain = path.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+,@".contains(c));
    let quoted = if plain {
        path.into_owned()
    } else {
        let mut q = String::from("\"");
        for c in path.chars() {
            if matches!(c, '"' | '`' | '$' | '\\') {
                q.push('\\');
            }
            q.push(c);
        }
        q.push('"');
        q
    };
    format!(
        "[Desktop Entry]\nType=Application\nName=deskshare\nComment=Share your desktop in a deskshare meeting\n\
         Exec={quoted} share %u\nTerminal=false\nNoDisplay=true\nMimeType={MIME};\n"
    )
}

/// `mimeapps.list` with `deskshare.desktop` as the default for `deskshare:` links, the
/// rest of the file kept as it was.
pub fn with_default(mimeapps: &str) -> String {
    let line = format!("{MIME}={DESKTOP_FILE}");
    let mut out = Vec::new();
    let mut in_defaults = false;
    let mut placed = false;
    for l in mimeapps.lines() {
        let trimmed = l.trim();
        if trimmed.starts_with('[') {
            if in_defaults && !placed {
                out.push(line.clone());
                placed = true;
            }
            in_defaults = trimmed == "[Default Applications]";
        } else if in_defaults && trimmed.split('=').next().map(str::trim) == Some(MIME) {
            if !placed {
                out.push(line.clone());
                placed = true;
            }
            continue;
        }
        out.push(l.to_string());
    }
    if !placed {
        if !in_defaults {
            if out.last().is_some_and(|l| !l.trim().is_empty()) {
                out.push(String::new());
            }
            out.push("[Default Applications]".into());
        }
        out.push(line);
    }
    out.join("\n") + "\n"
}

/// Writes both files.
pub fn install(places: &Places, exe: &Path) -> Result<(), WireError> {
    let io = |p: &Path, e: std::io::Error| WireError::new(ErrorCode::ArgumentInvalid, format!("{}: {e}", p.display()));
    for p in [&places.desktop_entry, &places.mimeapps] {
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        }
    }
    std::fs::write(&places.desktop_entry, desktop_entry(exe)).map_err(|e| io(&places.desktop_entry, e))?;
    let old = match std::fs::read_to_string(&places.mimeapps) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io(&places.mimeapps, e)),
    };
    std::fs::write(&places.mimeapps, with_default(&old)).map_err(|e| io(&places.mimeapps, e))?;
    // Desktops that read the cache (not only mimeapps.list) see the new type at once.
    if let Some(dir) = places.desktop_entry.parent() {
        let _ = std::process::Command::new("update-desktop-database")
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
    Ok(())
}

fn own_exe() -> Result<PathBuf, WireError> {
    std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| WireError::new(ErrorCode::ArgumentInvalid, format!("cannot tell where this program is: {e}")))
}

pub fn run(a: Args) -> Result<(), WireError> {
    let places = Places::from_env()?;
    let exe = own_exe()?;
    if a.dry_run {
        println!("desktop entry: {}", places.desktop_entry.display());
        println!("default in:    {}", places.mimeapps.display());
        println!("runs:          {} share URL", exe.display());
        return Ok(());
    }
    install(&places, &exe)?;
    println!("deskshare: links now open {} share", exe.display());
    println!("  {}", places.desktop_entry.display());
    println!("  {} ({MIME}={DESKTOP_FILE})", places.mimeapps.display());
    Ok(())
}

/// How big the agent's log grows before it starts again (the old one kept as `.log.1`).
const LOG_KEEP_BYTES: u64 = 4 * 1024 * 1024;

/// An agent opened by a `deskshare:` link has no terminal, so what it says would be lost:
/// its standard output and error go to `$XDG_STATE_HOME/deskshare/share.log` (default
/// `~/.local/state/deskshare/share.log`), appended (the previous one kept as
/// `share.log.1` past 4 MiB), for the person or support to read.
/// Returns the log's path; `None` on a terminal, or when the file cannot be opened.
pub fn log_without_terminal() -> Option<PathBuf> {
    use std::io::{IsTerminal, Write};
    use std::os::fd::AsRawFd;
    if std::io::stderr().is_terminal() {
        return None;
    }
    let state = match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        Some(v) => PathBuf::from(v),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".local/state"),
    };
    let path = state.join("deskshare").join("share.log");
    std::fs::create_dir_all(path.parent()?).ok()?;
    // The status line comes every second: keep one earlier log, not all of them.
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > LOG_KEEP_BYTES) {
        let _ = std::fs::rename(&path, path.with_extension("log.1"));
    }
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path).ok()?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let _ = writeln!(file, "--- deskshare share opened by a deskshare: link (unix time {now})");
    // SAFETY: dup2 on descriptors this process owns; 1 and 2 then name the log file.
    unsafe {
        libc::dup2(file.as_raw_fd(), 1);
        libc::dup2(file.as_raw_fd(), 2);
    }
    Some(path)
}

/// The first `share` a person runs on a terminal registers the handler (once; a line
/// says so), so the page's Share my desktop works from then on. Never fails the share.
pub fn register_on_first_run() {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return;
    }
    let (Ok(places), Ok(exe)) = (Places::from_env(), own_exe()) else { return };
    if places.desktop_entry.exists() {
        return; // installed before (perhaps for another copy): a person's choice stays
    }
    if install(&places, &exe).is_ok() {
        eprintln!(
            "registered {} to open deskshare: links (the meeting page's Share my desktop)",
            places.desktop_entry.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_quotes_the_path_and_names_the_scheme() {
        let e = desktop_entry(Path::new("/opt/my apps/$x/deskshare"));
        assert!(e.contains("Exec=\"/opt/my apps/\\$x/deskshare\" share %u\n"), "{e}");
        assert!(e.contains("MimeType=x-scheme-handler/deskshare;\n"), "{e}");
        let plain = desktop_entry(Path::new("/usr/local/bin/deskshare"));
        assert!(plain.contains("Exec=/usr/local/bin/deskshare share %u\n"), "{plain}");
    }

    #[test]
    fn the_default_is_added_or_replaced_and_everything_else_kept() {
        let line = "x-scheme-handler/deskshare=deskshare.desktop";
        assert_eq!(with_default(""), format!("[Default Applications]\n{line}\n"));
        let other =
            "[Default Applications]\ntext/html=firefox.desktop\n\n[Added Associations]\nimage/png=gimp.desktop\n";
        let updated = with_default(other);
        assert_eq!(
            updated,
            format!(
                "[Default Applications]\ntext/html=firefox.desktop\n\n{line}\n[Added Associations]\nimage/png=gimp.desktop\n"
            )
        );
        let replaced = with_default("[Default Applications]\nx-scheme-handler/deskshare=old.desktop\nx=y\n");
        assert_eq!(replaced, format!("[Default Applications]\n{line}\nx=y\n"));
        assert_eq!(with_default(&updated), updated, "installing twice changes nothing");
        let only_added = with_default("[Added Associations]\na=b.desktop\n");
        assert_eq!(only_added, format!("[Added Associations]\na=b.desktop\n\n[Default Applications]\n{line}\n"));
    }
}
