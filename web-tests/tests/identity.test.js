// Who joins: a signed-in user goes straight in under their own name, or chooses to join
// as a guest; when the sign-in stops working (account disabled), the join page says why,
// with its code, and offers to join as a guest because the meeting allows guests.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, addUser, browser, killAll, shot, startServer, until, workdir, asThePage } from "./harness.js";

after(killAll);

test("signed-in join, join as a guest instead, and a refused sign-in offering guest join", async () => {
  const dir = workdir("identity");
  const server = await startServer(dir);
  addUser(server, dir, "dora", "dora-password", "Dora");
  const meeting = server.createMeeting("Identity");
  const b = await browser();
  const context = await b.newContext(asThePage(server));
  assert.equal((await context.request.post(`${server.url}api/login`, { data: { name: "dora", password: "dora-password" } })).status(), 200);

  // Signed in: no questions, her own name, not a guest.
  const page = await context.newPage();
  await page.goto(meeting.join_url);
  await until("in as Dora", async () => /Dora \(you\)\s*attendee/.test(await page.locator("#roster").innerText()));
  assert.doesNotMatch(await page.locator("#roster").innerText(), /guest/);
  await page.close();

  // The admin disables her account, which ends her sessions: the page says why (her
  // sign-in ended) and offers to join as a guest.
  const token = readFileSync(join(dir, "data", "admin-token"), "utf8").trim();
  execFileSync(BIN, ["admin", "user", "disable", "dora", "--server", server.url, "--token", token, "--ca", server.ca]);
  const again = await context.newPage();
  await again.goto(meeting.join_url);
  await until("refusal explained", async () => (await again.locator("#join-error").innerText()).includes("SESSION_EXPIRED"));
  assert.equal(await again.getByLabel("Your name").isVisible(), true, "offered to join as a guest");
  await shot(again, "identity-1-account-disabled");
  await again.getByLabel("Your name").fill("Dora from outside");
  await again.getByRole("button", { name: "Join", exact: true }).click();
  await until("in as a guest", async () => /Dora from outside \(you\)\s*attendee\s*guest/.test(await again.locator("#roster").innerText()));
  await shot(again, "identity-2-joined-as-guest");

  // A signed-in user may also choose to join as a guest, under another name.
  addUser(server, dir, "ed", "ed-password", "Ed");
  const locked = await (await context.request.post(`${server.url}api/meetings`, {
    data: { title: "Locked", passcode: "9876" },
    headers: { authorization: `Bearer ${token}` },
  })).json();
  // Ed is not signed in yet: from the join page he signs in, and comes back to it.
  const edContext = await b.newContext(asThePage(server));
  const edAsGuest = await edContext.newPage();
  await edAsGuest.goto(locked.join_url);
  await until("join form as a guest", () => edAsGuest.getByLabel("Your name").isVisible());
  await edAsGuest.getByRole("link", { name: "Sign in" }).click();
  await edAsGuest.getByLabel("Name").fill("ed");
  await edAsGuest.getByLabel("Password").fill("ed-password");
  await edAsGuest.getByRole("button", { name: "Sign in" }).click();
  await until("back on the join page, signed in", async () =>
    edAsGuest.url() === locked.join_url && (await edAsGuest.locator("#join-who").innerText()).includes("signed in as Ed"));
  const ed = await edContext.newPage();
  const created = await edContext.request.post(`${server.url}api/meetings`, { data: { title: "Ed's", passcode: "1234" } });
  const edMeeting = await created.json();
  // Ed's own meeting has a passcode, which its organiser never needs: in at once.
  await ed.goto(edMeeting.join_url);
  await until("Ed in as organiser", async () => /Ed \(you\)\s*organiser/.test(await ed.locator("#roster").innerText()));
  // Asked for the passcode of the locked meeting, Ed chooses to join as a guest instead.
  await until("join form for Ed", () => edAsGuest.getByLabel("Passcode").isVisible());
  assert.match(await edAsGuest.locator("#join-who").innerText(), /signed in as Ed/);
  assert.equal(await edAsGuest.getByLabel("Your name").isVisible(), false, "signed in: no name asked");
  await edAsGuest.getByRole("button", { name: "Join as a guest instead" }).click();
  await edAsGuest.getByLabel("Your name").fill("Anonymous reviewer");
  await edAsGuest.getByLabel("Passcode").fill("9876");
  await shot(edAsGuest, "identity-3-guest-instead");
  await edAsGuest.getByRole("button", { name: "Join", exact: true }).click();
  await until("Ed in as a guest", async () => /Anonymous reviewer \(you\)\s*attendee\s*guest/.test(await edAsGuest.locator("#roster").innerText()));
  await b.close();
});
