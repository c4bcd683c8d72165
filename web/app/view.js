// The page around the screen: status banner, state overlay, cursor layer, zoom.

import { explain } from "./errors.js";
import { el } from "./dom.js";

export class MeetingView {
  constructor() {
    this.stage = el("stage");
    this.screen = /** @type {HTMLCanvasElement} */ (el("screen"));
    this.cursorLayer = /** @type {HTMLCanvasElement} */ (el("cursor"));
    this.overlay = el("overlay");
    this.status = el("status");
    this.title = el("title");
    this.zoomButton = /** @type {HTMLButtonElement} */ (el("zoom"));
    this.fullButton = /** @type {HTMLButtonElement} */ (el("fullscreen"));
    /** Called by the overlay's "Show what viewers see" (set by the page). */
    this.onShowOwn = () => {};
    /** @type {ImageBitmap | null} */
    this.cursorImage = null;
    this.cursorHot = { x: 0, y: 0 };
    this.cursorPos = { x: 0, y: 0, visible: false };
    this.zoomButton.addEventListener("click", () => this.toggleZoom());
    this.fullButton.addEventListener("click", () => {
      if (document.fullscreenElement) document.exitFullscreen();
      else this.stage.requestFullscreen().catch(() => {});
    });
  }

  toggleZoom() {
    const fit = this.stage.classList.toggle("actual-size");
    this.zoomButton.textContent = fit ? "Fit to window" : "100 %";
    this.zoomButton.setAttribute("aria-pressed", String(fit));
  }

  /** @param {string} title */
  setTitle(title) {
    this.title.textContent = title;
    document.title = `${title} — deskshare`;
  }

  /** @param {string} text @param {"ok"|"warn"|"error"} level */
  setStatus(text, level = "ok") {
    this.status.textContent = text;
    this.status.dataset.level = level;
  }

  /** Shows a message over the screen, or hides it with null. @param {string | null} text */
  showOverlay(text, detail = "", extra = /** @type {{code?: string, actions?: ("home"|"rejoin"|"show-own")[]}} */ ({})) {
    if (text === null) {
      this.overlay.hidden = true;
      return;
    }
    this.overlay.hidden = false;
    this.overlay.replaceChildren();
    const h = document.createElement("p");
    h.className = "overlay-title";
    h.textContent = text;
    this.overlay.append(h);
    if (detail) {
      const d = document.createElement("p");
      d.textContent = detail;
      this.overlay.append(d);
    }
    if (extra.code) {
      const c = document.createElement("p");
      c.className = "overlay-code";
      c.textContent = `Code: ${extra.code}`;
      this.overlay.append(c);
    }
    if (extra.actions?.length) {
      const row = document.createElement("p");
      row.className = "overlay-actions";
      for (const action of extra.actions) {
        if (action === "show-own") {
          const b = document.createElement("button");
          b.type = "button";
          b.textContent = "Show what viewers see";
          b.addEventListener("click", () => this.onShowOwn());
          row.append(b, " ");
          continue;
        }
        const a = document.createElement("a");
        a.className = "button";
        if (action === "home") {
          a.href = "/";
          a.textContent = "Back to home";
        } else {
          a.href = location.pathname + location.search;
          a.textContent = "Join again";
        }
        row.append(a, " ");
      }
      this.overlay.append(row);
    }
  }

  /** @param {string} code @param {string} message */
  showError(code, message) {
    const { cause, remedy } = explain(code);
    // Words first; the code is for support, in small print below.
    this.setStatus("Not connected", "error");
    this.overlay.hidden = false;
    this.overlay.replaceChildren();
    const add = (/** @type {string} */ cls, /** @type {string} */ text) => {
      if (!text) return;
      const p = document.createElement("p");
      p.className = cls;
      p.textContent = text;
      this.overlay.append(p);
    };
    add("overlay-title", cause || message || "Something went wrong");
    if (message && message !== cause) add("error-detail", message);
    add("error-remedy", remedy ? `What to do: ${remedy}` : "");
    add("overlay-code", `Code: ${code}`);
    // Any failure: the connection check names the broken step, with a report to copy.
    const check = document.createElement("p");
    const link = document.createElement("a");
    link.href = "/check";
    link.target = "_blank";
    link.textContent = "Test my connection";
    check.append(link);
    this.overlay.append(check);
  }

  /** @param {number} width @param {number} height */
  setScreenSize(width, height) {
    if (this.cursorLayer.width !== width || this.cursorLayer.height !== height) {
      this.cursorLayer.width = width;
      this.cursorLayer.height = height;
      this.screen.style.aspectRatio = `${width} / ${height}`;
      this.cursorLayer.style.aspectRatio = `${width} / ${height}`;
      this.drawCursor();
    }
  }

  /** @param {import("./protocol.js").CursorShape} shape */
  async setCursorShape(shape) {
    const img = new ImageData(new Uint8ClampedArray(shape.rgba), shape.width, shape.height);
    this.cursorImage = await createImageBitmap(img);
    this.cursorHot = { x: shape.hotX, y: shape.hotY };
    this.drawCursor();
  }

  /** @param {{x: number, y: number, visible: boolean}} pos */
  setCursorPosition(pos) {
    this.cursorPos = pos;
    this.drawCursor();
  }

  drawCursor() {
    const ctx = this.cursorLayer.getContext("2d");
    if (!ctx) return;
    ctx.clearRect(0, 0, this.cursorLayer.width, this.cursorLayer.height);
    if (this.cursorImage && this.cursorPos.visible) {
      ctx.drawImage(this.cursorImage, this.cursorPos.x - this.cursorHot.x, this.cursorPos.y - this.cursorHot.y);
    }
  }
}
