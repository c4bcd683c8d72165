// The meeting page on a phone (390×844): one row of tools with the rest under More, the
// shared screen across the width, People & chat as a full-height sheet; and the states a
// person meets there — asked for control as the presenter, the end, an unknown link.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { addUser, asThePage, browser, killAll, mapped, shot, start, startServer, startXvfb, until, workdir } from "./harness.js";

after(killAll);

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

/** The tops of the visible buttons of the toolbar row. */
async function rowTops(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("#meeting-tools > button")]
      .filter((b) => /** @type {HTMLElement} */ (b).offsetParent !== null)
      .map((b) => Math.round(b.getBoundingClientRect().top)),
  );
}

test("a phone: one row of tools, the screen across the width, people and chat as a sheet", async () => {
  const dir = workdir("phone");
  const display = await startXvfb(900, 600);
  const typed = join(dir, "typed.txt");
  const term = start("xterm", ["-display", display, "-geometry", "60x10+0+0", "+bc", "-e", "sh", "-c", `exec cat > ${typed}`]);
  await mapped(display, term);
  await until("cat to run", () => existsSync(typed));
  const server = await startServer(dir);
  addUser(server, dir, "olga", "olga-password", "Olga");
  const b = await browser();

  // Olga, on her phone, organises; her desktop shares with the app (her share link).
  const olgaContext = await b.newContext(asThePage(server, PHONE));
  await olgaContext.request.post(`${server.url}api/login`, { data: { name: "olga", password: "olga-password" } });
  const meeting = await (await olgaContext.request.post(`${server.url}api/meetings`, { data: { title: "Board" } })).json();
  const link = await (await olgaContext.request.post(`${server.url}api/meetings/${meeting.id}/share-link`)).json();
  const olga = await olgaContext.newPage();
  await olga.goto(meeting.join_url);
  const agent = server.share(link.link, display, ["--allow-control", "ask"]);
  await until("sharing", () => agent.lines.some((l) => l.startsWith("status sharing")));
  await until("you are presenting", async () => (await olga.locator("#status").innerText()).includes("You are presenting"));

  // Gus, a guest on a phone.
  const gus = await (await b.newContext({ ignoreHTTPSErrors: true, ...PHONE })).newPage();
  const errors = [];
  gus.on("pageerror", (e) => errors.push(String(e)));
  await gus.goto(`${meeting.join_url}?name=Gus`);
  await until("a picture", () => gus.evaluate(() => /** @type {any} */ (window).deskshare.stats.frames > 0));
  const tops = await rowTops(gus);
  assert.ok(tops.length >= 3, `${tops}`);
  assert.equal(new Set(tops).size, 1, `one row of tools: ${tops}`);
  assert.equal(await gus.locator("#more").isVisible(), true);
  assert.equal(await gus.locator("#leave").isVisible(), false, "Leave waits under More");
  const canvas = await gus.locator("#screen").boundingBox();
  assert.ok(canvas && canvas.width >= 380, `the screen uses the width: ${JSON.stringify(canvas)}`);
  assert.equal(await gus.locator("#side").isVisible(), false, "people and chat start folded on a phone");
  await shot(gus, "phone-1-watching");

  // More opens the rest; Escape closes it.
  await gus.click("#more");
  await until("the menu", () => gus.locator("#more-menu").isVisible());
  for (const id of ["#zoom", "#fullscreen", "#invite", "#sound", "#leave"]) {
    assert.equal(await gus.locator(`#more-menu ${id}`).isVisible(), true, id);
  }
  await shot(gus, "phone-2-more");
  await gus.keyboard.press("Escape");
  await until("the menu closed", async () => !(await gus.locator("#more-menu").isVisible()));

  // People & chat: a sheet the height of the page under the bar.
  await gus.click("#side-toggle");
  const sheet = await gus.locator("#side").boundingBox();
  assert.ok(sheet && sheet.height > 700 && sheet.width >= 389, `a full sheet: ${JSON.stringify(sheet)}`);
  assert.match(await gus.locator("#roster").innerText(), /Olga\s*organiser\s*presenting/);
  await shot(gus, "phone-3-people-and-chat");
  await gus.click("#side-toggle");

  // Gus asks for control; Olga is asked on her phone and allows.
  await until("Gus can ask", () => gus.locator("#control").isEnabled());
  await gus.click("#control");
  await until("asked on her phone", () => olga.locator("#consent").isVisible());
  await shot(olga, "phone-4-asked-for-control");
  const prompt = await olga.locator("#consent").boundingBox();
  assert.ok(prompt && prompt.x >= 0 && prompt.x + prompt.width <= 390, `the question fits: ${JSON.stringify(prompt)}`);
  assert.equal(await olga.evaluate(() => document.documentElement.scrollWidth), 390, "nothing wider than the phone");
  await olga.click("#consent-allow");
  await until("Gus in control", async () => (await gus.locator("#control").innerText()) === "Release control");
  await until("Take back on her phone", () => olga.locator("#take-back").isVisible());
  assert.equal(new Set(await rowTops(olga)).size, 1, "her tools in one row too");
  assert.equal(await olga.evaluate(() => document.documentElement.scrollWidth), 390, "nothing wider than the phone");
  await shot(olga, "phone-5-take-back");
  await olga.click("#take-back");
  await until("Gus back to watching", async () => (await gus.locator("#control").innerText()) === "Request control");

  // Leaving, under More, ends in words with the way back.
  await gus.click("#more");
  await gus.click("#more-menu #leave");
  await until("left", async () => (await gus.locator("#overlay").innerText()).includes("You left the meeting"));
  await shot(gus, "phone-6-left");

  // An unknown link on a phone.
  await gus.goto(meeting.join_url.replace(meeting.id, "0123456789abcdef01234567"));
  await until("the unknown-link page", async () => (await gus.locator("#overlay").innerText()).includes("This meeting link does not work"));
  assert.equal(await gus.locator("#side-toggle").isVisible(), false, "no meeting: no people or chat");
  assert.equal(await gus.locator("#more").isVisible(), false, "no meeting: no meeting tools");
  await shot(gus, "phone-7-unknown-link");
  assert.deepEqual(errors, []);
  await b.close();
});
