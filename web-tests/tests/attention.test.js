// What the organiser has not seen: with People & chat folded away, a knock at the lobby
// and a new message show as a badge, a count in the tab title, and (for the knock) a
// toast; opening the panel clears them. The counting rules are checked in Node too.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { note, nothingUnseen, titleWith, total } from "../../web/app/attention.js";
import { BIN, addUser, browser, killAll, shot, startServer, until, workdir } from "./harness.js";

after(killAll);

test("the counting rules", () => {
  let u = nothingUnseen();
  u = note(u, { type: "chat", count: 2, looking: false });
  assert.equal(total(u), 2);
  u = note(u, { type: "chat", count: 5, looking: true });
  assert.equal(total(u), 2, "messages seen as they come do not count");
  u = note(u, { type: "lobby", waiting: [7], looking: false });
  assert.equal(u.knocks, 1);
  u = note(u, { type: "lobby", waiting: [7], looking: false });
  assert.equal(u.knocks, 1, "the same person again is not a new knock");
  u = note(u, { type: "lobby", waiting: [7, 9], looking: false });
  assert.equal(u.knocks, 2);
  u = note(u, { type: "lobby", waiting: [9], looking: false });
  assert.equal(u.knocks, 1, "someone admitted or gone takes their knock back");
  assert.equal(titleWith("Board — deskshare", u), "(3) Board — deskshare");
  u = note(u, { type: "seen" });
  assert.equal(total(u), 0);
  assert.deepEqual(u.waiting, [9], "who waits is still known after seeing");
  assert.equal(titleWith("Board — deskshare", u), "Board — deskshare");
});

test("a folded panel shows knocks and messages as a badge, a title count and a toast", async () => {
  const dir = workdir("attention");
  const server = await startServer(dir);
  addUser(server, dir, "olga", "olga-password", "Olga");
  const config = join(dir, "olga-cli");
  const env = { ...process.env, DESKSHARE_CONFIG: config };
  execFileSync(BIN, ["login", server.url, "--name", "olga", "--password-stdin", "--ca", server.ca], { env, input: "olga-password\n" });
  const meeting = JSON.parse(execFileSync(BIN, ["meeting", "create", "--title", "Board", "--lobby", "guests", "--json"], { env }).toString());

  const b = await browser();
  const olga = await (await b.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1366, height: 768 } })).newPage();
  await olga.goto(server.url);
  await olga.fill("#sign-in-name", "olga");
  await olga.fill("#sign-in-password", "olga-password");
  await olga.click("#sign-in button[type=submit]");
  await until("Olga signed in", async () => (await olga.locator("#whoami").innerText()).includes("Olga"));
  await olga.goto(meeting.join_url);
  await until("Olga in her meeting", async () => (await olga.locator("#status").innerText()).includes("Nobody is presenting"));
  await olga.click("#side-toggle");
  const badge = () => olga.locator("#side-toggle .badge");

  // A guest knocks.
  const gus = await (await b.newContext({ ignoreHTTPSErrors: true })).newPage();
  await gus.goto(`${meeting.join_url}?name=Gus`);
  await until("the knock shown", async () => (await badge().isVisible()) && (await badge().innerText()) === "1");
  assert.match(await olga.title(), /^\(1\) Board — deskshare$/);
  assert.match(await olga.locator("#toast").innerText(), /Gus is waiting in the lobby/);
  await shot(olga, "attention-1-knock");

  // "Show" opens the panel: seen; she lets him in.
  await olga.locator("#toast button", { hasText: "Show" }).click();
  await until("the badge cleared", async () => !(await badge().isVisible()));
  assert.equal(await olga.title(), "Board — deskshare");
  await olga.locator("#roster button", { hasText: "Admit" }).click();
  await until("Gus in", async () => (await gus.locator("#status").innerText()).includes("Waiting for presenter"));

  // Folded again, a message arrives.
  await olga.click("#side-toggle");
  await gus.getByRole("textbox", { name: "Message" }).fill("Good morning");
  await gus.getByRole("textbox", { name: "Message" }).press("Enter");
  await until("the message shown", async () => (await badge().isVisible()) && (await badge().innerText()) === "1");
  assert.match(await olga.title(), /^\(1\) /);
  await shot(olga, "attention-2-message");
  await olga.click("#side-toggle");
  await until("seen", async () => !(await badge().isVisible()));
  assert.equal(await olga.title(), "Board — deskshare");
});
