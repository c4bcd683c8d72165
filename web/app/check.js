// The "Test my connection" page (/check): the steps of `deskshare doctor` a browser can
// take — HTTPS, the server's answer, WebSocket, round trip, throughput both ways, what
// this browser can decode, the screen — each named, stopping at the first that fails,
// with a text report to copy for support.

import { el } from "./dom.js";
import { loadErrorTable, explain } from "./errors.js";
import { reportFailure, flushReports } from "./report.js";

/** The hop of a failed step, for the failure report; the browser's own abilities are
 * not the network's and are not reported. @type {Record<string, string>} */
const REPORTED_HOP = { https: "tcp", websocket: "websocket", "round trip": "media", throughput: "media" };

/** @typedef {{name: string, ok: boolean, summary: string, code?: string}} CheckStep */

const PINGS = 20;
const BYTES = 4 * 1024 * 1024;

/** A step's outcome; throwing `{code, message}` fails it. @typedef {() => Promise<string>} StepRun */

/** @param {string} code @param {string} message */
const fail = (code, message) => Object.assign(new Error(message), { code });

async function https() {
  if (location.protocol !== "https:") throw fail("URL_INVALID", "this page was not loaded over HTTPS");
  const res = await fetch("/healthz", { cache: "no-store" });
  const version = res.headers.get("x-deskshare-version");
  if (!res.ok || !version) throw fail("SERVER_UNREACHABLE", `HTTP ${res.status} from a server that is not deskshare`);
  const date = res.headers.get("date");
  const skew = date ? Math.round((Date.parse(date) - Date.now()) / 1000) : 0;
  if (Math.abs(skew) > 300) throw fail("CLOCK_SKEW", `the server's clock is ${skew} s off this computer's`);
  return `deskshare ${version} answers over HTTPS`;
}

/** Opens the check socket. @returns {Promise<WebSocket>} */
function openSocket() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://${location.host}/api/check/ws`);
    ws.binaryType = "arraybuffer";
    const timer = setTimeout(() => {
      ws.close();
      reject(fail("WEBSOCKET_BLOCKED", "no WebSocket within 15 s"));
    }, 15000);
    ws.onopen = () => {
      clearTimeout(timer);
      resolve(ws);
    };
    ws.onerror = () => {
      clearTimeout(timer);
      reject(fail("WEBSOCKET_BLOCKED", "the WebSocket upgrade did not reach the server: a proxy on the way may not pass WebSocket"));
    };
  });
}

/** The next text message, counting binary bytes before it. @param {WebSocket} ws */
function nextText(ws) {
  return new Promise((resolve, reject) => {
    let binary = 0;
    const timer = setTimeout(() => reject(fail("CONNECTION_LOST", "the check went silent")), 20000);
    ws.onmessage = (ev) => {
      if (typeof ev.data !== "string") {
        binary += ev.data.byteLength;
        return;
      }
      clearTimeout(timer);
      const msg = JSON.parse(ev.data);
      if (msg.type === "error") reject(fail(msg.code, msg.message));
      else resolve({ msg, binary });
    };
    ws.onclose = () => reject(fail("CONNECTION_LOST", "the connection closed during the check"));
  });
}

/** @param {number} bytes @param {number} ms */
const mbit = (bytes, ms) => ((bytes * 8) / 1e6 / Math.max(ms / 1000, 1e-6)).toFixed(1);

/** @type {WebSocket | null} */
let socket = null;

async function websocket() {
  socket = await openSocket();
  return "the WebSocket upgrade reached the server";
}

