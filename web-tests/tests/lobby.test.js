// The organiser admits a guest from the lobby in the browser; the roster marks guests.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ARTIFACTS, BIN, browser, killAll, startServer, until, workdir } from "./harness.js";

after(killAll);

test("organiser admits a guest from the lobby; roster shows roles and guests", async () => {
  const dir = workdir("lobby");
  const server = await startServer(dir);
  const token = readFileSync(join(dir, "data", "admin-token"), "utf8").trim();
  execFileSync(BIN, ["admin", "user", "add", "olga", "--display-name", "Olga", "--password-stdin", "--server", server.url, "--token", token, "--ca", server.ca], {
    input: "olga-password\n",
  });
  const b = await browser();
  const organiser = await b.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1366, height: 768 } });
  const login = await organiser.request.post(`${server.url}api/login`, { data: { name: "olga", password: "olga-password" } });
  assert.equal(login.status(), 200);
  const created = await organiser.request.post(`${server.url}api/meetings`, { data: { title: "Lobby test", lobby: "everyone" } });
  assert.equal(created.status(), 201);
  const meeting = await created.json();

  const org = await organiser.newPage();
  await org.goto(meeting.join_url);
  await until("organiser in the roster", async () => (await org.locator("#roster").innerText()).includes("Olga (you)"));
  assert.match(await org.locator("#roster").innerText(), /organiser/);
  assert.equal(await org.locator("#end-meeting").isVisible(), true, "organisers can end the meeting");

  const guestContext = await b.newContext({ ignoreHTTPSErrors: true, viewport: { width: 390, height: 844 } });
  const guest = await guestContext.newPage();
  await guest.goto(`${meeting.join_url}?name=Visitor`);
  await until("guest waiting in the lobby", async () => (await guest.locator("#overlay").innerText()).includes("Waiting in the lobby"));
  await guest.screenshot({ path: join(ARTIFACTS, "lobby-1-guest-waiting.png") });

  const admit = org.getByRole("button", { name: "Admit: Visitor" });
  await until("the guest in the organiser's lobby list", () => admit.isVisible());
  await org.screenshot({ path: join(ARTIFACTS, "lobby-2-organiser-sees-lobby.png") });
  await admit.click();
  await until("guest admitted", async () => (await guest.locator("#overlay").innerText()).includes("Waiting for the presenter"));
  await until("guest listed as guest", async () => /Visitor\s*attendee\s*guest/.test(await org.locator("#roster").innerText()));
  assert.equal(await guest.locator("#end-meeting").isVisible(), false, "guests cannot end the meeting");
  await org.screenshot({ path: join(ARTIFACTS, "lobby-3-admitted.png") });

  // The organiser ends the meeting; the guest is told, with its code.
  org.on("dialog", (d) => d.accept());
  await org.locator("#end-meeting").click();
  await until("meeting ended for the guest", async () => (await guest.locator("#overlay").innerText()).includes("MEETING_ENDED"));
  await guest.screenshot({ path: join(ARTIFACTS, "lobby-4-ended.png") });
  await b.close();
});
