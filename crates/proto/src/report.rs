//! Failure reports and what the server makes of them.
//!
//! A client that fails (browser, agent, CLI viewer, doctor) tells the server in one short
//! [`FailureReport`] when it can reach it, and keeps it for later when it cannot. The
//! server adds what the client cannot be trusted to say — who is signed in, and whether
//! the address it came from is inside the organisation — and keeps the reports bounded.
//! `deskshare admin diagnose` reads them back as a [`Diagnosis`]: the administrator's
//! scoping table (one person or many, inside or outside, one computer or many) turned
//! into the likely layer, with the evidence.

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;

/// Longest `detail` kept; longer ones are cut, not refused.
pub const MAX_DETAIL_CHARS: usize = 300;
/// Longest `version` or `platform`.
pub const MAX_LABEL_CHARS: usize = 64;

/// Where between the person and the server a failure happened: the steps `deskshare
/// doctor` walks, plus the ones after a connection is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Hop {
    Dns,
    Tcp,
    Proxy,
    Tls,
    Clock,
    Http,
    Websocket,
    SignIn,
    Meeting,
    Policy,
    Media,
    Session,
    Display,
}

impl Hop {
    pub const ALL: &'static [Hop] = &[
        Hop::Dns,
        Hop::Tcp,
        Hop::Proxy,
        Hop::Tls,
        Hop::Clock,
        Hop::Http,
        Hop::Websocket,
        Hop::SignIn,
        Hop::Meeting,
        Hop::Policy,
        Hop::Media,
        Hop::Session,
        Hop::Display,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Hop::Dns => "dns",
            Hop::Tcp => "tcp",
            Hop::Proxy => "proxy",
            Hop::Tls => "tls",
            Hop::Clock => "clock",
            Hop::Http => "http",
            Hop::Websocket => "websocket",
            Hop::SignIn => "sign-in",
            Hop::Meeting => "meeting",
            Hop::Policy => "policy",
            Hop::Media => "media",
            Hop::Session => "session",
            Hop::Display => "display",
        }
    }

    pub fn parse(s: &str) -> Option<Hop> {
        Hop::ALL.iter().copied().find(|h| h.as_str() == s)
    }

    /// Whether a client that failed here can still talk to the server: not when the
    /// failure is that it cannot reach it (its name, its port, the proxy, its
    /// certificate).
    pub fn server_reachable(self) -> bool {
        !matches!(self, Hop::Dns | Hop::Tcp | Hop::Proxy | Hop::Tls)
    }

    /// The hop a failure with this code happened at, or `None` when the code is not a
    /// failure worth reporting: the normal end of something (the meeting ended, control
    /// was taken back), a mistake on the command line, or the server's own start-up.
    pub fn of(code: ErrorCode) -> Option<Hop> {
        use ErrorCode::*;
        Some(match code {
            NameNotResolved => Hop::Dns,
            ConnectionRefused | ConnectTimeout | ServerUnreachable | ConnectionLimit => Hop::Tcp,
            ProxyUnreachable | ProxyRefused | ProxyAuthRequired => Hop::Proxy,
            TlsUntrusted | TlsNameMismatch | TlsCertificateExpired | TlsHandshakeFailed => Hop::Tls,
            ClockSkew => Hop::Clock,
            WebsocketBlocked | OriginNotAllowed => Hop::Websocket,
            BadCredentials | AccountDisabled | SessionExpired | Unauthorized | LoginRateLimited => Hop::SignIn,
            MeetingNotFound
            | MeetingExpired
            | MeetingFull
            | PasscodeInvalid
            | PasscodeRateLimited
            | PresenterSecretInvalid
            | SharePassInvalid => Hop::Meeting,
            PolicyNotAllowed
            | AnonymousNotAllowed
            | SharingDisabled
            | ProgramSharingDisabled
            | NotPresenter
            | ControlDisabled => Hop::Policy,
            ConnectionLost
            | ConnectionStalled
            | ServerBusy
            | ServerError
            | ServerShuttingDown
            | ProtocolVersionMismatch
            | ProtocolViolation
            | MessageTooLarge
            | MessageMalformed
            | MessageUnknownType
            | TileCorrupt
            | NoFrameTimeout
            | StorageLost
            | DatabaseCorrupt => Hop::Session,
            DisplayUnreachable
            | DisplayExtensionMissing
            | DisplayFormatUnsupported
            | DisplayLost
            | CaptureFailed
            | EncodeFailed
            | WindowGone
            | WindowNotFound
            | MonitorNotFound
            | HotkeyTaken
            | HotkeyUnavailable
            | ScreenTooLarge => Hop::Display,
            _ => return None,
        })
    }
}

/// Which program sent a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ClientKind {
    Browser,
    Agent,
    Viewer,
    Doctor,
}

impl ClientKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::Browser => "browser",
            ClientKind::Agent => "agent",
            ClientKind::Viewer => "viewer",
            ClientKind::Doctor => "doctor",
        }
    }
}

