// One viewer session over a WebSocket: hello, welcome, messages, acks, and reconnects
// with backoff after the connection drops. It knows nothing about the page.

import { PROTOCOL_VERSION } from "./protocol.js";

/** Codes after which dialling again cannot help. */
// The same list as ErrorCode::is_transient in crates/proto/src/error.rs.
const RETRYABLE = new Set([
  "CONNECTION_LOST", "CONNECTION_STALLED", "SERVER_SHUTTING_DOWN", "SERVER_ERROR", "SERVER_UNREACHABLE", "SERVER_BUSY",
  "CONNECTION_REFUSED", "CONNECT_TIMEOUT", "NAME_NOT_RESOLVED", "PROXY_UNREACHABLE", "CONNECTION_LIMIT",
]);

/**
 * @typedef {object} SessionHandlers
 * @property {(welcome: any) => void} onWelcome
 * @property {(msg: any) => void} onControl      presenter / viewers messages
 * @property {(buf: ArrayBuffer) => void} onBinary
 * @property {(attempt: number, reason: Unreachable | null) => void} onReconnecting  `reason`: why no connection opens, once known
 * @property {(code: string, message: string) => void} onFatal
 */

/**
 * Why the WebSocket does not open, as far as a browser can tell (it sees neither the
 * HTTP status of a refused upgrade nor which of DNS, TCP or TLS failed).
 * @typedef {{code: string, hop: string, message: string}} Unreachable
 */

/** Attempts that never opened before the page asks why. */
const PROBE_AFTER = 2;
/** … and before a WebSocket that HTTPS reaches but it does not is called blocked. */
const BLOCKED_AFTER = 3;

/** Why no WebSocket opens: offline, the server unreachable over HTTPS too, or HTTPS
 * reaching it while the WebSocket does not (a proxy that drops WebSockets).
 * @returns {Promise<Unreachable>} */
export async function whyNoConnection() {
  if (navigator.onLine === false) {
    return { code: "SERVER_UNREACHABLE", hop: "tcp", message: "this computer is offline" };
  }
  try {
    const res = await fetch("/healthz", { cache: "no-store" });
    if (res.ok) {
      return {
        code: "WEBSOCKET_BLOCKED",
        hop: "websocket",
        message: "HTTPS to the server works but its WebSocket does not get through: a proxy or filter on the way drops WebSockets",
      };
    }
    // The server's own refusal names itself (e.g. CONNECTION_LIMIT at its cap).
    const code = res.headers.get("x-deskshare-error");
    return { code: code || "SERVER_BUSY", hop: "http", message: `the server answers HTTP ${res.status}${code ? ` (${code})` : ""}` };
  } catch {
    return {
      code: "SERVER_UNREACHABLE",
      hop: "tcp",
      message: "the server does not answer this browser at all: it is down, or its name, port or certificate is blocked on the way",
    };
  }
}

export class ViewerSession {
  /**
   * @param {string} meetingId
   * @param {string} name
   * @param {SessionHandlers} handlers
   */
  constructor(meetingId, name, handlers) {
    this.meetingId = meetingId;
    this.name = name;
    this.handlers = handlers;
    /** @type {WebSocket | null} */
    this.ws = null;
    this.attempt = 0;
    /** Consecutive attempts whose WebSocket never opened. */
    this.unopened = 0;
    this.stopped = false;
    /** The meeting's passcode, once the person typed it. @type {string} */
    this.passcode = "";
    /** Join as a guest although signed in. */
    this.asGuest = false;
    /** Video codecs this browser decodes. @type {string[]} */
    this.video = [];
    /** The last welcome's participant and key: back within the grace after a drop, the
     * lobby is skipped and a presenter role kept. Kept in sessionStorage, so a reload of
     * the page comes back the same way. @type {{participant: number, key: string} | null} */
    this.rejoin = null;
    /** The last welcome's admission pass: back after a server restart. @type {string | null} */
    this.pass = null;
    this.restore();
  }

  start() {
    this.stopped = false;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/api/meetings/${encodeURIComponent(this.meetingId)}/ws`);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    /** @type {{code: string, message: string} | null} */
    let refusal = null;
    let welcomed = false;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.unopened = 0;
      /** @type {Record<string, unknown>} */
      const hello = { type: "hello", protocol: PROTOCOL_VERSION, role: "viewer", client: "browser" };
      if (this.name) hello.name = this.name;
      if (this.passcode) hello.passcode = this.passcode;
      if (this.asGuest) hello.as_guest = true;
      if (this.video.length) hello.video = this.video;
      if (this.rejoin) hello.rejoin = this.rejoin;
      if (this.pass) hello.pass = this.pass;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== "string") {
        this.handlers.onBinary(ev.data);
        return;
      }
      const msg = JSON.parse(ev.data);
      if (msg.type === "welcome") {
        welcomed = true;
        this.attempt = 0;
        this.rejoin = { participant: msg.participant, key: msg.key };
        this.pass = msg.pass || null;
        this.remember();
        this.handlers.onWelcome(msg);
      } else if (msg.type === "error") {
        refusal = { code: msg.code, message: msg.message };
      } else {
        this.handlers.onControl(msg);
      }
    };
    ws.onclose = (ev) => {
      if (this.stopped) return;
      const code = refusal?.code || (ev.reason && /^[A-Z_]+$/.test(ev.reason) ? ev.reason : "CONNECTION_LOST");
      if (!RETRYABLE.has(code) && (welcomed || refusal)) {
        this.forget();
        this.handlers.onFatal(code, refusal?.message || "");
        return;
      }
      if (!opened) this.unopened += 1;
      if (this.unopened < PROBE_AFTER) {
        this.retry(null);
        return;
      }
      whyNoConnection().then((reason) => {
        if (this.stopped) return;
        if (reason.code === "WEBSOCKET_BLOCKED" && this.unopened >= BLOCKED_AFTER) {
          this.forget();
          this.handlers.onFatal(reason.code, reason.message);
        } else {
          this.retry(reason);
        }
      });
    };
  }

  /** Where this meeting's proofs are kept for a reload. */
  get storageKey() {
    return `deskshare.rejoin.${this.meetingId}`;
  }

  /** Reads the proofs a page of this meeting kept before a reload. */
  restore() {
    try {
      const kept = JSON.parse(sessionStorage.getItem(this.storageKey) || "null");
      if (kept && typeof kept === "object") {
        this.rejoin = kept.rejoin || null;
        this.pass = typeof kept.pass === "string" ? kept.pass : null;
      }
    } catch {
      // Nothing kept, or storage is off: join as new.
    }
  }

  remember() {
    try {
      sessionStorage.setItem(this.storageKey, JSON.stringify({ rejoin: this.rejoin, pass: this.pass }));
    } catch {
      // Storage is off: a reload joins as new.
    }
  }

  /** A final failure: the proofs no longer apply. */
  forget() {
    this.rejoin = null;
    this.pass = null;
    try {
      sessionStorage.removeItem(this.storageKey);
    } catch {
      // Storage is off.
    }
  }

  /** Dials again after a backoff. @param {Unreachable | null} reason */
  retry(reason) {
    this.attempt += 1;
    this.handlers.onReconnecting(this.attempt, reason);
    const delay = Math.min(5000, 200 * 2 ** Math.min(this.attempt, 5));
    setTimeout(() => this.start(), delay);
  }

  /** @param {number} frame */
  ack(frame) {
    this.send({ type: "ack", frame });
  }

  /** Sends a control message if connected; dropped otherwise. @param {object} msg */
  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  stop() {
    this.stopped = true;
    this.ws?.close();
  }
}
