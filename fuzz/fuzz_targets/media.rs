//! Binary media messages from the network (a presenter's frames, cursor shape and
//! position), and what the server does with a frame that decodes: apply it to the screen
//! cache (inflate, decode every rectangle, copy), then serve a late viewer from it.
//! Nothing may panic; everything must be refused with a code or accepted.
#![no_main]

use std::time::Instant;

use deskshare_proto::MediaMessage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = MediaMessage::decode(bytes::Bytes::copy_from_slice(data)) else { return };
    let mut screen = deskshare_fanout::Screen::new();
    match msg {
        MediaMessage::Frame(frame) => {
            if screen.apply(&frame, Instant::now()).is_ok() {
                let mut viewer = deskshare_fanout::ViewerPump::new(2);
                let _ = viewer.poll(&mut screen, Instant::now());
            }
            // What decodes re-encodes to a message that decodes again.
            let again = frame.encode();
            assert!(MediaMessage::decode(bytes::Bytes::from(again)).is_ok());
        }
        MediaMessage::CursorShape(shape) => screen.set_cursor_shape(&shape),
        MediaMessage::CursorPosition(pos) => screen.set_cursor_position(pos),
    }
});
