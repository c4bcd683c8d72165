use super::*;
use crate::UpdateKind;
use deskshare_codec::synthetic::{Change, apply_change, paint};
use deskshare_codec::{Decoder, Encoder, Framebuffer};
use deskshare_proto::{FrameMessage, MediaMessage, Op, PixelRect, VideoCodec};
use proptest::prelude::*;
use std::time::Duration;

/// A presenter: a screen it changes, and the encoder that sends it.
struct Presenter {
    screen: Framebuffer,
    encoder: Encoder,
    /// Lossy areas (IMAGE ops) and video frames (VIDEO ops) sent so far.
    lossy_sent: usize,
    video_sent: usize,
}

impl Presenter {
    fn new(width: u32, height: u32) -> Self {
        let mut screen = Framebuffer::new(width, height);
        paint(&mut screen, PixelRect::new(0, 0, width as u16, height as u16), 3, 6);
        Presenter { screen, encoder: Encoder::new(6), lossy_sent: 0, video_sent: 0 }
    }

    fn frame(&mut self, changes: &[Change]) -> Option<FrameMessage> {
        self.frame_at(changes, Instant::now())
    }

    fn frame_at(&mut self, changes: &[Change], now: Instant) -> Option<FrameMessage> {
        for c in changes {
            apply_change(&mut self.screen, c);
        }
        let f = self.encoder.encode(self.screen.clone(), &[], now)?;
        self.lossy_sent += f.ops.iter().filter(|op| matches!(op, Op::Image { .. })).count();
        self.video_sent += f.videos.len();
        Some(f)
    }

    /// Lets time pass with the screen still until every lossy tile is refined; every
    /// frame goes to `screen`. Returns the frames sent.
    fn settle(&mut self, screen: &mut Screen, mut now: Instant) -> usize {
        let mut frames = 0;
        while self.encoder.lossy_mask().count() > 0 {
            now += Duration::from_millis(50);
            if let Some(f) = self.frame_at(&[], now) {
                screen.apply(&f, now).unwrap();
                frames += 1;
            }
            assert!(frames < 100, "refinement does not end");
        }
        frames
    }
}

/// A viewer: its pump on the server and its decoder at the other end of the wire.
struct Viewer {
    pump: ViewerPump,
    decoder: Decoder,
    kinds: Vec<UpdateKind>,
}

impl Viewer {
    fn new(window: usize) -> Self {
        Viewer { pump: ViewerPump::new(window), decoder: Decoder::new(), kinds: Vec::new() }
    }

    /// Takes everything the pump allows; acks if `ack`. Returns the versions received.
    fn drain(&mut self, screen: &mut Screen, now: Instant, ack: bool) -> Vec<u64> {
        let mut got = Vec::new();
        while let Some(out) = self.pump.poll(screen, now) {
            if let PumpOutput::Frame(u) = out {
                let MediaMessage::Frame(f) = MediaMessage::decode(u.encode().into()).unwrap() else { panic!() };
                self.decoder.apply(&f).unwrap();
                self.kinds.push(u.kind);
                got.push(f.header.frame);
                if ack {
                    self.pump.on_ack(f.header.frame, now).unwrap();
                }
            }
        }
        got
    }
}

fn scroll(i: u32) -> Vec<Change> {
    vec![Change::Scroll { rect: (0, 0, 300, 200), dy: -19, seed: i }]
}

#[test]
fn late_joiner_gets_the_whole_screen_from_the_cache() {
    let t0 = Instant::now();
    let mut screen = Screen::new();
    let mut p = Presenter::new(300, 200);
    for i in 0..5 {
        if let Some(f) = p.frame(&scroll(i)) {
            screen.apply(&f, t0).unwrap();
        }
    }
    let mut late = Viewer::new(2);
    assert_eq!(late.drain(&mut screen, t0, true), vec![screen.version()]);
    assert_eq!(late.kinds, vec![UpdateKind::CatchUp]);
    assert_eq!(late.decoder.screen(), Some(&p.screen));
    // And follows the live stream from there: the next scroll comes as a replay.
    screen.apply(&p.frame(&scroll(9)).unwrap(), t0).unwrap();
    late.drain(&mut screen, t0, true);
    assert_eq!(late.kinds.last(), Some(&UpdateKind::Replay));
    assert_eq!(late.decoder.screen(), Some(&p.screen));
}

