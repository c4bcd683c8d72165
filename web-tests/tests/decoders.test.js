// The browser's decoders against vectors the Rust encoder and the server's screen cache
// wrote (crates/testkit/src/bin/ds-vectors.rs), for several random sequences of changes
// (text, photos, scrolls of random regions, moved rectangles): the presenter's live
// stream with copies, a lagging viewer's merged replays and catch-ups, a late joiner, a
// video going lossy, and the same video as VP9 and VP8 streams. Each must end at the
// exact screen; and corrupt input is refused with its code, leaving the picture as it was.
// (Node has no JPEG or video decoder: a frame's pictures come as the Rust decoder made
// them. The browser decodes the same video vectors natively in lossy.test.js.)

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN } from "./harness.js";
import { parseFrame, ProtocolError } from "../../web/app/protocol.js";
import { ScreenDecoder } from "../../web/app/decoders/screen.js";
import { Inflater } from "../../web/app/decoders/inflate.js";

const VECTORS = join(BIN, "..", "ds-vectors");

/** @param {Buffer} b */
const arrayBuffer = (b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);

/** RGB bytes as RGBA. @param {Buffer} rgb */
function rgbaOf(rgb) {
  const out = new Uint8ClampedArray((rgb.length / 3) * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) out.set([rgb[i], rgb[i + 1], rgb[i + 2], 255], j);
  return out;
}

/** The rectangle `r` of an RGBA picture `width` pixels wide, as a decoded image. */
function crop(/** @type {any} */ rgba, /** @type {number} */ width, /** @type {any} */ r) {
  const out = new Uint8ClampedArray(r.width * r.height * 4);
  for (let y = 0; y < r.height; y++) {
    const from = ((r.y + y) * width + r.x) * 4;
    out.set(rgba.subarray(from, from + r.width * 4), y * r.width * 4);
  }
  return { width: r.width, height: r.height, rgba: out };
}

/** Pixels that differ between two RGBA pictures of one size. */
function diffRgba(/** @type {Uint8ClampedArray} */ a, /** @type {Uint8ClampedArray} */ b) {
  let n = 0;
  for (let i = 0; i < a.length; i += 4) if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2]) n++;
  return n;
}

