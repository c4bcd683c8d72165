//! Which servers a client trusts.

use std::path::PathBuf;
use std::sync::Arc;

use deskshare_proto::{ErrorCode, WireError};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// `--ca FILE` and `--insecure`, common to every client command.
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// Trust exactly the certificates in this PEM file (e.g. the server's self-signed
    /// `DATA/tls/cert.pem`) instead of the system's authorities — or, written
    /// `sha256:HEX`, exactly the server certificate with that SHA-256 (what the meeting
    /// page's share command carries for a certificate the server made itself).
    pub ca: Option<PathBuf>,
    /// Trust any certificate. For tests and first contact only; the server prints its
    /// fingerprint so a person can compare.
    pub insecure: bool,
}

impl TlsOptions {
    /// Builds the rustls configuration (HTTP/1.1 ALPN, for the WebSocket upgrade).
    pub fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, WireError> {
        let mut config = rustls::ClientConfig::builder()
            .dangerous()
            .with_custom_certificate_verifier(self.verifier()?)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// What decides whether a server's certificate is trusted: anything (`--insecure`),
    /// exactly the `--ca` file's certificates, or the system's authorities.
    pub fn verifier(&self) -> Result<Arc<dyn ServerCertVerifier>, WireError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        if self.insecure {
            return Ok(Arc::new(AcceptAny::new()));
        }
        if let Some(pin) = self.ca.as_ref().and_then(|p| p.to_str()).and_then(deskshare_proto::cert::parse_pin) {
            return Ok(Arc::new(Pinned { pin, any: AcceptAny::new() }));
        }
        if let Some(path) = &self.ca {
            let bad = |e: String| WireError::new(ErrorCode::TlsUntrusted, format!("--ca {}: {e}", path.display()));
            let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls_pemfile::certs(&mut &pem[..]) {
                roots.add(cert.map_err(|e| bad(e.to_string()))?).map_err(|e| bad(e.to_string()))?;
            }
            if roots.is_empty() {
                return Err(bad("no certificate in the file".into()));
            }
            let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| bad(e.to_string()))?;
            return Ok(verifier);
        }
        let verifier = rustls_platform_verifier::Verifier::new(provider)
            .map_err(|e| WireError::new(ErrorCode::TlsUntrusted, format!("system trust store: {e}")))?;
        Ok(Arc::new(verifier))
    }
}

/// Trusts exactly the certificate whose SHA-256 is `pin` (still checking handshake
/// signatures, so the peer holds its key). Names and dates are not checked: the pin
/// names the one certificate, as a person comparing fingerprints would.
#[derive(Debug)]
struct Pinned {
    pin: [u8; 32],
    any: AcceptAny,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use sha2::Digest;
        let digest: [u8; 32] = sha2::Sha256::digest(end_entity.as_ref()).into();
        if digest == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::ApplicationVerificationFailure))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.any.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.any.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.any.supported_verify_schemes()
    }
}

/// Accepts any certificate but still checks handshake signatures, so the connection is
/// encrypted to whoever holds the presented key.
#[derive(Debug)]
struct AcceptAny {
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl AcceptAny {
    fn new() -> Self {
        AcceptAny { provider: Arc::new(rustls::crypto::aws_lc_rs::default_provider()) }
    }
}

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}