/// `POST /api/reports` body: one failure, as the client saw it. Nothing personal: the
/// server takes the signed-in name from the sign-in itself, never from the body, and
/// keeps of the address only whether it is inside the organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FailureReport {
    /// The error code, e.g. `WEBSOCKET_BLOCKED`.
    pub code: String,
    /// Where it failed; the server derives it from the code when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hop: Option<Hop>,
    pub client: ClientKind,
    /// The client's version (the web client's is the server's).
    pub version: String,
    /// A random id of the installation (a browser profile, a computer's config
    /// directory): tells one computer from many, and nothing else.
    pub installation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting: Option<String>,
    /// The browser and its major version, or the operating system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The error's own message (first [`MAX_DETAIL_CHARS`] characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Seconds since the failure, for a report kept until the server could be reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age: Option<u32>,
}

/// Whether a report came from inside the organisation (`serve --internal-network`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Network {
    Inside,
    Outside,
    /// No internal ranges are configured.
    Unknown,
}

impl Network {
    pub fn as_str(self) -> &'static str {
        match self {
            Network::Inside => "inside",
            Network::Outside => "outside",
            Network::Unknown => "unknown",
        }
    }
}

/// The layer a set of failures points at, from the administrator's scoping table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    /// One person on one computer: that computer's settings, network or software.
    ClientMachine,
    /// One person on several computers, or a rule that refuses: the account, its
    /// sign-in, or a policy.
    Account,
    /// Many people, all inside or all outside: the way in that they share.
    NetworkPath,
    /// Many people inside and outside: the server or its certificate.
    Server,
    /// Many people inside and outside cannot reach the server at all.
    Outage,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::ClientMachine => "client machine",
            Layer::Account => "account / identity / policy",
            Layer::NetworkPath => "network path",
            Layer::Server => "server / certificate",
            Layer::Outage => "outage",
        }
    }
}

/// How widely a set of failures spreads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Spread {
    pub reports: u32,
    /// Distinct people: signed-in names, and each guest installation as one person.
    pub people: u32,
    /// Distinct installations.
    pub computers: u32,
    /// Reports from inside / outside the organisation / with no ranges configured.
    pub inside: u32,
    pub outside: u32,
    pub unknown: u32,
}

/// The scoping table's answer for a set of failures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Verdict {
    pub layer: Layer,
    /// One sentence: who fails, and so where to look.
    pub summary: String,
    /// What to do first.
    pub next: String,
    /// The facts the verdict rests on, a line each.
    pub evidence: Vec<String>,
}

/// The failures with one code at one hop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailureGroup {
    pub code: String,
    pub hop: Hop,
    pub spread: Spread,
    /// Reports per client kind, e.g. `[["browser", 4], ["viewer", 1]]`.
    pub clients: Vec<(ClientKind, u32)>,
    /// Signed-in names among them (at most 10), for the administrator to call.
    pub people: Vec<String>,
    pub first: i64,
    pub last: i64,
    pub verdict: Verdict,
}

/// `GET /api/admin/diagnose` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Diagnosis {
    /// The window, in Unix seconds.
    pub since: i64,
    pub until: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting: Option<String>,
    /// Whether internal ranges are configured (without them inside and outside are
    /// unknown).
    pub internal_ranges: bool,
    pub spread: Spread,
    /// The verdict for the failure most people share; none without reports.
    pub verdict: Option<Verdict>,
    /// Every code seen, most people first.
    pub groups: Vec<FailureGroup>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hops_round_trip_and_codes_map() {
        for h in Hop::ALL {
            assert_eq!(Hop::parse(h.as_str()), Some(*h));
            assert_eq!(serde_json::to_string(h).unwrap(), format!("\"{}\"", h.as_str()));
        }
        assert_eq!(Hop::of(ErrorCode::WebsocketBlocked), Some(Hop::Websocket));
        assert_eq!(Hop::of(ErrorCode::TlsUntrusted), Some(Hop::Tls));
        assert_eq!(Hop::of(ErrorCode::NameNotResolved), Some(Hop::Dns));
        // Normal ends and command-line mistakes are not failures to report.
        assert_eq!(Hop::of(ErrorCode::MeetingEnded), None);
        assert_eq!(Hop::of(ErrorCode::ArgumentInvalid), None);
        assert_eq!(Hop::of(ErrorCode::ControlRevokedHotkey), None);
        // An organiser's no is a decision, not a failure.
        assert_eq!(Hop::of(ErrorCode::LobbyDenied), None);
        let r: FailureReport = serde_json::from_str(
            r#"{"code":"TLS_UNTRUSTED","hop":"tls","client":"viewer","version":"0.1.0","installation":"ab"}"#,
        )
        .unwrap();
        assert_eq!(r.hop, Some(Hop::Tls));
        assert!(
            serde_json::from_str::<FailureReport>(
                r#"{"code":"X","client":"viewer","version":"1","installation":"a","ip":"1.2.3.4"}"#
            )
            .is_err()
        );
    }
}