#[test]
fn fast_viewer_gets_every_frame_slow_viewer_skips() {
    let t0 = Instant::now();
    let mut screen = Screen::new();
    let mut p = Presenter::new(300, 200);
    let mut fast = Viewer::new(2);
    let mut slow = Viewer::new(2);
    screen.apply(&p.frame(&[]).unwrap(), t0).unwrap();
    let mut fast_versions = fast.drain(&mut screen, t0, true);
    let mut slow_versions = slow.drain(&mut screen, t0, false);
    for i in 1..=10u32 {
        let now = t0 + Duration::from_millis(u64::from(i) * 100);
        screen.apply(&p.frame(&scroll(i)).unwrap(), now).unwrap();
        fast_versions.extend(fast.drain(&mut screen, now, true));
        slow_versions.extend(slow.drain(&mut screen, now, false));
        if i % 3 == 0 {
            slow.pump.on_ack(*slow_versions.last().unwrap(), now).unwrap();
        }
    }
    assert_eq!(fast_versions, (1..=11).collect::<Vec<_>>(), "fast viewer sees every version");
    assert!(fast.kinds[1..].iter().all(|k| *k == UpdateKind::Replay), "{:?}", fast.kinds);
    assert!(slow_versions.len() < fast_versions.len(), "slow viewer skipped versions");
    assert!(slow.pump.in_flight() <= 2, "window bounds in-flight");
    // Once the slow viewer acks, it catches up to the exact final content.
    slow.pump.on_ack(*slow_versions.last().unwrap(), t0 + Duration::from_secs(5)).unwrap();
    slow.drain(&mut screen, t0 + Duration::from_secs(5), true);
    assert_eq!(slow.decoder.screen(), Some(&p.screen));
    assert_eq!(fast.decoder.screen(), Some(&p.screen));
    assert_eq!(fast.pump.rtt(), Some(Duration::ZERO));
}

#[test]
fn window_limits_unacked_updates() {
    let t0 = Instant::now();
    let mut screen = Screen::new();
    let mut p = Presenter::new(300, 200);
    let mut v = ViewerPump::new(2);
    screen.apply(&p.frame(&[]).unwrap(), t0).unwrap();
    assert!(v.poll(&mut screen, t0).is_some());
    screen.apply(&p.frame(&scroll(1)).unwrap(), t0).unwrap();
    assert!(v.poll(&mut screen, t0).is_some());
    screen.apply(&p.frame(&scroll(2)).unwrap(), t0).unwrap();
    assert_eq!(v.poll(&mut screen, t0), None, "window of 2 is full");
    assert_eq!(v.on_ack(9, t0), Err(PumpError::AckUnsent { acked: 9, sent: 2 }));
    v.on_ack(1, t0).unwrap();
    let Some(PumpOutput::Frame(u)) = v.poll(&mut screen, t0) else { panic!("a frame") };
    assert_eq!((u.header.frame, u.kind), (3, UpdateKind::Replay));
}

#[test]
fn presenter_reconnect_costs_only_changed_tiles_and_resize_sends_keyframe() {
    let t0 = Instant::now();
    let mut screen = Screen::new();
    let mut p = Presenter::new(300, 200);
    let mut v = Viewer::new(4);
    screen.apply(&p.frame(&[]).unwrap(), t0).unwrap();
    v.drain(&mut screen, t0, true);
    // A presenter that reconnects sends a keyframe of a screen where one tile changed.
    p.encoder.force_keyframe();
    let f = p.frame(&[Change::Text { rect: (70, 70, 20, 20), seed: 1 }]).unwrap();
    assert!(f.header.keyframe && f.header.restart);
    assert_eq!(screen.apply(&f, t0).unwrap().changed_tiles, 1);
    v.drain(&mut screen, t0, true);
    assert_eq!(v.kinds.last(), Some(&UpdateKind::CatchUp));
    assert_eq!(v.decoder.screen(), Some(&p.screen));
    // A delta of another size is refused and changes nothing.
    let mut other = Presenter::new(100, 64);
    let key = other.frame(&[]).unwrap();
    let mut delta = other.frame(&[Change::Text { rect: (0, 0, 5, 5), seed: 2 }]).unwrap();
    let err = screen.apply(&delta, t0).unwrap_err();
    assert_eq!(err.code(), deskshare_proto::ErrorCode::ProtocolViolation);
    assert_eq!(screen.version(), 2);
    // A keyframe of another size resets the cache; the viewer gets a keyframe.
    assert!(screen.apply(&key, t0).unwrap().resized);
    delta.header.frame += 0;
    screen.apply(&delta, t0).unwrap();
    let before = v.kinds.len();
    v.drain(&mut screen, t0, true);
    assert_eq!(v.decoder.screen(), Some(&other.screen));
    assert_eq!(v.kinds[before..], [UpdateKind::CatchUp]);
}

