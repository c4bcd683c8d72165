// The browser's keyboard events to X keysyms (web/app/keys.js), without a browser:
// characters of any language become their Unicode keysyms, as the agent expects.

import { test } from "node:test";
import assert from "node:assert/strict";
import { keysymFor } from "../../web/app/keys.js";

/** @param {string} key @param {number} [location] */
const ev = (key, location = 0) => /** @type {KeyboardEvent} */ (/** @type {unknown} */ ({ key, location }));

test("printable characters of any language map to their keysyms", () => {
  assert.equal(keysymFor(ev("a")), 0x61);
  assert.equal(keysymFor(ev("ä")), 0xe4, "Latin-1 keysyms are the code point");
  assert.equal(keysymFor(ev("ß")), 0xdf);
  assert.equal(keysymFor(ev("é")), 0xe9);
  assert.equal(keysymFor(ev("€")), 0x010020ac, "beyond Latin-1: 0x01000000 + code point");
  assert.equal(keysymFor(ev("ж")), 0x01000436);
  assert.equal(keysymFor(ev("中")), 0x01004e2d);
  assert.equal(keysymFor(ev("😀")), 0x0101f600, "astral code points are one character");
});

test("named keys, modifiers by side, and keys with no keysym", () => {
  assert.equal(keysymFor(ev("Enter")), 0xff0d);
  assert.equal(keysymFor(ev("F12")), 0xffc9);
  assert.equal(keysymFor(ev("Shift", 1)), 0xffe1);
  assert.equal(keysymFor(ev("Shift", 2)), 0xffe2);
  assert.equal(keysymFor(ev("Dead")), null, "a dead key waits for the character it makes");
  assert.equal(keysymFor(ev("Unidentified")), null);
});
