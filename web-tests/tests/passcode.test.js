// A guest asked for a meeting's passcode: a wrong one is refused with its code, the right
// one lets them in.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ARTIFACTS, BIN, browser, killAll, startServer, until, workdir } from "./harness.js";

after(killAll);

test("passcode prompt: wrong passcode refused with its code, right one joins", async () => {
  const dir = workdir("passcode");
  const server = await startServer(dir);
  const token = readFileSync(join(dir, "data", "admin-token"), "utf8").trim();
  execFileSync(BIN, ["admin", "user", "add", "olga", "--password-stdin", "--server", server.url, "--token", token, "--ca", server.ca], {
    input: "olga-password\n",
  });
  const b = await browser();
  const organiser = await b.newContext({ ignoreHTTPSErrors: true });
  await organiser.request.post(`${server.url}api/login`, { data: { name: "olga", password: "olga-password" } });
  const created = await organiser.request.post(`${server.url}api/meetings`, { data: { title: "Secret", passcode: "4711" } });
  const meeting = await created.json();

  const guest = await (await b.newContext({ ignoreHTTPSErrors: true })).newPage();
  await guest.goto(meeting.join_url);
  const overlay = guest.locator("#overlay");
  await until("passcode asked", async () => (await overlay.innerText()).includes("PASSCODE_INVALID") && (await guest.locator("#passcode").isVisible()));
  await guest.screenshot({ path: join(ARTIFACTS, "passcode-1-asked.png") });

  await guest.locator("#passcode").fill("1111");
  await guest.getByRole("button", { name: "Join" }).click();
  await until("wrong passcode refused", async () => (await overlay.innerText()).includes("PASSCODE_INVALID") && (await guest.locator("#passcode").isVisible()));

  await guest.locator("#passcode").fill("4711");
  await guest.getByRole("button", { name: "Join" }).click();
  await until("joined", async () => (await overlay.innerText()).includes("Waiting for the presenter"));
  assert.match(await guest.locator("#status").innerText(), /Waiting for presenter/);
  await guest.screenshot({ path: join(ARTIFACTS, "passcode-2-joined.png") });
  await b.close();
});
