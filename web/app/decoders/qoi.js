// QOI rectangle: a QOI op stream of RGB pixels without header or end marker, starting from
// opaque black; the rectangle size says how many pixels to expect. Mirrors crates/codec/src/qoi.rs.

const OP_RGB = 0xfe;
const OP_RGBA = 0xff;

/**
 * @param {Uint8Array} data
 * @param {Uint8ClampedArray} out RGBA, width*height*4
 * @param {number} [_w] @param {number} [_h] (the size is out's)
 */
export function decodeQoi(data, out, _w, _h) {
  const index = new Uint8Array(64 * 3);
  let r = 0, g = 0, b = 0;
  let i = 0;
  let o = 0;
  const end = out.length;
  while (o < end) {
    if (i >= data.length) throw new RangeError("qoi stream truncated");
    const op = data[i++];
    if (op === OP_RGB) {
      if (i + 3 > data.length) throw new RangeError("qoi stream truncated");
      r = data[i]; g = data[i + 1]; b = data[i + 2];
      i += 3;
    } else if (op === OP_RGBA) {
      throw new RangeError("qoi RGBA op in an RGB stream");
    } else {
      const tag = op & 0xc0;
      if (tag === 0x00) {
        const k = op * 3;
        r = index[k]; g = index[k + 1]; b = index[k + 2];
      } else if (tag === 0x40) {
        r = (r + ((op >> 4) & 3) - 2) & 0xff;
        g = (g + ((op >> 2) & 3) - 2) & 0xff;
        b = (b + (op & 3) - 2) & 0xff;
      } else if (tag === 0x80) {
        if (i >= data.length) throw new RangeError("qoi stream truncated");
        const b2 = data[i++];
        const dg = (op & 0x3f) - 32;
        r = (r + dg - 8 + (b2 >> 4)) & 0xff;
        g = (g + dg) & 0xff;
        b = (b + dg - 8 + (b2 & 0x0f)) & 0xff;
      } else {
        const run = (op & 0x3f) + 1;
        if (o + run * 4 > end) throw new RangeError("qoi run past the rectangle");
        for (let n = 0; n < run; n++, o += 4) {
          out[o] = r; out[o + 1] = g; out[o + 2] = b; out[o + 3] = 255;
        }
        continue;
      }
    }
    const h = ((r * 3 + g * 5 + b * 7 + 255 * 11) % 64) * 3;
    index[h] = r; index[h + 1] = g; index[h + 2] = b;
    out[o] = r; out[o + 1] = g; out[o + 2] = b; out[o + 3] = 255;
    o += 4;
  }
  if (i !== data.length) throw new RangeError("qoi stream has trailing bytes");
}
