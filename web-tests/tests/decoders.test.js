// The browser's decoders against vectors the Rust encoder and the server's screen cache
// wrote (crates/testkit/src/bin/ds-vectors.rs), for several random sequences of changes
// (text, photos, scrolls of random regions, moved rectangles): the presenter's live
// stream with copies, a lagging viewer's merged replays and catch-ups, a late joiner.
// Each must end at the exact screen; and corrupt input is refused with its code, leaving the picture as it was.

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

for (const seed of [0, 1, 2, 3, 4, 5]) test(`the Rust encoder's vectors (seed ${seed}) decode to the exact screen`, () => {
  const dir = mkdtempSync(join(tmpdir(), "ds-vectors-"));
  try {
    execFileSync(VECTORS, [dir, String(seed)]);
    const scenarios = readdirSync(dir).sort();
    assert.deepEqual(scenarios, ["lagging", "late", "live"]);
    for (const name of scenarios) {
      const files = readdirSync(join(dir, name)).filter((f) => f.endsWith(".bin")).sort();
      assert.ok(files.length >= 2, `${name}: ${files.length} frames`);
      const screen = new ScreenDecoder();
      let copies = 0, restarts = 0;
      for (const file of files) {
        const f = parseFrame(arrayBuffer(readFileSync(join(dir, name, file))));
        copies += f.ops.filter((o) => o.op === "copy").length;
        restarts += f.restart ? 1 : 0;
        screen.apply(f);
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
