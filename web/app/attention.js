// What the person has not seen yet: chat messages and lobby knocks that arrived while
// "People & chat" was folded away or the tab was in the background. Shown as a badge on
// the panel's button, a count in the tab title, a toast for someone waiting, and
// (opt-in) a short sound. The counting is pure (`note`), so the rules are tested in Node.

/**
 * @typedef {{chat: number, knocks: number, waiting: number[]}} Unseen
 * @typedef {{type: "chat", count: number, looking: boolean}
 *   | {type: "lobby", waiting: number[], looking: boolean}
 *   | {type: "seen"}} AttentionEvent
 */

/** @returns {Unseen} */
export function nothingUnseen() {
  return { chat: 0, knocks: 0, waiting: [] };
}

/**
 * The unseen counts after `event`. Messages and knocks count only while the person is
 * not `looking` (panel folded, or tab hidden); a knock is someone new in the lobby, not
 * the same people again after a roster refresh; someone who left the lobby takes their
 * knock back.
 * @param {Unseen} u @param {AttentionEvent} event @returns {Unseen}
 */
export function note(u, event) {
  switch (event.type) {
    case "seen":
      return { chat: 0, knocks: 0, waiting: u.waiting };
    case "chat":
      return event.looking || event.count <= 0 ? u : { ...u, chat: u.chat + event.count };
    case "lobby": {
      const arrived = event.waiting.filter((id) => !u.waiting.includes(id)).length;
      const stillWaiting = Math.min(u.knocks, event.waiting.length);
      const knocks = event.looking ? 0 : stillWaiting + arrived;
      return { ...u, waiting: event.waiting, knocks };
    }
  }
}

/** The total to show. @param {Unseen} u */
export const total = (u) => u.chat + u.knocks;

/** The tab title with the unseen count in front. @param {string} base @param {Unseen} u */
export function titleWith(base, u) {
  return total(u) ? `(${total(u)}) ${base}` : base;
}

const SOUND_KEY = "deskshare.sound";

/** Shows the counts: badge, title, toast, sound. */
export class AttentionView {
  /**
   * @param {{toggle: HTMLButtonElement, side: HTMLElement, toast: HTMLElement, sound: HTMLButtonElement}} els
   */
  constructor(els) {
    this.els = els;
    this.unseen = nothingUnseen();
    this.badge = document.createElement("span");
    this.badge.className = "badge";
    this.badge.hidden = true;
    els.toggle.append(this.badge);
    /** @type {number | undefined} */
    this.toastTimer = undefined;
    this.soundOn = localStorage.getItem(SOUND_KEY) === "on";
    this.paintSoundButton();
    els.sound.addEventListener("click", () => {
      this.soundOn = !this.soundOn;
      localStorage.setItem(SOUND_KEY, this.soundOn ? "on" : "off");
      this.paintSoundButton();
      if (this.soundOn) this.beep();
    });
    const recheck = () => {
      if (this.looking()) this.apply({ type: "seen" });
    };
    document.addEventListener("visibilitychange", recheck);
    window.addEventListener("focus", recheck);
  }

  /** Whether the person sees the panel now. */
  looking() {
    return !this.els.side.hidden && document.visibilityState === "visible";
  }

  /** @param {number} count new chat lines from others */
  chat(count) {
    this.apply({ type: "chat", count, looking: this.looking() }, "A new message");
  }

  /** @param {{participant: number, name: string}[]} waiting who is in the lobby now */
  lobby(waiting) {
    const ids = waiting.map((w) => w.participant);
    const arrivals = waiting.filter((w) => !this.unseen.waiting.includes(w.participant));
    this.apply({ type: "lobby", waiting: ids, looking: this.looking() });
    // Nobody waits any more (let in, turned away, gone): the toast about them goes too.
    if (!waiting.length) this.els.toast.hidden = true;
    if (arrivals.length) {
      const names = arrivals.map((w) => w.name).join(", ");
      this.toast(`${names} ${arrivals.length === 1 ? "is" : "are"} waiting in the lobby`);
      if (this.soundOn) this.beep();
    }
  }

  /** Something that needs an answer now (a control request): the tone, if on. */
  alert() {
    if (this.soundOn) this.beep();
  }

  /** The panel was opened. */
  seen() {
    this.apply({ type: "seen" });
  }

  /** @param {AttentionEvent} event @param {string} [soundFor] */
  apply(event, soundFor) {
    const before = total(this.unseen);
    this.unseen = note(this.unseen, event);
    const n = total(this.unseen);
    this.badge.hidden = n === 0;
    this.badge.textContent = String(n);
    this.els.toggle.setAttribute("aria-label", n ? `People & chat, ${n} unseen` : "People & chat");
    document.title = titleWith(document.title.replace(/^\(\d+\) /, ""), this.unseen);
    if (soundFor && n > before && this.soundOn) this.beep();
  }

  /** @param {string} text */
  toast(text) {
    const t = this.els.toast;
    t.replaceChildren(text, " ");
    const open = document.createElement("button");
    open.type = "button";
    open.textContent = "Show";
    open.addEventListener("click", () => {
      if (this.els.side.hidden) this.els.toggle.click();
      t.hidden = true;
    });
    t.append(open);
    t.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => (t.hidden = true), 10000);
  }

  paintSoundButton() {
    this.els.sound.setAttribute("aria-pressed", String(this.soundOn));
    this.els.sound.textContent = this.soundOn ? "Sound on" : "Sound off";
    this.els.sound.title = "A short sound for a new message or someone waiting in the lobby";
  }

  /** A short, quiet tone (needs a click on the page first, as browsers require). */
  beep() {
    try {
      const ctx = new AudioContext();
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      gain.gain.value = 0.05;
      osc.frequency.value = 880;
      osc.connect(gain).connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.15);
      osc.onended = () => ctx.close();
    } catch {
      // No audio here: the badge and title still say it.
    }
  }
}
