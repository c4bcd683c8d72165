// RAW rectangle: uncompressed RGB, 3 bytes a pixel, rows top to bottom.

/**
 * @param {Uint8Array} data
 * @param {Uint8ClampedArray} out RGBA, width*height*4
 * @param {number} [_w] @param {number} [_h] (the size is out's)
 */
export function decodeRaw(data, out, _w, _h) {
  if (data.length * 4 !== out.length * 3) throw new RangeError("raw rectangle has the wrong size");
  for (let i = 0, o = 0; o < out.length; i += 3, o += 4) {
    out[o] = data[i];
    out[o + 1] = data[i + 1];
    out[o + 2] = data[i + 2];
    out[o + 3] = 255;
  }
}
