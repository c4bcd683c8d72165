//! JSON control messages in both directions: what clients send the server, and what the
//! server sends clients (the CLI and agent parse those).
#![no_main]

use deskshare_proto::{ClientMessage, ServerMessage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(msg) = ClientMessage::from_json(text) {
        // What parses round-trips.
        assert!(ClientMessage::from_json(&msg.to_json()).is_ok());
    }
    let _ = ServerMessage::from_json(text);
});
