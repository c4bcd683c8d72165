// The roster panel: who is here, in which role, who is a guest, who presents, who waits
// in the lobby, and the organiser's buttons (admit, deny, promote, demote, remove, end).
// In a large meeting an attendee sees the people who matter and the count, and may open
// the whole list.

import { RosterList } from "./roster-list.js";

/** @typedef {import("./roster-list.js").RosterEntry} RosterEntry */

export class RosterPanel {
  /**
   * @param {HTMLElement} list where the roster is drawn
   * @param {HTMLButtonElement} endButton the organiser's "End meeting"
   * @param {(msg: object) => void} send
   */
  constructor(list, endButton, send) {
    this.list = list;
    this.endButton = endButton;
    this.send = send;
    this.me = -1;
    this.model = new RosterList();
    /** @type {RosterEntry[]} */
    this.entries = [];
    /** The person asked for the whole list of a large meeting. */
    this.wantsFull = false;
    this.renderQueued = false;
    /** @type {number | null} */
    this.controller = null;
    /** Who asks for control (the first of the queue). @type {Set<number>} */
    this.requesting = new Set();
    endButton.addEventListener("click", () => {
      if (confirm("End the meeting for everyone?")) this.send({ type: "end_meeting" });
    });
  }

  /** @param {number} me */
  setMe(me) {
    this.me = me;
    this.render();
  }

  /**
   * A `roster` or `roster_delta` message; says whether it was one. Drawn once per
   * animation frame, however many arrive.
   * @param {any} msg
   */
  apply(msg) {
    if (!this.model.apply(msg)) return false;
    if (this.model.complete) this.entries = this.model.entries();
    if (!this.renderQueued) {
      this.renderQueued = true;
      requestAnimationFrame(() => {
        this.renderQueued = false;
        this.render();
      });
    }
    return true;
  }

  /** The name of whoever presents now, if the list shows them. */
  presenterName() {
    return this.entries.find((e) => e.presenting)?.name || null;
  }

  /** Who waits in the lobby (only organisers and presenters are told). */
  waiting() {
    return this.entries.filter((e) => e.in_lobby).map((e) => ({ participant: e.participant, name: e.name }));
  }

  /** A new connection starts with a new list (and the same choice of list). */
  reset() {
    this.model = new RosterList();
    if (this.wantsFull) this.send({ type: "roster_view", full: true });
  }

  /** Who controls, and who asks to (as the `control` message names them).
   * @param {number | null} participant @param {number[]} requesting */
  setFloor(participant, requesting) {
    this.controller = participant;
    this.requesting = new Set(requesting);
    this.render();
  }

  myRole() {
    return this.myLine()?.role ?? "attendee";
  }

  /** This page's own line, once the list has it. */
  myLine() {
    return this.entries.find((e) => e.participant === this.me);
  }

  /** @param {string} label @param {string} action @param {RosterEntry} e */
  button(label, action, e) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.setAttribute("aria-label", `${label}: ${e.name}`);
    b.addEventListener("click", () => this.send({ type: "participant", participant: e.participant, action }));
    return b;
  }

  /**
   * One line of the list: the name and its tags.
   * @param {RosterEntry} e
   * @param {string} name
   * @param {string[]} tags
   */
  personItem(e, name, tags) {
    const li = document.createElement("li");
    li.className = e.in_lobby ? "person in-lobby" : "person";
    li.dataset.participant = String(e.participant);
    const label = document.createElement("span");
    label.className = "person-name";
    label.textContent = name;
    li.append(label);
    for (const t of tags) {
      const tag = document.createElement("span");
      tag.className = `tag tag-${t.replaceAll(" ", "-")}`;
      tag.textContent = t;
      li.append(tag);
    }
    return li;
  }

  render() {
    const role = this.myRole();
    const organiser = role === "organiser";
    const manages = organiser || role === "presenter";
    this.endButton.hidden = !organiser;
    this.list.replaceChildren();
    const people = this.entries.filter((e) => !e.in_lobby);
    const shortList = !this.model.full;
    if (shortList || this.wantsFull) {
      const head = document.createElement("li");
      head.className = "roster-summary";
      head.textContent = shortList ? `${this.model.people} people · showing who presents, controls or speaks` : `${this.model.people} people`;
      const toggle = document.createElement("button");
      toggle.type = "button";
      toggle.textContent = shortList ? "Show everyone" : "Show fewer";
      toggle.addEventListener("click", () => {
        this.wantsFull = shortList;
        this.send({ type: "roster_view", full: shortList });
      });
      head.append(toggle);
      this.list.append(head);
    }
    const waiting = this.entries.filter((e) => e.in_lobby);
    for (const e of people) {
      const tags = /** @type {string[]} */ ([e.role]);
      if (e.guest) tags.push("guest");
      if (e.presenting) tags.push("presenting");
      if (this.controller === e.participant) tags.push("in control");
      if (this.requesting.has(e.participant)) tags.push("asks for control");
      const li = this.personItem(e, e.participant === this.me ? `${e.name} (you)` : e.name, tags);
      if (organiser && e.participant !== this.me && e.role !== "organiser") {
        li.append(e.role === "presenter" ? this.button("Make attendee", "demote", e) : this.button("Make presenter", "promote", e));
        li.append(this.button("Remove", "remove", e));
      }
      this.list.append(li);
    }
    if (manages && waiting.length) {
      const head = document.createElement("li");
      head.className = "lobby-head";
      head.textContent = `In the lobby (${waiting.length})`;
      this.list.append(head);
      for (const e of waiting) {
        const li = this.personItem(e, e.name, e.guest ? ["guest"] : []);
        li.append(this.button("Admit", "admit", e), this.button("Deny", "deny", e));
        this.list.append(li);
      }
    }
  }
}
