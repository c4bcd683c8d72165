// The participant's copy of the roster, kept from `roster` pages and `roster_delta`
// messages as docs/PROTOCOL.md says (the same rules as deskshare_proto::RosterList).

/**
 * @typedef {{participant: number, name: string, role: "organiser"|"presenter"|"attendee",
 *   guest: boolean, presenting: boolean, in_lobby: boolean}} RosterEntry
 */

export class RosterList {
  constructor() {
    /** @type {Map<number, RosterEntry>} */
    this.list = new Map();
    /** Pages of a list not complete yet. @type {Map<number, RosterEntry> | null} */
    this.paging = null;
    this.complete = false;
    /** The list is everyone, not the short list of a large meeting. */
    this.full = true;
    this.people = 0;
    /** People in the lobby (told to organisers and presenters). @type {number | null} */
    this.lobby = null;
  }

  /**
   * Applies a roster message; says whether it was one.
   * @param {any} msg
   */
  apply(msg) {
    if (msg.type === "roster") {
      const page = (this.paging ??= new Map());
      for (const e of /** @type {RosterEntry[]} */ (msg.participants)) page.set(e.participant, e);
      if (!msg.more) {
        this.list = page;
        this.paging = null;
        this.complete = true;
      }
      this.full = !!msg.full;
    } else if (msg.type === "roster_delta") {
      for (const e of /** @type {RosterEntry[]} */ ([...(msg.joined ?? []), ...(msg.changed ?? [])])) {
        this.list.set(e.participant, e);
      }
      for (const id of /** @type {number[]} */ (msg.left ?? [])) this.list.delete(id);
    } else {
      return false;
    }
    this.people = msg.people;
    this.lobby = msg.lobby ?? null;
    return true;
  }

  /** The lines in participant order. @returns {RosterEntry[]} */
  entries() {
    return [...this.list.values()].sort((a, b) => a.participant - b.participant);
  }
}
