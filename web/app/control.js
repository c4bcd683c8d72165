// Being the controller in the browser: the request/release button, the "you are in
// control" banner, and turning mouse and keyboard on the screen into input events.

import { keysymFor } from "./keys.js";

/** Two Escape presses this close together give control back. */
const DOUBLE_ESCAPE_MS = 600;

/**
 * @typedef {{participant: number, name: string}} Person
 * @typedef {{kind: string, [k: string]: any}} InputEvent
 */

export class ControlPanel {
  /**
   * @param {{button: HTMLButtonElement, state: HTMLElement, banner: HTMLElement,
   *   stage: HTMLElement, surface: HTMLCanvasElement}} els
   * @param {(msg: object) => void} send
   */
  constructor(els, send) {
    this.els = els;
    this.send = send;
    this.me = -1;
    this.inControl = false;
    /** Whether this viewer held control until the latest change. */
    this.wasMine = false;
    this.waiting = false;
    this.presenterOnline = false;
    /** This page is presenting (view-only). */
    this.selfPresenting = false;
    this.lastEscape = 0;
    /** @type {InputEvent | null} */
    this.pendingMove = null;
    /** keysym pressed per physical key, so the release matches the press. */
    /** @type {Map<string, number>} */
    this.downKeys = new Map();
    els.button.addEventListener("click", () => this.toggle());
    this.bindInput();
    this.render(null, []);
  }

  /** @param {number} participant */
  setMe(participant) {
    this.me = participant;
  }

  /** @param {boolean} online */
  setPresenterOnline(online) {
    this.presenterOnline = online;
    this.render(this.controller ?? null, this.queue ?? []);
  }

  /** @param {boolean} on */
  setSelfPresenting(on) {
    this.selfPresenting = on;
    this.render(this.controller ?? null, this.queue ?? []);
  }

  toggle() {
    if (this.inControl || this.waiting) {
      this.send({ type: "release_control" });
    } else {
      this.send({ type: "request_control" });
      this.waiting = true;
      this.render(this.controller ?? null, this.queue ?? []);
    }
  }

  /**
   * The server's control state: the first of the queue, and how many wait in all.
   * @param {{controller: Person | null, queue: Person[], queued?: number}} msg
   */
  update(msg) {
    this.controller = msg.controller;
    this.queue = msg.queue;
    this.queued = msg.queued ?? msg.queue.length;
    const mine = !!msg.controller && msg.controller.participant === this.me;
    // Further back than the names shown, a request is still waiting.
    this.waiting = msg.queue.some((p) => p.participant === this.me) || (this.waiting && this.queued > msg.queue.length);
    if (mine && !this.inControl) this.els.stage.focus();
    if (!mine && this.inControl) this.releaseHeld();
    this.wasMine = this.inControl && !mine;
    this.inControl = mine;
    this.render(msg.controller, msg.queue);
  }

  /** A refused request ends the waiting. */
  refused() {
    this.waiting = false;
    this.render(this.controller ?? null, this.queue ?? []);
  }

  /** @param {Person | null} controller @param {Person[]} queue */
  render(controller, queue) {
    const { button, state, banner, stage } = this.els;
    button.textContent = this.inControl ? "Release control" : this.waiting ? "Cancel request" : "Request control";
    // Nobody to ask, or this browser presents itself (and never hands over control).
    button.disabled = (!this.presenterOnline || this.selfPresenting) && !this.inControl && !this.waiting;
    // Presenting oneself, there is nobody to ask: the button goes (a phone's row is short).
    button.hidden = this.selfPresenting && !this.inControl && !this.waiting;
    button.setAttribute("aria-pressed", String(this.inControl));
    let text = "";
    if (controller) text = this.inControl ? "You are in control" : `${controller.name} is in control`;
    const queued = Math.max(this.queued ?? 0, queue.length);
    if (queued) text += `${text ? " · " : ""}${queued} waiting`;
    if (this.waiting) text += `${text ? " · " : ""}waiting for the presenter to allow it…`;
    state.textContent = text;
    banner.hidden = !this.inControl;
    stage.classList.toggle("controlling", this.inControl);
  }

  /** @param {InputEvent[]} events */
  emit(events) {
    if (this.inControl && events.length) this.send({ type: "input", events });
  }

  /** Pointer position in the shared screen's pixels. @param {MouseEvent} ev */
  point(ev) {
    const s = this.els.surface;
    const r = s.getBoundingClientRect();
    return {
      x: Math.floor(((ev.clientX - r.left) * s.width) / Math.max(1, r.width)),
      y: Math.floor(((ev.clientY - r.top) * s.height) / Math.max(1, r.height)),
    };
  }

  bindInput() {
    const { stage } = this.els;
    const BUTTONS = [1, 2, 3, 8, 9]; // DOM button 0..4 -> X button
    stage.addEventListener("mousemove", (ev) => {
      if (!this.inControl) return;
      // Coalesce moves to one per animation frame.
      const first = !this.pendingMove;
      this.pendingMove = { kind: "move", ...this.point(ev) };
      if (first) {
        requestAnimationFrame(() => {
          if (this.pendingMove) this.emit([this.pendingMove]);
          this.pendingMove = null;
        });
      }
    });
    for (const type of /** @type {const} */ (["mousedown", "mouseup"])) {
      stage.addEventListener(type, (ev) => {
        if (!this.inControl) return;
        ev.preventDefault();
        stage.focus();
        const button = BUTTONS[ev.button];
        if (button) this.emit([{ kind: "move", ...this.point(ev) }, { kind: "button", button, down: type === "mousedown" }]);
      });
    }
    stage.addEventListener("contextmenu", (ev) => {
      if (this.inControl) ev.preventDefault();
    });
    stage.addEventListener("wheel", (ev) => {
      if (!this.inControl) return;
      ev.preventDefault();
      const step = (/** @type {number} */ d) => Math.sign(d) * Math.min(10, Math.max(1, Math.round(Math.abs(d) / 100)));
      this.emit([{ kind: "wheel", dx: ev.deltaX ? step(ev.deltaX) : 0, dy: ev.deltaY ? step(ev.deltaY) : 0 }]);
    }, { passive: false });
    stage.addEventListener("keydown", (ev) => {
      if (!this.inControl) return;
      ev.preventDefault();
      if (ev.key === "Escape" && !ev.repeat) {
        const now = performance.now();
        if (now - this.lastEscape < DOUBLE_ESCAPE_MS) {
          this.lastEscape = 0;
          this.send({ type: "release_control" });
          return;
        }
        this.lastEscape = now;
      }
      const keysym = keysymFor(ev);
      if (keysym === null) return;
      this.downKeys.set(ev.code, keysym);
      this.emit([{ kind: "key", keysym, down: true }]);
    });
    stage.addEventListener("keyup", (ev) => {
      if (!this.inControl) return;
      ev.preventDefault();
      const keysym = this.downKeys.get(ev.code) ?? keysymFor(ev);
      this.downKeys.delete(ev.code);
      if (keysym !== null) this.emit([{ kind: "key", keysym, down: false }]);
    });
    // Leaving the page must not leave keys held on the presenter's machine.
    window.addEventListener("blur", () => this.releaseHeld());
  }

  releaseHeld() {
    const events = [...this.downKeys.values()].map((keysym) => ({ kind: "key", keysym, down: false }));
    this.downKeys.clear();
    this.emit(events);
  }
}
