// Consent where the presenter is: when someone asks to control the screen the person
// presents with the deskshare app, their meeting page asks too ("Ana asks to control
// your screen — Allow / Deny"), beside the window the app shows on the shared screen.
// The first answer anywhere wins; the server withdraws the question from the page
// (`consent_done`). While someone has control, "Take back control" ends it — for the
// person presenting and for organisers. The app's hotkey and local input stay the
// final word on the presenter's machine.

/**
 * @typedef {{participant: number, name: string}} Person
 * @typedef {{box: HTMLElement, text: HTMLElement, allow: HTMLButtonElement,
 *   deny: HTMLButtonElement, takeBack: HTMLButtonElement}} ConsentElements
 */

export class ConsentPanel {
  /** @param {ConsentElements} els @param {(msg: object) => void} send */
  constructor(els, send) {
    this.els = els;
    this.send = send;
    /** The grant being asked about, while the question is shown. @type {number | null} */
    this.grant = null;
    els.allow.addEventListener("click", () => this.answer(true));
    els.deny.addEventListener("click", () => this.answer(false));
    els.takeBack.addEventListener("click", () => this.send({ type: "take_back" }));
  }

  /** `consent_ask`: show the question. @param {{grant: number, requester: Person}} msg */
  ask(msg) {
    this.grant = msg.grant;
    this.els.text.textContent = `${msg.requester.name} asks to control your screen.`;
    this.els.box.hidden = false;
    // Not on Allow: a keystroke meant for something else must not grant control.
    this.els.deny.focus();
  }

  /** `consent_done`: the question about `grant` is over. @param {{grant: number}} msg */
  done(msg) {
    if (this.grant === msg.grant) this.close();
  }

  /** @param {boolean} granted */
  answer(granted) {
    if (this.grant === null) return;
    this.send({ type: "consent_answer", grant: this.grant, granted });
    this.close();
  }

  close() {
    this.grant = null;
    this.els.box.hidden = true;
  }

  /** Whether "Take back control" is offered: someone controls, and this page's person
   * presents or organises. @param {boolean} offered */
  setTakeBack(offered) {
    this.els.takeBack.hidden = !offered;
  }

  /** The connection dropped: a question asked over it is gone with it. */
  reset() {
    this.close();
  }
}
