// How long the browser presenter's tile encoder takes on a 1920×1080 picture, in node
// (the same module the Worker runs). Prints the figures docs/PERFORMANCE.md quotes.
// Run: node web-tests/bench/encoder.bench.js

import { TileEncoder } from "../../web/app/encoders/tiles.js";

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

function time(label, runs, f) {
  f(0);
  const t0 = performance.now();
  let out;
  for (let i = 1; i <= runs; i++) out = f(i);
  const ms = (performance.now() - t0) / runs;
  console.log(`${label}: ${ms.toFixed(2)} ms${out ? `, ${out}` : ""}`);
}

const base = desktop();
time("keyframe (full encode)", 10, () => {
  const e = new TileEncoder();
  const f = e.encode(base, W, H);
  return `${f.tiles} tiles, ${(f.buffer.byteLength / 1024).toFixed(0)} KiB`;
});
const enc = new TileEncoder();
enc.encode(base, W, H);
const same = base.slice();
time("unchanged frame (compare only)", 20, () => {
  return enc.encode(same, W, H) === null ? "nothing sent" : "sent";
});
time("one text line changed (compare + encode)", 20, (i) => {
  const next = base.slice();
  for (let x = 100; x < 1500; x++) for (let y = 500; y < 512; y++) if ((x + i) % 5 === 0) next.set([255, 255, 255, 255], (y * W + x) * 4);
  const f = enc.encode(next, W, H);
  return `${f.tiles} tiles, ${(f.buffer.byteLength / 1024).toFixed(1)} KiB`;
});
