//! The server's one certificate: made on first start, checked against the public URL on
//! every start.
//!
//! OCS/Lync admins lost days to certificates whose names did not match the URL users
//! typed. deskshare refuses to start with a certificate that does not cover its public
//! host, and says so; a certificate it made itself is simply made again.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

/// Files of the TLS identity inside the data directory.
pub struct TlsPaths {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Present when deskshare generated the certificate itself.
    pub self_signed_marker: PathBuf,
}

impl TlsPaths {
    pub fn in_dir(data: &Path) -> Self {
        let dir = data.join("tls");
        TlsPaths { cert: dir.join("cert.pem"), key: dir.join("key.pem"), self_signed_marker: dir.join("self-signed") }
    }
}

/// Why the TLS identity could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: no certificate or key found in PEM file")]
    EmptyPem { path: PathBuf },
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("certificate is not valid for '{host}' (the host of the public URL); its names do not include it")]
    NameMismatch { host: String },
    #[error("TLS configuration rejected the certificate: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A loaded identity, ready for the listener.
pub struct TlsIdentity {
    pub config: Arc<rustls::ServerConfig>,
    /// SHA-256 of the leaf certificate (DER), as `AB:CD:…`.
    pub fingerprint: String,
    pub cert_path: PathBuf,
    /// Names and end date, for the self-check.
    pub facts: crate::health::CertFacts,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> TlsSetupError + '_ {
    move |source| TlsSetupError::Io { path: path.to_path_buf(), source }
}

/// Loads the identity from `data/tls`, generating a self-signed one for `hosts` if there
/// is none, or if the self-made one does not cover `public_host`.
pub fn load_or_create(data: &Path, public_host: &str, hosts: &[String]) -> Result<TlsIdentity, TlsSetupError> {
    let paths = TlsPaths::in_dir(data);
    if !paths.cert.exists() {
        generate(&paths, hosts)?;
    } else if let Some(why) = self_made_needs_renewal(&paths) {
        tracing::info!("self-signed certificate {why}; making a new one (its fingerprint changes)");
        generate(&paths, hosts)?;
    }
    let (chain, key) = read_pem(&paths)?;
    if !covers(&chain[0], public_host) {
        if paths.self_signed_marker.exists() {
            tracing::info!(
                host = public_host,
                "self-signed certificate did not cover the public host; making a new one"
            );
            generate(&paths, hosts)?;
            return load_or_create(data, public_host, hosts);
        }
        return Err(TlsSetupError::NameMismatch { host: public_host.to_string() });
    }
    let fingerprint = fingerprint(&chain[0]);
    let summary = deskshare_proto::cert::Certificate::parse(chain[0].as_ref());
    let facts = crate::health::CertFacts {
        names: summary.as_ref().map(|c| c.names.clone()).unwrap_or_default(),
        not_after: summary.as_ref().map_or(0, |c| c.not_after),
        self_made: paths.self_signed_marker.exists(),
    };
    let mut config = rustls::ServerConfig::builder().with_no_client_auth().with_single_cert(chain, key)?;
    // HTTP/1.1 only: WebSockets upgrade over it in every browser, and one protocol keeps
    // the one port simple to reason about.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsIdentity { config: Arc::new(config), fingerprint, cert_path: paths.cert, facts })
}

/// How long a self-made certificate is valid: what browsers accept for a public one.
const SELF_SIGNED_DAYS: i64 = 397;
/// A self-made certificate this close to its end is made again at start.
const RENEW_DAYS_BEFORE: i64 = 30;

/// Why a certificate deskshare made itself should be made again, if it should. The
/// marker file records its end (`valid-until UNIX-SECONDS`); one without it comes from
/// an older version that made certificates valid 1975–4096.
fn self_made_needs_renewal(paths: &TlsPaths) -> Option<&'static str> {
    let marker = std::fs::read_to_string(&paths.self_signed_marker).ok()?;
    let until = marker.lines().find_map(|l| l.strip_prefix("valid-until ")?.trim().parse::<i64>().ok());
    match until {
        None => Some("has no end date of its own (made by an older version, valid until 4096)"),
        Some(t) if t - crate::clock::Clock::system().now() < RENEW_DAYS_BEFORE * 86_400 => Some("ends within 30 days"),
        Some(_) => None,
    }
}

fn generate(paths: &TlsPaths, hosts: &[String]) -> Result<(), TlsSetupError> {
    let dir = paths.cert.parent().expect("cert path has a parent");
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut params = rcgen::CertificateParams::new(hosts.to_vec())?;
    let now = time::OffsetDateTime::now_utc();
    // A day of slack for clients whose clock is a little behind.
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(SELF_SIGNED_DAYS);
    let key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    std::fs::write(&paths.cert, cert.pem()).map_err(io_err(&paths.cert))?;
    write_private(&paths.key, key.serialize_pem().as_bytes()).map_err(io_err(&paths.key))?;
    let marker = format!(
        "generated by deskshare; delete tls/ to regenerate\nvalid-until {}\n",
        params.not_after.unix_timestamp()
    );
    std::fs::write(&paths.self_signed_marker, marker).map_err(io_err(&paths.self_signed_marker))?;
    Ok(())
}

