// The browser's "Test my connection" page (/check) in real headless Chromium: every step
// passes against a good server; behind a real nginx that does not pass WebSocket it names
// the websocket step with WEBSOCKET_BLOCKED; a failed join links to it.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { BIN, browser, killAll, shot, start, startServer, until, workdir } from "./harness.js";

after(killAll);

/** A free TCP port. @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("node:net").AddressInfo} */ (s.address());
      s.close(() => resolve(port));
    });
  });
}

/** The steps as the page shows them: name → outcome (and code). */
async function steps(page) {
  return page.$$eval("#check-steps li", (lis) =>
    lis.map((li) => ({ step: li.dataset.step, outcome: li.dataset.outcome, code: li.dataset.code || null })),
  );
}

test("the connection check passes on a good server and names the broken step behind a bad proxy", async () => {
  const dir = workdir("check");
  const server = await startServer(dir);
  const b = await browser();
  const context = await b.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();

  await page.goto(`${server.url}check`);
  await until("the check to finish", async () => (await page.locator("#check-status").innerText()) !== "Checking…", 60000);
  const good = await steps(page);
  assert.deepEqual(good.map((s) => s.step), ["https", "websocket", "round trip", "throughput", "browser", "screen"]);
  assert.ok(good.every((s) => s.outcome === "pass"), JSON.stringify(good));
  assert.equal(await page.locator("#check-status").innerText(), "Everything works");
  const report = await page.evaluate(() => /** @type {any} */ (window).deskshareCheck.report());
  assert.match(report, /ok {3}round trip: round trip p50 [\d.]+ ms/);
  assert.match(report, /ok {3}throughput: [\d.]+ Mbit\/s to this computer/);
  await shot(page, "check-1-good");

  // nginx in front, not set up for WebSocket (no Upgrade headers passed on).
  const port = await freePort();
  const root = join(dir, "nginx");
  mkdirSync(join(root, "tmp"), { recursive: true });
  const key = join(dir, "data", "tls", "key.pem");
  writeFileSync(
    join(root, "nginx.conf"),
    `daemon off; master_process off; worker_processes 1; pid ${root}/nginx.pid; error_log ${root}/error.log;
     events {}
     http { access_log off; client_body_temp_path ${root}/tmp; proxy_temp_path ${root}/tmp;
       fastcgi_temp_path ${root}/tmp; uwsgi_temp_path ${root}/tmp; scgi_temp_path ${root}/tmp;
       server { listen 127.0.0.1:${port} ssl; ssl_certificate ${server.ca}; ssl_certificate_key ${key};
         location / { proxy_pass ${server.url.replace(/\/$/, "")}; proxy_ssl_verify off; } } }`,
  );
  start("nginx", ["-p", root, "-c", join(root, "nginx.conf")]);
  const viaNginx = `https://127.0.0.1:${port}/`;
  await until("nginx to answer", async () => {
    try {
      return (await context.request.get(`${viaNginx}healthz`)).ok();
    } catch {
      return false;
    }
  });
  await page.goto(`${viaNginx}check`);
  await until("the check behind nginx to finish", async () => (await page.locator("#check-status").innerText()) !== "Checking…", 60000);
  const bad = await steps(page);
  assert.deepEqual(bad[0], { step: "https", outcome: "pass", code: null }, "plain requests pass nginx");
  assert.deepEqual(bad[1], { step: "websocket", outcome: "fail", code: "WEBSOCKET_BLOCKED" });
  assert.ok(bad.slice(2).every((s) => s.outcome === "skip"), JSON.stringify(bad));
  assert.match(await page.locator("#check-steps").innerText(), /What to do: configure the reverse proxy to pass WebSocket/);
  await shot(page, "check-2-websocket-blocked");

  // The failed step was reported to the server (plain HTTPS passes nginx).
  const admin = { authorization: `Bearer ${server.token}` };
  const diagnosis = async () => (await context.request.get(`${server.url}api/admin/diagnose?since=1h`, { headers: admin })).json();
  await until("the check's report", async () => (await diagnosis()).spread.reports === 1);
  let d = await diagnosis();
  assert.equal(d.groups[0].code, "WEBSOCKET_BLOCKED");
  assert.equal(d.groups[0].hop, "websocket");
  assert.deepEqual(d.groups[0].clients, [["browser", 1]]);

  // Joining a meeting through the same nginx: the page does not reconnect for ever, it
  // names the broken hop (HTTPS works, the WebSocket does not) and reports it too.
  const meeting = server.createMeeting("Behind a bad proxy");
  const id = meeting.id;
  await page.goto(`${viaNginx}m/${id}?name=Outside`);
  await until("the join failure named", async () => (await page.locator("#overlay").innerText()).includes("WEBSOCKET_BLOCKED"));
  assert.match(await page.locator("#overlay").innerText(), /WebSocket/);
  assert.equal(await page.locator("#overlay a", { hasText: "Test my connection" }).getAttribute("href"), "/check");
  await shot(page, "check-3-join-websocket-blocked");
  await until("the join's report", async () => (await diagnosis()).spread.reports === 2);
  d = await diagnosis();
  assert.equal(d.groups.length, 1, JSON.stringify(d.groups));
  assert.equal(d.spread.computers, 1, "one browser profile is one computer");
  assert.equal(d.verdict.layer, "client-machine");
  const meetingOnly = await (await context.request.get(`${server.url}api/admin/diagnose?since=1h&meeting=${id}`, { headers: admin })).json();
  assert.equal(meetingOnly.spread.reports, 1, "the join's report names its meeting");

  // An administrator's home page shows the same diagnosis.
  execFileSync(BIN, ["admin", "user", "add", "boss", "--admin", "--password-stdin", "--server", server.url, "--token", server.token, "--ca", server.ca], { input: "boss-password\n" });
  const adminPage = await (await b.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1366, height: 768 } })).newPage();
  await adminPage.goto(server.url);
  await adminPage.fill("#sign-in-name", "boss");
  await adminPage.fill("#sign-in-password", "boss-password");
  await adminPage.click("#sign-in button[type=submit]");
  await until("the diagnosis card", async () => (await adminPage.locator("#diagnosis").innerText()).includes("Likely layer"));
  const card = await adminPage.locator("#diagnosis-card").innerText();
  assert.match(card, /2 reports from 1 person on 1 computer/);
  assert.match(card, /WEBSOCKET_BLOCKED\s+websocket\s+2/);
  await adminPage.locator("#diagnosis-card").scrollIntoViewIfNeeded();
  await shot(adminPage, "check-4-admin-diagnosis");

  // A link to no meeting is not a connection problem: its own page, no check link.
  await page.goto(`${server.url}m/000000000000000000000000`);
  await until("the unknown-link page", async () => (await page.locator("#overlay").innerText()).includes("This meeting link does not work"));
  assert.equal(await page.locator("#overlay a", { hasText: "Test my connection" }).count(), 0);
});
