//! The codec end to end on a real display: `deskshare share` on an Xvfb with an xterm in
//! an antialiased TrueType font, the real server, and a viewer on the wire that decodes
//! every frame with the viewer's own decoder and looks at its ops.

mod common;

use std::time::Duration;

use common::viewing::*;
use common::*;
use deskshare_client::session::Session;
use deskshare_client::{MeetingLink, TlsOptions};
use deskshare_codec::Decoder;
use deskshare_proto::{Role, TILE_SIZE};

#[tokio::test(flavor = "multi_thread")]
async fn scrolling_arrives_as_copies_and_typing_as_small_rectangles_and_both_end_exact() {
    let dir = workdir("screen_codec");
    let x = Xvfb::start(800, 600).unwrap();
    let trigger = dir.join("go");
    let ready = dir.join("ready");
    let script = format!(
        "seq 1 40; touch {r}; while [ ! -e {t} ]; do sleep 0.1; done; \
         for i in $(seq 1 30); do echo \"line $i: the quick brown fox jumps over the lazy dog\"; sleep 0.1; done; exec cat",
        r = ready.display(),
        t = trigger.display()
    );
    let _term = aa_xterm(&x.display, "80x30+0+0", &script);
    eventually("the terminal's first lines", Duration::from_secs(30), || ready.exists());
    let server = Server::start(&dir);
    let (join, presenter) = server.create_meeting("codec");
    let _share = server.share(&presenter, &x.display, &[]);
    let link = MeetingLink::parse(&join).unwrap();
    let mut viewer =
        Session::connect(&link, &TlsOptions { ca: None, insecure: true }, Role::Viewer, None).await.unwrap();
    let mut decoder = Decoder::new();
    let first = watch(&mut viewer, &mut decoder, Duration::from_secs(2), Duration::from_secs(30)).await;
    assert!(first.frames >= 1, "the first picture came");
    assert_eq!(matches_display(&decoder, &x.display), 0, "the first picture is exact");

    // Scrolling: 30 new lines at the bottom of a full terminal, each a scroll by one line.
    std::fs::write(&trigger, b"").unwrap();
    let scroll = watch(&mut viewer, &mut decoder, Duration::from_secs(3), Duration::from_secs(60)).await;
    assert_eq!(matches_display(&decoder, &x.display), 0, "after scrolling the picture is exact");
    assert!(scroll.copies > 0, "scrolls came as copies: {scroll:?}");
    // The tile path re-sent every tile the terminal covers on each scroll; a text tile is
    // ~1 KB (docs/PERFORMANCE.md). Copies bring that down more than tenfold.
    let term_tiles = (720u64.div_ceil(u64::from(TILE_SIZE))) * (520u64.div_ceil(u64::from(TILE_SIZE)));
    let tile_path = scroll.frames * term_tiles * 1000;
    assert!(
        scroll.bytes * 10 < tile_path,
        "{} bytes for {} frames vs {} on the tile path",
        scroll.bytes,
        scroll.frames,
        tile_path
    );

    // Typing: each keystroke's rectangles are smaller than a tile.
    xdotool(&x.display, &["mousemove", "300", "300"]);
    let display = x.display.clone();
    let typist = tokio::task::spawn_blocking(move || xdotool(&display, &["type", "--delay", "200", "hello world"]));
    let typing = watch(&mut viewer, &mut decoder, Duration::from_secs(2), Duration::from_secs(30)).await;
    typist.await.unwrap();
    assert_eq!(matches_display(&decoder, &x.display), 0, "after typing the picture is exact");
    assert!(typing.frames >= 5, "keystrokes made frames: {typing:?}");
    let tile = TILE_SIZE * TILE_SIZE;
    assert!(
        typing.rects.iter().all(|&(w, h)| u32::from(w) * u32::from(h) < tile),
        "every typing rectangle is smaller than a tile: {:?}",
        typing.rects
    );
    assert!(typing.rects.len() >= 11, "one rectangle a keystroke at least: {typing:?}");
    assert!(typing.bytes / typing.frames < 400, "a keystroke costs a few hundred bytes at most: {typing:?}");
}
