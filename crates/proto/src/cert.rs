//! A server certificate as a person checks it: the fingerprint `deskshare serve` prints
//! and clients show on a failed check, the names, the issuer, the dates. Shared by the
//! server's self-check and every client's TLS errors, so both say the same.

use std::time::Duration;

/// SHA-256 of a DER certificate in the colon-separated hex form browsers show.
pub fn fingerprint(der: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(der).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// The pin form of a [`fingerprint`]: `sha256:` and lowercase hex without colons, as
/// `--ca sha256:…` takes it (and as a shell or a URL carries it unquoted).
pub fn pin(fingerprint: &str) -> String {
    format!("sha256:{}", fingerprint.replace(':', "").to_ascii_lowercase())
}

/// Parses a pin (`sha256:` then 64 hex digits, colons allowed) into the SHA-256 it names.
pub fn parse_pin(text: &str) -> Option<[u8; 32]> {
    let hex: String = text.strip_prefix("sha256:").or_else(|| text.strip_prefix("SHA256:"))?.replace(':', "");
    let mut out = [0u8; 32];
    if hex.len() != 64 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The certificate a server presented, as a person checks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    /// SHA-256 of the DER, colon-separated hex (as `deskshare serve` prints it).
    pub fingerprint: String,
    /// The DNS names and IP addresses it is valid for.
    pub names: Vec<String>,
    pub subject: String,
    pub issuer: String,
    /// Validity, seconds since the epoch.
    pub not_before: i64,
    pub not_after: i64,
}

impl Certificate {
    /// Reads what a person needs from a DER certificate; `None` if it does not parse.
    pub fn parse(der: &[u8]) -> Option<Certificate> {
        use x509_parser::prelude::*;
        let (_, cert) = X509Certificate::from_der(der).ok()?;
        let mut names = Vec::new();
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for n in &san.value.general_names {
                match n {
                    GeneralName::DNSName(d) => names.push(d.to_string()),
                    GeneralName::IPAddress(b) if b.len() == 4 => {
                        names.push(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*b).ok()?).to_string())
                    }
                    GeneralName::IPAddress(b) if b.len() == 16 => {
                        names.push(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*b).ok()?).to_string())
                    }
                    _ => {}
                }
            }
        }
        let fingerprint = fingerprint(der);
        Some(Certificate {
            fingerprint,
            names,
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
        })
    }

    /// One line: fingerprint, names, issuer, validity.
    pub fn summary(&self) -> String {
        format!(
            "certificate SHA-256 {}, for {}, issued by {}, valid {} to {}",
            self.fingerprint,
            if self.names.is_empty() { "no names".to_string() } else { self.names.join(", ") },
            self.issuer,
            date(self.not_before),
            date(self.not_after)
        )
    }
}

/// A date for people: `2026-12-01 22:41 UTC`.
pub fn date(unix: i64) -> String {
    let t = std::time::UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64);
    let s = httpdate::fmt_http_date(t);
    // "Tue, 01 Dec 2026 22:41:08 GMT" is clear enough and needs no calendar code.
    s.trim_end_matches(" GMT").to_string() + " UTC"
}

#[cfg(test)]
mod pin_tests {
    use super::*;

    #[test]
    fn a_pin_round_trips_and_rejects_what_is_not_one() {
        let fp = fingerprint(b"some certificate");
        let pin = pin(&fp);
        assert!(pin.starts_with("sha256:") && pin.len() == 7 + 64, "{pin}");
        let digest: [u8; 32] = {
            use sha2::Digest;
            sha2::Sha256::digest(b"some certificate").into()
        };
        assert_eq!(parse_pin(&pin), Some(digest));
        assert_eq!(parse_pin(&format!("sha256:{fp}")), Some(digest), "the colon form browsers show");
        for bad in ["", "sha256:", "sha256:zz", "md5:00", &pin[..pin.len() - 1], "./cert.pem", "sha256:ééé"] {
            assert_eq!(parse_pin(bad), None, "{bad}");
        }
    }
}
