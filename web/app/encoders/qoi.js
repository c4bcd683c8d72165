// QOI tile encoder: the op stream of a tile's RGB pixels, without header or end marker.
// Mirrors crates/codec/src/qoi.rs op for op, so both sides produce the same bytes.

const OP_INDEX = 0x00;
const OP_DIFF = 0x40;
const OP_LUMA = 0x80;
const OP_RUN = 0xc0;
const OP_RGB = 0xfe;

/** Wraps a difference to a signed byte, as Rust's `wrapping_sub(..) as i8` does. @param {number} v */
const i8 = (v) => ((v + 128) & 0xff) - 128;

/**
 * Encodes the `w`×`h` tile at (`x0`, `y0`) of an RGBA image `width` pixels wide.
 * @param {Uint8ClampedArray | Uint8Array} rgba
 * @param {number} width
 * @param {number} x0 @param {number} y0 @param {number} w @param {number} h
 * @param {Uint8Array} out at least w*h*4 bytes (an RGB op per pixel at worst)
 * @returns {number} bytes written
 */
export function encodeQoi(rgba, width, x0, y0, w, h, out) {
  const index = new Int32Array(64); // packed 0xRRGGBB; starts all black, like QOI
  let prev = 0;
  let run = 0;
  let o = 0;
  for (let y = y0; y < y0 + h; y++) {
    let i = (y * width + x0) * 4;
    for (let x = 0; x < w; x++, i += 4) {
      const r = rgba[i], g = rgba[i + 1], b = rgba[i + 2];
      const px = (r << 16) | (g << 8) | b;
      if (px === prev) {
        run++;
        if (run === 62) {
          out[o++] = OP_RUN | (run - 1);
          run = 0;
        }
        continue;
      }
      if (run > 0) {
        out[o++] = OP_RUN | (run - 1);
        run = 0;
      }
      const h64 = (r * 3 + g * 5 + b * 7 + 255 * 11) % 64;
      if (index[h64] === px) {
        out[o++] = OP_INDEX | h64;
      } else {
        index[h64] = px;
        const dr = i8(r - (prev >> 16));
        const dg = i8(g - ((prev >> 8) & 0xff));
        const db = i8(b - (prev & 0xff));
        const drDg = i8(dr - dg);
        const dbDg = i8(db - dg);
        if (dr >= -2 && dr <= 1 && dg >= -2 && dg <= 1 && db >= -2 && db <= 1) {
          out[o++] = OP_DIFF | ((dr + 2) << 4) | ((dg + 2) << 2) | (db + 2);
        } else if (dg >= -32 && dg <= 31 && drDg >= -8 && drDg <= 7 && dbDg >= -8 && dbDg <= 7) {
          out[o++] = OP_LUMA | (dg + 32);
          out[o++] = ((drDg + 8) << 4) | (dbDg + 8);
        } else {
          out[o++] = OP_RGB;
          out[o++] = r;
          out[o++] = g;
          out[o++] = b;
        }
      }
      prev = px;
    }
  }
  if (run > 0) out[o++] = OP_RUN | (run - 1);
  return o;
}
