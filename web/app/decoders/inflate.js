// Raw deflate (RFC 1951) with a window kept from frame to frame. A presenter sync-flushes
// one deflate stream per session, so a frame's data may refer back into earlier frames;
// DecompressionStream cannot be fed a stream piecewise and told "give me what you have",
// hence this small inflater. Mirrors crates/codec/src/stream.rs: the four bytes of the
// final empty stored block are left off every frame and put back here; a stream that
// ends with a final block (a browser presenter's CompressionStream) must restart.

const WINDOW = 32768;
const TRAILER = Uint8Array.of(0x00, 0x00, 0xff, 0xff);

const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const CLEN_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** Why deflate data could not be inflated to what the frame declares. */
export class InflateError extends Error {}

/**
 * A Huffman code as a lookup table indexed by the next `bits` input bits (LSB first):
 * each entry is symbol << 4 | code length, 0 for no code.
 * @typedef {{table: Int32Array, bits: number}} Huffman
 */

/** @param {Uint8Array} lengths code length of each symbol (0: unused) @returns {Huffman} */
function huffman(lengths) {
  let max = 0;
  for (const l of lengths) if (l > max) max = l;
  const count = new Uint16Array(16);
  for (const l of lengths) count[l]++;
  count[0] = 0;
  // Over-subscribed codes are corrupt; incomplete ones are allowed (a single distance code).
  let left = 1;
  for (let len = 1; len <= 15; len++) {
    left = left * 2 - count[len];
    if (left < 0) throw new InflateError("over-subscribed Huffman code");
  }
  const next = new Uint16Array(16);
  for (let len = 1, code = 0; len <= 15; len++) {
    code = (code + count[len - 1]) << 1;
    next[len] = code;
  }
  const bits = Math.max(max, 1);
  const table = new Int32Array(1 << bits);
  for (let sym = 0; sym < lengths.length; sym++) {
    const len = lengths[sym];
    if (!len) continue;
    let code = next[len]++;
    let rev = 0;
    for (let i = 0; i < len; i++, code >>= 1) rev = (rev << 1) | (code & 1);
    for (let i = rev; i < table.length; i += 1 << len) table[i] = (sym << 4) | len;
  }
  return { table, bits };
}

let fixedLit = /** @type {Huffman | null} */ (null);
let fixedDist = /** @type {Huffman | null} */ (null);
function fixedCodes() {
  if (!fixedLit || !fixedDist) {
    const l = new Uint8Array(288);
    l.fill(8, 0, 144); l.fill(9, 144, 256); l.fill(7, 256, 280); l.fill(8, 280, 288);
    fixedLit = huffman(l);
    fixedDist = huffman(new Uint8Array(30).fill(5));
  }
  return { lit: fixedLit, dist: fixedDist };
}

/** One deflate stream across frames. */
export class Inflater {
  constructor() {
    this.window = new Uint8Array(0);
    this.ended = false;
  }

  /** Forgets the stream: the next data starts a new one. */
  restart() {
    this.window = new Uint8Array(0);
    this.ended = false;
  }

