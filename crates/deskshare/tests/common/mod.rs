//! Shared setup for the end-to-end tests: the real `deskshare` binary, real Xvfb.
#![allow(dead_code, unused_imports)]

use std::io::Write;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use deskshare_testkit::{Image, PictureWindow, Xvfb, grab};

pub mod attack;
pub mod doctoring;
pub mod net;
pub mod scene;
pub use scene::Scene;
pub mod viewing;

pub const BIN: &str = env!("CARGO_BIN_EXE_deskshare");

/// A fresh directory for one test's files (kept after the run for a person to look at).
pub fn workdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A child process whose stdout lines are collected as they come; killed on drop.
pub struct Proc {
    pub child: Child,
    /// Reads stdout into `lines` until the process closes it.
    reader: Option<std::thread::JoinHandle<()>>,
    lines: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    pub name: String,
}

impl Proc {
    pub fn spawn(name: &str, cmd: &mut Command) -> Proc {
        Self::spawn_raw(name, cmd.stderr(Stdio::inherit()))
    }

    /// Like [`Proc::spawn`], leaving stderr (and stdin) as the caller set them.
    pub fn spawn_raw(name: &str, cmd: &mut Command) -> Proc {
        let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap_or_else(|e| panic!("{name}: {e}"));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().unwrap();
        let sink = lines.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Proc { child, reader: Some(reader), lines, stderr: Arc::default(), name: name.to_string() }
    }