for (const seed of [0, 1, 2, 3, 4, 5]) test(`the Rust encoder's vectors (seed ${seed}) decode to the exact screen`, () => {
  const dir = mkdtempSync(join(tmpdir(), "ds-vectors-"));
  try {
    execFileSync(VECTORS, [dir, String(seed)]);
    const scenarios = readdirSync(dir).sort();
    assert.deepEqual(scenarios, ["lagging", "late", "live", "lossy", "video-vp8", "video-vp9"]);
    for (const name of scenarios) {
      const files = readdirSync(join(dir, name)).filter((f) => f.endsWith(".bin")).sort();
      assert.ok(files.length >= 2, `${name}: ${files.length} frames`);
      const screen = new ScreenDecoder();
      let copies = 0, restarts = 0, lossy = 0, video = 0;
      for (const file of files) {
        const f = parseFrame(arrayBuffer(readFileSync(join(dir, name, file))));
        copies += f.ops.filter((o) => o.op === "copy").length;
        lossy += f.ops.filter((o) => o.op === "image").length;
        video += f.ops.filter((o) => o.op === "video").length;
        restarts += f.restart ? 1 : 0;
        // The frame's images as the Rust decoder decoded them (RGB beside the frame).
        const images = f.images.map((img, k) => {
          const rgb = readFileSync(join(dir, name, file.replace(".bin", `.img${k}`)));
          assert.equal(rgb.length, img.width * img.height * 3);
          assert.deepEqual([...img.data.subarray(0, 2)], [0xff, 0xd8], "a JPEG");
          const rgba = new Uint8ClampedArray(img.width * img.height * 4);
          for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) rgba.set([rgb[i], rgb[i + 1], rgb[i + 2], 255], j);
          return { width: img.width, height: img.height, rgba };
        });
        // Its video pictures: the Rust decoder's screen after the frame, where each op painted.
        const after = f.videos.length ? rgbaOf(readFileSync(join(dir, name, file.replace(".bin", ".screen")))) : null;
        const frames = f.ops.filter((o) => o.op === "video").map((o) => crop(after, f.width, o.rect));
        screen.apply(f, images, frames);
        if (after) assert.equal(diffRgba(screen.pixels, after), 0, `${name}/${file}: the screen after a video frame`);
      }
      const [w, h] = readFileSync(join(dir, name, "size"), "utf8").split("x").map(Number);
      const rgb = readFileSync(join(dir, name, "final.rgb"));
      assert.equal(screen.width, w);
      assert.equal(screen.height, h);
      let diff = 0;
      for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
        if (screen.pixels[j] !== rgb[i] || screen.pixels[j + 1] !== rgb[i + 1] || screen.pixels[j + 2] !== rgb[i + 2]) diff++;
      }
      assert.equal(diff, 0, `${name}: ${diff} pixels differ`);
      if (name === "live") {
        assert.ok(copies > 0, "the live stream has copies");
        assert.equal(restarts, 1, "one stream from the start");
        assert.equal(lossy, 0, "random changes never keep changing long enough to go lossy");
      } else if (name === "lossy") {
        assert.ok(lossy > 0, "the video came lossy");
        assert.equal(video, 0, "video mode is off");
        assert.equal(restarts, 1, "the joiner's catch-up, then the live stream");
      } else if (name.startsWith("video-")) {
        assert.ok(video >= 5, `${name}: ${video} video ops`);
      } else {
        assert.ok(restarts >= 1, `${name} has a catch-up`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("corrupt frames are refused with a code and change nothing", () => {
  const dir = mkdtempSync(join(tmpdir(), "ds-vectors-"));
  try {
    execFileSync(VECTORS, [dir]);
    const live = join(dir, "live");
    const [first, second] = readdirSync(live).filter((f) => f.endsWith(".bin")).sort();
    const screen = new ScreenDecoder();
    screen.apply(parseFrame(arrayBuffer(readFileSync(join(live, first)))));
    const before = screen.pixels.slice();
    const bytes = new Uint8Array(readFileSync(join(live, second)));
    // Every truncation is a malformed or corrupt frame, never an exception of another kind.
    for (let cut = 0; cut < Math.min(bytes.length, 200); cut++) {
      assert.throws(() => parseFrame(bytes.slice(0, cut).buffer), (e) => e instanceof ProtocolError, `cut ${cut}`);
    }
    // Data cut short cannot inflate to what the ops declare: TILE_CORRUPT, nothing applied.
    const f = parseFrame(bytes.slice().buffer);
    assert.ok(f.data.length > 2);
    assert.throws(() => screen.apply({ ...f, data: f.data.subarray(0, f.data.length - 2) }), (e) => e.code === "TILE_CORRUPT");
    assert.deepEqual(screen.pixels, before);
    // The stream it broke goes on only after a restart.
    assert.throws(() => screen.apply(f), (e) => e.code === "TILE_CORRUPT" && /restart/.test(e.message));
    // A delta for another screen size.
    assert.throws(() => new ScreenDecoder().apply(f), /PROTOCOL_VIOLATION|does not have/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("frames with images are checked like the Rust decoder checks them", () => {
  const dir = mkdtempSync(join(tmpdir(), "ds-vectors-"));
  try {
    execFileSync(VECTORS, [dir, "2"]);
    const lossy = join(dir, "lossy");
    const file = readdirSync(lossy).filter((f) => f.endsWith(".bin")).sort()
      .find((f) => parseFrame(arrayBuffer(readFileSync(join(lossy, f)))).images.length > 0);
    assert.ok(file, "a frame with an image");
    const bytes = new Uint8Array(readFileSync(join(lossy, /** @type {string} */ (file))));
    const f = parseFrame(bytes.slice().buffer);
    // Every truncation is refused with a protocol error.
    for (let cut = 0; cut < bytes.length; cut += Math.max(1, Math.floor(bytes.length / 300))) {
      assert.throws(() => parseFrame(bytes.slice(0, cut).buffer), (e) => e instanceof ProtocolError, `cut ${cut}`);
    }
    // Decoded images of another size than declared, or too few, change nothing.
    const screen = new ScreenDecoder();
    const img = f.images[0];
    const wrong = { width: img.width + 16, height: img.height, rgba: new Uint8ClampedArray((img.width + 16) * img.height * 4) };
    assert.throws(() => screen.apply(f, [wrong]), (e) => e.code === "TILE_CORRUPT");
    assert.throws(() => screen.apply(f, []), (e) => e.code === "TILE_CORRUPT");
    assert.equal(screen.width, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the inflater bounds its output and refuses what follows a finished stream", async () => {
  const cs = new CompressionStream("deflate-raw");
  const w = cs.writable.getWriter();
  w.write(new Uint8Array(100000));
  w.close();
  const bomb = new Uint8Array(await new Response(cs.readable).arrayBuffer());
  assert.throws(() => new Inflater().inflate(bomb, 1000), /more than the 1000 bytes/);
  assert.deepEqual(new Inflater().inflate(bomb, 100000).length, 100000);
  const inf = new Inflater();
  inf.inflate(bomb, 100000);
  assert.throws(() => inf.inflate(bomb, 100000), /must restart/);
  assert.throws(() => new Inflater().inflate(Uint8Array.of(...bomb, 0), 100000), /follow the end/);
  assert.throws(() => new Inflater().inflate(Uint8Array.of(0xff, 0xff, 0xff), 10), /invalid/);
});
