// A guest the organiser let in from the lobby stays in through a server restart: the
// page says it is reconnecting over the stale picture, then comes back in the meeting,
// not in the lobby; a reload of the page does the same.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { BIN, browser, killAll, shot, startServer, until, workdir } from "./harness.js";

after(killAll);

test("an admitted guest is not sent back to the lobby by a restart or a reload", async () => {
  const dir = workdir("restart");
  let server = await startServer(dir);
  const cli = (/** @type {string[]} */ args) =>
    execFileSync(BIN, [...args, "--server", server.url, "--token", server.token, "--ca", server.ca]).toString();
  const meeting = JSON.parse(cli(["meeting", "create", "--title", "Board", "--lobby", "everyone", "--json"]));
  const roster = () => JSON.parse(cli(["meeting", "roster", meeting.id, "--json"]));

  const b = await browser();
  const page = await (await b.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1366, height: 768 } })).newPage();
  await page.goto(`${meeting.join_url}?name=Gus`);
  await until("Gus in the lobby", async () => (await page.locator("#overlay").innerText()).includes("Waiting in the lobby"));
  const gus = roster().find((/** @type {any} */ p) => p.name === "Gus");
  cli(["meeting", "admit", meeting.id, String(gus.participant)]);
  const inMeeting = async () => (await page.locator("#overlay").innerText()).includes("Waiting for the presenter");
  await until("Gus in the meeting", inMeeting);

  // The server restarts.
  await server.stop();
  await until("the page to say it reconnects", async () => (await page.locator("#overlay").innerText()).includes("Reconnecting"));
  await shot(page, "restart-1-reconnecting");
  server = await startServer(dir, server.listen);
  await until("Gus back in the meeting", inMeeting, 60000);
  const back = roster().find((/** @type {any} */ p) => p.name === "Gus");
  assert.equal(back.in_lobby, false, "back without the lobby");
  await shot(page, "restart-2-back");

  // A reload comes back the same way (the proofs are kept for this tab).
  await page.reload();
  await until("Gus in the meeting after a reload", inMeeting, 60000);
  const reloaded = roster().filter((/** @type {any} */ p) => p.name === "Gus");
  assert.ok(reloaded.every((/** @type {any} */ p) => !p.in_lobby), JSON.stringify(reloaded));
});
