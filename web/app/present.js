// Presenting from the browser: capture with getDisplayMedia, encode changed tiles in a
// Worker (encode-worker.js), and send them over a second WebSocket that presents for
// this participant (hello.on_behalf), with the same upload protocol the agent uses.
// View-only: a browser cannot inject input, so this presenter never grants control.

import { PROTOCOL_VERSION } from "./protocol.js";
import { WorkerRequests } from "./worker-rpc.js";

/** Bytes the socket may hold unsent before the encoder waits. */
const SEND_BUFFER_LIMIT = 1 << 20;
/** Codes after which presenting again can help by itself. PARTICIPANT_NOT_FOUND: the
 * viewer session is joining again (after a restart); its new welcome brings a new key. */
const RETRYABLE = new Set(["CONNECTION_LOST", "SERVER_SHUTTING_DOWN", "SERVER_ERROR", "PARTICIPANT_NOT_FOUND"]);

/**
 * @typedef {object} PresenterHooks
 * @property {() => {participant: number, key: string} | null} identity the viewer session's welcome
 * @property {(state: "off"|"starting"|"on"|"reconnecting", detail?: string) => void} onState
 * @property {(viewers: number) => void} onViewers
 * @property {(code: string, message: string) => void} onError
 */

export class BrowserPresenter {
  /** @param {string} meetingId @param {PresenterHooks} hooks */
  constructor(meetingId, hooks) {
    this.meetingId = meetingId;
    this.hooks = hooks;
    /** @type {MediaStream | null} */
    this.stream = null;
    /** @type {WebSocket | null} */
    this.ws = null;
    /** @type {Worker | null} */
    this.worker = null;
    /** @type {HTMLVideoElement | null} */
    this.video = null;
    this.paused = false;
    this.share = "desktop";
    /** Take over from whoever presents (the person chose to), until welcomed. */
    this.replace = false;
    /** The proof of this page's last presenter connection: back after a drop, it takes
     * over from that connection only. @type {{participant: number, key: string} | null} */
    this.proof = null;
    this.attempt = 0;
    this.requests = new WorkerRequests();
  }

  /** Whether this browser can capture a screen at all. */
  static supported() {
    return Boolean(navigator.mediaDevices && "getDisplayMedia" in navigator.mediaDevices);
  }

  get active() {
    return this.stream !== null;
  }

