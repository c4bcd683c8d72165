//! Limits on guessing: sign-ins and meeting passcodes.
//!
//! Each limit is a [`KeyedLimiter`] (bounded, oldest forgotten first). What each one
//! stops:
//! - **sign-in per address** — one address spraying one password over many names;
//! - **sign-in per address and name** — quick guessing at one account (5, then 1/10 s);
//! - **sign-in per name** (failures from any address) — many addresses guessing at one
//!   account. It *delays* attempts (a few seconds), never refuses them, so an attacker
//!   cannot lock the real user out by failing on purpose;
//! - **passcode per meeting** and **per address** (failures) — guessing a short passcode.
//!   A 4-digit code at 26 guesses/s fell in about 6 minutes; now it takes days.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use deskshare_meeting::{KeyedLimiter, MeetingId};
use deskshare_proto::{ErrorCode, WireError};

/// Most keys each limiter remembers.
const KEYS: usize = 10_000;
/// Longest delay the per-name limit adds to one sign-in.
const MAX_NAME_DELAY: Duration = Duration::from_secs(3);

pub struct Attempts {
    login_by_address: Mutex<KeyedLimiter<IpAddr>>,
    login_by_address_name: Mutex<KeyedLimiter<(IpAddr, String)>>,
    login_failures_by_name: Mutex<KeyedLimiter<String>>,
    passcode_failures_by_meeting: Mutex<KeyedLimiter<MeetingId>>,
    passcode_failures_by_address: Mutex<KeyedLimiter<IpAddr>>,
}

impl Default for Attempts {
    fn default() -> Self {
        Attempts {
            login_by_address: Mutex::new(KeyedLimiter::new(1.0 / 3.0, 20.0, KEYS)),
            login_by_address_name: Mutex::new(KeyedLimiter::new(0.1, 5.0, KEYS)),
            login_failures_by_name: Mutex::new(KeyedLimiter::new(1.0 / 6.0, 10.0, KEYS)),
            passcode_failures_by_meeting: Mutex::new(KeyedLimiter::new(1.0 / 6.0, 10.0, KEYS)),
            passcode_failures_by_address: Mutex::new(KeyedLimiter::new(1.0 / 12.0, 5.0, KEYS)),
        }
    }
}

fn lock<K>(m: &Mutex<KeyedLimiter<K>>) -> std::sync::MutexGuard<'_, KeyedLimiter<K>> {
    m.lock().expect("limiter lock")
}

fn wait_text(wait: Duration) -> String {
    format!("try again in {} s", wait.as_secs().max(1))
}

impl Attempts {
    /// Before a sign-in: refuses when the address (or address and name) has no attempts
    /// left; otherwise says how long to delay it for its name.
    pub fn before_login(&self, ip: IpAddr, name: &str, now: Instant) -> Result<Duration, WireError> {
        let limited = |wait: Duration| WireError::new(ErrorCode::LoginRateLimited, wait_text(wait));
        lock(&self.login_by_address).take(&ip, now).map_err(limited)?;
        lock(&self.login_by_address_name).take(&(ip, name.to_string()), now).map_err(limited)?;
        let delay = lock(&self.login_failures_by_name).check(&name.to_string(), now).err().unwrap_or_default();
        Ok(delay.min(MAX_NAME_DELAY))
    }

    /// After a failed sign-in.
    pub fn login_failed(&self, name: &str, now: Instant) {
        lock(&self.login_failures_by_name).charge(&name.to_string(), now);
    }

    /// Before checking a passcode: refuses while the meeting or the address has had too
    /// many wrong ones.
    pub fn before_passcode(&self, meeting: &MeetingId, ip: IpAddr, now: Instant) -> Result<(), WireError> {
        let limited = |wait: Duration| WireError::new(ErrorCode::PasscodeRateLimited, wait_text(wait));
        lock(&self.passcode_failures_by_meeting).check(meeting, now).map_err(limited)?;
        lock(&self.passcode_failures_by_address).check(&ip, now).map_err(limited)
    }

    /// After a wrong passcode.
    pub fn passcode_failed(&self, meeting: &MeetingId, ip: IpAddr, now: Instant) {
        lock(&self.passcode_failures_by_meeting).charge(meeting, now);
        lock(&self.passcode_failures_by_address).charge(&ip, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    #[test]
    fn one_address_spraying_many_names_is_limited() {
        let a = Attempts::default();
        let t = Instant::now();
        let allowed = (0..100).filter(|i| a.before_login(ip(1), &format!("user{i}"), t).is_ok()).count();
        assert_eq!(allowed, 20, "the address's burst, whatever the names");
        assert!(a.before_login(ip(2), "user0", t).is_ok(), "another address is not affected");
    }

    #[test]
    fn failures_from_many_addresses_delay_a_name_but_never_lock_it() {
        let a = Attempts::default();
        let t = Instant::now();
        for n in 0..50 {
            assert!(a.before_login(ip(n), "alice", t).is_ok());
            a.login_failed("alice", t);
        }
        // The real user, from their own address, is delayed a little, not refused.
        let delay = a.before_login(ip(200), "alice", t).expect("not refused");
        assert!(delay > Duration::ZERO && delay <= MAX_NAME_DELAY, "{delay:?}");
        assert_eq!(a.before_login(ip(201), "bob", t).unwrap(), Duration::ZERO, "other names are not delayed");
    }

    #[test]
    fn wrong_passcodes_are_limited_per_meeting_and_per_address() {
        let a = Attempts::default();
        let t = Instant::now();
        let m = MeetingId::generate();
        for _ in 0..5 {
            a.before_passcode(&m, ip(1), t).unwrap();
            a.passcode_failed(&m, ip(1), t);
        }
        let e = a.before_passcode(&m, ip(1), t).unwrap_err();
        assert_eq!(e.code, ErrorCode::PasscodeRateLimited);
        assert!(a.before_passcode(&MeetingId::generate(), ip(1), t).is_err(), "the address is limited everywhere");
        // Other addresses may still try this meeting, until the meeting's own limit.
        for n in 2..7 {
            a.before_passcode(&m, ip(n), t).unwrap();
            a.passcode_failed(&m, ip(n), t);
        }
        assert!(a.before_passcode(&m, ip(100), t).is_err(), "ten wrong passcodes lock the meeting for a while");
        assert!(a.before_passcode(&m, ip(100), t + Duration::from_secs(6)).is_ok(), "one more after 6 s");
    }
}
