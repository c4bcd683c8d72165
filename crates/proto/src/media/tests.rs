use super::*;
use proptest::prelude::*;

fn frame(width: u16, height: u16, tiles: Vec<TilePayload>, keyframe: bool) -> FrameMessage {
    FrameMessage {
        header: FrameHeader { keyframe, frame: 7, width, height, skipped_tiles: 3, server_delay_ms: 4, rtt_ms: 5 },
        tiles,
    }
}

fn solid(col: u16, row: u16) -> TilePayload {
    TilePayload { col, row, encoding: TileEncoding::Solid, data: Bytes::from_static(&[1, 2, 3]) }
}

fn decode_err(bytes: Vec<u8>) -> DecodeError {
    MediaMessage::decode(Bytes::from(bytes)).unwrap_err()
}

#[test]
fn frame_round_trips() {
    let f = frame(100, 70, vec![solid(0, 0), solid(1, 1)], false);
    let bytes = f.encode();
    assert_eq!(bytes.len(), f.encoded_len());
    assert_eq!(MediaMessage::decode(Bytes::from(bytes)).unwrap(), MediaMessage::Frame(f));
}

#[test]
fn every_truncation_is_rejected_not_panicking() {
    let f = frame(100, 70, vec![solid(0, 0), solid(1, 0)], false);
    let bytes = f.encode();
    for cut in 0..bytes.len() {
        let err = decode_err(bytes[..cut].to_vec());
        assert_eq!(err.code(), ErrorCode::MessageMalformed, "cut at {cut}: {err}");
    }
}

#[test]
fn bad_frames_get_precise_errors() {
    // Unknown kind.
    assert_eq!(decode_err(vec![0x7f, 0, 0]), DecodeError::UnknownKind(0x7f));
    assert_eq!(decode_err(vec![0x7f]).code(), ErrorCode::MessageUnknownType);
    // Trailing garbage.
    let mut bytes = frame(64, 64, vec![solid(0, 0)], true).encode();
    bytes.push(0);
    assert_eq!(decode_err(bytes), DecodeError::Trailing(1));
    // Tile outside the grid.
    let bytes = frame(64, 64, vec![solid(1, 0)], false).encode();
    assert!(matches!(decode_err(bytes), DecodeError::TileOutOfGrid { .. }));
    // Duplicate tile.
    let bytes = frame(128, 64, vec![solid(0, 0), solid(0, 0)], false).encode();
    assert!(matches!(decode_err(bytes), DecodeError::DuplicateTile { .. }));
    // Keyframe missing tiles.
    let bytes = frame(128, 64, vec![solid(0, 0)], true).encode();
    assert!(matches!(decode_err(bytes), DecodeError::IncompleteKeyframe { .. }));
    // Screen too large / zero.
    assert_eq!(decode_err(frame(9000, 10, vec![], false).encode()).code(), ErrorCode::ScreenTooLarge);
    assert_eq!(decode_err(frame(0, 10, vec![], false).encode()).code(), ErrorCode::ScreenTooLarge);
    // Raw payload of the wrong size is corrupt.
    let raw = TilePayload { col: 0, row: 0, encoding: TileEncoding::Raw, data: Bytes::from(vec![0; 10]) };
    assert_eq!(decode_err(frame(64, 64, vec![raw], false).encode()).code(), ErrorCode::TileCorrupt);
    // Unknown encoding.
    let mut bytes = frame(64, 64, vec![solid(0, 0)], false).encode();
    bytes[FRAME_HEADER_LEN + 4] = 9;
    assert_eq!(decode_err(bytes), DecodeError::UnknownEncoding(9));
    // Unknown flag bits.
    let mut bytes = frame(64, 64, vec![solid(0, 0)], false).encode();
    bytes[1] = 0x80;
    assert_eq!(decode_err(bytes), DecodeError::UnknownFlags(0x80));
    // Wrong tile size.
    let mut bytes = frame(64, 64, vec![solid(0, 0)], false).encode();
    bytes[2] = 32;
    assert_eq!(decode_err(bytes), DecodeError::TileSize(32));
    // Tile count larger than the grid, without the tiles present.
    let mut bytes = frame(64, 64, vec![], false).encode();
    bytes[28..32].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(decode_err(bytes), DecodeError::TooManyTiles { .. }));
    // Huge declared tile length.
    let mut bytes = frame(64, 64, vec![solid(0, 0)], false).encode();
    bytes[FRAME_HEADER_LEN + 5..FRAME_HEADER_LEN + 9].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(decode_err(bytes).code(), ErrorCode::TileCorrupt);
    // Oversized message.
    assert_eq!(decode_err(vec![KIND_FRAME; MAX_MESSAGE_BYTES + 1]).code(), ErrorCode::MessageTooLarge);
    // Empty.
    assert_eq!(decode_err(vec![]), DecodeError::Empty);
}

#[test]
fn cursor_messages_round_trip_and_reject_bad_sizes() {
    let shape = CursorShape { serial: 9, width: 2, height: 1, hot_x: 1, hot_y: 0, rgba: Bytes::from(vec![1; 8]) };
    let msg = MediaMessage::CursorShape(shape.clone());
    assert_eq!(MediaMessage::decode(Bytes::from(msg.encode())).unwrap(), msg);
    let mut bad = shape.clone();
    bad.hot_x = 2;
    assert_eq!(decode_err(bad.encode()).code(), ErrorCode::ScreenTooLarge);
    let mut short = shape.encode();
    short.pop();
    assert!(matches!(decode_err(short), DecodeError::Truncated { .. }));

    let pos = MediaMessage::CursorPosition(CursorPosition { x: -5, y: 1080, visible: true });
    assert_eq!(MediaMessage::decode(Bytes::from(pos.encode())).unwrap(), pos);
    let mut long = pos.encode();
    long.push(1);
    assert_eq!(decode_err(long), DecodeError::Trailing(1));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = MediaMessage::decode(Bytes::from(bytes));
    }

    #[test]
    fn arbitrary_frames_round_trip(
        width in 1u16..700, height in 1u16..500,
        picks in proptest::collection::vec((any::<u16>(), any::<u16>(), any::<u8>()), 0..20),
        frame_no in any::<u64>(),
    ) {
        let (cols, rows) = grid_dims(width.into(), height.into());
        let mut seen = std::collections::HashSet::new();
        let tiles: Vec<TilePayload> = picks.into_iter().filter_map(|(c, r, v)| {
            let (col, row) = (c % cols as u16, r % rows as u16);
            seen.insert((col, row)).then(|| TilePayload {
                col, row, encoding: TileEncoding::Solid, data: Bytes::from(vec![v, v, v]),
            })
        }).collect();
        let mut f = frame(width, height, tiles, false);
        f.header.frame = frame_no;
        let decoded = MediaMessage::decode(Bytes::from(f.encode())).unwrap();
        prop_assert_eq!(decoded, MediaMessage::Frame(f));
    }
}