  /**
   * Inflates one frame's data to exactly `expected` bytes.
   * @param {Uint8Array} data
   * @param {number} expected
   * @returns {Uint8Array}
   */
  inflate(data, expected) {
    if (data.length === 0 && expected === 0) return new Uint8Array(0);
    if (this.ended) throw new InflateError("the stream ended: this frame must restart it");
    const base = this.window.length;
    const out = new Uint8Array(base + expected);
    out.set(this.window);
    let o = base;
    // Bit reader over data, then (only if needed) the stripped sync trailer.
    let inPos = 0, bitBuf = 0, bitCnt = 0;
    const end = data.length + TRAILER.length;
    const byteAt = (/** @type {number} */ i) => (i < data.length ? data[i] : TRAILER[i - data.length]);
    const need = (/** @type {number} */ n) => {
      while (bitCnt < n) {
        if (inPos >= end) throw new InflateError("deflate data truncated");
        bitBuf |= byteAt(inPos++) << bitCnt;
        bitCnt += 8;
      }
    };
    const bits = (/** @type {number} */ n) => {
      need(n);
      const v = bitBuf & ((1 << n) - 1);
      bitBuf >>>= n;
      bitCnt -= n;
      return v;
    };
    const decodeSym = (/** @type {Huffman} */ h) => {
      // Peek up to h.bits bits; near the end fewer may exist, which is fine if the code is short.
      while (bitCnt < h.bits && inPos < end) {
        bitBuf |= byteAt(inPos++) << bitCnt;
        bitCnt += 8;
      }
      const e = h.table[bitBuf & ((1 << h.bits) - 1)];
      const len = e & 15;
      if (!len || len > bitCnt) throw new InflateError("invalid Huffman code");
      bitBuf >>>= len;
      bitCnt -= len;
      return e >> 4;
    };
    const realBitsLeft = () => (data.length - inPos) * 8 + bitCnt;
    while (realBitsLeft() > 0) {
      const final = bits(1);
      const type = bits(2);
      if (type === 0) {
        const pad = bitCnt & 7; // to a byte boundary; whole prefetched bytes stay
        bitBuf >>>= pad;
        bitCnt -= pad;
        const len = bits(16), nlen = bits(16);
        if ((len ^ 0xffff) !== nlen) throw new InflateError("stored block length check failed");
        if (o + len > out.length) throw new InflateError(`inflates to more than the ${expected} bytes declared`);
        for (let i = 0; i < len; i++) out[o++] = bits(8);
      } else if (type === 1 || type === 2) {
        let lit, dist;
        if (type === 1) ({ lit, dist } = fixedCodes());
        else {
          const hlit = bits(5) + 257, hdist = bits(5) + 1, hclen = bits(4) + 4;
          const cl = new Uint8Array(19);
          for (let i = 0; i < hclen; i++) cl[CLEN_ORDER[i]] = bits(3);
          const clCode = huffman(cl);
          const lengths = new Uint8Array(hlit + hdist);
          for (let i = 0; i < hlit + hdist;) {
            const sym = decodeSym(clCode);
            if (sym < 16) lengths[i++] = sym;
            else {
              let rep, val = 0;
              if (sym === 16) {
                if (i === 0) throw new InflateError("repeat with no previous length");
                val = lengths[i - 1]; rep = 3 + bits(2);
              } else if (sym === 17) rep = 3 + bits(3);
              else rep = 11 + bits(7);
              if (i + rep > hlit + hdist) throw new InflateError("code lengths overflow");
              lengths.fill(val, i, i + rep);
              i += rep;
            }
          }
          if (!lengths[256]) throw new InflateError("no end-of-block code");
          lit = huffman(lengths.subarray(0, hlit));
          dist = huffman(lengths.subarray(hlit));
        }
        for (;;) {
          const sym = decodeSym(lit);
          if (sym < 256) {
            if (o >= out.length) throw new InflateError(`inflates to more than the ${expected} bytes declared`);
            out[o++] = sym;
          } else if (sym === 256) break;
          else {
            const li = sym - 257;
            if (li >= 29) throw new InflateError("invalid length code");
            const len = LENGTH_BASE[li] + bits(LENGTH_EXTRA[li]);
            const di = decodeSym(dist);
            if (di >= 30) throw new InflateError("invalid distance code");
            const d = DIST_BASE[di] + bits(DIST_EXTRA[di]);
            if (d > o) throw new InflateError("distance reaches before the stream's start");
            if (o + len > out.length) throw new InflateError(`inflates to more than the ${expected} bytes declared`);
            for (let i = 0; i < len; i++, o++) out[o] = out[o - d];
          }
        }
      } else throw new InflateError("invalid block type");
      if (final) {
        this.ended = true;
        const unread = data.length - inPos + (bitCnt >> 3);
        if (unread > 0) throw new InflateError(`${unread} bytes follow the end of the stream`);
        break;
      }
    }
    if (o !== out.length) throw new InflateError(`inflates to ${o - base} of the ${expected} bytes declared`);
    this.window = out.slice(Math.max(0, o - WINDOW), o);
    return out.subarray(base);
  }
}
