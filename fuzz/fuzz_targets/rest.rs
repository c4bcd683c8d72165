//! REST request bodies the server parses.
#![no_main]

use deskshare_proto::api::{CreateMeeting, CreateUser, LoginRequest, UpdateMeeting, UpdateUser};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<LoginRequest>(data);
    let _ = serde_json::from_slice::<CreateMeeting>(data);
    let _ = serde_json::from_slice::<UpdateMeeting>(data);
    let _ = serde_json::from_slice::<CreateUser>(data);
    let _ = serde_json::from_slice::<UpdateUser>(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let clean = deskshare_proto::text::clean_line(text, 64);
        assert!(clean.chars().count() <= 64);
    }
});
