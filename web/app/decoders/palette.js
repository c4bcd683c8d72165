// PALETTE rectangle: n-1 (one byte), n RGB colours, then each row's indices packed at
// 1, 2, 4 or 8 bits (by n), rows padded to a byte. Mirrors crates/codec/src/palette.rs.

import { paletteBits, paletteLen } from "../protocol.js";

/**
 * @param {Uint8Array} data
 * @param {Uint8ClampedArray} out RGBA, w*h*4
 * @param {number} w
 * @param {number} h
 */
export function decodePalette(data, out, w, h) {
  if (data.length < 1) throw new RangeError("palette payload is empty");
  const n = data[0] + 1;
  if (data.length !== paletteLen(n, w, h)) throw new RangeError("palette payload has the wrong size");
  const bits = paletteBits(n);
  const mask = (1 << bits) - 1;
  const rowLen = Math.ceil((w * bits) / 8);
  let p = 1 + 3 * n;
  let o = 0;
  for (let y = 0; y < h; y++, p += rowLen) {
    for (let x = 0; x < w; x++) {
      const bit = x * bits;
      const i = (data[p + (bit >> 3)] >> (8 - bits - (bit & 7))) & mask;
      if (i >= n) throw new RangeError(`palette index ${i} outside ${n} colours`);
      const c = 1 + 3 * i;
      out[o++] = data[c]; out[o++] = data[c + 1]; out[o++] = data[c + 2]; out[o++] = 255;
    }
  }
}
