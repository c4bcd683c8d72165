//! Whatever the screen does, encoder → decoder ends exact: random sequences of changes,
//! scrolls of random regions by random offsets and moved rectangles.

use deskshare_codec::synthetic::{Change, apply_change, paint};
use deskshare_codec::{Decoder, Encoder, Framebuffer, decode_rect, encode_rect, palette, qoi};
use deskshare_proto::{MediaMessage, PixelRect, RectEncoding};
use proptest::prelude::*;

pub fn any_change() -> impl Strategy<Value = Change> {
    let rect = (any::<u16>(), any::<u16>(), 1u16..300, 1u16..200);
    prop_oneof![
        3 => (rect.clone(), any::<u32>()).prop_map(|(rect, seed)| Change::Text { rect, seed }),
        1 => (rect.clone(), any::<u32>()).prop_map(|(rect, seed)| Change::Photo { rect, seed }),
        3 => (rect.clone(), -60i16..60, any::<u32>()).prop_map(|(rect, dy, seed)| Change::Scroll { rect, dy, seed }),
        2 => (rect, -80i16..80, -80i16..80).prop_map(|(rect, dx, dy)| Change::Move { rect, dx, dy }),
    ]
}

/// Runs `steps` (each a group of changes, then one frame) through an encoder and a
/// decoder that sees every frame through the wire format; returns how many copies the
/// encoder found.
fn run(width: u32, height: u32, steps: &[Vec<Change>], hints: bool) -> usize {
    let mut screen = Framebuffer::new(width, height);
    paint(&mut screen, PixelRect::new(0, 0, width as u16, height as u16), 7, 6);
    let mut enc = Encoder::new(6);
    // Every frame is checked exact, so nothing may go lossy (tests/lossy.rs covers that).
    enc.set_lossy_quality(None);
    let mut dec = Decoder::new();
    let mut copies = 0;
    for step in std::iter::once(&Vec::new()).chain(steps) {
        let mut offsets = Vec::new();
        for c in step {
            apply_change(&mut screen, c);
            if let (true, Change::Move { dx, dy, .. }) = (hints, c) {
                offsets.push((i32::from(*dx), i32::from(*dy)));
            }
        }
        if let Some(frame) = enc.encode(screen.clone(), &offsets, std::time::Instant::now()) {
            copies += enc.last.copies;
            let MediaMessage::Frame(wire) = MediaMessage::decode(frame.encode().into()).unwrap() else { panic!() };
            dec.apply(&wire).unwrap();
        }
        assert_eq!(dec.screen(), Some(&screen), "decoder differs from the screen");
    }
    copies
}

#[test]
fn scrolling_text_is_sent_as_copies() {
    let steps: Vec<Vec<Change>> =
        (0..10).map(|i| vec![Change::Scroll { rect: (0, 0, 400, 300), dy: -19, seed: i }]).collect();
    assert!(run(400, 300, &steps, false) >= 10);
}

#[test]
fn moved_windows_are_copies_with_a_hint() {
    let steps: Vec<Vec<Change>> =
        (0..5).map(|_| vec![Change::Move { rect: (40, 40, 150, 100), dx: 17, dy: 9 }]).collect();
    assert!(run(400, 300, &steps, true) >= 5);
}

#[test]
fn corrupt_payloads_are_refused() {
    let mut out = Vec::new();
    assert!(decode_rect(RectEncoding::Palette, &[1, 0, 0, 0, 9, 9, 9, 0xff], 8, 1, &mut out).is_ok());
    // 3 colours need 2-bit indices: index 3 is outside the palette.
    let bad = [2, 0, 0, 0, 1, 1, 1, 2, 2, 2, 0b1100_0000];
    assert!(matches!(
        decode_rect(RectEncoding::Palette, &bad, 4, 1, &mut out),
        Err(deskshare_codec::RectError::Palette(palette::PaletteError::Index { index: 3, .. }))
    ));
    assert!(decode_rect(RectEncoding::Palette, &[1, 0, 0, 0, 9, 9, 9], 8, 1, &mut out).is_err());
    assert!(decode_rect(RectEncoding::Palette, &[], 8, 1, &mut out).is_err());
    assert!(decode_rect(RectEncoding::Solid, &[1, 2], 8, 1, &mut out).is_err());
    assert!(decode_rect(RectEncoding::Raw, &[1, 2, 3], 2, 1, &mut out).is_err());
    assert!(decode_rect(RectEncoding::Qoi, &[0xfe, 1], 2, 1, &mut out).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_sequence_of_changes_ends_exact(
        width in 40u32..500, height in 30u32..400,
        steps in proptest::collection::vec(proptest::collection::vec(any_change(), 1..4), 1..12),
        hints in any::<bool>(),
    ) {
        run(width, height, &steps, hints);
    }

    #[test]
    fn any_rectangle_round_trips(width in 1u16..120, height in 1u16..90, seed in any::<u32>(), colours in prop_oneof![Just(1u32), Just(2), Just(4), Just(6), Just(16), Just(40), Just(1 << 24)]) {
        let mut fb = Framebuffer::new(u32::from(width) + 3, u32::from(height) + 2);
        let r = PixelRect::new(3, 2, width, height);
        paint(&mut fb, r, seed, colours);
        let mut payload = Vec::new();
        let encoding = encode_rect(&fb, r, &mut payload);
        prop_assert!(encoding.payload_len_ok(payload.len() as u64, width, height));
        let mut px = Vec::new();
        decode_rect(encoding, &payload, width, height, &mut px).unwrap();
        let want: Vec<u32> = (0..height).flat_map(|y| fb.span(r, y).to_vec()).collect();
        prop_assert_eq!(px, want);
    }

    #[test]
    fn arbitrary_payloads_never_panic(enc in 0u8..4, data in proptest::collection::vec(any::<u8>(), 0..300), w in 1u16..40, h in 1u16..40) {
        let mut out = Vec::new();
        let _ = decode_rect(RectEncoding::from_u8(enc).unwrap(), &data, w, h, &mut out);
        let mut px = vec![0u32; usize::from(w)];
        let _ = qoi::decode(&data, &mut px);
    }
}
