//! The live status line of `deskshare share`.

use std::io::IsTerminal;
use std::time::Instant;

/// Counters of what the agent sent.
#[derive(Clone, Debug, Default)]
pub struct ShareStats {
    pub frames: u64,
    pub bytes: u64,
    pub viewers: u32,
    pub reconnects: u64,
}

/// Prints one status line a second: rewritten in place on a terminal, one line each
/// otherwise (so logs and tests can read it).
pub struct StatusLine {
    last: Instant,
    last_frames: u64,
    last_bytes: u64,
    tty: bool,
}

impl StatusLine {
    pub fn new() -> Self {
        StatusLine { last: Instant::now(), last_frames: 0, last_bytes: 0, tty: std::io::stdout().is_terminal() }
    }

    pub fn print(&mut self, s: &ShareStats, connected: bool) {
        let secs = self.last.elapsed().as_secs_f64().max(0.001);
        let fps = (s.frames - self.last_frames) as f64 / secs;
        let kbps = (s.bytes - self.last_bytes) as f64 * 8.0 / 1000.0 / secs;
        let line = format!(
            "status {} viewers={} fps={fps:.1} kbps={kbps:.1} frames={} bytes={} reconnects={}",
            if connected { "sharing" } else { "reconnecting" },
            s.viewers,
            s.frames,
            s.bytes,
            s.reconnects
        );
        if self.tty {
            print!("\r\x1b[2K{line}");
            use std::io::Write;
            let _ = std::io::stdout().flush();
        } else {
            println!("{line}");
        }
        self.last = Instant::now();
        self.last_frames = s.frames;
        self.last_bytes = s.bytes;
    }

    pub fn finish(&self, s: &ShareStats) {
        if self.tty {
            println!();
        }
        println!("shared frames={} bytes={} reconnects={}", s.frames, s.bytes, s.reconnects);
    }
}
