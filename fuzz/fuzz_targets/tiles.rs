//! Rectangle decoders (SOLID, RAW, QOI, PALETTE) on payloads of any size, into
//! rectangles of any size, and the deflate stream on data of any kind.
#![no_main]

use deskshare_proto::RectEncoding;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 5 {
        return;
    }
    let width = 1 + u16::from_le_bytes([data[0], data[1]]) % 300;
    let height = 1 + u16::from(data[2]) % 200;
    let encoding = RectEncoding::from_u8(data[3] % 4).expect("0..4 are encodings");
    let payload = &data[5..];
    let mut out = Vec::new();
    if deskshare_codec::decode_rect(encoding, payload, width, height, &mut out).is_ok() {
        assert_eq!(out.len(), usize::from(width) * usize::from(height));
    }
    // The inflater, bounded by a declared length of up to 64 KiB.
    let expected = usize::from(data[4]) * 256;
    if let Ok(bytes) = deskshare_codec::stream::Inflater::default().inflate(payload, expected) {
        assert_eq!(bytes.len(), expected);
    }
});
