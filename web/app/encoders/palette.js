// PALETTE encoder: the sorted distinct colours of a rectangle (up to 256) and its pixels
// as packed indices. Mirrors crates/codec/src/palette.rs byte for byte.

import { paletteBits, paletteLen } from "../protocol.js";

/**
 * The sorted distinct colours (0xRRGGBB) of the `w`×`h` rectangle at (`x0`, `y0`) of a
 * 32-bit RGBA view `px` (`width` a row), or null if there are more than `max`.
 * @param {Uint32Array} px @param {number} width
 * @param {number} x0 @param {number} y0 @param {number} w @param {number} h @param {number} max
 * @returns {number[] | null}
 */
export function colours(px, width, x0, y0, w, h, max) {
  const seen = new Set();
  let last = -1;
  for (let y = y0; y < y0 + h; y++) {
    for (let i = y * width + x0, end = i + w; i < end; i++) {
      const p = px[i];
      if (p === last) continue;
      last = p;
      if (!seen.has(p)) {
        seen.add(p);
        if (seen.size > max) return null;
      }
    }
  }
  // Little-endian RGBA words: R is the low byte. Sort as 0xRRGGBB, like the Rust side.
  return [...seen].map((p) => ((p & 0xff) << 16) | (p & 0xff00) | ((p >>> 16) & 0xff)).sort((a, b) => a - b);
}

/**
 * Writes the PALETTE payload into `out` at `o`; returns the new end.
 * @param {Uint32Array} px @param {number} width
 * @param {number} x0 @param {number} y0 @param {number} w @param {number} h
 * @param {number[]} palette sorted 0xRRGGBB @param {Uint8Array} out @param {number} o
 */
export function encodePalette(px, width, x0, y0, w, h, palette, out, o) {
  const n = palette.length;
  const start = o;
  out[o++] = n - 1;
  /** RGBA word → index. */
  const index = new Map();
  palette.forEach((c, i) => {
    out[o++] = c >> 16; out[o++] = (c >> 8) & 0xff; out[o++] = c & 0xff;
    index.set(0xff000000 | ((c & 0xff) << 16) | (c & 0xff00) | (c >> 16), i);
  });
  const bits = paletteBits(n);
  for (let y = y0; y < y0 + h; y++) {
    let acc = 0, used = 0;
    for (let i = y * width + x0, end = i + w; i < end; i++) {
      const k = index.get(px[i] | 0xff000000);
      acc |= k << (8 - bits - used);
      used += bits;
      if (used === 8) { out[o++] = acc; acc = 0; used = 0; }
    }
    if (used > 0) out[o++] = acc;
  }
  if (o - start !== paletteLen(n, w, h)) throw new Error("palette length mismatch");
  return o;
}
