// Presenting from the browser: the organiser makes a guest a presenter; the guest
// presents with getDisplayMedia (Chromium's fake screen), encoded in a Worker and sent
// with the agent's upload protocol; the organiser's browser shows exactly what was sent.
// Demoting stops it, and the sharing policies apply as they do to the agent.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  BIN, FAKE_CAPTURE_FLAGS, addUser, browser, canvasRgb, diffPixels, killAll, sentRgb, shot, start, startServer, startXvfb, until, workdir,
  asThePage,
} from "./harness.js";

after(killAll);

/** Whether the page shows that it presents (a hidden banner keeps its last text). */
async function presenting(page) {
  const banner = page.locator("#present-banner");
  return (await banner.isVisible()) && (await banner.innerText()).includes("You are presenting");
}

test("a promoted guest presents from the browser; another browser sees exactly what was sent", async () => {
  const dir = workdir("present");
  const server = await startServer(dir);
  addUser(server, dir, "olga", "olga-password", "Olga");
  const orgBrowser = await browser(FAKE_CAPTURE_FLAGS);
  const guestBrowser = await browser(FAKE_CAPTURE_FLAGS);
  const errors = [];
  const orgContext = await orgBrowser.newContext(asThePage(server, { viewport: { width: 1366, height: 768 } }));
  await orgContext.request.post(`${server.url}api/login`, { data: { name: "olga", password: "olga-password" } });
  const meeting = await (await orgContext.request.post(`${server.url}api/meetings`, { data: { title: "Browser presenting" } })).json();
  const org = await orgContext.newPage();
  org.on("pageerror", (e) => errors.push(String(e)));
  await org.goto(meeting.join_url);
  const guest = await (await guestBrowser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1366, height: 768 } })).newPage();
  guest.on("pageerror", (e) => errors.push(String(e)));
  await guest.goto(`${meeting.join_url}?name=Gail`);
  await until("both in", async () => (await org.locator("#roster").innerText()).includes("Gail"));
  const present = guest.locator("#present");
  assert.equal(await present.isVisible(), false, "attendees cannot present");

  // Promoted, the guest presents.
  await org.getByRole("button", { name: "Make presenter: Gail" }).click();
  await until("Present offered", () => present.isVisible());
  await present.click();
  await until("presenting", () => presenting(guest));
  assert.match(await guest.locator("#present-banner").innerText(), /View-only: a browser cannot give others control/);
  assert.equal(await guest.locator("#overlay").isHidden(), true, "the preview is not covered by a waiting message");
  assert.equal(await guest.locator("#control").isDisabled(), true, "a browser presenting never hands over control");
  await until("organiser gets frames", () => org.evaluate(() => /** @type {any} */ (window).deskshare.stats.frames >= 3));
  assert.equal(await guest.evaluate(() => /** @type {any} */ (window).deskshare.stats.frames), 0,
    "the presenting browser is not sent its own screen back");
  await until("Gail shown presenting", async () => /Gail\s*presenter\s*guest\s*presenting/.test(await org.locator("#roster").innerText()));
  assert.equal((await org.locator("#roster").innerText()).match(/Gail/g)?.length, 1, "one Gail, not one per connection");
  await until("the guest's banner counts the viewer", async () => (await guest.locator("#present-banner").innerText()).includes("to 1 viewer"));
  await shot(guest, "present-1-presenter");
  await shot(org, "present-2-viewer");

  // Changes travel as deltas: after the keyframe, frames carry fewer tiles than the screen.
  const stats = await org.evaluate(() => ({ .../** @type {any} */ (window).deskshare.stats }));
  const sent = await sentRgb(guest);
  const totalTiles = Math.ceil(sent.width / 64) * Math.ceil(sent.height / 64);
  assert.ok(stats.tiles < stats.frames * totalTiles, `tiles ${stats.tiles} over ${stats.frames} frames of ${totalTiles}`);

  // Paused, the picture stands still: the viewer's canvas equals what was sent, exactly.
  await guest.locator("#pause").click();
  assert.match(await guest.locator("#present-banner").innerText(), /Paused/);
  let diff = Infinity;
  await until("viewer canvas equals the presenter's last frame", async () => {
    const [shown, last] = [await canvasRgb(org), await sentRgb(guest)];
    diff = shown && last ? diffPixels(shown, last) : Infinity;
    return diff === 0;
  });
  assert.equal(diff, 0);
  const last = await sentRgb(guest);
  assert.ok(last.width > 0 && last.height > 0);
  await guest.locator("#pause").click();

  // Made an attendee again: the share stops with its code; Present is no longer offered.
  await org.getByRole("button", { name: "Make attendee: Gail" }).click();
  await until("told why presenting stopped", async () => (await guest.locator("#notice").innerText()).includes("NOT_PRESENTER"));
  await until("Present withdrawn", async () => !(await present.isVisible()));
  await until("viewer sees the presenter leave", async () => (await org.locator("#overlay").innerText()).includes("presenter has left"));
  // No longer presenting, the guest's view catches up from the server's tile cache.
  await until("guest view caught up", async () => {
    const [mine, theirs] = [await canvasRgb(guest), await canvasRgb(org)];
    return mine && theirs && diffPixels(mine, theirs) === 0;
  });
  await shot(guest, "present-3-demoted");

  // Policies apply as to the agent: with desktop sharing off in this meeting, a screen is refused.
  const patched = await orgContext.request.patch(`${server.url}api/meetings/${meeting.id}`, {
    data: { policies: { "enable-desktop-sharing": "off" } },
  });
  assert.equal(patched.status(), 200);
  await org.getByRole("button", { name: "Make presenter: Gail" }).click();
  await until("Present offered again", () => present.isVisible());
  await present.click();
  await until("refused by policy", async () => (await guest.locator("#notice").innerText()).includes("SHARING_DISABLED"));
  await until("presenting ended", async () => (await present.innerText()) === "Present");
  await shot(guest, "present-4-policy");

  // The organiser presents, and the server restarts mid-presentation: both browsers
  // reconnect by themselves, and the presentation goes on without anyone pressing a key.
  const unset = await orgContext.request.patch(`${server.url}api/meetings/${meeting.id}`, {
    data: { policies: { "enable-desktop-sharing": "unset" } },
  });
  assert.equal(unset.status(), 200);
  await org.locator("#present").click();
  await until("organiser presenting", () => presenting(org));
  await until("Gail sees it", () => guest.evaluate(() => /** @type {any} */ (window).deskshare.stats.frames > 0));
  await server.stop();
  await until("presenter reconnecting", async () => (await org.locator("#present-banner").innerText()).includes("Reconnecting"));
  await until("status says so too", async () => (await org.locator("#status").innerText()).includes("Reconnecting"));
  await shot(org, "present-5-reconnecting");
  const framesBefore = await guest.evaluate(() => /** @type {any} */ (window).deskshare.stats.frames);
  await startServer(dir, server.listen);
  await until("presenting again", () => presenting(org), 60000);
  await until("Gail gets frames again", () =>
    guest.evaluate((n) => /** @type {any} */ (window).deskshare.stats.frames > n + 2, framesBefore), 60000);
  await until("Olga shown presenting after the restart", async () => /Olga\s*organiser\s*presenting/.test(await guest.locator("#roster").innerText()), 60000);
  await shot(guest, "present-6-after-restart");
  assert.deepEqual(errors, []);
  await orgBrowser.close();
  await guestBrowser.close();
});