#[test]
fn corrupt_frames_are_refused_whole() {
    let t0 = Instant::now();
    let mut screen = Screen::new();
    let mut p = Presenter::new(300, 200);
    screen.apply(&p.frame(&[]).unwrap(), t0).unwrap();
    let mut f = p.frame(&[Change::Text { rect: (10, 10, 40, 40), seed: 5 }]).unwrap();
    let mut data = f.data.to_vec();
    data[0] ^= 0xff;
    f.data = data.into();
    let err = screen.apply(&f, t0).unwrap_err();
    assert_eq!(err.code(), deskshare_proto::ErrorCode::TileCorrupt);
    assert_eq!(screen.version(), 1);
}

#[test]
fn cursor_is_latest_value_only() {
    let t0 = Instant::now();
    let mut screen = Screen::new();
    let mut p = ViewerPump::new(2);
    for x in 0..5 {
        screen.set_cursor_position(CursorPosition { x, y: 0, visible: true });
    }
    assert_eq!(p.poll(&mut screen, t0), Some(PumpOutput::CursorPosition(CursorPosition { x: 4, y: 0, visible: true })));
    assert_eq!(p.poll(&mut screen, t0), None);
    screen.set_cursor_position(CursorPosition { x: 4, y: 0, visible: true });
    assert_eq!(p.poll(&mut screen, t0), None, "unchanged position is not re-sent");
}

/// A viewer's side of the video test: what it received.
#[derive(Default)]
struct Got {
    video: usize,
    images: usize,
}

fn drain_counting(v: &mut Viewer, screen: &mut Screen, now: Instant, got: &mut Got) {
    while let Some(out) = v.pump.poll(screen, now) {
        if let PumpOutput::Frame(u) = out {
            let MediaMessage::Frame(f) = MediaMessage::decode(u.encode().into()).unwrap() else { panic!() };
            v.decoder.apply(&f).unwrap();
            got.video += f.videos.len();
            got.images += f.images.len();
            v.pump.on_ack(f.header.frame, now).unwrap();
        }
    }
}

/// What a viewer of the property test decodes: nothing, another codec than the
/// presenter's, or the presenter's.
fn codecs(which: u8) -> &'static [VideoCodec] {
    match which {
        0 => &[],
        1 => &[VideoCodec::Vp8],
        _ => &[VideoCodec::Vp9, VideoCodec::Vp8],
    }
}

