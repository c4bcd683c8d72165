//! Stable error codes: one code, one cause, one remedy for every failure a user can hit.
//!
//! The same table drives the server's JSON errors, the CLI's messages and the browser's
//! error screen, and a test checks that docs/ERRORS.md documents every code.

use serde::{Deserialize, Serialize};

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $status:literal, $cause:literal, $remedy:literal; )*) => {
        /// Every failure deskshare can report, by stable code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum ErrorCode {
            $( $(#[$doc])* #[serde(rename = $code)] $variant, )*
        }

        impl ErrorCode {
            /// All codes, in documentation order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The stable code string, e.g. `MEETING_NOT_FOUND`.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            /// HTTP status the server answers with when this code ends a request; `None`
            /// for failures that happen away from HTTP (on the presenter's display, in a
            /// running session).
            pub fn http_status(self) -> Option<u16> {
                match self { $(ErrorCode::$variant => match $status { 0 => None, s => Some(s) },)* }
            }

            /// One line: what went wrong.
            pub fn cause(self) -> &'static str {
                match self { $(ErrorCode::$variant => $cause,)* }
            }

            /// One line: what to do about it.
            pub fn remedy(self) -> &'static str {
                match self { $(ErrorCode::$variant => $remedy,)* }
            }

            /// Parses a code string as sent on the wire.
            pub fn parse(code: &str) -> Option<ErrorCode> {
                match code { $($code => Some(ErrorCode::$variant),)* _ => None }
            }
        }
    };
}

