//! A token bucket, with time passed in.

use std::time::Instant;

/// Allows `rate` units a second on average and bursts up to `burst`.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(rate: f64, burst: f64, now: Instant) -> Self {
        TokenBucket { rate, burst, tokens: burst, last: now }
    }

    /// Takes `n` units if available; otherwise takes nothing and says no.
    pub fn try_take(&mut self, n: f64, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= n {
            self.tokens -= n;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn allows_bursts_then_the_rate() {
        let t = Instant::now();
        let mut b = TokenBucket::new(10.0, 20.0, t);
        assert!(b.try_take(20.0, t));
        assert!(!b.try_take(1.0, t));
        assert!(!b.try_take(2.0, t + Duration::from_millis(100)));
        assert!(b.try_take(1.0, t + Duration::from_millis(200)));
        assert!(b.try_take(20.0, t + Duration::from_secs(100)), "refills to the burst size");
        assert!(!b.try_take(1.0, t + Duration::from_secs(100)));
    }
}
