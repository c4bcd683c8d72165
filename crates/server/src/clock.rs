//! The server's one reading of the wall clock. Expiry of meetings and sign-ins, chat
//! times, the certificate's renewal and the `Date` header all ask it, so a test (or an
//! operator reproducing a skewed machine with `serve --clock-offset`) runs the whole
//! server ahead or behind without waiting for real time to pass.

use std::time::{SystemTime, UNIX_EPOCH};

/// The system clock plus a fixed offset (zero in normal use).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Clock {
    offset_secs: i64,
}

impl Clock {
    /// The system clock as it is.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// The system clock shifted by `secs` (negative: behind).
    pub fn offset_by(secs: i64) -> Clock {
        Clock { offset_secs: secs }
    }

    /// Seconds since the Unix epoch, by this clock.
    pub fn now(&self) -> i64 {
        let real = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        real.saturating_add(self.offset_secs)
    }

    /// This clock's time as a `SystemTime` (for HTTP dates and certificate checks).
    pub fn system_time(&self) -> SystemTime {
        let real = SystemTime::now();
        let shift = std::time::Duration::from_secs(self.offset_secs.unsigned_abs());
        if self.offset_secs >= 0 { real + shift } else { real.checked_sub(shift).unwrap_or(UNIX_EPOCH) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offset_clock_runs_that_far_from_the_system_clock() {
        let (system, ahead, behind) = (Clock::system(), Clock::offset_by(3600), Clock::offset_by(-3600));
        let now = system.now();
        // The second may tick between two readings, never more.
        assert!((ahead.now() - now - 3600).abs() <= 1);
        assert!((behind.now() - now + 3600).abs() <= 1);
        let secs = |c: Clock| c.system_time().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
        assert!((secs(ahead) - now - 3600).abs() <= 1);
        assert!((secs(behind) - now + 3600).abs() <= 1);
    }
}
