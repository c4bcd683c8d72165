// The organiser's side, sharing with the deskshare app: Share my desktop on her page
// (the command to copy when no app answers, run exactly as shown), "You are presenting"
// and one Olga in the roster, a guest's control request asked on her page and on the
// shared screen (Allow / Deny, the first answer wins), Take back control and Stop
// sharing from her page; and the whole `deskshare:` path: Chromium opens the link with
// xdg-open, which finds the handler `deskshare install-handler` registered in a
// temporary XDG home, and the app asks on the screen before sharing.
//
// Chromium asks before opening an external link, in a dialog a headless browser cannot
// answer (and that blocks the page's input meanwhile); scripts/test.sh installs a
// managed policy that lets pages on 127.0.0.1 open deskshare: links without it
// (AutoLaunchProtocolsFromOrigins), as an organisation would for its own server.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import https from "node:https";
import { dirname, join } from "node:path";
import { BIN, addUser, asThePage, browser, killAll, mapped, shot, start, startServer, startXvfb, until, workdir } from "./harness.js";

after(killAll);

/** The agent's question windows open on `display` whose title matches `pattern`. */
function windowsNamed(display, pattern) {
  try {
    const out = execFileSync("xdotool", ["search", "--name", pattern], { env: { ...process.env, DISPLAY: display }, stdio: ["ignore", "pipe", "ignore"] });
    return out.toString().split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

/** Waits until the question window has the keyboard, then presses `keys` in it. */
async function answerOnScreen(display, pattern, keys) {
  const env = { ...process.env, DISPLAY: display };
  await until("the question window with the keyboard", () => {
    const [w] = windowsNamed(display, pattern);
    return w && execFileSync("xdotool", ["getwindowfocus"], { env }).toString().trim() === w;
  });
  execFileSync("xdotool", ["key", ...keys], { env });
}

const ASKS = "^deskshare: Gus asks to control this screen$";

/** A signed-in organiser's page in her meeting, at `viewport`. */
async function organiserPage(b, server, viewport) {
  const context = await b.newContext(asThePage(server, { viewport }));
  await context.request.post(`${server.url}api/login`, { data: { name: "olga", password: "olga-password" } });
  const meeting = await (await context.request.post(`${server.url}api/meetings`, { data: { title: "Board" } })).json();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(meeting.join_url);
  return { page, meeting, errors };
}

test("share my desktop: the command, one person presenting, consent on the page and the screen", async () => {
  const dir = workdir("share-desktop");
  const typed = join(dir, "typed.txt");
  const display = await startXvfb(900, 600);
  const term = start("xterm", ["-display", display, "-geometry", "60x10+0+0", "+bc", "-e", "sh", "-c", `exec cat > ${typed}`]);
  await mapped(display, term);
  await until("cat to run in the xterm", () => existsSync(typed));
  execFileSync("xdotool", ["mousemove", "100", "50"], { env: { ...process.env, DISPLAY: display } });
  const server = await startServer(dir);
  addUser(server, dir, "olga", "olga-password", "Olga");
  const b = await browser();
  const { page: olga, meeting, errors } = await organiserPage(b, server, { width: 1366, height: 768 });

  // Nobody presents: she is offered both ways, not told to wait for herself.
  await until("the organiser's empty meeting", async () => (await olga.locator("#overlay").innerText()).includes("Nobody is presenting yet"));
  assert.match(await olga.locator("#status").innerText(), /Nobody is presenting/);
  assert.equal(await olga.locator("#share-desktop").isVisible(), true);
  await shot(olga, "share-1-nobody-presenting");

  // Share my desktop: no handler in this browser, so after a moment the command.
  await olga.click("#share-desktop");
  await until("the share panel", () => olga.locator("#share-panel").isVisible());
  await until("the command offered", () => olga.locator("#share-fallback").isVisible(), 15000);
  const command = await olga.locator("#share-command input").inputValue();
  assert.match(command, /^deskshare share 'https:\/\/127\.0\.0\.1:\d+\/m\/[0-9a-f]{24}#share=s1\.[0-9a-z.]+' --ca sha256:[0-9a-f]{64}$/, command);
  assert.equal(await olga.locator("#share-download").getAttribute("href"), `${server.url}download/deskshare`);
  await shot(olga, "share-2-command");

  // The download is this server's own binary (its length and its first bytes; a debug
  // build is hundreds of megabytes, not worth reading whole here).
  const head = await new Promise((resolve, reject) => {
    const req = https.get(`${server.url}download/deskshare`, { rejectUnauthorized: false }, (res) => {
      res.once("data", (chunk) => {
        resolve({ status: res.statusCode, length: Number(res.headers["content-length"]), magic: chunk.subarray(0, 4), type: res.headers["content-type"] });
        req.destroy();
      });
    });
    req.on("error", reject);
  });
  assert.deepEqual(head, { status: 200, length: statSync(BIN).size, magic: Buffer.from([0x7f, 0x45, 0x4c, 0x46]), type: "application/octet-stream" });

  // Run exactly that, where `deskshare` is this build, on the display; no terminal, so
  // control requests are asked on the screen and on her page.
  const agent = start("bash", ["-c", command + " --allow-control ask"], {
    env: { ...process.env, DISPLAY: display, PATH: `${dirname(BIN)}:${process.env.PATH}` },
    stdio: ["ignore", "pipe", "pipe"],
  });
  await until("the agent sharing", () => agent.lines.some((l) => l.startsWith("status sharing")));
  await until("the panel closed", async () => !(await olga.locator("#share-panel").isVisible()));
  await until("you are presenting", async () => (await olga.locator("#status").innerText()).includes("You are presenting"));
  assert.match(await olga.locator("#overlay").innerText(), /You are presenting this computer's screen/);
  assert.equal(await olga.locator("#stop-share").isVisible(), true);
  assert.equal(await olga.locator("#share-desktop").isVisible(), false);
  await until("one Olga, presenting", async () => /Olga \(you\)\s*organiser\s*presenting/.test(await olga.locator("#roster").innerText()));
  assert.equal((await olga.locator("#roster").innerText()).match(/Olga/g)?.length, 1, "her app is her, not a second person");
  await shot(olga, "share-3-you-are-presenting");

  // A guest asks for control: her page asks, and so does a window on the shared screen.
  const gus = await (await b.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1366, height: 768 } })).newPage();
  await gus.goto(`${meeting.join_url}?name=Gus`);
  await until("Gus sees Olga presenting", async () => /Olga\s*organiser\s*presenting/.test(await gus.locator("#roster").innerText()));
  await until("Gus can ask", () => gus.locator("#control").isEnabled());
  await gus.click("#control");
  await until("asked on her page", () => olga.locator("#consent").isVisible());
  assert.equal(await olga.locator("#consent-text").innerText(), "Gus asks to control your screen.");
  await until("the roster says who asks", async () => /Gus\s*attendee\s*guest\s*asks for control/.test(await olga.locator("#roster").innerText()));
  await until("asked on the screen", () => windowsNamed(display, ASKS).length === 1);
  await until("Gus sees the window in the picture", async () => (await gus.locator("#control-state").innerText()).includes("waiting"));
  await shot(olga, "share-4-consent-on-the-page");
  await shot(gus, "share-5-requester-sees-the-question");

  // Gus clicks the window's Allow in his picture: nothing of his reaches the screen
  // before a grant, so the question stays open and nothing is typed.
  const geometry = execFileSync("xdotool", ["getwindowgeometry", "--shell", windowsNamed(display, ASKS)[0]], {
    env: { ...process.env, DISPLAY: display },
  }).toString();
  const g = Object.fromEntries(geometry.trim().split("\n").map((l) => l.split("=")).map(([k, v]) => [k, Number(v)]));
  const allowAt = { x: g.X + g.WIDTH - 14 - 96 - 14 - 48, y: g.Y + g.HEIGHT - 14 - 14 };
  const picture = await gus.locator("#cursor").boundingBox();
  assert.ok(picture);
  await gus.mouse.click(picture.x + (allowAt.x * picture.width) / 900, picture.y + (allowAt.y * picture.height) / 600);
  await gus.keyboard.press("Enter");
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(windowsNamed(display, ASKS).length, 1, "the requester's click did not answer the window");
  assert.match(await gus.locator("#control-state").innerText(), /waiting for the presenter to allow it/);
  assert.equal(readFileSync(typed, "utf8"), "", "nothing typed");

  // Deny on the page: Gus is told, the window goes.
  await olga.click("#consent-deny");
  await until("Gus refused", async () => (await gus.locator("#notice").innerText()).includes("CONTROL_DENIED"));
  await until("the window closed", () => windowsNamed(display, ASKS).length === 0);
  assert.equal(await olga.locator("#consent").isVisible(), false);

  // Again, Allow on the page: Gus types into the xterm.
  await gus.click("#control");
  await until("asked again", () => olga.locator("#consent").isVisible());
  await olga.click("#consent-allow");
  await until("Gus in control", async () => (await gus.locator("#control-state").innerText()) === "You are in control");
  await until("the window closed", () => windowsNamed(display, ASKS).length === 0);
  await gus.locator("#stage").focus();
  await gus.keyboard.type("allowed on the page");
  await gus.keyboard.press("Enter");
  await until("typed in the xterm", () => readFileSync(typed, "utf8").includes("allowed on the page\n"));
  await until("Take back offered", () => olga.locator("#take-back").isVisible());
  await shot(olga, "share-6-take-back-offered");

  // Take back from the page: Gus is told why; his keys go nowhere.
  await olga.click("#take-back");
  await until("Gus no longer in control", async () => (await gus.locator("#control-state").innerText()) === "");
  assert.match(await gus.locator("#notice").innerText(), /CONTROL_REVOKED_PRESENTER/);
  await until("Take back gone", async () => !(await olga.locator("#take-back").isVisible()));

  // On the screen: the window answers too (Tab to Allow, Return), and her page's
  // question goes away by itself.
  await gus.click("#control");
  await until("asked on the page", () => olga.locator("#consent").isVisible());
  await answerOnScreen(display, ASKS, ["Tab", "Return"]);
  await until("Gus in control again", async () => (await gus.locator("#control-state").innerText()) === "You are in control");
  await until("the page's question withdrawn", async () => !(await olga.locator("#consent").isVisible()));
  await gus.locator("#stage").focus();
  await gus.keyboard.type("allowed on the screen");
  await gus.keyboard.press("Enter");
  await until("typed again", () => readFileSync(typed, "utf8").includes("allowed on the screen\n"));
  assert.equal(readFileSync(typed, "utf8"), "allowed on the page\nallowed on the screen\n", "nothing arrived without a grant");

  // Stop sharing from her page ends the app's share.
  const exited = new Promise((r) => agent.child.once("exit", (code) => r(code)));
  await olga.click("#stop-share");
  const exit = await exited;
  assert.notEqual(exit, 0);
  assert.ok(agent.errors.some((l) => l.includes("PRESENTING_STOPPED")), agent.errors.join("\n"));
  await until("offered again", () => olga.locator("#share-desktop").isVisible());
  assert.deepEqual(errors, []);
  await b.close();
});

