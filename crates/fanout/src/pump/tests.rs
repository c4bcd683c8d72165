use super::*;
use bytes::Bytes;
use deskshare_proto::{FrameHeader, TileEncoding, TilePayload};
use std::time::Duration;

fn tile(col: u16, row: u16, v: u8) -> TilePayload {
    TilePayload { col, row, encoding: TileEncoding::Solid, data: Bytes::from(vec![v, v, v]) }
}

/// A 128x64 screen (2 tiles) frame.
fn frame(keyframe: bool, tiles: Vec<TilePayload>) -> FrameMessage {
    FrameMessage { header: FrameHeader { keyframe, width: 128, height: 64, ..Default::default() }, tiles }
}

fn expect_frame(out: Option<PumpOutput>) -> FrameMessage {
    match out {
        Some(PumpOutput::Frame(f)) => f,
        other => panic!("expected a frame, got {other:?}"),
    }
}

#[test]
fn late_joiner_gets_keyframe_from_cache() {
    let t0 = Instant::now();
    let mut screen = Screen::new();
    screen.apply(&frame(true, vec![tile(0, 0, 1), tile(1, 0, 2)]), t0).unwrap();
    screen.apply(&frame(false, vec![tile(1, 0, 3)]), t0).unwrap();
    let mut late = ViewerPump::new(2);
    let f = expect_frame(late.poll(&screen, t0));
    assert!(f.header.keyframe);
    assert_eq!(f.header.frame, 2);
    assert_eq!(f.tiles, vec![tile(0, 0, 1), tile(1, 0, 3)]);
    assert_eq!(late.poll(&screen, t0), None, "nothing more to send");
}

#[test]
fn fast_viewer_gets_every_frame_slow_viewer_skips() {
    let t0 = Instant::now();
    let mut screen = Screen::new();
    let mut fast = ViewerPump::new(2);
    let mut slow = ViewerPump::new(2);
    screen.apply(&frame(true, vec![tile(0, 0, 0), tile(1, 0, 0)]), t0).unwrap();
    let mut fast_frames = vec![expect_frame(fast.poll(&screen, t0))];
    fast.on_ack(1, t0).unwrap();
    let mut slow_frames = vec![expect_frame(slow.poll(&screen, t0))];
    for i in 1..=10u8 {
        let now = t0 + Duration::from_millis(u64::from(i) * 100);
        screen.apply(&frame(false, vec![tile(0, 0, i)]), now).unwrap();
        // The fast viewer drains and acks at once.
        while let Some(out) = fast.poll(&screen, now) {
            let f = expect_frame(Some(out));
            fast.on_ack(f.header.frame, now + Duration::from_millis(5)).unwrap();
            fast_frames.push(f);
        }
        // The slow viewer takes what the window allows and acks only every third frame.
        while let Some(out) = slow.poll(&screen, now) {
            slow_frames.push(expect_frame(Some(out)));
        }
        if i % 3 == 0 {
            let last = slow_frames.last().unwrap().header.frame;
            slow.on_ack(last, now).unwrap();
        }
    }
    let fast_versions: Vec<u64> = fast_frames.iter().map(|f| f.header.frame).collect();
    assert_eq!(fast_versions, (1..=11).collect::<Vec<_>>(), "fast viewer sees every version");
    assert!(fast_frames.iter().all(|f| f.header.skipped_tiles == 0));
    assert_eq!(fast.rtt(), Some(Duration::from_millis(5)));
    assert!(slow_frames.len() < fast_frames.len(), "slow viewer skipped versions");
    assert!(slow.tiles_skipped() > 0);
    assert!(slow.in_flight() <= 2, "window bounds in-flight");
    // Once the slow viewer acks, it catches up to the exact final content in one frame.
    let last = slow_frames.last().unwrap().header.frame;
    slow.on_ack(last, t0 + Duration::from_secs(5)).unwrap();
    if let Some(out) = slow.poll(&screen, t0 + Duration::from_secs(5)) {
        slow_frames.push(expect_frame(Some(out)));
    }
    let final_frame = slow_frames.last().unwrap();
    assert_eq!(final_frame.header.frame, 11);
    assert!(slow_frames.iter().flat_map(|f| &f.tiles).any(|t| *t == tile(0, 0, 10)));
    assert_eq!(slow.poll(&screen, t0 + Duration::from_secs(5)), None);
}

#[test]
fn window_limits_unacked_updates() {
    let t0 = Instant::now();
    let mut screen = Screen::new();
    let mut p = ViewerPump::new(2);
    screen.apply(&frame(true, vec![tile(0, 0, 0), tile(1, 0, 0)]), t0).unwrap();
    assert!(p.poll(&screen, t0).is_some());
    screen.apply(&frame(false, vec![tile(0, 0, 1)]), t0).unwrap();
    assert!(p.poll(&screen, t0).is_some());
    screen.apply(&frame(false, vec![tile(0, 0, 2)]), t0).unwrap();
    assert_eq!(p.poll(&screen, t0), None, "window of 2 is full");
    assert_eq!(p.on_ack(9, t0), Err(PumpError::AckUnsent { acked: 9, sent: 2 }));
    p.on_ack(1, t0).unwrap();
    let f = expect_frame(p.poll(&screen, t0));
    assert_eq!((f.header.frame, f.tiles.len()), (3, 1));
}

#[test]
fn resize_sends_keyframe_and_identical_resend_sends_nothing() {
    let t0 = Instant::now();
    let mut screen = Screen::new();
    let mut p = ViewerPump::new(4);
    screen.apply(&frame(true, vec![tile(0, 0, 1), tile(1, 0, 1)]), t0).unwrap();
    p.poll(&screen, t0).unwrap();
    // A presenter that reconnects re-sends a keyframe; unchanged tiles are not re-sent.
    let out = screen.apply(&frame(true, vec![tile(0, 0, 1), tile(1, 0, 2)]), t0).unwrap();
    assert_eq!(out.changed_tiles, 1);
    let f = expect_frame(p.poll(&screen, t0));
    assert_eq!((f.header.keyframe, f.tiles.clone()), (false, vec![tile(1, 0, 2)]));
    // A delta of another size is refused and changes nothing.
    let mut small = frame(false, vec![tile(0, 0, 7)]);
    small.header.width = 64;
    assert!(screen.apply(&small, t0).is_err());
    assert_eq!(screen.version(), 2);
    // A keyframe of another size resets the cache; the viewer gets a keyframe.
    small.header.keyframe = true;
    let out = screen.apply(&small, t0).unwrap();
    assert!(out.resized);
    let f = expect_frame(p.poll(&screen, t0));
    assert!(f.header.keyframe);
    assert_eq!((f.header.width, f.tiles.clone()), (64, vec![tile(0, 0, 7)]));
}

#[test]
fn cursor_is_latest_value_only() {
    let t0 = Instant::now();
    let mut screen = Screen::new();
    let mut p = ViewerPump::new(2);
    for x in 0..5 {
        screen.set_cursor_position(CursorPosition { x, y: 0, visible: true });
    }
    assert_eq!(p.poll(&screen, t0), Some(PumpOutput::CursorPosition(CursorPosition { x: 4, y: 0, visible: true })));
    assert_eq!(p.poll(&screen, t0), None);
    screen.set_cursor_position(CursorPosition { x: 4, y: 0, visible: true });
    assert_eq!(p.poll(&screen, t0), None, "unchanged position is not re-sent");
}