  /** Asks the person what to share, then starts. Rejects if they cancel.
   * @param {{replace?: boolean}} [opts] `replace`: take over from whoever presents now
   * (the person said so); otherwise a share while someone presents is refused. */
  async start(opts = {}) {
    this.replace = Boolean(opts.replace);
    this.proof = null;
    this.hooks.onState("starting");
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({
        video: { width: { max: 2560 }, height: { max: 1600 }, frameRate: { max: 15 } },
        audio: false,
      });
    } catch (e) {
      this.hooks.onState("off");
      const err = /** @type {DOMException} */ (e);
      if (err.name !== "NotAllowedError" && err.name !== "AbortError") this.hooks.onError("CAPTURE_FAILED", err.message);
      return;
    }
    this.stream = stream;
    const track = stream.getVideoTracks()[0];
    // A window or a tab is one program's content for the sharing policies.
    const surface = /** @type {any} */ (track.getSettings()).displaySurface;
    this.share = surface === "monitor" || surface === undefined ? "desktop" : "program";
    track.addEventListener("ended", () => this.stop());
    this.worker = new Worker(new URL("./encode-worker.js", import.meta.url), { type: "module" });
    this.worker.onmessage = (ev) => this.fromWorker(ev.data);
    this.feedWorker(track);
    this.connect();
  }

  /** Hands the worker the pictures: a stream of frames where the browser can, else bitmaps. @param {MediaStreamTrack} track */
  feedWorker(track) {
    const worker = /** @type {Worker} */ (this.worker);
    const Processor = /** @type {any} */ (globalThis).MediaStreamTrackProcessor;
    if (Processor) {
      // Frames keep coming while this tab is in the background (timers there are throttled).
      const readable = new Processor({ track }).readable;
      worker.postMessage({ type: "stream", stream: readable }, [readable]);
      return;
    }
    const video = document.createElement("video");
    video.muted = true;
    video.srcObject = this.stream;
    video.play().catch(() => {});
    this.video = video;
    const tick = async () => {
      if (!this.stream) return;
      if (video.readyState >= 2 && video.videoWidth > 0) {
        const bitmap = await createImageBitmap(video);
        worker.postMessage({ type: "bitmap", bitmap }, [bitmap]);
      }
      setTimeout(tick, 1000 / 15);
    };
    tick();
  }

  connect() {
    const me = this.hooks.identity();
    if (!this.stream) return;
    if (!me) {
      // The viewer session is reconnecting; its welcome calls rejoin().
      this.hooks.onState("reconnecting");
      return;
    }
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/api/meetings/${encodeURIComponent(this.meetingId)}/ws?role=presenter`);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    /** @type {{code: string, message: string} | null} */
    let refusal = null;
    ws.onopen = () => {
      /** @type {Record<string, unknown>} */
      const hello = {
        type: "hello", protocol: PROTOCOL_VERSION, role: "presenter", client: "browser", share: this.share,
        on_behalf: { participant: me.participant, key: me.key },
      };
      if (this.replace) hello.replace = true;
      if (this.proof) hello.rejoin = this.proof;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== "string") return;
      const msg = JSON.parse(ev.data);
      if (msg.type === "welcome") {
        this.attempt = 0;
        // Replaced once, by choice; later connections take over only from this one.
        this.replace = false;
        this.proof = { participant: msg.participant, key: msg.key };
        this.worker?.postMessage({ type: "keyframe" });
        this.hooks.onState("on", this.share);
      } else if (msg.type === "viewers") {
        this.hooks.onViewers(msg.count);
      } else if (msg.type === "error") {
        refusal = { code: msg.code, message: msg.message };
      }
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws || !this.stream) return;
      const code = refusal?.code || (ev.reason && /^[A-Z_]+$/.test(ev.reason) ? ev.reason : "CONNECTION_LOST");
      if (!RETRYABLE.has(code)) {
        this.stop();
        this.hooks.onError(code, refusal?.message || "");
        return;
      }
      this.attempt += 1;
      this.hooks.onState("reconnecting");
      setTimeout(() => this.connect(), Math.min(5000, 200 * 2 ** Math.min(this.attempt, 5)));
    };
  }

  /** The viewer session joined again (new participant number and key): present for it. */
  rejoin() {
    if (!this.stream) return;
    const old = this.ws;
    this.ws = null;
    old?.close(1000);
    this.connect();
  }

  /** @param {import("./protocol.js").FromEncodeWorker} msg */
  fromWorker(msg) {
    if (msg.type === "encoded") {
      const ws = this.ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) {
        // Not connected: this frame is lost, so the next one must carry everything.
        setTimeout(() => this.worker?.postMessage({ type: "keyframe" }), 200);
        return;
      }
      ws.send(msg.buffer);
      const drained = () => {
        if (ws.bufferedAmount < SEND_BUFFER_LIMIT || ws.readyState !== WebSocket.OPEN) this.worker?.postMessage({ type: "ready" });
        else setTimeout(drained, 20);
      };
      drained();
    } else if (msg.type === "error") {
      this.stop();
      this.hooks.onError(msg.code, msg.message);
    } else if (msg.type === "snapshot") {
      this.requests.settle(msg);
    }
  }

  /** Freezes what viewers see (nothing is sent) or carries on. @param {boolean} paused */
  setPaused(paused) {
    this.paused = paused;
    this.worker?.postMessage({ type: "pause", paused });
  }

  /** The pixels viewers have now (what was last sent). @returns {Promise<import("./worker-rpc.js").Snapshot>} */
  snapshot() {
    if (!this.worker) return Promise.resolve({ width: 0, height: 0, rgba: null });
    return this.requests.ask(this.worker, "snapshot");
  }

  stop() {
    const stream = this.stream;
    this.stream = null;
    stream?.getTracks().forEach((t) => t.stop());
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000);
    this.worker?.terminate();
    this.worker = null;
    this.video = null;
    this.paused = false;
    if (stream) this.hooks.onState("off");
  }
}
