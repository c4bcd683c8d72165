// The join step: who joins (signed-in user or guest with a name) and the passcode when
// the meeting has one. It asks only what it must: a signed-in user, or a guest whose
// link carries ?name=, joins straight away unless a passcode is needed.

import { describe } from "./errors.js";
import { el } from "./dom.js";

/**
 * @typedef {{title: string, passcode_required: boolean, guests_allowed: boolean}} MeetingInfo
 * @typedef {{name: string, display_name: string}} Me
 * @typedef {{name: string, passcode: string, asGuest: boolean}} JoinChoice
 *   `asGuest` makes the server ignore a sign-in the browser still carries.
 */

/** Where a person's chosen guest name is remembered between meetings. */
const NAME_KEY = "deskshare.guest-name";

export class JoinForm {
  /**
   * @param {MeetingInfo} info
   * @param {Me | null} me the signed-in user, if any
   * @param {string} nameFromLink
   * @param {(choice: JoinChoice) => void} onJoin
   */
  constructor(info, me, nameFromLink, onJoin) {
    this.info = info;
    this.me = me;
    this.onJoin = onJoin;
    this.form = /** @type {HTMLFormElement} */ (el("join"));
    this.who = el("join-who");
    this.nameField = el("join-name-field");
    this.name = /** @type {HTMLInputElement} */ (el("join-name"));
    this.passcodeField = el("join-passcode-field");
    this.passcode = /** @type {HTMLInputElement} */ (el("join-passcode"));
    this.submit = /** @type {HTMLButtonElement} */ (el("join-submit"));
    this.guestButton = /** @type {HTMLButtonElement} */ (el("join-guest"));
    this.signIn = /** @type {HTMLAnchorElement} */ (el("join-signin"));
    this.error = el("join-error");
    this.asGuest = !me;
    this.name.value = nameFromLink || localStorage.getItem(NAME_KEY) || "";
    this.signIn.href = `/?next=${encodeURIComponent(location.pathname + location.search)}`;
    this.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (this.asGuest) localStorage.setItem(NAME_KEY, this.name.value.trim());
      this.form.hidden = true;
      this.onJoin(this.choice());
    });
    this.guestButton.addEventListener("click", () => {
      this.asGuest = true;
      this.render();
      this.name.focus();
    });
  }

  /** What the person chose. @returns {JoinChoice} */
  choice() {
    return { name: this.asGuest ? this.name.value.trim() : "", passcode: this.passcode.value, asGuest: this.asGuest };
  }

  /** Whether nothing needs asking: join without showing the form. @param {string} nameFromLink */
  canJoinAtOnce(nameFromLink) {
    if (this.info.passcode_required) return false;
    return Boolean(this.me) || (Boolean(nameFromLink) && this.info.guests_allowed);
  }

  /** Shows the form, with why it is shown again after a failed join. @param {string} [code] @param {string} [message] */
  show(code, message) {
    if (code === "PASSCODE_INVALID") this.info.passcode_required = true;
    this.error.replaceChildren();
    if (code) this.error.textContent = describe(code, message);
    this.render();
    this.form.hidden = false;
    const first = [this.name, this.passcode].find((i) => !i.closest("[hidden]") && !i.value) ?? this.submit;
    first.focus();
  }

  render() {
    const { info, me } = this;
    el("join-title").textContent = `Join “${info.title}”`;
    const guest = this.asGuest;
    this.who.textContent = me && !guest
      ? `You are signed in as ${me.display_name}.`
      : info.guests_allowed
        ? "Join as a guest: people in the meeting see the name you give."
        : "This meeting is for signed-in people only.";
    this.nameField.hidden = !guest;
    this.name.required = guest;
    this.passcodeField.hidden = !info.passcode_required;
    this.passcode.required = info.passcode_required;
    this.guestButton.hidden = !me || guest || !info.guests_allowed;
    this.signIn.hidden = Boolean(me) && !guest;
    this.submit.hidden = guest && !info.guests_allowed;
  }

  hide() {
    this.form.hidden = true;
  }
}