/// Writes a file readable by its owner only.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(contents)
}

fn read_pem(paths: &TlsPaths) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsSetupError> {
    let cert_pem = std::fs::read(&paths.cert).map_err(io_err(&paths.cert))?;
    let chain: Vec<_> =
        rustls_pemfile::certs(&mut &cert_pem[..]).collect::<Result<_, _>>().map_err(io_err(&paths.cert))?;
    if chain.is_empty() {
        return Err(TlsSetupError::EmptyPem { path: paths.cert.clone() });
    }
    let key_pem = std::fs::read(&paths.key).map_err(io_err(&paths.key))?;
    let key = rustls_pemfile::private_key(&mut &key_pem[..])
        .map_err(io_err(&paths.key))?
        .ok_or_else(|| TlsSetupError::EmptyPem { path: paths.key.clone() })?;
    Ok((chain, key))
}

/// Whether the certificate's names cover `host` (a DNS name or an IP address).
fn covers(cert: &CertificateDer<'_>, host: &str) -> bool {
    let Ok(name) = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']')) else {
        return false;
    };
    webpki::EndEntityCert::try_from(cert).is_ok_and(|ee| ee.verify_is_valid_for_subject_name(&name).is_ok())
}

/// SHA-256 fingerprint in the colon-separated form browsers show.
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    deskshare_proto::cert::fingerprint(cert.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_cert_covers_its_hosts_and_is_regenerated_for_new_host() {
        let dir = std::env::temp_dir().join(format!("ds-tls-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let hosts = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let a = load_or_create(&dir, "127.0.0.1", &hosts).unwrap();
        let again = load_or_create(&dir, "localhost", &hosts).unwrap();
        assert_eq!(a.fingerprint, again.fingerprint, "existing certificate is reused");
        let mut more = hosts.clone();
        more.push("share.example.org".into());
        let b = load_or_create(&dir, "share.example.org", &more).unwrap();
        assert_ne!(a.fingerprint, b.fingerprint, "self-signed certificate remade for a new host");
        // A certificate the admin supplied is never replaced: a mismatch is an error.
        std::fs::remove_file(TlsPaths::in_dir(&dir).self_signed_marker).unwrap();
        let err = load_or_create(&dir, "other.example.org", &more).err().unwrap();
        assert!(matches!(err, TlsSetupError::NameMismatch { .. }), "{err}");
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(TlsPaths::in_dir(&dir).key).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn self_made_certificates_last_397_days_and_old_ones_are_renewed() {
        let dir = std::env::temp_dir().join(format!("ds-tls-valid-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let hosts = vec!["localhost".to_string()];
        let first = load_or_create(&dir, "localhost", &hosts).unwrap();
        let paths = TlsPaths::in_dir(&dir);
        let pem = std::fs::read(&paths.cert).unwrap();
        let der = rustls_pemfile::certs(&mut &pem[..]).next().unwrap().unwrap();
        let (not_before, not_after) = validity(&der);
        let now = crate::clock::Clock::system().now();
        assert!((now - 86_400 - 60..=now - 86_400 + 60).contains(&not_before), "{not_before} vs {now}");
        assert!((now + 397 * 86_400 - 60..=now + 397 * 86_400 + 60).contains(&not_after));
        // A marker from an older version (no end date) gets a new certificate.
        std::fs::write(&paths.self_signed_marker, "generated by deskshare; delete tls/ to regenerate\n").unwrap();
        let renewed = load_or_create(&dir, "localhost", &hosts).unwrap();
        assert_ne!(first.fingerprint, renewed.fingerprint);
        assert_eq!(load_or_create(&dir, "localhost", &hosts).unwrap().fingerprint, renewed.fingerprint);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// notBefore and notAfter of a certificate, as Unix seconds (UTCTime fields only).
    fn validity(der: &[u8]) -> (i64, i64) {
        // The two UTCTime values (tag 0x17, 13 bytes "YYMMDDHHMMSSZ") are the first in a
        // certificate; a test-only reader is enough for certificates made above.
        let times: Vec<i64> = der
            .windows(15)
            .filter(|w| w[0] == 0x17 && w[1] == 13 && w[14] == b'Z')
            .map(|w| {
                let d = |i: usize| i64::from(w[2 + i] - b'0') * 10 + i64::from(w[3 + i] - b'0');
                let date = time::Date::from_calendar_date(
                    2000 + d(0) as i32,
                    time::Month::try_from(d(2) as u8).unwrap(),
                    d(4) as u8,
                )
                .unwrap();
                date.with_hms(d(6) as u8, d(8) as u8, d(10) as u8).unwrap().assume_utc().unix_timestamp()
            })
            .take(2)
            .collect();
        (times[0], times[1])
    }
}
