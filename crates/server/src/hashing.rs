//! Password and passcode hashing behind a bound.
//!
//! Argon2id with the default parameters takes 19 MiB and tens of milliseconds per hash,
//! on purpose. Without a bound, 256 concurrent sign-ins with unknown names took the
//! server from 1 GB to 5.2 GB and stalled the database pool. Here at most `permits`
//! hashes run at once; a request that cannot get a permit within `queue_wait` is told
//! `SERVER_BUSY` instead of piling up. The 19 MiB blocks are mapped for each hash and
//! unmapped after it (see [`return_memory_after_use`]), so a burst leaves nothing behind.

use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use deskshare_proto::{ErrorCode, WireError};
use rand::RngCore;
use tokio::sync::Semaphore;

use crate::error::internal;

/// How many hashes may run at once by default: 4 × 19 MiB.
pub const DEFAULT_HASH_PERMITS: usize = 4;
/// How long a request waits for a permit before `SERVER_BUSY`.
pub const DEFAULT_QUEUE_WAIT: Duration = Duration::from_secs(3);

/// The server's one way to hash and verify secrets.
pub struct SecretHasher {
    permits: Semaphore,
    queue_wait: Duration,
}

impl SecretHasher {
    pub fn new(permits: usize, queue_wait: Duration) -> Self {
        SecretHasher { permits: Semaphore::new(permits.max(1)), queue_wait }
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, WireError> {
        let _permit = tokio::time::timeout(self.queue_wait, self.permits.acquire())
            .await
            .map_err(|_| {
                tracing::warn!(code = %ErrorCode::ServerBusy, "password hashing at its bound; a request was turned away");
                WireError::bare(ErrorCode::ServerBusy)
            })?
            .map_err(internal)?;
        tokio::task::spawn_blocking(work).await.map_err(internal)
    }

    /// Hashes a password or passcode with argon2id.
    pub async fn hash(&self, secret: String) -> Result<String, WireError> {
        self.run(move || {
            let mut salt = [0u8; 16];
            rand::rng().fill_bytes(&mut salt);
            let salt = SaltString::encode_b64(&salt).map_err(internal)?;
            Argon2::default().hash_password(secret.as_bytes(), &salt).map(|h| h.to_string()).map_err(internal)
        })
        .await?
    }

    /// Checks a secret against a stored argon2 hash. `Err` only when the server is busy.
    pub async fn verify(&self, secret: String, hash: String) -> Result<bool, WireError> {
        self.run(move || {
            PasswordHash::new(&hash).is_ok_and(|h| Argon2::default().verify_password(secret.as_bytes(), &h).is_ok())
        })
        .await
    }

    /// Verifies against a hash of the same cost as a real one, for names that do not
    /// exist: timing does not tell which names do.
    pub async fn verify_nothing(&self, secret: String) -> Result<bool, WireError> {
        self.verify(secret, DUMMY_HASH.to_string()).await.map(|_| false)
    }
}

/// An argon2 hash (default parameters) of a random password.
pub const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$8zgBCQ8Zr7cZZXN3rXjzbdSv+eUrQq8sZaR9Ck7CEBc";

/// Makes glibc's malloc give large blocks back to the system when they are freed.
///
/// glibc serves allocations above a threshold with their own mmap, but raises that
/// threshold (up to 32 MiB) each time such a block is freed; after the first argon2
/// hash, every later 19 MiB block comes from a per-thread arena and stays there. A fixed
/// threshold of 1 MiB keeps big, short-lived buffers (hashes, keyframes) mapped only
/// while in use. Called once at server start.
pub fn return_memory_after_use() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; it is called before the runtime's
    // worker threads allocate large blocks, and is safe to call at any time anyway.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 4 * 1024 * 1024);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_and_verifies() {
        let h = SecretHasher::new(2, Duration::from_secs(5));
        let hash = h.hash("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$") && !hash.contains("correct horse"));
        assert!(h.verify("correct horse".into(), hash.clone()).await.unwrap());
        assert!(!h.verify("wrong horse".into(), hash).await.unwrap());
        assert!(!h.verify("x".into(), "not a hash".into()).await.unwrap());
        assert!(PasswordHash::new(DUMMY_HASH).is_ok(), "the dummy hash parses, so unknown names cost a full verify");
        assert!(!h.verify_nothing("anything".into()).await.unwrap());
    }

    #[tokio::test]
    async fn beyond_the_bound_callers_are_told_busy() {
        let h = std::sync::Arc::new(SecretHasher::new(1, Duration::from_millis(1)));
        // Hold the only permit, as a long-running hash would.
        let held = h.permits.acquire().await.unwrap();
        let err = h.verify("pw".into(), DUMMY_HASH.into()).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::ServerBusy);
        drop(held);
        assert!(!h.verify("pw".into(), DUMMY_HASH.into()).await.unwrap(), "free again once the permit returns");
    }
}
