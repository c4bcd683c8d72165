// The browser viewer in real headless Chromium against a real server and Xvfb share.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ARTIFACTS, browser, canvasRgb, diffPixels, grab, killAll, mapped, paint, start, startServer, startXvfb, until, workdir,
} from "./harness.js";

after(killAll);

test("browser canvas equals the shared display, with clear states", async () => {
  const dir = workdir("viewer");
  const display = await startXvfb(1000, 700);
  await paint(display, 300, 150, 555, 437, 11);
  await mapped(display, start("xterm", ["-display", display, "-geometry", "50x10+0+0", "+bc", "-e", "bash", "-c", "echo browser test; exec cat"]));
  const server = await startServer(dir);
  const meeting = server.createMeeting("Browser test");

  const b = await browser();
  const context = await b.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on("pageerror", (e) => consoleErrors.push(String(e)));

  // Before anyone presents: a clear waiting state.
  await page.goto(`${meeting.join_url}?name=Watcher`);
  await until("waiting state", async () => (await page.locator("#overlay").innerText()).includes("Waiting for the presenter"));
  await page.screenshot({ path: join(ARTIFACTS, "viewer-1-waiting.png") });

  // The presenter starts: the canvas shows the display exactly.
  const share = server.share(meeting.presenter_url, display);
  await until("first frame", () => page.evaluate(() => /** @type {any} */ (window).deskshare.stats.frames > 0));
  let diff = Infinity;
  await until("canvas to equal the display", async () => {
    const shown = await canvasRgb(page);
    diff = shown ? diffPixels(shown, grab(display, dir)) : Infinity;
    return diff === 0;
  });
  assert.equal(diff, 0);
  assert.equal(await page.locator("#overlay").isHidden(), true, "no overlay while sharing");
  assert.match(await page.locator("#status").innerText(), /Connected/);
  await page.screenshot({ path: join(ARTIFACTS, "viewer-2-sharing.png") });

  // Fit to window, then actual size: the canvas keeps the screen's pixel size.
  const box = await page.locator("#screen").boundingBox();
  assert.ok(box && box.width <= 1366 && box.height <= 768, "fits the window");
  await page.locator("#zoom").click();
  const actual = await page.locator("#screen").boundingBox();
  assert.equal(Math.round(actual?.width ?? 0), 1000, "100 % shows one screen pixel per CSS pixel");
  await page.locator("#zoom").click();

  // The presenter leaves: the last picture stays, with a clear message.
  share.child.kill("SIGTERM");
  await until("presenter-left state", async () => (await page.locator("#overlay").innerText()).includes("presenter has left"));
  await page.screenshot({ path: join(ARTIFACTS, "viewer-3-presenter-left.png") });

  // An unknown meeting has a page of its own: what happened in words, the code in small
  // print, the way home; no meeting buttons.
  const bad = await context.newPage();
  await bad.goto(meeting.join_url.replace(meeting.id, "0123456789abcdef01234567"));
  await until("the unknown-link page", async () => (await bad.locator("#overlay").innerText()).includes("This meeting link does not work"));
  assert.match(await bad.locator("#overlay").innerText(), /Ask the organiser to send the link again[\s\S]*Code: MEETING_NOT_FOUND/);
  assert.equal(await bad.locator("#overlay a", { hasText: "Back to home" }).getAttribute("href"), "/");
  assert.equal(await bad.locator("#control").isVisible(), false);
  await bad.screenshot({ path: join(ARTIFACTS, "viewer-4-unknown-meeting.png") });

  assert.deepEqual(consoleErrors, []);
  await b.close();
});
