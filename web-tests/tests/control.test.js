// A browser viewer requests control, is granted, and types into the shared xterm.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ARTIFACTS, browser, killAll, mapped, pointer, start, startServer, startXvfb, until, workdir } from "./harness.js";

after(killAll);

test("browser controller types into the shared xterm and releases with Esc twice", async () => {
  const dir = workdir("control");
  const out = join(dir, "typed.txt");
  const display = await startXvfb(900, 600);
  const term = start("xterm", ["-display", display, "-geometry", "60x10+0+0", "+bc", "-e", "sh", "-c", `exec cat > ${out}`]);
  await mapped(display, term);
  await until("cat to run in the xterm", () => existsSync(out));
  const server = await startServer(dir);
  const meeting = server.createMeeting("Control from the browser");
  const share = server.share(meeting.presenter_url, display, ["--allow-control", "auto"]);
  await until("share to start", () => share.lines.some((l) => l.startsWith("status sharing")));

  const b = await browser();
  const context = await b.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  await page.goto(`${meeting.join_url}?name=Browser%20helper`);
  await until("first frame", () => page.evaluate(() => /** @type {any} */ (window).deskshare.stats.frames > 0));

  const button = page.locator("#control");
  await until("control button enabled", () => button.isEnabled());
  assert.equal(await button.innerText(), "Request control");
  await button.click();
  await until("control granted", async () => (await page.locator("#control-state").innerText()) === "You are in control");
  assert.match(await page.locator("#control-banner").innerText(), /press Esc twice to release/);
  assert.equal(await button.innerText(), "Release control");
  await page.screenshot({ path: join(ARTIFACTS, "control-1-in-control.png") });

  // Point at the xterm (top-left of the shared screen) so it has the keyboard focus.
  const box = await page.locator("#cursor").boundingBox();
  assert.ok(box);
  await page.mouse.move(box.x + 100 * (box.width / 900), box.y + 50 * (box.height / 600));
  await until("the pointer over the xterm", () => {
    const p = pointer(display);
    return Math.abs(p.x - 100) <= 2 && Math.abs(p.y - 50) <= 2;
  });
  await page.keyboard.type("Typed from Chromium!");
  await page.keyboard.press("Enter");
  await until("typed text in the xterm", () => existsSync(out) && readFileSync(out, "utf8").includes("Typed from Chromium!"));

  // Esc twice gives control back.
  await page.keyboard.press("Escape");
  await page.keyboard.press("Escape");
  await until("control released", async () => (await page.locator("#control-state").innerText()) === "");
  assert.equal(await page.locator("#control-banner").isHidden(), true);
  assert.equal(await button.innerText(), "Request control");
  await page.screenshot({ path: join(ARTIFACTS, "control-2-released.png") });
  await b.close();
});