test("Share my desktop opens the installed app through xdg-open; it asks on the screen before sharing", async () => {
  const dir = workdir("share-handler");
  const display = await startXvfb(640, 400);
  const server = await startServer(dir);
  addUser(server, dir, "olga", "olga-password", "Olga");

  // A temporary XDG home with the handler, as `deskshare install-handler` makes it.
  const xdg = { XDG_DATA_HOME: join(dir, "xdg-data"), XDG_CONFIG_HOME: join(dir, "xdg-config"), HOME: join(dir, "home") };
  mkdirSync(xdg.HOME, { recursive: true });
  const env = { ...process.env, ...xdg, DISPLAY: display };
  const installed = execFileSync(BIN, ["install-handler"], { env }).toString();
  assert.match(installed, /deskshare: links now open .*deskshare share/);
  const entry = readFileSync(join(xdg.XDG_DATA_HOME, "applications", "deskshare.desktop"), "utf8");
  assert.match(entry, /^Exec=\/.*\/deskshare share %u$/m);
  assert.match(readFileSync(join(xdg.XDG_CONFIG_HOME, "mimeapps.list"), "utf8"), /^x-scheme-handler\/deskshare=deskshare\.desktop$/m);
  assert.equal(execFileSync("xdg-mime", ["query", "default", "x-scheme-handler/deskshare"], { env }).toString().trim(), "deskshare.desktop");

  // The browser runs in that home, on that display: its xdg-open finds the handler.
  const b = await browser([], env);
  const { page: olga } = await organiserPage(b, server, { width: 1366, height: 768 });
  await until("in the meeting", async () => (await olga.locator("#overlay").innerText()).includes("Nobody is presenting yet"));
  await olga.click("#share-desktop");
  const confirm = "^deskshare: Share this screen in a deskshare meeting\\?$";
  await until("the app asks on the screen first", () => windowsNamed(display, confirm).length === 1);
  assert.equal((await olga.locator("#status").innerText()).includes("You are presenting"), false, "nothing shared before the answer");
  await answerOnScreen(display, confirm, ["Tab", "Return"]);
  await until("you are presenting", async () => (await olga.locator("#status").innerText()).includes("You are presenting"));
  await until("one Olga, presenting", async () => /Olga \(you\)\s*organiser\s*presenting/.test(await olga.locator("#roster").innerText()));
  assert.equal(await olga.locator("#share-panel").isVisible(), false, "the panel closed by itself");
  await shot(olga, "share-7-opened-by-the-handler");

  // Cancel on the screen shares nothing.
  await olga.click("#stop-share");
  await until("offered again", () => olga.locator("#share-desktop").isVisible());
  // Opened without a terminal, the app said what happened in its log.
  const log = join(xdg.HOME, ".local", "state", "deskshare", "share.log");
  await until("the app's log", () => existsSync(log) && readFileSync(log, "utf8").includes("PRESENTING_STOPPED"));
  assert.match(readFileSync(log, "utf8"), /^--- deskshare share opened by a deskshare: link/m);
  assert.match(readFileSync(log, "utf8"), /^status sharing /m);
  await olga.click("#share-desktop");
  await until("asked again", () => windowsNamed(display, confirm).length === 1);
  await answerOnScreen(display, confirm, ["Escape"]);
  await until("the question gone", () => windowsNamed(display, confirm).length === 0);
  await until("the command offered", () => olga.locator("#share-fallback").isVisible(), 15000);
  assert.equal((await olga.locator("#status").innerText()).includes("You are presenting"), false, "cancelled: nothing shared");
  await b.close();
});
