use super::*;
use proptest::prelude::*;

fn header(width: u16, height: u16) -> FrameHeader {
    FrameHeader { frame: 7, width, height, skipped_tiles: 3, server_delay_ms: 4, rtt_ms: 5, ..Default::default() }
}

fn solid(x: u16, y: u16) -> Op {
    Op::Rect { rect: PixelRect::new(x, y, 10, 10), encoding: RectEncoding::Solid, len: 3 }
}

/// A frame of `ops`, with data if they need it and, for IMAGE ops, images just large
/// enough for what they read.
fn frame(width: u16, height: u16, ops: Vec<Op>) -> FrameMessage {
    let total: u64 = ops.iter().map(|o| if let Op::Rect { len, .. } = o { u64::from(*len) } else { 0 }).sum();
    let data = if total == 0 { Bytes::new() } else { Bytes::from(vec![1u8; 4]) };
    let mut images: Vec<FrameImage> = Vec::new();
    for op in &ops {
        if let Op::Image { image, from_x, from_y, to } = *op {
            let i = usize::from(image);
            while images.len() <= i {
                images.push(FrameImage {
                    format: ImageFormat::Jpeg,
                    width: 1,
                    height: 1,
                    data: Bytes::from_static(b"jpg"),
                });
            }
            images[i].width = images[i].width.max(from_x + to.width);
            images[i].height = images[i].height.max(from_y + to.height);
        }
    }
    let chunks = ops.iter().filter(|o| matches!(o, Op::Video { .. })).count();
    let videos = (0..chunks)
        .map(|i| VideoChunk { codec: VideoCodec::Vp8, stream: 7, keyframe: i == 0, data: Bytes::from_static(b"vp8") })
        .collect();
    FrameMessage { header: header(width, height), ops, data, images, videos }
}

fn image_op(image: u8, from_x: u16, from_y: u16, to: PixelRect) -> Op {
    Op::Image { image, from_x, from_y, to }
}

fn decode_err(bytes: Vec<u8>) -> DecodeError {
    MediaMessage::decode(Bytes::from(bytes)).unwrap_err()
}

#[test]
fn frame_round_trips() {
    let copy = Op::Copy { from_x: 0, from_y: 20, to: PixelRect::new(0, 0, 100, 50) };
    let mut f = frame(100, 70, vec![solid(0, 0), copy, solid(5, 60)]);
    f.header.keyframe = true;
    f.header.restart = true;
    f.header.history_len = 100;
    let bytes = f.encode();
    assert_eq!(MediaMessage::decode(Bytes::from(bytes)).unwrap(), MediaMessage::Frame(f));
}

#[test]
fn a_keystroke_frame_is_small() {
    // One 18x19 palette rect on a 1920x1080 screen: header (13 bytes, and 5 of capture
    // time) and op (8) are 26.
    let op = Op::Rect { rect: PixelRect::new(1203, 517, 18, 19), encoding: RectEncoding::Palette, len: 100 };
    let f = FrameMessage {
        header: FrameHeader { frame: 5000, width: 1920, height: 1080, captured_us: 0xdead_beef, ..Default::default() },
        ops: vec![op],
        data: Bytes::from(vec![0; 40]),
        images: vec![],
        videos: vec![],
    };
    assert_eq!(f.encode().len(), 26 + 1 + 40);
    assert_eq!(f.encoded_len(), 26 + 1 + 40);
}

#[test]
fn every_truncation_is_rejected_not_panicking() {
    let f = frame(100, 70, vec![solid(0, 0), Op::Copy { from_x: 1, from_y: 2, to: PixelRect::new(3, 4, 5, 6) }]);
    let bytes = f.encode();
    for cut in 0..bytes.len() {
        let err = decode_err(bytes[..cut].to_vec());
        assert_eq!(err.code(), ErrorCode::MessageMalformed, "cut at {cut}: {err}");
    }
}

