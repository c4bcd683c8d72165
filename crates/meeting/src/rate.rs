//! Rate limits with time passed in: a token bucket, and buckets by key with a bound on
//! how many keys are remembered.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

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

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
    }

    /// Takes `n` units if available; otherwise takes nothing and says no.
    pub fn try_take(&mut self, n: f64, now: Instant) -> bool {
        self.refill(now);
        if self.tokens >= n {
            self.tokens -= n;
            true
        } else {
            false
        }
    }

    /// How long until `n` units are available (zero if they are now). Takes nothing.
    pub fn wait_for(&mut self, n: f64, now: Instant) -> Duration {
        self.refill(now);
        if self.tokens >= n || self.rate <= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((n - self.tokens) / self.rate)
        }
    }

    /// Takes one unit whether or not it is there (never below zero): how a failure is
    /// counted after the fact.
    pub fn charge(&mut self, now: Instant) {
        self.refill(now);
        self.tokens = (self.tokens - 1.0).max(0.0);
    }

    /// Full again: remembering this bucket says nothing a new one would not. Reads
    /// only, so `last` keeps telling when the bucket was last used.
    fn is_full(&self, now: Instant) -> bool {
        self.tokens + now.saturating_duration_since(self.last).as_secs_f64() * self.rate >= self.burst
    }
}

/// One token bucket per key (an address, a name, a meeting), remembering at most
/// `capacity` keys. When full it first forgets buckets that have refilled (they hold
/// nothing), then the least recently used: a spray of new keys can push out old
/// entries one at a time, but never wipes every limit at once.
#[derive(Debug)]
pub struct KeyedLimiter<K> {
    rate: f64,
    burst: f64,
    capacity: usize,
    buckets: HashMap<K, TokenBucket>,
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    /// `rate` units a second and bursts of `burst` per key; at most `capacity` keys.
    pub fn new(rate: f64, burst: f64, capacity: usize) -> Self {
        KeyedLimiter { rate, burst, capacity: capacity.max(1), buckets: HashMap::new() }
    }

    fn bucket(&mut self, key: &K, now: Instant) -> &mut TokenBucket {
        if !self.buckets.contains_key(key) {
            if self.buckets.len() >= self.capacity {
                self.make_room(now);
            }
            self.buckets.insert(key.clone(), TokenBucket::new(self.rate, self.burst, now));
        }
        self.buckets.get_mut(key).expect("inserted above")
    }

    fn make_room(&mut self, now: Instant) {
        self.buckets.retain(|_, b| !b.is_full(now));
        while self.buckets.len() >= self.capacity {
            let oldest = self.buckets.iter().min_by_key(|(_, b)| b.last).map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.buckets.remove(&k),
                None => break,
            };
        }
    }

    /// Takes one unit for `key`, or says how long to wait for it.
    pub fn take(&mut self, key: &K, now: Instant) -> Result<(), Duration> {
        let b = self.bucket(key, now);
        if b.try_take(1.0, now) { Ok(()) } else { Err(b.wait_for(1.0, now).max(Duration::from_millis(1))) }
    }

    /// Says whether `key` has a unit left (and how long to wait if not), taking nothing.
    /// Unknown keys are not remembered by asking.
    pub fn check(&mut self, key: &K, now: Instant) -> Result<(), Duration> {
        match self.buckets.get_mut(key) {
            None => Ok(()),
            Some(b) => match b.wait_for(1.0, now) {
                Duration::ZERO => Ok(()),
                wait => Err(wait),
            },
        }
    }

    /// Counts one failure against `key`, whether or not a unit was left.
    pub fn charge(&mut self, key: &K, now: Instant) {
        self.bucket(key, now).charge(now);
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn waits_and_charges() {
        let t = Instant::now();
        let mut b = TokenBucket::new(0.5, 2.0, t);
        b.charge(t);
        b.charge(t);
        b.charge(t);
        assert_eq!(b.wait_for(1.0, t), Duration::from_secs(2), "never below zero, so one unit is 2 s away");
        assert_eq!(b.wait_for(1.0, t + Duration::from_secs(2)), Duration::ZERO);
    }

    #[test]
    fn keys_are_limited_separately() {
        let t = Instant::now();
        let mut l = KeyedLimiter::new(1.0, 2.0, 100);
        assert!(l.take(&"a", t).is_ok() && l.take(&"a", t).is_ok());
        assert_eq!(l.take(&"a", t), Err(Duration::from_secs(1)));
        assert!(l.take(&"b", t).is_ok(), "another key has its own bucket");
        assert!(l.check(&"a", t + Duration::from_secs(1)).is_ok());
        assert!(l.check(&"never-seen", t).is_ok());
        assert_eq!(l.len(), 2, "checking an unknown key does not remember it");
    }

    #[test]
    fn a_spray_of_keys_evicts_the_oldest_never_everyone() {
        let t = Instant::now();
        let ms = |n: u64| t + Duration::from_millis(n);
        let mut l = KeyedLimiter::new(0.001, 1.0, 100);
        l.charge(&"victim".to_string(), t);
        // 99 other keys fill the limiter, each limited.
        for i in 0..99 {
            l.charge(&format!("spray-{i}"), ms(1 + i));
        }
        assert_eq!(l.len(), 100);
        // One more key pushes out exactly the least recently used one, not all of them.
        l.charge(&"one-more".to_string(), ms(300));
        assert_eq!(l.len(), 100);
        assert!(l.check(&"victim".to_string(), ms(300)).is_ok(), "the oldest was forgotten");
        for i in 0..99 {
            assert!(l.check(&format!("spray-{i}"), ms(300)).is_err(), "spray-{i} stays limited");
        }
    }

    #[test]
    fn refilled_buckets_go_first() {
        let t = Instant::now();
        let mut l = KeyedLimiter::new(1.0, 1.0, 3);
        l.charge(&1, t);
        l.charge(&2, t + Duration::from_secs(5));
        l.charge(&3, t + Duration::from_secs(5));
        // Key 1 refilled long ago; key 2 is limited and younger. A new key drops 1, not 2.
        l.charge(&4, t + Duration::from_millis(5500));
        assert!(l.check(&2, t + Duration::from_millis(5500)).is_err());
        assert_eq!(l.len(), 3);
    }

    proptest::proptest! {
        /// Whatever the sequence of keys and times: the limiter never remembers more than
        /// its capacity, and no key is ever granted more than its burst plus its refill.
        #[test]
        fn bounded_and_never_more_than_the_rate(steps in proptest::collection::vec((0u8..40, 0u64..500), 1..400)) {
            let start = Instant::now();
            let mut l = KeyedLimiter::new(2.0, 3.0, 16);
            let mut now = start;
            let mut granted: HashMap<u8, u32> = HashMap::new();
            let mut first_seen: HashMap<u8, Instant> = HashMap::new();
            for (key, advance_ms) in steps {
                now += Duration::from_millis(advance_ms);
                if l.take(&key, now).is_ok() {
                    *granted.entry(key).or_default() += 1;
                }
                first_seen.entry(key).or_insert(now);
                proptest::prop_assert!(l.len() <= 16);
            }
            // With no more keys than the capacity nothing is forgotten, so a key gets at
            // most its burst plus the rate × the time since its first use.
            if first_seen.len() <= 16 {
                for (key, n) in granted {
                    let secs = now.duration_since(first_seen[&key]).as_secs_f64();
                    proptest::prop_assert!(f64::from(n) <= 3.0 + 2.0 * secs + 1e-9, "key {key}: {n} in {secs} s");
                }
            }
        }
    }
}
