// A meeting with a passcode: the join form asks for it with the name; a wrong one is
// refused with its code and the form asks again; the right one lets the guest in.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { addUser, browser, killAll, shot, startServer, until, workdir, asThePage } from "./harness.js";

after(killAll);

test("join form: wrong passcode refused with its code, right one joins", async () => {
  const dir = workdir("passcode");
  const server = await startServer(dir);
  addUser(server, dir, "olga", "olga-password", "Olga");
  const b = await browser();
  const organiser = await b.newContext(asThePage(server));
  await organiser.request.post(`${server.url}api/login`, { data: { name: "olga", password: "olga-password" } });
  const created = await organiser.request.post(`${server.url}api/meetings`, { data: { title: "Secret", passcode: "4711" } });
  const meeting = await created.json();

  const guest = await (await b.newContext({ ignoreHTTPSErrors: true })).newPage();
  await guest.goto(`${meeting.join_url}?name=Pat`);
  await until("passcode asked", () => guest.getByLabel("Passcode").isVisible());
  assert.equal(await guest.getByLabel("Your name").inputValue(), "Pat", "the name from the link is kept");
  await shot(guest, "passcode-1-asked");

  await guest.getByLabel("Passcode").fill("1111");
  await guest.getByRole("button", { name: "Join", exact: true }).click();
  const error = guest.locator("#join-error");
  await until("wrong passcode refused", async () => (await error.innerText()).includes("PASSCODE_INVALID") && (await guest.getByLabel("Passcode").isVisible()));
  await shot(guest, "passcode-2-wrong");

  await guest.getByLabel("Passcode").fill("4711");
  await guest.getByRole("button", { name: "Join", exact: true }).click();
  await until("joined", async () => (await guest.locator("#overlay").innerText()).includes("Waiting for the presenter"));
  assert.match(await guest.locator("#status").innerText(), /Waiting for presenter/);
  assert.equal(await guest.locator("#join").isHidden(), true);
  await shot(guest, "passcode-3-joined");
  await b.close();
});
