// "Share my desktop": presenting with the deskshare app, which (unlike a browser) can
// hand over mouse and keyboard. The page asks the server for a link naming this person
// (`POST /api/meetings/ID/share-link`), opens it as a `deskshare:` link — the app's
// handler (`deskshare install-handler`) starts sharing after asking on the screen — and,
// as a browser cannot tell whether anything answered, shows the command to run instead
// after a few seconds, with the app to download from this server. The panel closes
// when this person's app is presenting.

import { api } from "./api.js";
import { copyable } from "./copyable.js";

/** How long the page waits for the app before showing the command. */
const FALLBACK_AFTER_MS = 4000;

/**
 * @typedef {{button: HTMLButtonElement, panel: HTMLElement, status: HTMLElement,
 *   fallback: HTMLElement, command: HTMLElement, download: HTMLAnchorElement,
 *   retry: HTMLButtonElement, close: HTMLButtonElement}} ShareElements
 * @typedef {{link: string, open: string, command: string, ca: string | null,
 *   expires_at: number, download: string}} ShareLink
 */

export class ShareDesktop {
  /**
   * @param {ShareElements} els
   * @param {string} meetingId
   * @param {(code: string, message: string) => void} onError
   */
  constructor(els, meetingId, onError) {
    this.els = els;
    this.meetingId = meetingId;
    this.onError = onError;
    /** @type {ShareLink | null} */
    this.link = null;
    /** @type {number | undefined} */
    this.timer = undefined;
    els.button.addEventListener("click", () => this.start());
    els.retry.addEventListener("click", () => this.open());
    els.close.addEventListener("click", () => this.hide());
  }

  /** Offered to organisers and presenters who are signed in, while they do not
   * present with the app already. @param {boolean} offered */
  setOffered(offered) {
    this.els.button.hidden = !offered;
    if (!offered) this.hide();
  }

  async start() {
    try {
      this.link = /** @type {ShareLink} */ (await api("POST", `/api/meetings/${this.meetingId}/share-link`));
    } catch (e) {
      const err = /** @type {any} */ (e);
      this.onError(err.code, err.message);
      return;
    }
    this.els.command.replaceChildren(copyable("Command", this.link.command));
    this.els.download.href = this.link.download;
    this.els.fallback.hidden = true;
    this.els.panel.hidden = false;
    this.open();
  }

  /** Opens the app through its handler; shows the command if nothing answers. */
  open() {
    if (!this.link) return;
    this.els.status.textContent =
      "Opening the deskshare app on this computer… Your browser may ask whether to open it; the app asks on your screen before it shares.";
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.showFallback(), FALLBACK_AFTER_MS);
    // An unknown scheme leaves the page as it is; a known one starts the app.
    location.href = this.link.open;
  }

  showFallback() {
    this.els.status.textContent = "Did the deskshare app not start? Run it yourself:";
    this.els.fallback.hidden = false;
  }

  /** This person's app is presenting: the panel has done its job. */
  presenting() {
    this.hide();
  }

  hide() {
    clearTimeout(this.timer);
    this.els.panel.hidden = true;
  }
}
