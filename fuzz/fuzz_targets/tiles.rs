//! Tile decoders (SOLID, RAW, QOI) on payloads of any size, into tiles of any size
//! within the screen limits.
#![no_main]

use deskshare_codec::Framebuffer;
use deskshare_proto::{TileEncoding, TilePayload};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 5 {
        return;
    }
    let width = 1 + u32::from(u16::from_le_bytes([data[0], data[1]]) % 300);
    let height = 1 + u32::from(data[2]) % 200;
    let encoding = match data[3] % 3 {
        0 => TileEncoding::Solid,
        1 => TileEncoding::Raw,
        _ => TileEncoding::Qoi,
    };
    let col = u16::from(data[4] % 6);
    let row = u16::from(data[4] / 6 % 5);
    let tile = TilePayload { col, row, encoding, data: bytes::Bytes::copy_from_slice(&data[5..]) };
    let mut fb = Framebuffer::new(width, height);
    let _ = deskshare_codec::decode_tile(&tile, &mut fb);
    // The QOI decoder alone, into buffers of every small size.
    let mut out = vec![0u32; usize::from(data[0]) * 4];
    let _ = deskshare_codec::qoi::decode(&data[5..], &mut out);
});
