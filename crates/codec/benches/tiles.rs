//! Change detection and tile encoding on 1920×1080 frames.
//! Run: `cargo bench -p deskshare-codec`. Figures go to docs/PERFORMANCE.md.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use deskshare_codec::{Framebuffer, changed_tiles, encode_tiles};

const W: u32 = 1920;
const H: u32 = 1080;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A terminal-like screen: 8×16 glyph cells of dark pixels on white, lines of varying length.
fn text_frame(seed: u64) -> Framebuffer {
    let mut rng = Rng(seed | 1);
    let mut fb = Framebuffer::from_pixels(W, H, vec![0x00ff_ffff; (W * H) as usize]);
    for line in 0..H / 16 {
        let len = rng.next() % (W as u64 / 8);
        for cell in 0..len as u32 {
            let glyph = rng.next();
            for gy in 2..14 {
                for gx in 1..7 {
                    if glyph >> ((gy * 6 + gx) % 64) & 1 == 1 {
                        let (x, y) = (cell * 8 + gx, line * 16 + gy);
                        fb.pixels_mut()[(y * W + x) as usize] = 0x0020_2020;
                    }
                }
            }
        }
    }
    fb
}

/// A photo-like screen: smooth gradients with fine noise everywhere.
fn photo_frame(seed: u64) -> Framebuffer {
    let mut rng = Rng(seed | 1);
    let pixels = (0..W * H)
        .map(|i| {
            let (x, y) = (i % W, i / W);
            let n = (rng.next() % 24) as u32;
            let r = ((x * 255 / W) + n).min(255);
            let g = ((y * 255 / H) + n).min(255);
            let b = (((x + y) * 255 / (W + H)) + n).min(255);
            r << 16 | g << 8 | b
        })
        .collect();
    Framebuffer::from_pixels(W, H, pixels)
}

fn bench(c: &mut Criterion) {
    let text = text_frame(1);
    let photo = photo_frame(2);
    let mut one_line = text.clone();
    for y in 500..516 {
        for x in 0..W {
            one_line.pixels_mut()[(y * W + x) as usize] ^= 0x0010_1010;
        }
    }

    let mut g = c.benchmark_group("detect");
    g.throughput(Throughput::Elements(u64::from(W * H)));
    g.bench_function("identical_1080p", |b| b.iter(|| changed_tiles(Some(&text), &text)));
    g.bench_function("one_line_change_1080p", |b| b.iter(|| changed_tiles(Some(&text), &one_line)));
    g.finish();

    let mut g = c.benchmark_group("encode_full_frame");
    g.sample_size(20);
    for (name, fb) in [("text", &text), ("photo", &photo)] {
        let all = changed_tiles(None, fb);
        let bytes: usize = encode_tiles(fb, &all).iter().map(|t| t.data.len()).sum();
        eprintln!("{name}: {} tiles -> {} KB", all.len(), bytes / 1024);
        g.bench_with_input(BenchmarkId::from_parameter(name), fb, |b, fb| b.iter(|| encode_tiles(fb, &all)));
    }
    g.finish();

    let changed = changed_tiles(Some(&text), &one_line);
    let bytes: usize = encode_tiles(&one_line, &changed).iter().map(|t| t.data.len()).sum();
    eprintln!("one line: {} tiles -> {} KB", changed.len(), bytes / 1024);
    c.bench_function("detect_and_encode_one_line_1080p", |b| {
        b.iter(|| encode_tiles(&one_line, &changed_tiles(Some(&text), &one_line)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
