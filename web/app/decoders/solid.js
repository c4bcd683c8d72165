// SOLID tile: 3 bytes of RGB fill the whole tile.

/**
 * @param {Uint8Array} data
 * @param {Uint8ClampedArray} out RGBA, width*height*4
 */
export function decodeSolid(data, out) {
  if (data.length !== 3) throw new RangeError("solid tile must be 3 bytes");
  const [r, g, b] = data;
  for (let i = 0; i < out.length; i += 4) {
    out[i] = r;
    out[i + 1] = g;
    out[i + 2] = b;
    out[i + 3] = 255;
  }
}
