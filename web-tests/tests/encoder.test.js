// The browser presenter's rectangle encoder, in node: every frame it makes parses with
// the viewer's parser and decodes with the viewer's decoder to the exact pixels, and a
// delta carries exactly the rectangles that changed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { RectEncoder, dirtyRects } from "../../web/app/encoders/rects.js";
import { parseFrame, ENCODING_SOLID, ENCODING_RAW, ENCODING_QOI, ENCODING_PALETTE } from "../../web/app/protocol.js";
import { ScreenDecoder } from "../../web/app/decoders/screen.js";

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

const painted = (f) => f.ops.map((o) => [o.rect.x, o.rect.y, o.rect.width, o.rect.height]);

test("keyframe and deltas decode to the exact pixels", async () => {
  const [width, height] = [333, 250]; // not tile multiples: edge tiles are cut
  const enc = new RectEncoder();
  const viewer = new ScreenDecoder();
  const first = picture(width, height, 1);
  const key = await enc.encode(first, width, height);
  assert.ok(key);
  const f = parseFrame(key.buffer);
  viewer.apply(f);
  assert.equal(f.keyframe, true);
  assert.equal(f.restart, true, "every browser frame is its own deflate stream");
  assert.equal(f.ops.length, Math.ceil(width / 64) * Math.ceil(height / 64));
  assert.deepEqual(new Set(f.ops.map((o) => o.encoding)), new Set([ENCODING_SOLID, ENCODING_PALETTE, ENCODING_QOI, ENCODING_RAW]));
  assert.deepEqual(viewer.pixels, first);

  // Nothing changed: nothing to send.
  assert.equal(await enc.encode(first.slice(), width, height), null);

  // A 9x19 glyph cell and one pixel in the cut corner change: two exact rectangles.
  const second = first.slice();
  for (let y = 70; y < 89; y++) for (let x = 130; x < 139; x++) second.set([255, 0, 0, 255], (y * width + x) * 4);
  second.set([0, 0, 255, 255], (249 * width + 332) * 4);
  const delta = await enc.encode(second, width, height);
  const d = parseFrame(delta.buffer);
  viewer.apply(d);
  assert.equal(d.keyframe, false);
  assert.equal(d.frame, 2);
  assert.deepEqual(painted(d), [[130, 70, 9, 19], [332, 249, 1, 1]]);
  assert.deepEqual(viewer.pixels, second);

  // A new size needs a keyframe; so does a reconnect.
  const small = picture(100, 60, 2);
  assert.equal(parseFrame((await enc.encode(small, 100, 60)).buffer).keyframe, true);
  enc.forceKeyframe();
  assert.equal(parseFrame((await enc.encode(small, 100, 60)).buffer).ops.length, 2);
});

test("dirty rectangles merge a line across tiles into one", () => {
  const [w, h] = [300, 200];
  const a = new Uint32Array(w * h), b = new Uint32Array(w * h);
  for (let y = 60; y < 70; y++) for (let x = 3; x < 293; x++) b[y * w + x] = 7;
  assert.deepEqual(dirtyRects(a, b, w, h), [{ x: 3, y: 60, width: 290, height: 10 }]);
  assert.deepEqual(dirtyRects(a, a, w, h), []);
});

test("bad sizes are refused with a clear error", async () => {
  const enc = new RectEncoder();
  // A picture of no size or past the screen limit is the user's SCREEN_TOO_LARGE; a
  // buffer that does not match its size is a bug (the worker reports ENCODE_FAILED).
  const tooLarge = { name: "ProtocolError", code: "SCREEN_TOO_LARGE" };
  await assert.rejects(enc.encode(new Uint8ClampedArray(4), 0, 1), tooLarge);
  await assert.rejects(enc.encode(new Uint8ClampedArray(4 * 9000), 9000, 1), { ...tooLarge, message: /outside/ });
  await assert.rejects(enc.encode(new Uint8ClampedArray(16), 2, 3), { name: "RangeError", message: /does not match/ });
});
