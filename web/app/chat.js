// The chat panel: the meeting's history on join, each new message as it comes (ids
// drop duplicates after a reconnect), and a form to send one.

/** @typedef {{id: number, at: number, from: string, guest: boolean, text: string}} ChatLine */

/** Longest message, as the server counts it (MAX_CHAT_CHARS). */
const MAX_CHARS = 2000;

export class ChatPanel {
  /**
   * @param {HTMLOListElement} list
   * @param {HTMLFormElement} form with a textarea named "text"
   * @param {(msg: object) => void} send
   */
  constructor(list, form, send) {
    this.list = list;
    this.form = form;
    this.input = /** @type {HTMLTextAreaElement} */ (form.elements.namedItem("text"));
    this.input.maxLength = MAX_CHARS;
    /** @type {Set<number>} */
    this.seen = new Set();
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = this.input.value.trim();
      if (!text) return;
      send({ type: "chat", text });
      this.input.value = "";
    });
    // Enter sends, Shift+Enter starts a new line, as in every chat.
    this.input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        form.requestSubmit();
      }
    });
  }

  /** Enables the form once in the meeting (not in the lobby). @param {boolean} on */
  setEnabled(on) {
    this.input.disabled = !on;
    /** @type {HTMLButtonElement} */ (this.form.querySelector("button")).disabled = !on;
  }

  /** Adds the lines not shown yet; returns how many. @param {ChatLine[]} messages */
  add(messages) {
    let added = 0;
    const atBottom = this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - 4;
    for (const m of messages) {
      if (this.seen.has(m.id)) continue;
      this.seen.add(m.id);
      added += 1;
      const li = document.createElement("li");
      li.className = "chat-line";
      const head = document.createElement("p");
      head.className = "chat-head";
      const who = document.createElement("span");
      who.className = "chat-from";
      who.textContent = m.guest ? `${m.from} (guest)` : m.from;
      const when = document.createElement("time");
      const date = new Date(m.at * 1000);
      when.dateTime = date.toISOString();
      when.textContent = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      head.append(who, " ", when);
      const body = document.createElement("p");
      body.className = "chat-text";
      body.textContent = m.text;
      li.append(head, body);
      this.list.append(li);
    }
    if (atBottom) this.list.scrollTop = this.list.scrollHeight;
    return added;
  }

  /** The texts shown, oldest first (tests read them). */
  texts() {
    return [...this.list.querySelectorAll(".chat-text")].map((p) => p.textContent ?? "");
  }
}
