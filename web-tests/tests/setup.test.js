// First start: the server prints a one-time link; the first administrator sets a
// password with it in the browser and is signed in; the link does not work again, and
// a server that has an administrator prints none.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { browser, killAll, shot, startServer, until, workdir } from "./harness.js";

after(killAll);

test("the first administrator is made in the browser with the link printed at the first start", async () => {
  const dir = workdir("setup");
  const server = await startServer(dir);
  const line = await until("the setup line", () => server.lines.find((l) => l.startsWith("no administrator yet: open ")));
  const link = line.split(" ")[4];
  assert.match(link, /^https:\/\/127\.0\.0\.1:\d+\/setup#[0-9a-zA-Z_-]{20,}$/, line);
  assert.ok(server.lines.some((l) => l.includes("or: deskshare admin user add NAME --admin")), "the command way is said too");

  const b = await browser();
  const page = await (await b.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1366, height: 768 } })).newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const onPhone = await (await b.newContext({ ignoreHTTPSErrors: true, viewport: { width: 390, height: 844 } })).newPage();
  await onPhone.goto(link);
  await shot(onPhone, "setup-0-phone");
  await page.goto(link);
  await page.fill("#setup-name", "ada");
  await page.fill("#setup-display", "Ada Admin");
  await page.fill("#setup-password", "a-long-password");
  await page.fill("#setup-again", "another-password");
  await page.click("#setup button[type=submit]");
  await until("the mismatch said", async () => (await page.locator("#setup-error").innerText()).includes("The two passwords differ"));
  await shot(page, "setup-1-form");
  await page.fill("#setup-again", "a-long-password");
  await page.click("#setup button[type=submit]");
  await until("signed in at home", async () => new URL(page.url()).pathname === "/" && (await page.locator("#whoami").innerText()) === "Signed in as Ada Admin");
  await until("the administrator's card", () => page.locator("#diagnosis-card").isVisible());
  await shot(page, "setup-2-signed-in");

  // Used up: the same link refuses, in words and with its code.
  const again = await (await b.newContext({ ignoreHTTPSErrors: true })).newPage();
  await again.goto(link);
  await again.fill("#setup-name", "eve");
  await again.fill("#setup-password", "eve-password");
  await again.fill("#setup-again", "eve-password");
  await again.click("#setup button[type=submit]");
  await until("refused", async () => (await again.locator("#setup-error").innerText()).includes("SETUP_LINK_INVALID"));
  // A wrong code is refused the same way, before any password is hashed.
  const res = await again.context().request.post(`${server.url}api/setup`, {
    data: { code: "guess", name: "eve", password: "eve-password" },
    headers: { origin: server.url.replace(/\/$/, "") },
  });
  assert.equal(res.status(), 403);
  assert.equal((await res.json()).error.code, "SETUP_LINK_INVALID");

  // Started again, with an administrator: no setup link.
  await server.stop();
  const restarted = await startServer(dir, server.listen);
  await until("started", () => restarted.lines.some((l) => l.startsWith("listening on")));
  assert.equal(restarted.lines.some((l) => l.startsWith("no administrator yet")), false, restarted.lines.join("\n"));
  assert.deepEqual(errors, []);
  await b.close();
});
