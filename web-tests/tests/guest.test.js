// The guest path end to end: the organiser signs in and creates a meeting on the home
// page; a guest opens the link, gives a name, waits in the lobby, is admitted by the
// organiser in another browser context, and sees the shared Xvfb screen pixel for pixel.
// Then the failures a guest can meet: denied at the lobby, and the meeting ended.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  addUser, browser, canvasRgb, diffPixels, grab, killAll, paint, shot, startServer, startXvfb, until, workdir, asThePage,
} from "./harness.js";

after(killAll);

test("guest joins, waits in the lobby, is admitted and sees the exact screen; denial and end show codes", async () => {
  const dir = workdir("guest");
  const display = await startXvfb(800, 600);
  await paint(display, 100, 80, 450, 333, 5);
  const server = await startServer(dir);
  addUser(server, dir, "olga", "olga-password", "Olga");
  const b = await browser();
  const errors = [];

  // The organiser signs in on the home page and creates a meeting with a lobby for guests.
  const orgContext = await b.newContext(asThePage(server, { viewport: { width: 1366, height: 768 } }));
  const home = await orgContext.newPage();
  home.on("pageerror", (e) => errors.push(String(e)));
  await home.goto(server.url);
  await home.getByLabel("Name").fill("olga");
  await home.getByLabel("Password").fill("olga-password");
  await home.getByRole("button", { name: "Sign in" }).click();
  await until("signed in", async () => (await home.locator("#whoami").innerText()).includes("Signed in as Olga"));
  await home.getByLabel("Title").fill("Quarterly review");
  await home.getByLabel("Who waits in the lobby").selectOption("guests");
  await home.getByLabel(/Most participants/).fill("50");
  assert.equal(await home.getByLabel("Guests (people without an account) may join").isChecked(), true);
  await home.getByRole("button", { name: "Create meeting" }).click();
  await until("meeting listed", async () => (await home.locator("#meetings").innerText()).includes("Quarterly review"));
  assert.match(await home.locator("#meetings").innerText(), /lobby: guests/);
  const mine = await (await orgContext.request.get(`${server.url}api/meetings`)).json();
  assert.equal(mine[0].policies["max-participants"], "50", "the capacity set in the form applies");
  assert.equal(mine[0].policies["allow-anonymous"], "on");
  assert.equal(await home.getByLabel("Guests (people without an account) may join").isChecked(), true,
    "the form is ready for the next meeting with the same defaults");
  await shot(home, "guest-0-home-created");
  const joinUrl = await home.locator("#meetings input").first().inputValue();
  const presenterUrl = await home.getByLabel("Presenter link", { exact: true }).inputValue();
  assert.match(joinUrl, /\/m\/[0-9a-f]{24}$/);

  // The organiser opens the meeting (signed in: no questions) and shares with the agent.
  const org = await orgContext.newPage();
  org.on("pageerror", (e) => errors.push(String(e)));
  org.on("dialog", (d) => d.accept());
  await org.goto(joinUrl);
  await until("organiser in", async () => (await org.locator("#roster").innerText()).includes("Olga (you)"));
  server.share(presenterUrl, display);

  // A guest on a phone-sized screen: asked for a name, then the lobby.
  const guestContext = await b.newContext({ ignoreHTTPSErrors: true, viewport: { width: 390, height: 844 } });
  const guest = await guestContext.newPage();
  guest.on("pageerror", (e) => errors.push(String(e)));
  await guest.goto(joinUrl);
  await until("join form", () => guest.getByLabel("Your name").isVisible());
  assert.equal(await guest.getByLabel("Passcode").isVisible(), false, "no passcode asked when there is none");
  await shot(guest, "guest-1-join-form");
  await guest.getByLabel("Your name").fill("Visitor");
  await guest.getByRole("button", { name: "Join", exact: true }).click();
  await until("guest in the lobby", async () => (await guest.locator("#overlay").innerText()).includes("Waiting in the lobby"));
  await shot(guest, "guest-2-lobby");

  const admit = org.getByRole("button", { name: "Admit: Visitor" });
  await until("the guest in the organiser's lobby list", () => admit.isVisible());
  await shot(org, "guest-3-organiser-sees-lobby");
  await admit.click();
  let diff = Infinity;
  await until("guest canvas equals the display", async () => {
    const shown = await canvasRgb(guest);
    diff = shown ? diffPixels(shown, grab(display, dir)) : Infinity;
    return diff === 0;
  });
  assert.equal(diff, 0);
  await until("guest marked in the roster", async () => /Visitor\s*attendee\s*guest/.test(await org.locator("#roster").innerText()));
  assert.equal(await guest.locator("#end-meeting").isVisible(), false, "guests cannot end the meeting");
  await shot(guest, "guest-4-admitted-phone");
  await shot(org, "guest-5-organiser");

  // Another guest is denied: they are told, with the code.
  const other = await (await b.newContext({ ignoreHTTPSErrors: true })).newPage();
  await other.goto(`${joinUrl}?name=Gatecrasher`);
  const deny = org.getByRole("button", { name: "Deny: Gatecrasher" });
  await until("second guest in the lobby", () => deny.isVisible());
  await deny.click();
  await until("denied with its code", async () => (await other.locator("#overlay").innerText()).includes("LOBBY_DENIED"));
  assert.match(await other.locator("#overlay").innerText(), /You were not let in/, "a decision, in words, not an error");
  assert.equal(await other.locator("#overlay a", { hasText: "Back to home" }).getAttribute("href"), "/");
  await shot(other, "guest-6-denied");

  // A guest leaves by the Leave button: told so, with a way back; gone from the roster.
  const leaver = await (await b.newContext({ ignoreHTTPSErrors: true })).newPage();
  await leaver.goto(`${joinUrl}?name=Leaver`);
  const admitLeaver = org.getByRole("button", { name: "Admit: Leaver" });
  await until("the leaver in the lobby", () => admitLeaver.isVisible());
  await admitLeaver.click();
  await until("the leaver in", async () => (await org.locator("#roster").innerText()).includes("Leaver"));
  await until("Leave offered", () => leaver.locator("#leave").isVisible());
  await leaver.locator("#leave").click();
  await until("told they left", async () => (await leaver.locator("#overlay").innerText()).includes("You left the meeting"));
  assert.equal(await leaver.locator("#overlay a", { hasText: "Join again" }).count(), 1);
  assert.equal(await leaver.locator("#leave").isVisible(), false, "nothing to leave any more");
  await until("the leaver gone for the organiser", async () => !(await org.locator("#roster").innerText()).includes("Leaver"));

  // The organiser ends the meeting: the end is said in words (the code in small print),
  // for the guest and for the organiser herself, with the way home; no active buttons.
  await org.locator("#end-meeting").click();
  await until("ended for the guest", async () => (await guest.locator("#overlay").innerText()).includes("MEETING_ENDED"));
  assert.match(await guest.locator("#overlay").innerText(), /The meeting has ended/);
  assert.equal(await guest.locator("#overlay a", { hasText: "Back to home" }).getAttribute("href"), "/");
  await until("ended for the organiser", async () => (await org.locator("#overlay").innerText()).includes("The meeting has ended"));
  assert.equal(await org.locator("#status").getAttribute("data-level"), "ok", "the organiser's own end is not an error");
  assert.equal(await org.locator("#end-meeting").isVisible(), false);
  assert.equal(await org.locator("#present").isVisible(), false);
  assert.equal(await org.locator("#roster button").first().isVisible(), false, "no roster actions after the end");
  assert.equal(await org.locator("#toast").isVisible(), false, "no stale toast");
  await shot(guest, "guest-7-ended");
  await shot(org, "guest-8-ended-organiser");
  assert.deepEqual(errors, []);
  await b.close();
});
