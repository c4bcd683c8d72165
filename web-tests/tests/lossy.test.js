// The lossy path in real headless Chromium: a real animation (ffplay of lavfi's
// mandelbrot) on a real Xvfb comes first as JPEG areas, then as a VP8 stream, which the
// render worker decodes natively (createImageBitmap, WebCodecs' VideoDecoder); the
// terminal beside it stays exact while it plays; once it stops, the canvas equals the
// display pixel for pixel (the presenter refines what was lossy).

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  browser, canvasRgb, diffPixels, grab, killAll, shot, sleep, start, startServer, startXvfb, until, workdir,
} from "./harness.js";

after(killAll);

/** The part of an RGB image inside (x, y, w, h). */
function crop(img, x, y, w, h) {
  const rgb = Buffer.alloc(w * h * 3);
  for (let r = 0; r < h; r++) img.rgb.copy(rgb, r * w * 3, ((y + r) * img.width + x) * 3, ((y + r) * img.width + x + w) * 3);
  return { width: w, height: h, rgb };
}

test("an animation comes lossy, the text beside it exact, and the canvas ends exact", async () => {
  const dir = workdir("lossy");
  const display = await startXvfb(800, 600);
  start("xterm", ["-display", display, "-fa", "DejaVu Sans Mono", "-fs", "11", "-geometry", "40x20+0+0",
    "-bg", "white", "-fg", "black", "-e", "bash", "-c", "ls -l /usr/bin | head -18; exec cat"]);
  const video = start("ffplay", ["-loglevel", "error", "-an", "-noborder", "-left", "440", "-top", "40",
    "-f", "lavfi", "-i", "mandelbrot=size=320x240:rate=25"], { env: { ...process.env, DISPLAY: display, SDL_AUDIODRIVER: "dummy" } });
  await sleep(1500);
  const server = await startServer(dir);
  const meeting = server.createMeeting("Lossy");
  server.share(meeting.presenter_url, display, ["--allow-control", "never"]);

  const b = await browser();
  const page = await (await b.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1200, height: 800 } })).newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${meeting.join_url}?name=Watcher`);
  const stats = () => page.evaluate(() => ({ .../** @type {any} */ (window).deskshare.stats }));
  // The animation keeps changing: after a second it comes as lossy areas.
  await until("JPEG areas, then 20 video frames", async () => {
    const s = await stats();
    return s.lossy >= 3 && s.video >= 20;
  }, 30000);
  // Lossy updates are small: under 60 KB an update on average (lossless ones of this
  // animation are about 120 KB).
  const a = await stats();
  await sleep(2000);
  const z = await stats();
  assert.ok(z.video > a.video, "still video while it plays");
  assert.ok((z.bytes - a.bytes) / (z.frames - a.frames) < 60000, `${(z.bytes - a.bytes) / (z.frames - a.frames)} B an update`);
  // The terminal's text is exact on the canvas while the animation plays.
  const shown = await canvasRgb(page);
  assert.ok(shown, "a picture");
  assert.equal(diffPixels(crop(shown, 0, 0, 420, 400), crop(grab(display, dir), 0, 0, 420, 400)), 0, "text exact");
  await shot(page, "lossy-1-playing");

  // The animation stops (ffplay frozen, its last frame stays): the canvas ends exact.
  execFileSync("kill", ["-STOP", String(video.child.pid)]);
  let diff = Infinity;
  await until("canvas to equal the display", async () => {
    const now = await canvasRgb(page);
    diff = now ? diffPixels(now, grab(display, dir)) : Infinity;
    return diff === 0;
  });
  assert.equal(diff, 0);
  await shot(page, "lossy-2-refined");
  execFileSync("kill", ["-CONT", String(video.child.pid)]);
  assert.deepEqual(errors, []);
  await b.close();
});
