// Real parts for browser tests: Xvfb, the deskshare binary, headless Debian chromium.

import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, rmSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

export const ROOT = resolve(import.meta.dirname, "../..");
const TARGET = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(ROOT, "target");
export const BIN = join(TARGET, "debug", "deskshare");
export const ARTIFACTS = join(TARGET, "web-artifacts");
const TOOL = (/** @type {string} */ name) => join(TARGET, "debug", name);

/** @type {import("node:child_process").ChildProcess[]} */
const children = [];
/** Browsers launched by this test file; closed even when a test fails, so it cannot hang. */
const browsers = [];
function killChildren() {
  for (const c of children.splice(0)) c.kill("SIGKILL");
}
/** Ends everything a test started: browsers, servers, agents, Xvfb. Use with `after`. */
export async function killAll() {
  await Promise.all(browsers.splice(0).map((b) => b.close().catch(() => {})));
  killChildren();
}
process.on("exit", killChildren);

/** Spawns a process and collects its stdout lines (and its stderr lines, with
 * `stdio: ["ignore", "pipe", "pipe"]`). */
export function start(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"], ...opts });
  children.push(child);
  const collect = (stream, into) => {
    let buf = "";
    stream?.on("data", (d) => {
      buf += d;
      const parts = buf.split("\n");
      buf = parts.pop() ?? "";
      into.push(...parts);
    });
  };
  const lines = [];
  const errors = [];
  collect(child.stdout, lines);
  collect(child.stderr, errors);
  return { child, lines, errors };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until a program started with `start` has a window mapped on `display` (xterm,
 * ffplay and SDL set _NET_WM_PID): started is not yet drawn. Returns the window id.
 */
export async function mapped(display, proc) {
  return until(`a window of ${proc.child.spawnfile}`, () => {
    try {
      const out = execFileSync("xdotool", ["search", "--onlyvisible", "--pid", String(proc.child.pid)], {
        env: { ...process.env, DISPLAY: display },
        stdio: ["ignore", "pipe", "ignore"],
      });
      return out.toString().trim().split("\n")[0] || null;
    } catch {
      return null; // xdotool exits 1 while there is none
    }
  });
}

/** Where X's pointer is on `display`. */
export function pointer(display) {
  const out = execFileSync("xdotool", ["getmouselocation", "--shell"], { env: { ...process.env, DISPLAY: display } });
  const get = (/** @type {string} */ k) => Number((out.toString().match(new RegExp(`^${k}=(\\d+)`, "m")) || [])[1]);
  return { x: get("X"), y: get("Y") };
}

/** Polls `f` until it returns a truthy value. */
export async function until(what, f, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Starts Xvfb on a free display (it picks one and tells us through -displayfd). */
export async function startXvfb(width, height) {
  const child = spawn("Xvfb", ["-displayfd", "3", "-screen", "0", `${width}x${height}x24`, "-nolisten", "tcp"], {
    stdio: ["ignore", "ignore", "ignore", "pipe"],
  });
  children.push(child);
  const n = await new Promise((res, rej) => {
    let s = "";
    child.stdio[3].on("data", (d) => {
      s += d;
      if (s.includes("\n")) res(s.trim());
    });
    child.on("exit", () => rej(new Error("Xvfb exited")));
  });
  return `:${n}`;
}

export function paint(display, x, y, w, h, seed) {
  const p = start(TOOL("ds-paint"), [display, x, y, w, h, seed].map(String));
  return until("picture window", () => p.lines.includes("ready"));
}

/** The display's pixels as RGB, by plain GetImage. */
export function grab(display, dir) {
  const file = join(dir, "truth.rgb");
  const size = execFileSync(TOOL("ds-grab"), [display, file]).toString().trim();
  const [width, height] = size.split("x").map(Number);
  return { width, height, rgb: readFileSync(file) };
}

export function workdir(name) {
  const dir = join(TARGET, "tmp", "web", name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  return dir;
}

/** Starts `deskshare serve` on `dir`'s data; `listen` to come back on the same address. */
export async function startServer(dir, listen = "127.0.0.1:0") {
  const data = join(dir, "data");
  const s = start(BIN, ["serve", "--listen", listen, "--data", data]);
  const line = await until("server URL", () => s.lines.find((l) => l.startsWith("deskshare serving ")));
  const url = line.split(" ")[2];
  const ca = join(data, "tls", "cert.pem");
  const token = readFileSync(join(data, "admin-token"), "utf8").trim();
  return {
    url,
    ca,
    /** What it printed so far (stdout), a line each. */
    lines: s.lines,
    /** The admin token. */
    token,
    /** Stops the server (SIGTERM: it says goodbye to its sessions first). */
    async stop() {
      const exited = new Promise((r) => s.child.once("exit", r));
      s.child.kill("SIGTERM");
      await exited;
    },
    /** The address it listens on, to start it again there. */
    listen: new URL(url).host,
    createMeeting(title) {
      const out = execFileSync(BIN, ["meeting", "create", "--server", url, "--title", title, "--json", "--ca", ca], {
        env: { ...process.env, DESKSHARE_TOKEN: token },
      });
      return JSON.parse(out.toString());
    },
    share(presenterUrl, display, extra = []) {
      return start(BIN, ["share", presenterUrl, "--display", display, "--ca", ca, ...extra]);
    },
  };
}

export const CHROMIUM_FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--ignore-certificate-errors",
];

/** Chromium's own fake screen for getDisplayMedia, chosen without asking. */
export const FAKE_CAPTURE_FLAGS = [
  "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--auto-select-desktop-capture-source=Entire screen",
];

/** Headless Chromium; `env` for its own environment (e.g. the XDG home xdg-open reads). */
export async function browser(extraFlags = [], env = undefined) {
  const b = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: [...CHROMIUM_FLAGS, ...extraFlags], env });
  browsers.push(b);
  return b;
}

