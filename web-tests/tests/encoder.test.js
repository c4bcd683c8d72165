// The browser presenter's tile encoder, in node: every frame it makes parses with the
// viewer's parser, decodes with the viewer's decoders to the exact pixels, and a delta
// carries exactly the tiles that changed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { TileEncoder } from "../../web/app/encoders/tiles.js";
import { parseFrame, TILE_SIZE, ENCODING_SOLID, ENCODING_RAW, ENCODING_QOI } from "../../web/app/protocol.js";
import { decodeSolid } from "../../web/app/decoders/solid.js";
import { decodeRaw } from "../../web/app/decoders/raw.js";
import { decodeQoi } from "../../web/app/decoders/qoi.js";

const DECODERS = { [ENCODING_SOLID]: decodeSolid, [ENCODING_RAW]: decodeRaw, [ENCODING_QOI]: decodeQoi };

/** A deterministic picture: flat areas, a gradient, text-like strokes and noise. */
function picture(width, height, seed) {
  const rgba = new Uint8ClampedArray(width * height * 4);
  let s = seed >>> 0;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) >>> 24);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      let c;
      if (y < 64) c = [40, 44, 52];
      else if (y < 128) c = [x & 255, y & 255, (x + y) & 255];
      else if (y < 192) c = (x * 7 + y * 3) % 11 < 2 ? [230, 230, 230] : [20, 20, 20];
      else c = [rand(), rand(), rand()];
      rgba.set([...c, 255], i);
    }
  }
  return rgba;
}

/** Applies a frame message to `screen` (RGBA) with the viewer's own code. */
function apply(buffer, screen, width) {
  const f = parseFrame(buffer);
  for (const t of f.tiles) {
    const x0 = t.col * TILE_SIZE, y0 = t.row * TILE_SIZE;
    const w = Math.min(TILE_SIZE, f.width - x0), h = Math.min(TILE_SIZE, f.height - y0);
    const out = new Uint8ClampedArray(w * h * 4);
    DECODERS[t.encoding](t.data, out);
    for (let y = 0; y < h; y++) screen.set(out.subarray(y * w * 4, (y + 1) * w * 4), ((y0 + y) * width + x0) * 4);
  }
  return f;
}

test("keyframe and deltas decode to the exact pixels", () => {
  const [width, height] = [333, 250]; // not tile multiples: edge tiles are cut
  const enc = new TileEncoder();
  const screen = new Uint8ClampedArray(width * height * 4);
  const first = picture(width, height, 1);
  const key = enc.encode(first, width, height);
  assert.ok(key);
  const f = apply(key.buffer, screen, width);
  assert.equal(f.keyframe, true);
  assert.equal(f.tiles.length, Math.ceil(width / 64) * Math.ceil(height / 64));
  assert.deepEqual(new Set(f.tiles.map((t) => t.encoding)), new Set([ENCODING_SOLID, ENCODING_QOI, ENCODING_RAW]));
  assert.deepEqual(screen, first);

  // Nothing changed: nothing to send.
  assert.equal(enc.encode(first.slice(), width, height), null);

  // One pixel in tile (2,1) and one in the cut corner tile (5,3) change.
  const second = first.slice();
  second.set([255, 0, 0, 255], (70 * width + 130) * 4);
  second.set([0, 0, 255, 255], (249 * width + 332) * 4);
  const delta = enc.encode(second, width, height);
  assert.ok(delta);
  const d = apply(delta.buffer, screen, width);
  assert.equal(d.keyframe, false);
  assert.equal(d.frame, 2);
  assert.deepEqual(d.tiles.map((t) => [t.col, t.row]), [[2, 1], [5, 3]]);
  assert.deepEqual(screen, second);

  // A new size needs a keyframe; so does a reconnect.
  const small = picture(100, 60, 2);
  const resized = enc.encode(small, 100, 60);
  assert.equal(parseFrame(resized.buffer).keyframe, true);
  enc.forceKeyframe();
  assert.equal(parseFrame(enc.encode(small, 100, 60).buffer).tiles.length, 2);
});

test("bad sizes are refused with a clear error", () => {
  const enc = new TileEncoder();
  assert.throws(() => enc.encode(new Uint8ClampedArray(4), 0, 1), RangeError);
  assert.throws(() => enc.encode(new Uint8ClampedArray(16), 2, 3), /does not match/);
  assert.throws(() => enc.encode(new Uint8ClampedArray(4 * 9000), 9000, 1), /outside/);
});