#[test]
fn video_goes_to_viewers_that_decode_it_others_get_jpeg_and_all_end_exact() {
    let t0 = Instant::now();
    let mut screen = Screen::new();
    let mut p = Presenter::new(640, 400);
    p.encoder.video.set_codec(Some(VideoCodec::Vp9));
    let mut fast = Viewer::new(2);
    fast.pump.set_video_codecs(&[VideoCodec::Vp9, VideoCodec::Vp8]);
    // Decodes video, but not this stream's codec: JPEG like a viewer without any.
    let mut plain = Viewer::new(2);
    plain.pump.set_video_codecs(&[VideoCodec::Vp8]);
    let mut late = Viewer::new(2);
    late.pump.set_video_codecs(&[VideoCodec::Vp9]);
    let (mut got_fast, mut got_plain, mut got_late) = (Got::default(), Got::default(), Got::default());
    let mut now = t0;
    for i in 0..90u32 {
        now = t0 + Duration::from_millis(40 * u64::from(i));
        if screen.take_keyframe_request() {
            p.encoder.video.ask_keyframe();
        }
        let f = p.frame_at(&[Change::Video { rect: (64, 64, 320, 192), seed: i }], now).unwrap();
        screen.apply(&f, now).unwrap();
        drain_counting(&mut fast, &mut screen, now, &mut got_fast);
        drain_counting(&mut plain, &mut screen, now, &mut got_plain);
        if i >= 60 {
            drain_counting(&mut late, &mut screen, now, &mut got_late);
        }
    }
    assert!(p.video_sent >= 40, "the video became a stream: {} chunks", p.video_sent);
    assert!(got_fast.video >= 40, "the viewer that decodes VP9 got the stream: {}", got_fast.video);
    assert_eq!(got_plain.video, 0, "the viewer that decodes only VP8 got none");
    assert!(got_plain.images >= 40, "but JPEG catch-ups: {}", got_plain.images);
    assert!(got_late.video >= 10, "a late joiner gets the stream after a keyframe it asked for: {}", got_late.video);
    p.settle(&mut screen, now);
    for (v, got) in [(&mut fast, &mut got_fast), (&mut plain, &mut got_plain), (&mut late, &mut got_late)] {
        drain_counting(v, &mut screen, now + Duration::from_secs(2), got);
        assert_eq!(v.decoder.screen(), Some(&p.screen), "every viewer ends exact");
    }
}

fn any_change() -> impl Strategy<Value = Change> {
    let rect = (any::<u16>(), any::<u16>(), 1u16..200, 1u16..150);
    prop_oneof![
        3 => (rect.clone(), any::<u32>()).prop_map(|(rect, seed)| Change::Text { rect, seed }),
        1 => (rect.clone(), any::<u32>()).prop_map(|(rect, seed)| Change::Photo { rect, seed }),
        3 => (rect.clone(), -40i16..40, any::<u32>()).prop_map(|(rect, dy, seed)| Change::Scroll { rect, dy, seed }),
        2 => (rect, -50i16..50, -50i16..50).prop_map(|(rect, dx, dy)| Change::Move { rect, dx, dy }),
    ]
}

/// What a viewer does at one step: drain and ack, drain without acking, or nothing.
#[derive(Clone, Copy, Debug)]
enum Pace {
    Keep,
    Lag,
    Away,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Random changes (scrolls and moves among them) go through the encoder, the server's
    /// screen and each viewer's pump; viewers skip versions and join late at random; once
    /// the screen is still, every viewer equals the presenter's screen.
    #[test]
    fn every_viewer_ends_exact(
        width in 40u32..300, height in 30u32..220,
        steps in proptest::collection::vec(
            (proptest::collection::vec(any_change(), 0..3),
             proptest::collection::vec(prop_oneof![Just(Pace::Keep), Just(Pace::Lag), Just(Pace::Away)], 3),
             0usize..4),
            1..24),
        reconnect_at in proptest::option::of(0usize..16),
        video in proptest::option::of((0u16..80, 0u16..60, 40u16..280, 40u16..200)),
        capable in proptest::collection::vec(0u8..3, 4),
    ) {
        // The presenter's clock runs 100 ms a step, so a video playing all along turns
        // lossy after ten steps.
        let t0 = Instant::now();
        let mut screen = Screen::new();
        let mut p = Presenter::new(width, height);
        // Large videos become VP9 streams; viewers that decode them get them, the others
        // (and any viewer without the stream's keyframe) JPEG catch-ups.
        p.encoder.video.set_codec(Some(VideoCodec::Vp9));
        let mut viewers: Vec<Viewer> = Vec::new();
        for (i, (changes, paces, joins)) in steps.iter().enumerate() {
            let now = t0 + Duration::from_millis(100 * i as u64);
            // The server shell passes keyframe requests on to the presenter.
            if screen.take_keyframe_request() {
                p.encoder.video.ask_keyframe();
            }
            if reconnect_at == Some(i) {
                p.encoder.force_keyframe();
            }
            let mut changes = changes.clone();
            if let Some(rect) = video {
                changes.push(Change::Video { rect, seed: i as u32 });
            }
            if let Some(f) = p.frame_at(&changes, now) {
                screen.apply(&f, now).unwrap();
            }
            // Viewers join late: up to three, whenever.
            if viewers.len() < 3 && *joins == 0 {
                let mut v = Viewer::new(2);
                v.pump.set_video_codecs(codecs(capable[viewers.len()]));
                viewers.push(v);
            }
            for (v, pace) in viewers.iter_mut().zip(paces) {
                match pace {
                    Pace::Keep => { v.drain(&mut screen, t0, true); }
                    Pace::Lag => { v.drain(&mut screen, t0, false); }
                    Pace::Away => {}
                }
            }
        }
        // A video large enough for its own tiles, playing past HOT_AFTER, went lossy.
        if let Some((x, y, w, h)) = video {
            let (x, y) = (u32::from(x) % width, u32::from(y) % height);
            let (w, h) = (u32::from(w).min(width - x), u32::from(h).min(height - y));
            if steps.len() >= 14 && w >= 128 && h >= 128 {
                prop_assert!(p.lossy_sent > 0, "the video never went lossy");
            }
        }
        p.settle(&mut screen, t0 + Duration::from_millis(100 * steps.len() as u64));
        let mut late = Viewer::new(2);
        late.pump.set_video_codecs(codecs(capable[3]));
        viewers.push(late);
        for v in &mut viewers {
            // Settle: the viewer acks what it holds, then takes the rest.
            v.pump.on_ack(v.pump.sent(), t0).unwrap();
            v.drain(&mut screen, t0, true);
            prop_assert_eq!(v.decoder.screen(), Some(&p.screen));
        }
    }
}