test("presenting while the agent shares asks first, and the replaced agent says who took over", async () => {
  const dir = workdir("present-replace");
  const server = await startServer(dir);
  addUser(server, dir, "olga", "olga-password", "Olga");
  const display = await startXvfb(800, 500);
  const b = await browser(FAKE_CAPTURE_FLAGS);
  const context = await b.newContext(asThePage(server, { viewport: { width: 1366, height: 768 } }));
  await context.request.post(`${server.url}api/login`, { data: { name: "olga", password: "olga-password" } });
  const meeting = await (await context.request.post(`${server.url}api/meetings`, { data: { title: "Replace" } })).json();
  const agent = start(BIN, ["share", meeting.presenter_url, "--display", display, "--ca", server.ca, "--name", "Ana's laptop"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const org = await context.newPage();
  await org.goto(meeting.join_url);
  await until("the agent's picture", () => org.evaluate(() => /** @type {any} */ (window).deskshare.stats.frames > 0));

  // Asked, she says no: nothing changes.
  /** @type {string[]} */
  const asked = [];
  let answer = false;
  org.on("dialog", (d) => {
    asked.push(d.message());
    if (answer) d.accept();
    else d.dismiss();
  });
  await org.locator("#present").click();
  await until("the question", async () => asked.length === 1);
  assert.equal(asked[0], "Ana's laptop is presenting. Replace their share with yours?");
  assert.equal(await presenting(org), false);
  assert.equal(agent.child.exitCode, null, "the agent still shares");

  // Asked again, she says yes: her share replaces the agent's, which says who took over.
  answer = true;
  await org.locator("#present").click();
  await until("presenting", () => presenting(org));
  await until("the agent stopped", async () => agent.child.exitCode !== null);
  assert.notEqual(agent.child.exitCode, 0);
  const said = agent.errors.join("\n");
  assert.match(said, /PRESENTER_REPLACED/);
  assert.match(said, /Olga took over presenting/);
  await shot(org, "present-7-replaced-the-agent");
});
