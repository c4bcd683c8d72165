// Failure reports from the browser (POST /api/reports), so the server's administrators
// see who fails where (`deskshare admin diagnose`). The same report the CLI sends: the
// code, the hop, "browser", the browser and its major version, and a random id of this
// browser profile — no name (the server takes it from the sign-in) and no address.
// A report that cannot reach the server waits in localStorage for the next page that can.

import { hopOf } from "./errors.js";

const ID_KEY = "deskshare.installation";
const PENDING_KEY = "deskshare.pending-reports";
/** Reports kept while the server cannot be reached; the oldest go first. */
const MAX_PENDING = 20;

/**
 * @typedef {{code: string, hop?: string | null, client: "browser", version: string,
 *   installation: string, meeting?: string, platform?: string, detail?: string, age?: number}} FailureReport
 * @typedef {{at: number, report: FailureReport}} Pending
 */

/** This browser profile's random id: one computer from many, and nothing else. */
export function installationId() {
  try {
    let id = localStorage.getItem(ID_KEY);
    if (!id || id.length < 16) {
      const bytes = crypto.getRandomValues(new Uint8Array(16));
      id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      localStorage.setItem(ID_KEY, id);
    }
    return id;
  } catch {
    // Storage is off (a private window with storage blocked): one id for this page.
    return "ephemeral-" + Math.random().toString(16).slice(2, 14).padEnd(12, "0");
  }
}

/** The browser and its major version, e.g. "Chrome 131". */
export function platform() {
  const ua = navigator.userAgent;
  const m =
    /(Edg|OPR|Firefox|Chrome|Chromium)\/(\d+)/.exec(ua) || /Version\/(\d+).*(Safari)/.exec(ua)?.slice(0, 3).reverse();
  if (!m) return "browser";
  const name = { Edg: "Edge", OPR: "Opera" }[m[1]] || m[1];
  return `${name} ${m[2]}`.slice(0, 64);
}

/** @returns {Pending[]} */
function loadPending() {
  try {
    const list = JSON.parse(localStorage.getItem(PENDING_KEY) || "[]");
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

/** @param {Pending[]} list */
function savePending(list) {
  try {
    if (list.length) localStorage.setItem(PENDING_KEY, JSON.stringify(list.slice(-MAX_PENDING)));
    else localStorage.removeItem(PENDING_KEY);
  } catch {
    // Nowhere to keep it: the report is lost, the page is not affected.
  }
}

/** Sends one report: true when the server took it or refused it for good (a 4xx). @param {FailureReport} report */
async function send(report) {
  try {
    const res = await fetch("/api/reports", {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(report),
    });
    return res.ok || (res.status >= 400 && res.status < 500);
  } catch {
    return false;
  }
}

/** Sends the reports kept from earlier failures, keeping those that still cannot go. */
export async function flushReports() {
  const list = loadPending();
  if (!list.length) return;
  savePending([]);
  const kept = [];
  for (const p of list) {
    const age = Math.max(0, Math.round((Date.now() - p.at) / 1000));
    if (!kept.length && (await send({ ...p.report, age }))) continue;
    kept.push(p);
  }
  // Reports kept meanwhile by another tab stay too.
  savePending([...loadPending(), ...kept]);
}

/**
 * Reports a failure the person was shown. `hop` is where it failed if the page knows
 * better than the code; with neither a hop nor a code that has one, nothing is sent (a
 * normal end is not a failure). `reachable: false` keeps it for later without trying.
 * @param {{code: string, hop?: string | null, meeting?: string, detail?: string, reachable?: boolean}} failure
 * @returns {Promise<"sent" | "kept" | "skipped">}
 */
export async function reportFailure({ code, hop = null, meeting, detail, reachable = true }) {
  const where = hop || hopOf(code);
  if (!where) return "skipped";
  /** @type {FailureReport} */
  const report = {
    code,
    hop: where,
    client: "browser",
    version: document.documentElement.dataset.version || "web",
    installation: installationId(),
    platform: platform(),
  };
  if (meeting) report.meeting = meeting;
  if (detail) report.detail = detail.slice(0, 300);
  if (reachable) {
    await flushReports();
    if (await send(report)) return "sent";
  }
  savePending([...loadPending(), { at: Date.now(), report }]);
  return "kept";
}