async function roundTrip() {
  const ws = /** @type {WebSocket} */ (socket);
  const times = [];
  for (let seq = 0; seq < PINGS; seq++) {
    const t = performance.now();
    ws.send(JSON.stringify({ type: "ping", seq }));
    const { msg } = await nextText(ws);
    if (msg.type !== "pong" || msg.seq !== seq) throw fail("PROTOCOL_VIOLATION", `expected pong ${seq}`);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const p = (/** @type {number} */ q) => times[Math.round((times.length - 1) * q)].toFixed(1);
  return `round trip p50 ${p(0.5)} ms, p95 ${p(0.95)} ms (${PINGS} pings)`;
}

async function throughput() {
  const ws = /** @type {WebSocket} */ (socket);
  let t = performance.now();
  ws.send(JSON.stringify({ type: "download", bytes: BYTES }));
  const down = await nextText(ws);
  if (down.msg.type !== "downloaded" || down.binary !== BYTES) throw fail("PROTOCOL_VIOLATION", `download got ${down.binary} bytes`);
  const downRate = mbit(BYTES, performance.now() - t);
  t = performance.now();
  const chunk = new Uint8Array(64 * 1024);
  for (let sent = 0; sent < BYTES; sent += chunk.length) ws.send(chunk);
  ws.send(JSON.stringify({ type: "uploaded" }));
  const up = await nextText(ws);
  if (up.msg.type !== "uploaded" || up.msg.bytes !== BYTES) throw fail("PROTOCOL_VIOLATION", `upload: ${JSON.stringify(up.msg)}`);
  const upRate = mbit(BYTES, performance.now() - t);
  ws.close();
  return `${downRate} Mbit/s to this computer, ${upRate} Mbit/s to the server`;
}

async function browser() {
  if (typeof Worker === "undefined" || typeof OffscreenCanvas === "undefined") {
    throw fail("ENCODE_FAILED", "this browser lacks Workers or OffscreenCanvas, which the viewer needs");
  }
  const codecs = [];
  if (typeof VideoDecoder !== "undefined") {
    for (const [name, codec] of [["VP9 4:4:4", "vp09.01.10.08"], ["VP8", "vp8"]]) {
      const r = await VideoDecoder.isConfigSupported({ codec }).catch(() => ({ supported: false }));
      if (r.supported) codecs.push(name);
    }
  }
  const video = codecs.length ? `video: ${codecs.join(", ")}` : "no WebCodecs video (moving areas come as JPEG)";
  return `Workers and OffscreenCanvas present; ${video}`;
}

async function screenSize() {
  const s = window.screen;
  return `${s.width}×${s.height} screen at ${window.devicePixelRatio}× pixels, window ${innerWidth}×${innerHeight}`;
}

/** @type {[string, StepRun][]} */
const STEPS = [
  ["https", https],
  ["websocket", websocket],
  ["round trip", roundTrip],
  ["throughput", throughput],
  ["browser", browser],
  ["screen", screenSize],
];

/** @type {CheckStep[]} */
let results = [];

async function run() {
  const list = el("check-steps");
  list.replaceChildren();
  results = [];
  el("check-status").textContent = "Checking…";
  let failed = false;
  for (const [name, step] of STEPS) {
    const li = document.createElement("li");
    li.dataset.step = name;
    list.append(li);
    if (failed) {
      li.dataset.outcome = "skip";
      li.textContent = `${name}: not checked (an earlier step failed)`;
      continue;
    }
    li.textContent = `${name}: …`;
    try {
      const summary = await step();
      results.push({ name, ok: true, summary });
      li.dataset.outcome = "pass";
      li.textContent = `✓ ${name}: ${summary}`;
    } catch (e) {
      const err = /** @type {any} */ (e);
      const code = err.code || "SERVER_UNREACHABLE";
      const { cause, remedy } = explain(code);
      results.push({ name, ok: false, summary: err.message, code });
      failed = true;
      li.dataset.outcome = "fail";
      li.dataset.code = code;
      li.textContent = `✗ ${name}: ${err.message}`;
      const why = document.createElement("p");
      why.className = "error-remedy";
      why.textContent = `${cause ? cause + ". " : ""}${remedy ? "What to do: " + remedy : ""} (code ${code})`;
      li.append(why);
      const hop = REPORTED_HOP[name];
      if (hop) reportFailure({ code, hop, detail: `check: ${name}: ${err.message}`, reachable: name !== "https" });
    }
  }
  if (!failed) flushReports();
  el("check-status").textContent = failed ? "A step failed" : "Everything works";
  el("check-status").dataset.level = failed ? "error" : "ok";
}

function report() {
  const lines = [`deskshare connection check, ${new Date().toISOString()}`, `server: ${location.host}`, `browser: ${navigator.userAgent}`];
  for (const r of results) lines.push(`${r.ok ? "ok  " : "FAIL"} ${r.name}: ${r.summary}${r.code ? ` (${r.code})` : ""}`);
  return lines.join("\n");
}

el("check-again").addEventListener("click", () => run());
el("check-copy").addEventListener("click", async () => {
  const text = report();
  try {
    await navigator.clipboard.writeText(text);
    el("check-copied").textContent = "Copied.";
  } catch {
    el("check-copied").textContent = "Copying is not allowed here; select the steps above instead.";
  }
});

// A small, stable hook for tests and support.
/** @type {any} */ (window).deskshareCheck = { report, results: () => results };

loadErrorTable().then(run);