    /// Like [`Proc::spawn`], also collecting stderr (and echoing it, for the test log).
    pub fn spawn_logged(name: &str, cmd: &mut Command) -> Proc {
        let mut p = Self::spawn_raw(name, cmd.stderr(Stdio::piped()));
        let err = p.child.stderr.take().unwrap();
        let sink = p.stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                eprintln!("{line}");
                sink.lock().unwrap().push(line);
            }
        });
        p
    }

    /// Where a caller that reads this process's stderr puts the lines.
    pub fn stderr_sink(&self) -> Arc<Mutex<Vec<String>>> {
        self.stderr.clone()
    }

    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits for a stdout line for which `f` returns `Some`.
    pub fn wait_for<T>(&self, what: &str, timeout: Duration, f: impl Fn(&str) -> Option<T>) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = self.lines().iter().rev().find_map(|l| f(l)) {
                return v;
            }
            assert!(Instant::now() < deadline, "{}: no line {what} in {:?}", self.name, self.lines());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for the process to exit and for every line it wrote; returns its status.
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        let status = self.child.wait().unwrap();
        // Its stdout is closed now: the reader ends once it has every line.
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        status
    }

    /// Waits until one of the process's windows is mapped on `display` (its program
    /// sets _NET_WM_PID, as xterm does): a started program is not yet a drawn one.
    pub fn wait_for_window(&self, display: &str) -> String {
        let pid = self.child.id().to_string();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = Command::new("xdotool")
                .args(["search", "--onlyvisible", "--pid", &pid])
                .env("DISPLAY", display)
                .output()
                .expect("xdotool runs");
            if let Some(id) = String::from_utf8_lossy(&out.stdout).lines().next() {
                return id.trim().to_string();
            }
            assert!(Instant::now() < deadline, "{}: no window mapped on {display}", self.name);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends SIGTERM and waits for exit; returns the exit success.
    pub fn terminate(&mut self) -> bool {
        unsafe_kill(self.child.id());
        let status = self.wait_exit();
        if !status.success() {
            eprintln!("{} exited with {status}; output: {:?}", self.name, self.lines());
        }
        status.success()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn unsafe_kill(pid: u32) {
    let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
}

/// Value of `key=` in a `key=value` line.
pub fn field(line: &str, key: &str) -> Option<u64> {
    line.split_whitespace().find_map(|w| w.strip_prefix(&format!("{key}="))).and_then(|v| v.parse().ok())
}

/// A running `deskshare serve` on a free port.
pub struct Server {
    pub proc: Proc,
    pub url: String,
    pub data: PathBuf,
}

impl Server {
    /// Starts a server again on the same data directory, after `old` stopped.
    /// Same address, so saved sign-ins (kept per server URL) still apply.
    pub fn restart(dir: &Path, old: Server) -> Server {
        Server::restart_with(dir, old, &[])
    }

    /// As [`Server::restart`], with extra `serve` flags.
    #[allow(dead_code)]
    pub fn restart_with(dir: &Path, old: Server, flags: &[&str]) -> Server {
        let listen = old.url.trim_start_matches("https://").trim_end_matches('/').to_string();
        drop(old);
        Server::start_with(dir, &listen, flags, None)
    }

    pub fn start(dir: &Path) -> Server {
        Server::start_on(dir, "127.0.0.1:0")
    }

    pub fn start_on(dir: &Path, listen: &str) -> Server {
        Server::start_with(dir, listen, &[], None)
    }

    /// Starts a server with extra `serve` flags, and optionally an open-file limit
    /// (`ulimit -n`) for its process. Its log lines (stderr) are collected.
    pub fn start_with(dir: &Path, listen: &str, flags: &[&str], open_files: Option<u32>) -> Server {
        let data = dir.join("data");
        let mut cmd = match open_files {
            Some(n) => {
                let mut c = Command::new("bash");
                c.args(["-c", &format!("ulimit -n {n} && exec \"$0\" \"$@\""), BIN]);
                c
            }
            None => Command::new(BIN),
        };
        cmd.args(["serve", "--listen", listen, "--data"]).arg(&data).args(flags).env("DESKSHARE_LOG", "info");
        let proc = Proc::spawn_logged("serve", &mut cmd);
        let url = proc.wait_for("with the URL", Duration::from_secs(20), |l| {
            l.strip_prefix("deskshare serving ").map(|r| r.split_whitespace().next().unwrap().to_string())
        });
        Server { proc, url, data }
    }

    pub fn ca(&self) -> PathBuf {
        self.data.join("tls/cert.pem")
    }

    pub fn token(&self) -> String {
        std::fs::read_to_string(self.data.join("admin-token")).unwrap().trim().to_string()
    }

    /// Creates a meeting with the CLI; returns (join URL, presenter URL).
    pub fn create_meeting(&self, title: &str) -> (String, String) {
        self.create_meeting_trusting(title, &["--ca".as_ref(), self.ca().as_os_str()])
    }

    /// As [`Server::create_meeting`], without checking the certificate (for a server
    /// whose certificate a test made bad on purpose).
    #[allow(dead_code)]
    pub fn create_meeting_insecure(&self, title: &str) -> (String, String) {
        self.create_meeting_trusting(title, &["--insecure".as_ref()])
    }

    fn create_meeting_trusting(&self, title: &str, trust: &[&std::ffi::OsStr]) -> (String, String) {
        let out = Command::new(BIN)
            .args(["meeting", "create", "--server", &self.url, "--title", title, "--json"])
            .args(trust)
            .env("DESKSHARE_TOKEN", self.token())
            .output()
            .unwrap();
        assert!(out.status.success(), "meeting create: {}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let id = v["id"].as_str().unwrap();
        assert!(id.len() >= 20, "meeting id has at least 80 bits: {id}");
        (v["join_url"].as_str().unwrap().to_string(), v["presenter_url"].as_str().unwrap().to_string())
    }

    /// Starts `deskshare share` on `display` with `extra` arguments, once it is sharing.
    pub fn share(&self, presenter_url: &str, display: &str, extra: &[&str]) -> Proc {
        let mut cmd = Command::new(BIN);
        cmd.args(["share", presenter_url, "--display", display, "--ca"]).arg(self.ca()).args(extra);
        let p = Proc::spawn("share", &mut cmd);
        p.wait_for("sharing", Duration::from_secs(30), |l| l.starts_with("status sharing").then_some(()));
        p
    }

    /// Snapshots until the viewer's picture equals `truth()` (read after each snapshot, so
    /// a display that is still settling gets another chance); fails with the difference.
    pub fn snapshot_matching(&self, join_url: &str, path: &Path, truth: impl Fn() -> Image) -> Image {
        let mut last = (usize::MAX, 0);
        let mut result = None;
        eventually("the viewer's picture to match", Duration::from_secs(30), || {
            let snap = self.snapshot(join_url, path);
            let want = truth();
            last = (snap.diff_count(&want), want.width as usize * want.height as usize);
            if last.0 == 0 {
                result = Some(snap);
            } else {
                want.write_png(&path.with_extension("truth.png")).unwrap();
            }
            last.0 == 0
        });
        result.unwrap_or_else(|| panic!("{} of {} pixels differ", last.0, last.1))
    }

    /// Runs `deskshare view --snapshot` and reads the PNG.
    pub fn snapshot(&self, join_url: &str, path: &Path) -> Image {
        let out = Command::new(BIN)
            .args(["view", join_url, "--timeout", "30", "--settle", "700", "--snapshot"])
            .arg(path)
            .arg("--ca")
            .arg(self.ca())
            .output()
            .unwrap();
        assert!(out.status.success(), "view --snapshot failed: {}", String::from_utf8_lossy(&out.stderr));
        Image::read_png(path).unwrap()
    }
}

/// Retries `f` until it returns true or the timeout passes (screens settle asynchronously).
pub fn eventually(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Starts an xterm running `command` at the top-left of `display`, and waits until its
/// window is mapped.
pub fn xterm(display: &str, geometry: &str, command: &str) -> Proc {
    let p = Proc::spawn(
        "xterm",
        Command::new("xterm").args(["-display", display, "-geometry", geometry, "+bc", "-e", "bash", "-c", command]),
    );
    p.wait_for_window(display);
    p
}

/// An xterm whose typed lines land in `out` (`cat` writes each line on Return), once
/// it is mapped and `cat` runs (the shell's redirection has created `out`).
/// It runs in a UTF-8 locale, as a person's terminal does, so any character typed arrives
/// as itself.
pub fn typing_target(display: &str, out: &Path) -> Proc {
    let p = Proc::spawn(
        "xterm",
        Command::new("xterm")
            .args(["-display", display, "-geometry", "70x12+0+0", "+bc", "-u8", "-e", "bash", "-c"])
            .arg(format!("exec cat > {}", out.display()))
            .env("LC_ALL", "C.UTF-8"),
    );
    p.wait_for_window(display);
    eventually("cat to start in the xterm", Duration::from_secs(30), || out.exists());
    p
}

/// Types `marker` and Return on the display's keyboard and waits until it is in `out`:
/// everything typed into the terminal before it has arrived too, so a check that
/// something did *not* arrive can be made now (rather than after a guessed sleep).
pub fn type_marker(display: &str, out: &Path, marker: &str) {
    xdotool(display, &["type", marker]);
    xdotool(display, &["key", "Return"]);
    eventually("the marker typed locally", Duration::from_secs(30), || {
        std::fs::read_to_string(out).unwrap_or_default().contains(marker)
    });
}

/// Runs xdotool against `display`.
/// Key presses and releases that type `text` (characters with a keysym).
#[allow(dead_code)]
pub fn typed(text: &str) -> Vec<deskshare_proto::InputEvent> {
    use deskshare_proto::InputEvent;
    text.chars()
        .flat_map(|c| {
            let k = deskshare_proto::keys::keysym_for_char(c).unwrap();
            [InputEvent::Key { keysym: k, down: true }, InputEvent::Key { keysym: k, down: false }]
        })
        .collect()
}

pub fn xdotool(display: &str, args: &[&str]) {
    let st = Command::new("xdotool").args(args).env("DISPLAY", display).status().expect("xdotool runs");
    assert!(st.success(), "xdotool {args:?}");
}

/// The id of a mapped window of X class `class`, once there is one: a program's
/// window appears whenever it is ready (a cold start of ffplay on a busy CI machine
/// takes seconds), so tests wait for it rather than sleep a guess.
#[allow(dead_code)]
pub fn wait_for_window(display: &str, class: &str) -> String {
    for _ in 0..300 {
        let out = Command::new("xdotool")
            .args(["search", "--onlyvisible", "--class", class])
            .env("DISPLAY", display)
            .output()
            .expect("xdotool runs");
        if let Some(id) = String::from_utf8_lossy(&out.stdout).lines().next() {
            return id.trim().to_string();
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("no window of class {class} appeared on {display} in 30 s");
}

/// Gives `window` the keyboard focus and checks it has it: a program that maps
/// later may take the focus, and keys typed then would go to it.
#[allow(dead_code)]
pub fn focus_window(display: &str, window: &str) {
    xdotool(display, &["windowfocus", "--sync", window]);
    let out = Command::new("xdotool").arg("getwindowfocus").env("DISPLAY", display).output().expect("xdotool runs");
    let focused = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(focused, window, "window {window} has the keyboard focus");
}

// ---- the CLI as a signed-in person uses it ----

/// Runs the CLI with a private config directory (saved sign-ins) and optional stdin.
pub fn cli(config: &Path, server: &Server, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .arg("--ca")
        .arg(server.ca())
        .env("DESKSHARE_CONFIG", config)
        .env_remove("DESKSHARE_TOKEN")
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn ok(r: (bool, String, String)) -> String {
    assert!(r.0, "command failed: {}", r.2);
    r.1
}

pub fn fails_with(r: (bool, String, String), code: &str) {
    assert!(!r.0, "expected {code}, but it succeeded: {}", r.1);
    assert!(r.2.contains(&format!("error {code}")), "expected {code} in: {}", r.2);
}

pub fn add_user(admin: &Path, server: &Server, name: &str, password: &str, extra: &[&str]) {
    let mut args = vec!["admin", "user", "add", name, "--password-stdin", "--server", &server.url];
    args.extend_from_slice(extra);
    let token = server.token();
    let mut cmd_args: Vec<&str> = args.clone();
    cmd_args.extend(["--token", &token]);
    ok(cli(admin, server, &cmd_args, Some(&format!("{password}\n"))));
}

pub fn login(config: &Path, server: &Server, name: &str, password: &str) -> (bool, String, String) {
    cli(config, server, &["login", &server.url, "--name", name, "--password-stdin"], Some(&format!("{password}\n")))
}

pub fn meeting_json(out: &str) -> serde_json::Value {
    serde_json::from_str(out.trim()).unwrap()
}
