// SOLID rectangle: 3 bytes of RGB fill the whole rectangle.

/**
 * @param {Uint8Array} data
 * @param {Uint8ClampedArray} out RGBA, width*height*4
 * @param {number} [_w] @param {number} [_h] (the size is out's)
 */
export function decodeSolid(data, out, _w, _h) {
  if (data.length !== 3) throw new RangeError("solid rectangle must be 3 bytes");
  const [r, g, b] = data;
  for (let i = 0; i < out.length; i += 4) {
    out[i] = r;
    out[i + 1] = g;
    out[i + 2] = b;
    out[i + 3] = 255;
  }
}