error_codes! {
    /// The meeting id in the URL does not exist on this server.
    MeetingNotFound = "MEETING_NOT_FOUND", 404,
        "no meeting with this id exists on the server",
        "check the join link; ask the organiser for a new one if the meeting was deleted";
    /// The meeting existed but its expiry has passed.
    MeetingExpired = "MEETING_EXPIRED", 410,
        "the meeting has expired",
        "ask the organiser to create a new meeting";
    /// The presenter link carried a wrong or missing secret.
    PresenterSecretInvalid = "PRESENTER_SECRET_INVALID", 403,
        "the presenter link's secret does not match this meeting",
        "use the presenter URL printed by `deskshare meeting create`, unchanged";
    /// The first-start setup link was used already, or is from an earlier start.
    SetupLinkInvalid = "SETUP_LINK_INVALID", 403,
        "the setup link does not work: it was used already (there is an administrator), or it is from an earlier start of the server",
        "sign in as the administrator; while there is none, use the link the server printed at its latest start, or run deskshare admin user add NAME --admin with the admin token";
    /// The share link's pass did not open.
    SharePassInvalid = "SHARE_PASS_INVALID", 403,
        "the share link is not valid here: it has expired (a link lasts 12 hours), was changed, or is for another meeting or server",
        "on the meeting page click Share my desktop again, and use the new link or command";
    /// The participant is not (or no longer) a presenter.
    NotPresenter = "NOT_PRESENTER", 403,
        "only the organiser and presenters may present in this meeting, and you are not (or no longer) one",
        "ask the organiser to make you a presenter, then present again";
    /// Another connection took over presenting in this meeting.
    PresenterReplaced = "PRESENTER_REPLACED", 409,
        "another presenter connection for this meeting took over",
        "stop the other `deskshare share` for this meeting, or share again to take over";
    /// Someone else presents; the new share did not ask to replace theirs.
    PresenterActive = "PRESENTER_ACTIVE", 409,
        "someone else is presenting in this meeting",
        "replace their share if you mean to (the page asks; `deskshare share --replace`), or ask them to stop first";
    /// Name or password wrong.
    BadCredentials = "BAD_CREDENTIALS", 401,
        "the name or password is wrong",
        "check both; an administrator can reset the password with `deskshare admin user reset-password`";
    /// The account is disabled.
    AccountDisabled = "ACCOUNT_DISABLED", 403,
        "this account is disabled",
        "ask an administrator to enable it again";
    /// The browser's sign-in no longer works.
    SessionExpired = "SESSION_EXPIRED", 401,
        "your sign-in has ended: it expired, you signed out elsewhere, an administrator reset your password, or the account was disabled",
        "sign in again, or join as a guest where the meeting allows guests";
    /// Too many sign-in attempts.
    LoginRateLimited = "LOGIN_RATE_LIMITED", 429,
        "too many sign-in attempts from this address, or for this account from this address",
        "wait a minute, then try again";
    /// Too many wrong passcodes for this meeting, or from this address.
    PasscodeRateLimited = "PASSCODE_RATE_LIMITED", 429,
        "too many wrong passcodes were tried for this meeting or from this address",
        "wait the time the message names, then enter the passcode exactly as the organiser gave it";
    /// Too many failure reports from one address.
    ReportsRateLimited = "REPORTS_RATE_LIMITED", 429,
        "this address sent more failure reports than the server takes in a minute",
        "nothing to do: the reports already sent are kept; later ones are taken again after a minute";
    /// Password hashing is at its bound.
    ServerBusy = "SERVER_BUSY", 503,
        "the server is checking as many passwords and passcodes as it allows at once",
        "try again in a few seconds; if it persists, the server may be under a sign-in flood (see its log)";
    /// A web page on another origin sent a request with the user's cookie.
    OriginNotAllowed = "ORIGIN_NOT_ALLOWED", 403,
        "the request came from a web page on another origin than this server's",
        "open deskshare at its own address (the server's --public-url); an administrator can allow another origin with --allowed-origin";
    /// Connection caps reached (reported in the server log; the connection is closed).
    ConnectionLimit = "CONNECTION_LIMIT", 503,
        "the server holds as many connections as it allows, in total or from this address",
        "close unused tabs or clients; an administrator can raise --max-connections and --max-connections-per-address";
    /// The peer did not take data for too long.
    ConnectionStalled = "CONNECTION_STALLED", 0,
        "the connection took no data for too long (the other side stopped reading), so it was closed to free its place",
        "nothing to do if it recovers: clients reconnect on their own; if it repeats, check the network path to the server";
    /// Meeting quota reached.
    MeetingQuotaExceeded = "MEETING_QUOTA_EXCEEDED", 403,
        "you have as many meetings as one organiser may keep",
        "delete meetings you no longer need (`deskshare meeting list`, `deskshare meeting delete`), or ask an administrator to raise --max-meetings-per-user";
    /// The caller is signed in but not an administrator.
    AdminRequired = "ADMIN_REQUIRED", 403,
        "this needs an administrator",
        "sign in as an administrator, or use the server's admin token";
    /// The caller may not change this meeting.
    NotOrganiser = "NOT_ORGANISER", 403,
        "only the meeting's organiser (or an administrator) may do this",
        "ask the organiser";
    /// An organiser tried to loosen a meeting's policy past their own.
    PolicyNotAllowed = "POLICY_NOT_ALLOWED", 403,
        "an organiser may make a meeting's policies stricter than their own, not looser",
        "leave that policy as it is, or ask an administrator to change your policies";
    /// A user with that name exists.
    UserExists = "USER_EXISTS", 409,
        "a user with this name already exists",
        "choose another name, or reset the existing user's password";
    /// No user with that name.
    UserNotFound = "USER_NOT_FOUND", 404,
        "no user with this name exists",
        "check the name with `deskshare admin user list`";
    /// The meeting needs a passcode, or the one given is wrong.
    PasscodeInvalid = "PASSCODE_INVALID", 403,
        "this meeting needs its passcode, and none or a wrong one was given",
        "ask the organiser for the passcode and enter it exactly";
    /// Guests may not join this meeting.
    AnonymousNotAllowed = "ANONYMOUS_NOT_ALLOWED", 403,
        "this meeting does not allow anonymous participants",
        "sign in with `deskshare login` (or in the browser) and join again";
    /// The meeting is full.
    MeetingFull = "MEETING_FULL", 403,
        "the meeting has reached its maximum number of participants",
        "try again when someone leaves, or ask the organiser to raise max-participants";
    /// Desktop sharing is disabled by policy.
    SharingDisabled = "SHARING_DISABLED", 403,
        "policy does not allow sharing the desktop in this meeting",
        "share a single program (--window) if that is allowed, or ask an administrator about enable-desktop-sharing";
    /// Program sharing is disabled by policy.
    ProgramSharingDisabled = "PROGRAM_SHARING_DISABLED", 403,
        "policy does not allow sharing a program in this meeting",
        "ask an administrator about enable-program-sharing";
    /// An organiser or presenter did not let this participant in.
    LobbyDenied = "LOBBY_DENIED", 403,
        "an organiser or presenter did not let you into the meeting",
        "ask the organiser to admit you, then join again";
    /// The organiser removed this participant.
    RemovedByOrganiser = "REMOVED_BY_ORGANISER", 403,
        "the organiser removed you from the meeting",
        "ask the organiser before joining again";
    /// No such participant in the live meeting.
    ParticipantNotFound = "PARTICIPANT_NOT_FOUND", 404,
        "no participant with that number is in the meeting (or its lobby)",
        "list them with `deskshare meeting roster ID`";
    /// The meeting was ended or deleted while connected.
    MeetingEnded = "MEETING_ENDED", 410,
        "the organiser ended the meeting",
        "nothing to do; ask the organiser if it should go on";
    /// A request needed the admin token (or a session) and had none or a wrong one.
    Unauthorized = "UNAUTHORIZED", 401,
        "the request carried no valid token",
        "sign in with `deskshare login SERVER`, or pass --token / DESKSHARE_TOKEN (the admin token is DATA/admin-token on the server)";
    /// The server's certificate is not trusted by this client.
    TlsUntrusted = "TLS_UNTRUSTED", 0,
        "the server's certificate is not signed by an authority this client trusts",
        "pass --ca FILE with the server's certificate (DATA/tls/cert.pem), or check the fingerprint the server printed and use --insecure";
    /// The server's certificate does not name the host that was dialled.
    TlsNameMismatch = "TLS_NAME_MISMATCH", 0,
        "the server's certificate is not valid for the host name in the URL",
        "use the host name the server printed at start, or restart the server with --public-url naming this host";
    /// The server's certificate is outside its validity dates.
    TlsCertificateExpired = "TLS_CERTIFICATE_EXPIRED", 0,
        "the server's certificate has expired (or is not valid yet: then this computer's clock may be wrong)",
        "the administrator renews the certificate (a self-made one is renewed by restarting `deskshare serve`); if the dates look right, check this computer's clock";
    /// The TLS handshake failed for a reason other than the certificate.
    TlsHandshakeFailed = "TLS_HANDSHAKE_FAILED", 0,
        "the TLS handshake with the server failed (the port may not speak TLS, or something in between interferes)",
        "check that the URL's port is deskshare's TLS port (not plain HTTP) and that no device on the path rewrites the connection";
    /// The server's host name does not resolve.
    NameNotResolved = "NAME_NOT_RESOLVED", 0,
        "the server's host name could not be resolved to an address",
        "check the spelling of the host in the URL; if it is right, this computer's DNS (or VPN) does not know it: ask the network administrator";
    /// The server's address answered that nothing listens on the port.
    ConnectionRefused = "CONNECTION_REFUSED", 0,
        "the server's address refused the connection: nothing listens on that port",
        "check the port in the URL and that `deskshare serve` is running there";
    /// Connecting to the server (or the proxy) timed out.
    ConnectTimeout = "CONNECT_TIMEOUT", 0,
        "connecting timed out: packets to the server's port are dropped on the way (a firewall) or the host is down",
        "ask the network administrator to allow the server's one TLS port from here, or use the HTTPS proxy (HTTPS_PROXY) if only it may go out";
    /// No TCP connection could be made to the server.
    ServerUnreachable = "SERVER_UNREACHABLE", 0,
        "the server could not be reached (no route to it)",
        "check the URL and port, that `deskshare serve` is running, and that a firewall lets the one TLS port through";
    /// The HTTP proxy from HTTPS_PROXY / ALL_PROXY could not be reached.
    ProxyUnreachable = "PROXY_UNREACHABLE", 0,
        "the HTTPS proxy named by HTTPS_PROXY (or ALL_PROXY) could not be reached",
        "check the proxy's address and port in HTTPS_PROXY; if the server is reachable directly, add its host to NO_PROXY";
    /// The HTTP proxy refused to open a tunnel to the server.
    ProxyRefused = "PROXY_REFUSED", 0,
        "the HTTPS proxy refused to connect to the server (its rules do not allow this host or port)",
        "ask the proxy's administrator to allow CONNECT to the server's host and port, or set NO_PROXY for it if it is reachable directly";
    /// The HTTP proxy wants credentials.
    ProxyAuthRequired = "PROXY_AUTH_REQUIRED", 0,
        "the HTTPS proxy asks for a user name and password",
        "put them in the proxy URL: HTTPS_PROXY=http://USER:PASSWORD@PROXY:PORT";
    /// Something between the client and the server answered plain HTTP instead of
    /// switching to WebSocket.
    WebsocketBlocked = "WEBSOCKET_BLOCKED", 426,
        "the WebSocket upgrade did not reach the server: a proxy on the way strips the Upgrade header or answers itself",
        "configure the reverse proxy to pass WebSocket (nginx: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection upgrade), or bypass it";
    /// This computer's clock and the server's differ by minutes or more.
    ClockSkew = "CLOCK_SKEW", 0,
        "this computer's clock and the server's differ by more than five minutes",
        "set the clock right on whichever machine is wrong (turn on automatic time / NTP); certificates and expiry times depend on it";
    /// An established connection went silent or was cut.
    ConnectionLost = "CONNECTION_LOST", 0,
        "the connection went silent or was cut",
        "nothing to do if it recovers: clients reconnect on their own; if it repeats, check the network path to the server";
    /// The presenter does not allow control.
    ControlDisabled = "CONTROL_DISABLED", 403,
        "remote control is not allowed here: the presenter's deskshare app does not allow it, or the meeting's policy does not",
        "ask the presenter to allow control (the app's --allow-control ask or auto), or the organiser to allow it in the meeting's settings";
    /// Control was requested while nobody presents.
    ControlUnavailable = "CONTROL_UNAVAILABLE", 409,
        "nobody is presenting, so there is nothing to control",
        "wait until the presenter shares, then ask again";
    /// The presenter declined the request.
    ControlDenied = "CONTROL_DENIED", 403,
        "the presenter declined the request for control",
        "ask the presenter; they can allow it the next time";
    /// The presenter did not answer in time.
    ControlTimeout = "CONTROL_TIMEOUT", 408,
        "the presenter did not answer the request for control in time",
        "ask the presenter to watch their terminal, then request again";
    /// Input came from someone who does not hold the floor.
    NotController = "NOT_CONTROLLER", 403,
        "input was sent without holding control",
        "request control and wait for the grant before sending input";
    /// The controller sent input faster than allowed.
    InputRateLimited = "INPUT_RATE_LIMITED", 429,
        "input arrived faster than the server forwards it; some was dropped",
        "send input at human speed (scripts: add waits)";
    /// The browser could not capture the screen.
    CaptureFailed = "CAPTURE_FAILED", 0,
        "the browser could not capture a screen, window or tab",
        "allow screen sharing for this site in the browser (and, on macOS, in System Settings > Privacy > Screen Recording), then present again";
    /// The presenting browser's encoder failed on a captured picture.
    EncodeFailed = "ENCODE_FAILED", 0,
        "the browser could not encode the shared picture",
        "present again; if it keeps happening, report a bug with the browser's console log";
    /// A chat message was empty or too long.
    ChatInvalid = "CHAT_INVALID", 400,
        "the chat message was empty or longer than 2000 characters",
        "write something, or split a long message";
    /// Chat messages came too fast.
    ChatRateLimited = "CHAT_RATE_LIMITED", 429,
        "chat messages arrived faster than 5 a second; this one was not sent",
        "wait a moment and send it again";
    /// The presenter took control back with the hotkey.
    ControlRevokedHotkey = "CONTROL_REVOKED_HOTKEY", 0,
        "the presenter took control back with the take-back hotkey",
        "request control again if the presenter agrees";
    /// The presenter's own input took control back.
    ControlRevokedLocalInput = "CONTROL_REVOKED_LOCAL_INPUT", 0,
        "the presenter moved their own mouse or keyboard, which takes control back",
        "request control again when the presenter is done";
    /// The presenter (or an organiser) took control back from the meeting page.
    ControlRevokedPresenter = "CONTROL_REVOKED_PRESENTER", 0,
        "the presenter or an organiser took control back from the meeting page",
        "request control again if the presenter agrees";
    /// The person presenting stopped the share from their meeting page.
    PresentingStopped = "PRESENTING_STOPPED", 0,
        "the person presenting stopped this share from their meeting page",
        "share again from the meeting page (Share my desktop) or with deskshare share";
    /// Someone other than the person presenting answered a control question.
    ConsentNotYours = "CONSENT_NOT_YOURS", 403,
        "only the person presenting can allow or deny control of their screen (from their own meeting page or on the shared screen)",
        "ask the person presenting to answer the request";
    /// The shared window closed.
    WindowGone = "WINDOW_GONE", 0,
        "the shared window was closed",
        "share another window (--list-windows shows them) or the whole desktop";
    /// No window matched.
    WindowNotFound = "WINDOW_NOT_FOUND", 0,
        "no top-level window has that id or matches that name",
        "run `deskshare share --list-windows` and pick an id or a name from it";
    /// The monitor does not exist.
    MonitorNotFound = "MONITOR_NOT_FOUND", 0,
        "the display has no monitor with that number",
        "run `xrandr --listmonitors` on the presenter's machine and pick a number it lists";
    /// A command-line argument or a file it names is invalid.
    ArgumentInvalid = "ARGUMENT_INVALID", 400,
        "a command-line argument, or a file it names, is invalid",
        "fix the argument the message names; `deskshare help COMMAND` shows the format";
    /// The URL given on the command line is not a deskshare URL.
    UrlInvalid = "URL_INVALID", 400,
        "the URL is not a deskshare join or presenter URL",
        "use a URL of the form https://HOST:PORT/m/ID as printed by `deskshare meeting create`";
    /// The X display could not be opened.
    DisplayUnreachable = "DISPLAY_UNREACHABLE", 0,
        "the X display could not be opened",
        "check --display or $DISPLAY, and that this user may connect to it (xhost/Xauthority)";
    /// The X server lacks an extension capture needs.
    DisplayExtensionMissing = "DISPLAY_EXTENSION_MISSING", 0,
        "the X server lacks an extension deskshare needs (MIT-SHM, DAMAGE or XFIXES)",
        "use an X server with these extensions (Xorg, Xvfb and Xvnc all have them)";
    /// The X server's pixel format is not one deskshare captures.
    DisplayFormatUnsupported = "DISPLAY_FORMAT_UNSUPPORTED", 0,
        "the display's pixel format is not 24-bit TrueColor in 32-bit pixels",
        "run the X server at depth 24 (Xvfb: -screen 0 WxHx24)";
    /// The X connection failed while sharing.
    DisplayLost = "DISPLAY_LOST", 0,
        "the connection to the X display was lost while sharing",
        "check that the X server is still running, then share again";
    /// Another program holds the take-back key combination on this display.
    HotkeyTaken = "HOTKEY_TAKEN", 0,
        "the take-back hotkey is already grabbed on this display (another deskshare share, or a desktop shortcut)",
        "pick another combination with --takeback-key (e.g. ctrl+alt+f12), or free this one";
    /// The take-back key combination names a key this display's keyboard does not have.
    HotkeyUnavailable = "HOTKEY_UNAVAILABLE", 0,
        "the take-back hotkey's key is not on this display's keyboard map",
        "pick a combination of keys this keyboard has with --takeback-key (e.g. ctrl+alt+f12)";
    /// The peer speaks another protocol version.
    ProtocolVersionMismatch = "PROTOCOL_VERSION_MISMATCH", 426,
        "client and server speak different deskshare protocol versions",
        "use the same deskshare version on client and server (reload the browser page)";
    /// The peer broke the order of the protocol, e.g. sent media before hello.
    ProtocolViolation = "PROTOCOL_VIOLATION", 400,
        "a message arrived that the protocol does not allow at this point",
        "use a matching deskshare client; report a bug if it persists";
    /// A message was larger than the protocol allows.
    MessageTooLarge = "MESSAGE_TOO_LARGE", 413,
        "a message exceeded the protocol's size limit",
        "share a smaller screen area; report a bug if the screen is within 8192x8192";
    /// A message could not be parsed.
    MessageMalformed = "MESSAGE_MALFORMED", 400,
        "a message was truncated or malformed",
        "use a matching deskshare client; report a bug if it persists";
    /// A message had a type this side does not know.
    MessageUnknownType = "MESSAGE_UNKNOWN_TYPE", 400,
        "a message had a type this version does not know",
        "use the same deskshare version on client and server";
    /// A screen or cursor was larger than allowed.
    ScreenTooLarge = "SCREEN_TOO_LARGE", 413,
        "the shared screen is larger than 8192x8192 pixels",
        "share one monitor (--monitor) or lower the resolution";
    /// A frame's pixel data could not be decoded.
    TileCorrupt = "TILE_CORRUPT", 400,
        "a frame's compressed data or one of its rectangles did not decode to what the frame declares",
        "use a matching deskshare client; report a bug if it persists";
    /// The viewer saw no complete frame before its timeout.
    NoFrameTimeout = "NO_FRAME_TIMEOUT", 0,
        "no complete screen arrived before the timeout",
        "check that someone is presenting in this meeting (`deskshare share`), or raise --timeout";
    /// A load test ended short of its goal.
    LoadtestShortfall = "LOADTEST_SHORTFALL", 0,
        "in a load test, some viewers did not get in, ended early, missed the last frame or decoded a picture other than the display's",
        "read the report: errors are listed by code; for large runs raise the server's --max-connections-per-address and the max-participants policy";
    /// Writing a file the user asked for failed.
    FileWriteFailed = "FILE_WRITE_FAILED", 0,
        "a file could not be written",
        "check the path and its directory's permissions and free space";
    /// The server's data directory could not be used.
    DataDirUnusable = "DATA_DIR_UNUSABLE", 0,
        "the data directory could not be created or read",
        "check --data and its permissions; it holds the database, certificate and admin token";
    /// The server could not listen on the requested address.
    ListenFailed = "LISTEN_FAILED", 0,
        "the server could not listen on the address",
        "choose another --listen address or stop the program using this port";
    /// Another server uses the data directory.
    DataDirInUse = "DATA_DIR_IN_USE", 0,
        "another deskshare server is already running on this data directory",
        "stop the other server (the message names its process), or give this one another --data directory";
    /// The database file is damaged.
    DatabaseCorrupt = "DATABASE_CORRUPT", 0,
        "the database file failed SQLite's integrity check",
        "restore DATA/deskshare.db from a backup; keep the damaged file for a bug report";
    /// The database vanished under the running server.
    StorageLost = "STORAGE_LOST", 503,
        "the server's database file was deleted or replaced while the server ran, so it accepts no more changes",
        "restore the data directory (or its backup) and restart the server; nothing was written after the loss";
    /// The server's certificate does not cover its public URL.
    CertificateMismatch = "CERTIFICATE_MISMATCH", 0,
        "the server certificate does not cover the host in --public-url",
        "use a certificate whose names include that host, or delete DATA/tls to have a new one made";
    /// The server hit an internal error.
    ServerError = "SERVER_ERROR", 500,
        "the server hit an internal error",
        "see the server log for details; retry";
    /// The server is shutting down.
    ServerShuttingDown = "SERVER_SHUTTING_DOWN", 503,
        "the server is shutting down",
        "wait for it to come back; clients reconnect on their own";
}

