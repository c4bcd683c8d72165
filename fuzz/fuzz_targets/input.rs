//! Input events a controller sends, checked before they go near the presenter's machine.
#![no_main]

use deskshare_proto::InputEvent;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(events) = serde_json::from_slice::<Vec<InputEvent>>(data) else { return };
    for e in &events {
        let _ = e.validate();
    }
});
