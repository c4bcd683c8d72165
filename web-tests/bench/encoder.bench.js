// How long the browser presenter's rectangle encoder takes on a 1920×1080 picture, in
// node (the same module the Worker runs; CompressionStream is node's zlib, the browser's
// is Chromium's). Prints the figures docs/PERFORMANCE.md quotes.
// Run: node web-tests/bench/encoder.bench.js

import { RectEncoder } from "../../web/app/encoders/rects.js";

const [W, H] = [1920, 1080];

/** Dark background with text-like strokes: what a desktop mostly is. */
function desktop() {
  const rgba = new Uint8ClampedArray(W * H * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const ink = y % 18 < 12 && (x * 7 + y * 3) % 11 < 2 && x % 640 < 560;
      rgba.set(ink ? [220, 220, 220, 255] : [30, 32, 36, 255], (y * W + x) * 4);
    }
  }
  return rgba;
}

async function time(label, runs, f) {
  await f(0);
  const t0 = performance.now();
  let out;
  for (let i = 1; i <= runs; i++) out = await f(i);
  const ms = (performance.now() - t0) / runs;
  console.log(`${label}: ${ms.toFixed(2)} ms${out ? `, ${out}` : ""}`);
}

const base = desktop();
await time("keyframe (full encode)", 10, async () => {
  const f = await new RectEncoder().encode(base, W, H);
  return `${f.rects} rects, ${(f.buffer.byteLength / 1024).toFixed(0)} KiB`;
});
const enc = new RectEncoder();
await enc.encode(base, W, H);
const same = base.slice();
await time("unchanged frame (compare only)", 20, async () => {
  return (await enc.encode(same, W, H)) === null ? "nothing sent" : "sent";
});
await time("one text line changed (compare + encode)", 20, async (i) => {
  const next = base.slice();
  for (let x = 100; x < 1500; x++) for (let y = 500; y < 512; y++) if ((x + i) % 5 === 0) next.set([255, 255, 255, 255], (y * W + x) * 4);
  const f = await enc.encode(next, W, H);
  return `${f.rects} rects, ${(f.buffer.byteLength / 1024).toFixed(1)} KiB`;
});