/** Adds a user with the admin token. */
/**
 * Context options for a person whose test also calls the REST API directly
 * (`context.request`): those calls carry the server's Origin, as the page's own fetches
 * do, because the server refuses cookie requests from any other origin.
 * @param {{url: string}} server
 * @param {object} [more] further context options
 */
export function asThePage(server, more = {}) {
  return { ignoreHTTPSErrors: true, ...more, extraHTTPHeaders: { origin: server.url.replace(/\/$/, "") } };
}

export function addUser(server, dir, name, password, displayName) {
  const token = readFileSync(join(dir, "data", "admin-token"), "utf8").trim();
  execFileSync(BIN, ["admin", "user", "add", name, "--display-name", displayName, "--password-stdin", "--server", server.url, "--token", token, "--ca", server.ca], {
    input: `${password}\n`,
  });
}

/** Saves a screenshot of a state under target/web-artifacts/, for a person to look at. */
export function shot(page, name) {
  return page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/**
 * Pixels from one of the page's snapshot hooks (`window.deskshare[hook]()`, which answers
 * `{width, height, rgba}`), as RGB.
 */
async function snapshotRgb(page, hook) {
  const b64 = await page.evaluate(async (hook) => {
    const snap = await /** @type {any} */ (window).deskshare[hook]();
    if (!snap.rgba) return null;
    const rgba = new Uint8Array(snap.rgba);
    const rgb = new Uint8Array((rgba.length / 4) * 3);
    for (let i = 0, o = 0; i < rgba.length; i += 4, o += 3) {
      rgb[o] = rgba[i]; rgb[o + 1] = rgba[i + 1]; rgb[o + 2] = rgba[i + 2];
    }
    let s = "";
    for (let i = 0; i < rgb.length; i += 0x8000) s += String.fromCharCode(...rgb.subarray(i, i + 0x8000));
    return { width: snap.width, height: snap.height, data: btoa(s) };
  }, hook);
  return b64 && { width: b64.width, height: b64.height, rgb: Buffer.from(b64.data, "base64") };
}

/** The page's screen pixels as RGB (from the render worker's canvas). */
export const canvasRgb = (page) => snapshotRgb(page, "snapshot");

/** What the page, presenting, last sent (the encoder's copy of what viewers have), as RGB. */
export const sentRgb = (page) => snapshotRgb(page, "presenterSnapshot");

/** Number of pixels that differ between two RGB images of the same size. */
export function diffPixels(a, b) {
  if (a.width !== b.width || a.height !== b.height) return Infinity;
  let n = 0;
  for (let i = 0; i < a.rgb.length; i += 3) {
    if (a.rgb[i] !== b.rgb[i] || a.rgb[i + 1] !== b.rgb[i + 1] || a.rgb[i + 2] !== b.rgb[i + 2]) n++;
  }
  return n;
}
