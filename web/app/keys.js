// Browser keyboard events to X keysyms (docs/PROTOCOL.md: input travels as keysyms, so
// the presenter's layout decides what a key does). Mirrors crates/proto/src/keys.rs.

/** @type {Record<string, number>} */
const NAMED = {
  Enter: 0xff0d, Backspace: 0xff08, Tab: 0xff09, Escape: 0xff1b, Delete: 0xffff, Insert: 0xff63,
  Home: 0xff50, End: 0xff57, PageUp: 0xff55, PageDown: 0xff56,
  ArrowLeft: 0xff51, ArrowUp: 0xff52, ArrowRight: 0xff53, ArrowDown: 0xff54,
  CapsLock: 0xffe5, NumLock: 0xff7f, ScrollLock: 0xff14, Pause: 0xff13, ContextMenu: 0xff67,
  PrintScreen: 0xff61,
};

/** @type {Record<string, [number, number]>} left/right keysyms of modifier keys */
const MODIFIERS = {
  Shift: [0xffe1, 0xffe2], Control: [0xffe3, 0xffe4], Alt: [0xffe9, 0xffea], Meta: [0xffeb, 0xffec],
  AltGraph: [0xfe03, 0xfe03],
};

/**
 * The keysym for a KeyboardEvent, or null for keys that have none.
 * @param {KeyboardEvent} ev
 * @returns {number | null}
 */
export function keysymFor(ev) {
  const { key } = ev;
  if (key in MODIFIERS) return MODIFIERS[key][ev.location === 2 ? 1 : 0];
  if (key in NAMED) return NAMED[key];
  const f = /^F([1-9]|1[0-2])$/.exec(key);
  if (f) return 0xffbe + Number(f[1]) - 1;
  const chars = [...key];
  if (chars.length === 1) {
    const cp = /** @type {number} */ (chars[0].codePointAt(0));
    if (cp < 0x20 || cp === 0x7f) return null;
    return cp <= 0xff ? cp : 0x01000000 + cp;
  }
  return null;
}
