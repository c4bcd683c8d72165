//! The encoder on frame sequences recorded from a real 1920×1080 Xvfb: typing and
//! scrolling in a full-screen xterm in an antialiased TrueType font, a dragged window, and
//! a continuous-tone animation. Reports time per frame (criterion) and bytes per frame
//! (printed once per sequence: ops + deflate data, keyframe excluded); for the animation
//! also bytes and PSNR in its lossy phase at several JPEG qualities. The encoder's clock
//! runs 40 ms a frame, as the frames were recorded.
//!
//! Run: `cargo bench -p deskshare-codec` (needs Xvfb, xterm, xdotool, ffmpeg's ffplay).
//! Figures go to docs/PERFORMANCE.md.

use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use deskshare_codec::{Encoder, Framebuffer, rgb_word};

const FRAMES: usize = 30;

struct Kill(Vec<Child>);
impl Drop for Kill {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn grab(display: &str) -> Framebuffer {
    let img = deskshare_testkit::grab(display).expect("grab");
    let px = img.rgb.chunks_exact(3).map(|c| rgb_word(c[0], c[1], c[2])).collect();
    Framebuffer::from_pixels(img.width, img.height, px)
}

fn xdotool(display: &str, args: &[&str]) -> String {
    let out = Command::new("xdotool").env("DISPLAY", display).args(args).output().expect("xdotool");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn xterm(display: &str, geometry: &str, cmd: &str) -> Child {
    Command::new("xterm")
        .env("DISPLAY", display)
        .args(["-fa", "DejaVu Sans Mono", "-fs", "11", "-geometry", geometry, "+sb", "-bg", "white", "-fg", "black"])
        .args(["-e", "bash", "-c", cmd])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("xterm")
}

/// Records `FRAMES` frames (plus the first) of each workload.
fn record() -> Vec<(&'static str, Vec<Framebuffer>)> {
    let mut out = Vec::new();
    let pause = Duration::from_millis(60);
    {
        let x = deskshare_testkit::Xvfb::start(1920, 1080).expect("Xvfb");
        let _t = Kill(vec![xterm(&x.display, "200x58+0+0", "ls -l /usr/bin | head -40; exec cat")]);
        sleep(Duration::from_secs(2));
        xdotool(&x.display, &["mousemove", "500", "500"]);
        let mut frames = vec![grab(&x.display)];
        for c in "the quick brown fox jumps over".chars().take(FRAMES) {
            xdotool(&x.display, &["type", "--delay", "0", &c.to_string()]);
            sleep(pause);
            frames.push(grab(&x.display));
        }
        out.push(("typing", frames));
    }
    {
        let x = deskshare_testkit::Xvfb::start(1920, 1080).expect("Xvfb");
        let _t = Kill(vec![xterm(&x.display, "200x58+0+0", "seq 1 100; exec bash --norc")]);
        sleep(Duration::from_secs(2));
        xdotool(&x.display, &["mousemove", "500", "500"]);
        let mut frames = vec![grab(&x.display)];
        for i in 0..FRAMES {
            xdotool(
                &x.display,
                &["type", "--delay", "0", &format!("echo line {i}: the quick brown fox jumps over the lazy dog\n")],
            );
            sleep(Duration::from_millis(150));
            frames.push(grab(&x.display));
        }
        out.push(("scrolling", frames));
    }
    {
        // As scripts/measure-bandwidth.sh scrolls: 20 lines a second, grabbed as they come.
        let x = deskshare_testkit::Xvfb::start(1920, 1080).expect("Xvfb");
        let _t = Kill(vec![xterm(
            &x.display,
            "200x58+0+0",
            "i=0; while true; do i=$((i+1)); echo \"line $i: the quick brown fox jumps over the lazy dog $RANDOM\"; sleep 0.05; done",
        )]);
        sleep(Duration::from_secs(4));
        let mut frames = vec![grab(&x.display)];
        for _ in 0..FRAMES {
            sleep(Duration::from_millis(40));
            frames.push(grab(&x.display));
        }
        out.push(("scrolling 20 lines/s", frames));
    }
    {
        let x = deskshare_testkit::Xvfb::start(1920, 1080).expect("Xvfb");
        let _t = Kill(vec![
            xterm(&x.display, "200x58+0+0", "ls -l /usr/lib | head -60; exec cat"),
            xterm(&x.display, "80x24+300+200", "ls -l /usr/bin | head -24; exec cat"),
        ]);
        sleep(Duration::from_secs(2));
        let ids = xdotool(&x.display, &["search", "--onlyvisible", "--class", "XTerm"]);
        let win = ids.lines().last().expect("a window").to_string();
        let mut frames = vec![grab(&x.display)];
        for i in 1..=FRAMES {
            let (x0, y0) = (300 + 12 * i, 200 + 7 * i);
            xdotool(&x.display, &["windowmove", &win, &x0.to_string(), &y0.to_string()]);
            sleep(pause);
            frames.push(grab(&x.display));
        }
        out.push(("window drag", frames));
    }
    {
        let x = deskshare_testkit::Xvfb::start(1920, 1080).expect("Xvfb");
        let ff = Command::new("ffplay")
            .env("DISPLAY", &x.display)
            .env("SDL_AUDIODRIVER", "dummy")
            .args(["-loglevel", "quiet", "-an", "-noborder", "-left", "600", "-top", "300"])
            .args(["-f", "lavfi", "-i", "mandelbrot=size=640x360:rate=25"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ffplay (package ffmpeg)");
        let _t = Kill(vec![ff, xterm(&x.display, "200x58+0+0", "ls -l /usr/bin | head -50; exec cat")]);
        sleep(Duration::from_secs(3));
        // Twice as long: the first second is lossless, until the area counts as moving.
        let mut frames = vec![grab(&x.display)];
        for _ in 0..2 * FRAMES {
            sleep(Duration::from_millis(40));
            frames.push(grab(&x.display));
        }
        out.push(("video", frames));
    }
    out
}

/// The agent's hints: for a dragged window, the offset the window manager reports (the
/// X11 capturer takes it from ConfigureNotify); none otherwise, nor at all with
/// `DESKSHARE_BENCH_NO_HINTS=1` (the encoder then finds the move from the frames).
fn hints(name: &str) -> &'static [(i32, i32)] {
    if name == "window drag" && std::env::var_os("DESKSHARE_BENCH_NO_HINTS").is_none() { &[(12, 7)] } else { &[] }
}

/// The encoder's clock: frames 40 ms apart, as recorded (the lossy path goes by it).
fn clock(t0: Instant, i: usize) -> Instant {
    t0 + Duration::from_millis(40) * i as u32
}

/// For the video: bytes a frame and PSNR of the decoded picture against the source in
/// the lossy phase (from 1.2 s on), at several JPEG qualities, as a VP9 and a VP8
/// stream, and lossless.
fn lossy_figures(frames: &[Framebuffer]) {
    let area = deskshare_proto::PixelRect::new(600, 300, 640, 360);
    use deskshare_proto::VideoCodec::{Vp8, Vp9};
    for (quality, video) in [
        (Some(50), None),
        (Some(70), None),
        (Some(90), None),
        (Some(70), Some(Vp9)),
        (Some(70), Some(Vp8)),
        (None, None),
    ] {
        let t0 = Instant::now();
        let mut enc = Encoder::new(deskshare_codec::DEFAULT_LEVEL);
        enc.set_lossy_quality(quality);
        enc.video.set_codec(video);
        let mut dec = deskshare_codec::Decoder::new();
        let (mut bytes, mut n, mut db, mut lossy, mut chunks) = (0usize, 0usize, 0f64, 0usize, 0usize);
        for (i, fb) in frames.iter().enumerate() {
            let Some(f) = enc.encode(fb.clone(), &[], clock(t0, i)) else { continue };
            dec.apply(&f).expect("decodes");
            if i > 30 {
                bytes += f.encoded_len();
                n += 1;
                lossy += usize::from(!f.images.is_empty());
                chunks += f.videos.len();
                let p = deskshare_codec::image::psnr(dec.screen().unwrap(), fb, area);
                db += if p.is_finite() { p } else { 99.0 };
            }
        }
        let label = match (quality, video) {
            (None, _) => "lossless".to_string(),
            (Some(_), Some(codec)) => format!("{} after JPEG", codec.name()),
            (Some(q), None) => format!("JPEG q{q}"),
        };
        println!(
            "video, {label}: {} B/frame over {n} frames ({lossy} JPEG, {chunks} video), PSNR {:.1} dB",
            bytes / n.max(1),
            db / n.max(1) as f64
        );
    }
}

fn sequences(c: &mut Criterion) {
    let recorded = record();
    let mut group = c.benchmark_group("encode");
    group.sample_size(10);
    for (name, frames) in &recorded {
        // Bytes once, outside the timing.
        let t0 = Instant::now();
        let mut enc = Encoder::new(deskshare_codec::DEFAULT_LEVEL);
        let key = enc.encode(frames[0].clone(), &[], t0).map_or(0, |f| f.encode().len());
        let (mut bytes, mut sent, mut copies, mut rects) = (0usize, 0usize, 0usize, 0usize);
        let (mut images, mut chunks) = (0usize, 0usize);
        for (i, fb) in frames.iter().enumerate().skip(1) {
            if let Some(f) = enc.encode(fb.clone(), hints(name), clock(t0, i)) {
                if std::env::var_os("DESKSHARE_BENCH_OPS").is_some() {
                    println!("  {} B: {:?}", f.encode().len(), f.ops);
                }
                bytes += f.encode().len();
                sent += 1;
                copies += enc.last.copies;
                rects += enc.last.rects;
                images += f.images.len();
                chunks += f.videos.len();
            }
        }
        if std::env::var_os("DESKSHARE_BENCH_PROBE").is_some() && *name == "window drag" {
            // Which shift makes a block in the middle of the change match the last frame?
            let (a, b) = (&frames[10], &frames[11]);
            let dirty = deskshare_codec::dirty_rects(a, b);
            let bx = dirty.iter().max_by_key(|r| r.area()).unwrap();
            let (cx, cy) = (i32::from(bx.x) + i32::from(bx.width) / 2, i32::from(bx.y) + i32::from(bx.height) / 2);
            let w = a.width() as i32;
            let mut best = (0, (0, 0));
            for dy in -40..=40 {
                for dx in -40..=40 {
                    let mut ok = 0;
                    for y in cy - 16..cy + 16 {
                        for x in cx - 16..cx + 16 {
                            if b.pixels()[(y * w + x) as usize] == a.pixels()[((y - dy) * w + x - dx) as usize] {
                                ok += 1;
                            }
                        }
                    }
                    if ok > best.0 {
                        best = (ok, (dx, dy));
                    }
                }
            }
            println!("probe: biggest change {bx:?}; best shift {:?} matches {}/1024", best.1, best.0);
        }
        let n = frames.len() - 1;
        println!(
            "{name}: {n} frames, {sent} changed, {} B/frame (keyframe {key} B), {rects} rects, {copies} copies, {images} JPEG, {chunks} video",
            bytes / n.max(1)
        );
        if *name == "video" {
            lossy_figures(frames);
        }
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(*name, |b| {
            b.iter(|| {
                let t0 = Instant::now();
                let mut enc = Encoder::new(deskshare_codec::DEFAULT_LEVEL);
                enc.encode(frames[0].clone(), &[], t0);
                for (i, fb) in frames.iter().enumerate().skip(1) {
                    std::hint::black_box(enc.encode(fb.clone(), hints(name), clock(t0, i)));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sequences);
criterion_main!(benches);
