//! Talking to a deskshare server from the command line: trust (`--ca`, `--insecure`),
//! meeting links, the REST API, WebSocket sessions with the protocol handshake, and the
//! headless viewer. The agent builds its uploader on the same session code.

pub mod api;
pub mod controller;
pub mod credentials;
pub mod dial;
pub mod doctor;
pub mod errors;
pub mod link;
pub mod loadtest;
pub mod proxy;
pub mod report;
pub mod script;
pub mod session;
pub mod tls;
pub mod viewer;
pub mod websocket;

pub use link::MeetingLink;
pub use session::Session;
pub use tls::TlsOptions;