/// The next frame update a pump sends.
fn next_update(pump: &mut ViewerPump, screen: &mut Screen, now: Instant) -> Update {
    loop {
        match pump.poll(screen, now) {
            Some(PumpOutput::Frame(u)) => return u,
            Some(_) => {}
            None => panic!("no update"),
        }
    }
}

#[test]
fn viewers_in_the_same_place_share_one_body() {
    let t0 = Instant::now();
    let mut screen = Screen::new();
    let mut p = Presenter::new(300, 200);
    screen.apply(&p.frame(&scroll(1)).unwrap(), t0).unwrap();
    let mut viewers: Vec<ViewerPump> = (0..5).map(|_| ViewerPump::new(DEFAULT_WINDOW)).collect();
    // Late joiners at one version: one keyframe, the same bytes for all.
    let first: Vec<Update> = viewers.iter_mut().map(|v| next_update(v, &mut screen, t0)).collect();
    assert!(first.iter().all(|u| u.kind == UpdateKind::CatchUp && u.header.keyframe));
    assert!(first.iter().all(|u| u.body().as_ptr() == first[0].body().as_ptr()), "one allocation");
    for (v, u) in viewers.iter_mut().zip(&first) {
        v.on_ack(u.header.frame, t0 + Duration::from_millis(5)).unwrap();
    }
    // Keeping up: the next frame is one replay body for all.
    screen.apply(&p.frame(&scroll(2)).unwrap(), t0).unwrap();
    let next: Vec<Update> = viewers.iter_mut().map(|v| next_update(v, &mut screen, t0)).collect();
    assert!(next.iter().all(|u| u.kind == UpdateKind::Replay));
    assert!(next.iter().all(|u| u.body().as_ptr() == next[0].body().as_ptr()));
    // Each message still carries its own head (here: its own round trip), and decodes to
    // the presenter's screen.
    assert!(next.iter().all(|u| u.header.rtt_ms == 5));
    let mut d = Decoder::new();
    for u in [&first[0], &next[0]] {
        let MediaMessage::Frame(f) = MediaMessage::decode(u.encode().into()).unwrap() else { panic!() };
        d.apply(&f).unwrap();
    }
    assert_eq!(d.screen(), Some(&p.screen));
    // A viewer elsewhere (joining now) gets its own kind of update, the keyframe of this
    // version, shared in turn with the next to join.
    let mut late = ViewerPump::new(DEFAULT_WINDOW);
    let u = next_update(&mut late, &mut screen, t0);
    assert!(u.header.keyframe);
    assert_ne!(u.body().as_ptr(), first[0].body().as_ptr(), "not the keyframe of the old version");
    let mut later = ViewerPump::new(DEFAULT_WINDOW);
    assert_eq!(next_update(&mut later, &mut screen, t0).body().as_ptr(), u.body().as_ptr());
}