#[test]
fn bad_frames_get_precise_errors() {
    assert_eq!(decode_err(vec![0x7f, 0, 0]), DecodeError::UnknownKind(0x7f));
    assert_eq!(decode_err(vec![0x7f]).code(), ErrorCode::MessageUnknownType);
    let mut bytes = frame(64, 64, vec![solid(0, 0)]).encode();
    bytes.push(0);
    assert_eq!(decode_err(bytes), DecodeError::Trailing(1));
    // A rect or a copy (source or destination) outside the screen.
    assert!(matches!(
        decode_err(frame(64, 64, vec![solid(60, 0)]).encode()),
        DecodeError::OutOfScreen { kind: "rect", .. }
    ));
    let copy = |fx, fy, x, y| Op::Copy { from_x: fx, from_y: fy, to: PixelRect::new(x, y, 10, 10) };
    assert!(matches!(
        decode_err(frame(64, 64, vec![copy(55, 0, 0, 0)]).encode()),
        DecodeError::OutOfScreen { kind: "copy source", .. }
    ));
    assert!(matches!(
        decode_err(frame(64, 64, vec![copy(0, 0, 0, 55)]).encode()),
        DecodeError::OutOfScreen { kind: "copy", .. }
    ));
    let empty = Op::Rect { rect: PixelRect::new(0, 0, 0, 5), encoding: RectEncoding::Solid, len: 3 };
    assert!(matches!(decode_err(frame(64, 64, vec![empty]).encode()), DecodeError::OutOfScreen { .. }));
    // Screen too large / zero.
    assert_eq!(decode_err(frame(9000, 10, vec![]).encode()).code(), ErrorCode::ScreenTooLarge);
    assert_eq!(decode_err(frame(0, 10, vec![]).encode()).code(), ErrorCode::ScreenTooLarge);
    // Payload lengths that cannot fit their encoding are corrupt.
    for (encoding, len) in
        [(RectEncoding::Raw, 299), (RectEncoding::Solid, 4), (RectEncoding::Qoi, 401), (RectEncoding::Palette, 3)]
    {
        let op = Op::Rect { rect: PixelRect::new(0, 0, 10, 10), encoding, len };
        let err = decode_err(frame(64, 64, vec![op]).encode());
        assert!(matches!(err, DecodeError::PayloadSize { .. }), "{encoding:?} {len}: {err}");
        assert_eq!(err.code(), ErrorCode::TileCorrupt);
    }
    // Unknown op tag.
    let mut bytes = frame(64, 64, vec![solid(0, 0)]).encode();
    let at = bytes.iter().rposition(|&b| b == RectEncoding::Solid as u8).unwrap();
    let op_at = bytes.len() - 4 - 1 - 6; // data (4) + data_len (1) + solid op (6)
    assert!(at >= op_at);
    bytes[op_at] = 9;
    assert_eq!(decode_err(bytes), DecodeError::UnknownOp(9));
    // Unknown flag bits.
    let mut bytes = frame(64, 64, vec![solid(0, 0)]).encode();
    bytes[1] = 0x80;
    assert_eq!(decode_err(bytes), DecodeError::UnknownFlags(0x80));
    // An op count far beyond what the message holds.
    let mut bytes = vec![KIND_FRAME, 0];
    for v in [1u64, 64, 64, 0, 0, 0, 0, MAX_OPS] {
        put_varint(&mut bytes, v);
    }
    assert!(matches!(decode_err(bytes), DecodeError::Truncated { .. }));
    // A varint past its field's range, and a non-minimal one.
    let mut bytes = vec![KIND_FRAME, 0, 1];
    put_varint(&mut bytes, 70_000);
    assert!(matches!(decode_err(bytes), DecodeError::OutOfRange { .. }));
    assert!(matches!(decode_err(vec![KIND_FRAME, 0, 0x81, 0x00]), DecodeError::BadVarint { .. }));
    assert!(matches!(
        decode_err(vec![KIND_FRAME, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
        DecodeError::BadVarint { .. }
    ));
    // Data that cannot be what the ops declare: pixels without data, data without pixels.
    let mut f = frame(64, 64, vec![solid(0, 0)]);
    f.data = Bytes::new();
    assert!(matches!(decode_err(f.encode()), DecodeError::DataMismatch { .. }));
    let mut f = frame(64, 64, vec![]);
    f.data = Bytes::from_static(&[1]);
    assert_eq!(decode_err(f.encode()).code(), ErrorCode::TileCorrupt);
    // Declared pixel data beyond four bytes a pixel of the screen: a deflate bomb.
    let big = Op::Rect { rect: PixelRect::new(0, 0, 64, 64), encoding: RectEncoding::Raw, len: 64 * 64 * 3 };
    assert!(matches!(decode_err(frame(64, 64, vec![big; 5]).encode()), DecodeError::InflatedTooLarge { .. }));
    assert_eq!(decode_err(vec![KIND_FRAME; MAX_MESSAGE_BYTES + 1]).code(), ErrorCode::MessageTooLarge);
    assert_eq!(decode_err(vec![]), DecodeError::Empty);
}

#[test]
fn frames_with_images_round_trip() {
    let ops = vec![
        solid(0, 0),
        image_op(0, 0, 0, PixelRect::new(10, 10, 64, 32)),
        image_op(1, 16, 0, PixelRect::new(0, 40, 20, 20)),
        image_op(0, 0, 32, PixelRect::new(80, 0, 64, 16)),
    ];
    let f = frame(200, 100, ops);
    assert_eq!(f.images.len(), 2);
    let bytes = f.encode();
    assert_eq!(bytes[1] & FLAG_IMAGES, FLAG_IMAGES);
    assert_eq!(bytes.len(), f.encoded_len());
    let MediaMessage::Frame(back) = MediaMessage::decode(Bytes::from(bytes)).unwrap() else { panic!("a frame") };
    assert!(back.header.images);
    assert_eq!(back.ops, f.ops);
    assert_eq!(back.images, f.images);
}

#[test]
fn bad_images_get_precise_errors() {
    let op = image_op(0, 0, 0, PixelRect::new(0, 0, 16, 16));
    let good = frame(64, 64, vec![op]);
    // An op naming an image the frame does not have, or reading outside it.
    let mut f = good.clone();
    f.ops = vec![image_op(1, 0, 0, PixelRect::new(0, 0, 16, 16))];
    assert!(matches!(decode_err(f.encode()), DecodeError::NoSuchImage { op: 0, image: 1, count: 1 }));
    let mut f = good.clone();
    f.ops = vec![image_op(0, 4, 0, PixelRect::new(0, 0, 16, 16))];
    let err = decode_err(f.encode());
    assert!(matches!(err, DecodeError::OutOfImage { .. }), "{err}");
    assert_eq!(err.code(), ErrorCode::TileCorrupt);
    // An IMAGE op outside the screen.
    let mut f = good.clone();
    f.ops = vec![image_op(0, 0, 0, PixelRect::new(60, 0, 16, 16))];
    assert!(matches!(decode_err(f.encode()), DecodeError::OutOfScreen { kind: "image op", .. }));
    // An image nothing uses.
    let mut f = good.clone();
    f.images.push(f.images[0].clone());
    assert_eq!(decode_err(f.encode()), DecodeError::UnusedImage(1));
    // Image ops without images: the flag is missing, so the op names nothing.
    let mut f = good.clone();
    f.images.clear();
    assert!(matches!(decode_err(f.encode()), DecodeError::NoSuchImage { count: 0, .. }));
    // The flag with an empty image list.
    let mut bytes = frame(64, 64, vec![]).encode();
    bytes[1] |= FLAG_IMAGES;
    bytes.push(0);
    assert_eq!(decode_err(bytes), DecodeError::NoImages);
    // Unknown format, empty or huge images, more pixels than the screen can justify.
    let mut bytes = good.encode();
    let at = bytes.len() - 3 - 1 - 1 - 1 - 1; // data (3), len, height, width, format
    assert_eq!(bytes[at], ImageFormat::Jpeg as u8);
    bytes[at] = 7;
    assert_eq!(decode_err(bytes), DecodeError::UnknownImageFormat(7));
    let mut f = good.clone();
    f.images[0].height = 0;
    assert!(matches!(decode_err(f.encode()), DecodeError::ImageSize { index: 0, .. }));
    let mut f = frame(64, 64, vec![image_op(0, 0, 0, PixelRect::new(0, 0, 64, 64))]);
    f.images[0].width = 16384;
    f.images[0].height = 100;
    let err = decode_err(f.encode());
    assert!(matches!(err, DecodeError::ImagesTooLarge { .. }), "{err}");
    // Every truncation of a frame with images is malformed, never a panic.
    let bytes = good.encode();
    for cut in 0..bytes.len() {
        assert_eq!(decode_err(bytes[..cut].to_vec()).code(), ErrorCode::MessageMalformed, "cut at {cut}");
    }
}

#[test]
fn frames_with_video_round_trip_and_bad_ones_are_refused() {
    let video = |chunk| Op::Video { chunk, to: PixelRect::new(10, 20, 64, 36) };
    let f = frame(200, 100, vec![solid(0, 0), video(0), video(1)]);
    let bytes = f.encode();
    assert_eq!(bytes[1] & FLAG_VIDEO, FLAG_VIDEO);
    assert_eq!(bytes.len(), f.encoded_len());
    assert_eq!(
        MediaMessage::decode(Bytes::from(bytes)).unwrap(),
        MediaMessage::Frame(FrameMessage { header: FrameHeader { video: true, ..f.header }, ..f.clone() })
    );
    // A chunk no op decodes, one decoded twice, an op naming a missing chunk.
    let mut g = f.clone();
    g.ops = vec![solid(0, 0), video(0)];
    assert_eq!(decode_err(g.encode()), DecodeError::ChunkUse(1));
    g.ops = vec![solid(0, 0), video(0), video(0)];
    assert_eq!(decode_err(g.encode()), DecodeError::ChunkUse(0));
    g.ops = vec![solid(0, 0), video(0), video(1), video(2)];
    assert!(matches!(decode_err(g.encode()), DecodeError::NoSuchChunk { chunk: 2, .. }));
    // Odd or tiny regions.
    let mut g = frame(200, 100, vec![Op::Video { chunk: 0, to: PixelRect::new(0, 0, 33, 20) }]);
    assert!(matches!(decode_err(g.encode()), DecodeError::VideoSize { .. }));
    g.ops = vec![Op::Video { chunk: 0, to: PixelRect::new(190, 0, 20, 20) }];
    assert!(matches!(decode_err(g.encode()), DecodeError::OutOfScreen { kind: "video op", .. }));
    // Unknown codec, a keyframe flag other than 0 or 1, the flag without chunks.
    let bytes = frame(200, 100, vec![video(0)]).encode();
    let at = bytes.len() - 3 - 1 - 1 - 1 - 1; // data, len, keyframe, stream, codec
    let mut bad = bytes.clone();
    bad[at] = 9;
    assert_eq!(decode_err(bad), DecodeError::UnknownVideoCodec(9));
    let mut bad = bytes.clone();
    bad[at + 2] = 2;
    assert!(matches!(decode_err(bad), DecodeError::OutOfRange { .. }));
    let mut bad = frame(64, 64, vec![]).encode();
    bad[1] |= FLAG_VIDEO;
    bad.push(0);
    assert_eq!(decode_err(bad), DecodeError::NoVideo);
    for cut in 0..bytes.len() {
        assert_eq!(decode_err(bytes[..cut].to_vec()).code(), ErrorCode::MessageMalformed, "cut at {cut}");
    }
}

#[test]
fn varints_round_trip_at_their_edges() {
    for v in [0u64, 1, 127, 128, 16383, 16384, u64::from(u32::MAX), u64::MAX] {
        let mut out = Vec::new();
        put_varint(&mut out, v);
        assert_eq!(out.len(), varint_len(v), "{v}");
        let mut r = Reader::new(&out);
        assert_eq!(r.varint(u64::MAX).unwrap(), v);
        r.finish().unwrap();
    }
}

#[test]
fn palette_lengths_follow_the_colour_count() {
    assert_eq!(palette_bits(2), 1);
    assert_eq!(palette_bits(3), 2);
    assert_eq!(palette_bits(16), 4);
    assert_eq!(palette_bits(17), 8);
    // 2 colours, 9x2: 1 + 6 + 2 rows of 2 bytes.
    assert_eq!(palette_len(2, 9, 2), 11);
    assert_eq!(palette_len(256, 3, 1), 1 + 768 + 3);
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

fn any_op(width: u16, height: u16) -> impl Strategy<Value = Op> {
    let rect = (0..width, 0..height, 1..=width, 1..=height)
        .prop_map(move |(x, y, w, h)| PixelRect::new(x, y, w.min(width - x), h.min(height - y)));
    prop_oneof![
        rect.clone().prop_map(|rect| Op::Rect { rect, encoding: RectEncoding::Solid, len: 3 }),
        rect.clone().prop_map(|rect| Op::Rect { rect, encoding: RectEncoding::Qoi, len: 1 }),
        (rect.clone(), any::<(u16, u16)>()).prop_map(move |(to, (a, b))| Op::Copy {
            from_x: a % (width - to.width + 1),
            from_y: b % (height - to.height + 1),
            to,
        }),
        (rect, 0u8..3, 0u16..64, 0u16..64).prop_map(|(to, image, from_x, from_y)| Op::Image {
            image,
            from_x,
            from_y,
            to
        }),
    ]
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = MediaMessage::decode(Bytes::from(bytes));
    }

    #[test]
    fn arbitrary_frames_round_trip(
        (width, height, ops) in (1u16..700, 1u16..500).prop_flat_map(|(w, h)| (Just(w), Just(h), proptest::collection::vec(any_op(w, h), 0..20))),
        frame_no in any::<u64>(), keyframe in any::<bool>(), restart in any::<bool>(),
    ) {
        // Image indices name images in order of first use, so none is left unused.
        let mut seen = Vec::new();
        let ops: Vec<Op> = ops.into_iter().map(|op| match op {
            Op::Image { image, from_x, from_y, to } => {
                let i = seen.iter().position(|&s| s == image).unwrap_or_else(|| { seen.push(image); seen.len() - 1 });
                Op::Image { image: i as u8, from_x, from_y, to }
            }
            other => other,
        }).collect();
        // Each VIDEO op decodes its own chunk, in order.
        let mut chunk = 0u8;
        let ops: Vec<Op> = ops.into_iter().map(|op| match op {
            Op::Video { to, .. } => { chunk += 1; Op::Video { chunk: chunk - 1, to } }
            other => other,
        }).collect();
        let mut f = frame(width, height, ops);
        f.header.images = !f.images.is_empty();
        f.header.video = !f.videos.is_empty();
        f.header.frame = frame_no;
        f.header.keyframe = keyframe;
        f.header.restart = restart;
        prop_assert_eq!(f.encode().len(), f.encoded_len());
        let decoded = MediaMessage::decode(Bytes::from(f.encode())).unwrap();
        prop_assert_eq!(decoded, MediaMessage::Frame(f));
    }
}
