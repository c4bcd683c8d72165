// A 5 s network cut (every packet to and from the server's port dropped by iptables, as
// a flaky Wi-Fi or a VPN re-keying does) in the middle of a meeting: the agent, a CLI
// viewer and a browser all come back by themselves and show what changed on the shared
// display during the cut, exactly; no failure is reported for a cut that healed.
// Needs root for iptables (CI runs as root).

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  BIN, browser, canvasRgb, diffPixels, grab, killAll, mapped, shot, sleep, start, startServer, startXvfb, until, workdir,
} from "./harness.js";

/** @type {string[][]} */
const rules = [];

/** Drops every packet to or from `port` on this machine. @param {number} port */
function cut(port) {
  for (const dir of ["--dport", "--sport"]) {
    const rule = ["INPUT", "-p", "tcp", dir, String(port), "-j", "DROP"];
    execFileSync("iptables", ["-w", "-I", ...rule]);
    rules.push(rule);
  }
}

function heal() {
  while (rules.length) execFileSync("iptables", ["-w", "-D", .../** @type {string[]} */ (rules.pop())]);
}

after(async () => {
  heal();
  await killAll();
});

/** The CLI viewer's last frame number from its --stats lines. @param {{lines: string[]}} viewer */
function lastFrame(viewer) {
  const line = [...viewer.lines].reverse().find((l) => l.startsWith("stats "));
  const m = line && / last_frame=(\d+)/.exec(line);
  return m ? Number(m[1]) : 0;
}

test("agent, CLI viewer and browser survive a 5 s cut", { skip: process.getuid?.() !== 0 && "needs root for iptables" }, async () => {
  const dir = workdir("cut");
  const display = await startXvfb(900, 600);
  const term = start("xterm", ["-display", display, "-geometry", "60x12+0+0", "+bc", "-e", "bash", "-c", "echo before the cut; exec cat"]);
  await mapped(display, term);
  const server = await startServer(dir);
  const port = Number(new URL(server.url).port);
  const meeting = server.createMeeting("Cut");
  const share = server.share(meeting.presenter_url, display);
  const viewer = start(BIN, ["view", meeting.join_url, "--stats", "--ca", server.ca]);

  const b = await browser();
  const context = await b.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  await page.goto(`${meeting.join_url}?name=Watcher`);
  const equalsDisplay = async () => {
    const shown = await canvasRgb(page);
    return shown ? diffPixels(shown, grab(display, dir)) === 0 : false;
  };
  await until("the browser to show the display", equalsDisplay, 60000);
  await until("the CLI viewer's first frame", () => lastFrame(viewer) > 0);
  const before = lastFrame(viewer);
  const pictureBefore = grab(display, dir);
  const x = { env: { ...process.env, DISPLAY: display } };
  execFileSync("xdotool", ["mousemove", "100", "60"], x);

  // Five seconds with no packets either way; the display changes meanwhile.
  cut(port);
  execFileSync("xdotool", ["type", "--delay", "40", "typed during the cut"], x);
  await sleep(5000);
  heal();
  assert.ok(diffPixels(pictureBefore, grab(display, dir)) > 0, "the display changed during the cut");

  // Everything comes back by itself, and shows what happened during the cut.
  await until("the browser to show the display after the cut", equalsDisplay, 90000);
  await until("the CLI viewer's newer frames", () => lastFrame(viewer) > before, 90000);
  assert.equal(await page.locator("#overlay").isHidden(), true, "no overlay once back");
  assert.match(await page.locator("#status").innerText(), /Connected/);
  assert.equal(share.child.exitCode, null, "the agent still shares");
  assert.equal(viewer.child.exitCode, null, "the CLI viewer still views");
  await shot(page, "cut-1-after");

  // A cut that healed is not a failure: nothing was reported.
  const res = await context.request.get(`${server.url}api/admin/diagnose?since=1h`, { headers: { authorization: `Bearer ${server.token}` } });
  const d = await res.json();
  assert.equal(d.spread.reports, 0, JSON.stringify(d.groups));
});
