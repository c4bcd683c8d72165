//! Turning transport failures into coded errors a person can act on.

use std::error::Error;

use deskshare_proto::{ErrorCode, WireError};

/// Walks an error's chain (including errors wrapped inside `io::Error`) and names the
/// failure: untrusted certificate, wrong certificate name, or unreachable server.
pub fn classify(err: &(dyn Error + 'static), what: &str) -> WireError {
    let detail = chain_text(err);
    let mut cur: Option<&(dyn Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return tls_error(tls, what, &detail);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(tls) = inner.downcast_ref::<rustls::Error>()
        {
            return tls_error(tls, what, &detail);
        }
        cur = e.source();
    }
    WireError::new(ErrorCode::ServerUnreachable, format!("{what}: {detail}"))
}

fn tls_error(tls: &rustls::Error, what: &str, detail: &str) -> WireError {
    use rustls::CertificateError as C;
    let code = match tls {
        rustls::Error::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
            ErrorCode::TlsNameMismatch
        }
        rustls::Error::InvalidCertificate(_) => ErrorCode::TlsUntrusted,
        _ => ErrorCode::ServerUnreachable,
    };
    WireError::new(code, format!("{what}: {detail}"))
}

fn chain_text(err: &(dyn Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = e.source();
    }
    parts.join(": ")
}