impl ErrorCode {
    /// Failures of the path, or of a busy or restarting server, after which a client
    /// (viewer, agent, browser: `web/app/session.js` keeps the same list) tries again by
    /// itself. Everything else needs a person to change something first.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorCode::ConnectionLost
                | ErrorCode::ConnectionStalled
                | ErrorCode::ServerUnreachable
                // A server not started yet or restarting, a network not up yet (DNS
                // and routes come back), a proxy restarting: waited for, not final.
                | ErrorCode::ConnectionRefused
                | ErrorCode::ConnectTimeout
                | ErrorCode::NameNotResolved
                | ErrorCode::ProxyUnreachable
                | ErrorCode::ServerShuttingDown
                | ErrorCode::ServerError
                | ErrorCode::ServerBusy
                // A cap full of other connections frees as they close.
                | ErrorCode::ConnectionLimit
        )
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error as sent on the wire and shown to users: a code plus a detail message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[error("{code}: {message}")]
pub struct WireError {
    pub code: ErrorCode,
    pub message: String,
}

impl WireError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        WireError { code, message: message.into() }
    }

    /// Error with the code's own cause as message.
    pub fn bare(code: ErrorCode) -> Self {
        WireError { code, message: code.cause().to_string() }
    }

    /// The multi-line text the CLI prints: code, detail, remedy.
    pub fn explain(&self) -> String {
        format!("error {}: {}\n  remedy: {}", self.code, self.message, self.code.remedy())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {code}");
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert!(!code.cause().is_empty() && !code.remedy().is_empty());
        }
    }

    #[test]
    fn the_browser_retries_exactly_the_transient_codes() {
        let js = include_str!("../../../web/app/session.js");
        let start = js.find("const RETRYABLE = new Set([").expect("RETRYABLE in session.js");
        let list = &js[start..start + js[start..].find("]);").expect("end of RETRYABLE")];
        for &code in ErrorCode::ALL {
            let listed = list.contains(&format!("\"{}\"", code.as_str()));
            assert_eq!(listed, code.is_transient(), "{code}: session.js and is_transient disagree");
        }
    }

    #[test]
    fn every_code_is_documented() {
        let doc = include_str!("../../../docs/ERRORS.md");
        for &code in ErrorCode::ALL {
            assert!(doc.contains(&format!("`{}`", code.as_str())), "docs/ERRORS.md lacks {code}");
        }
    }
}
