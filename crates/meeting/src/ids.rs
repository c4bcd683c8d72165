//! Random meeting ids and presenter secrets.

use std::fmt;

use rand::RngCore;
use sha2::{Digest, Sha256};

/// Bytes of randomness in a meeting id: 96 bits, above the 80 the threat model asks for.
const ID_BYTES: usize = 12;
/// Bytes of randomness in a presenter secret.
const SECRET_BYTES: usize = 32;

/// A meeting id: 24 lowercase hex digits from a CSPRNG.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MeetingId(String);

/// Why a string is not a meeting id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a meeting id: expected {} lowercase hex digits", ID_BYTES * 2)]
pub struct MeetingIdError;

impl MeetingId {
    /// A fresh random id.
    pub fn generate() -> Self {
        let mut bytes = [0u8; ID_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        MeetingId(hex::encode(bytes))
    }

    /// Parses an id from a URL, refusing anything that could not have been generated.
    pub fn parse(s: &str) -> Result<Self, MeetingIdError> {
        if s.len() == ID_BYTES * 2 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(MeetingId(s.to_string()))
        } else {
            Err(MeetingIdError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MeetingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MeetingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MeetingId({})", self.0)
    }
}

/// The secret in a presenter URL. Shown once at creation; only its hash is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct PresenterSecret(String);

impl PresenterSecret {
    pub fn generate() -> Self {
        let mut bytes = [0u8; SECRET_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        PresenterSecret(hex::encode(bytes))
    }

    pub fn from_string(s: String) -> Self {
        PresenterSecret(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the secret. A plain hash suffices: the secret has 256 random bits, so
    /// there is nothing for a slow password hash to protect against.
    pub fn hash(&self) -> SecretHash {
        SecretHash(hex::encode(Sha256::digest(self.0.as_bytes())))
    }
}

impl fmt::Debug for PresenterSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PresenterSecret(..)")
    }
}

/// Stored hash of a [`PresenterSecret`], as hex.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretHash(String);

impl SecretHash {
    pub fn from_hex(s: String) -> Self {
        SecretHash(s)
    }

    pub fn as_hex(&self) -> &str {
        &self.0
    }

    /// Compares in constant time, so response timing leaks nothing about the hash.
    pub fn matches(&self, secret: &PresenterSecret) -> bool {
        let other = secret.hash();
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_and_parse_strictly() {
        let a = MeetingId::generate();
        let b = MeetingId::generate();
        assert_ne!(a, b);
        assert_eq!(MeetingId::parse(a.as_str()).unwrap(), a);
        assert!(MeetingId::parse("alice").is_err());
        assert!(MeetingId::parse(&a.as_str().to_uppercase()).is_err());
        assert!(MeetingId::parse(&format!("{a}0")).is_err());
    }

    #[test]
    fn secrets_match_only_themselves() {
        let s = PresenterSecret::generate();
        let h = s.hash();
        assert!(h.matches(&s));
        assert!(!h.matches(&PresenterSecret::generate()));
        assert!(!h.matches(&PresenterSecret::from_string(String::new())));
    }
}
