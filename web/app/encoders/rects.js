// The presenter's side of the wire format in the browser: finds the exact rectangles that
// changed since the last frame sent (merged within and across 64-px tiles, as
// crates/codec/src/dirty.rs), encodes each (SOLID, PALETTE, QOI, or RAW when QOI would be
// larger) and compresses them with the browser's own deflate. Pure apart from
// CompressionStream, so it runs in a Worker and in node's tests.
//
// Each frame is compressed on its own (CompressionStream cannot sync-flush) and so sets
// RESTART; the server and viewers handle that as any stream start.

import {
  TILE_SIZE, KIND_FRAME, FLAG_KEYFRAME, FLAG_RESTART, ENCODING_SOLID, ENCODING_RAW, ENCODING_QOI,
  ENCODING_PALETTE, MAX_SCREEN_EDGE, ProtocolError,
} from "../protocol.js";
import { encodeQoi } from "./qoi.js";
import { colours, encodePalette } from "./palette.js";

/**
 * @typedef {import("../protocol.js").PixelRect} PixelRect
 * @typedef {{buffer: ArrayBuffer, keyframe: boolean, frame: number, rects: number}} EncodedFrame
 */

const MERGE_WASTE = 0.3;
const MERGE_SLACK = 256;
const SPLIT_AREA = 4 * TILE_SIZE * TILE_SIZE;

/** @param {PixelRect} a @param {PixelRect} b */
function union(a, b) {
  const x = Math.min(a.x, b.x), y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}

/**
 * The rectangles where two 32-bit RGBA views differ.
 * @param {Uint32Array} prev @param {Uint32Array} cur @param {number} width @param {number} height
 * @returns {PixelRect[]}
 */
export function dirtyRects(prev, cur, width, height) {
  const cols = Math.ceil(width / TILE_SIZE);
  /** @type {PixelRect[]} */
  const out = [];
  const boxes = new Int32Array(cols * 4);
  for (let by = 0; by < height; by += TILE_SIZE) {
    boxes.fill(-1);
    for (let y = by; y < Math.min(by + TILE_SIZE, height); y++) {
      const row = y * width;
      for (let col = 0; col < cols; col++) {
        const x0 = col * TILE_SIZE, x1 = Math.min(x0 + TILE_SIZE, width);
        let first = -1, last = -1;
        for (let x = x0; x < x1; x++) {
          if (prev[row + x] !== cur[row + x]) { if (first < 0) first = x; last = x; }
        }
        if (first < 0) continue;
        const b = col * 4;
        if (boxes[b] < 0) { boxes[b] = first; boxes[b + 1] = last; boxes[b + 2] = y; }
        else { boxes[b] = Math.min(boxes[b], first); boxes[b + 1] = Math.max(boxes[b + 1], last); }
        boxes[b + 3] = y;
      }
    }
    /** @type {PixelRect[]} */
    const band = [];
    for (let col = 0; col < cols; col++) {
      const b = col * 4;
      if (boxes[b] < 0) continue;
      const r = { x: boxes[b], y: boxes[b + 2], width: boxes[b + 1] - boxes[b] + 1, height: boxes[b + 3] - boxes[b + 2] + 1 };
      const last = band[band.length - 1];
      if (last) {
        const u = union(last, r);
        const sum = last.width * last.height + r.width * r.height;
        if (u.width * u.height <= sum * (1 + MERGE_WASTE) + MERGE_SLACK) { band[band.length - 1] = u; continue; }
      }
      band.push(r);
    }
    for (const r of band) {
      const above = out.slice(-cols).reverse().find((a) => a.x === r.x && a.width === r.width && a.y + a.height === r.y);
      if (above) above.height += r.height;
      else out.push(r);
    }
  }
  return out;
}

/** `r` cut along the tile grid when large. @param {PixelRect} r @returns {PixelRect[]} */
export function split(r) {
  if (r.width * r.height <= SPLIT_AREA) return [r];
  const out = [];
  for (let y = r.y; y < r.y + r.height;) {
    const y1 = Math.min((Math.floor(y / TILE_SIZE) + 1) * TILE_SIZE, r.y + r.height);
    for (let x = r.x; x < r.x + r.width;) {
      const x1 = Math.min((Math.floor(x / TILE_SIZE) + 1) * TILE_SIZE, r.x + r.width);
      out.push({ x, y, width: x1 - x, height: y1 - y });
      x = x1;
    }
    y = y1;
  }
  return out;
}

/**
 * Encodes one rectangle of an RGBA image into `out` at `o`.
 * @param {Uint8ClampedArray} rgba @param {Uint32Array} px the same pixels as words
 * @param {number} width @param {PixelRect} r @param {Uint8Array} out @param {number} o
 * @returns {{encoding: number, end: number}}
 */
export function encodeRect(rgba, px, width, r, out, o) {
  const { x: x0, y: y0, width: w, height: h } = r;
  const pal = colours(px, width, x0, y0, w, h, 256);
  if (pal && pal.length === 1) {
    const c = pal[0];
    out[o] = c >> 16; out[o + 1] = (c >> 8) & 0xff; out[o + 2] = c & 0xff;
    return { encoding: ENCODING_SOLID, end: o + 3 };
  }
  if (pal) return { encoding: ENCODING_PALETTE, end: encodePalette(px, width, x0, y0, w, h, pal, out, o) };
  const len = encodeQoi(rgba, width, x0, y0, w, h, out.subarray(o));
  if (len <= w * h * 3) return { encoding: ENCODING_QOI, end: o + len };
  for (let y = y0; y < y0 + h; y++) {
    for (let i = (y * width + x0) * 4, end = i + w * 4; i < end; i += 4) {
      out[o++] = rgba[i]; out[o++] = rgba[i + 1]; out[o++] = rgba[i + 2];
    }
  }
  return { encoding: ENCODING_RAW, end: o };
}

/** Appends an LEB128 number. @param {number[]} out @param {number} v */
function varint(out, v) {
  while (v >= 0x80) { out.push((v % 0x80) | 0x80); v = Math.floor(v / 0x80); }
  out.push(v);
}

/**
 * Raw deflate of `bytes` as one finished stream, by the browser.
 * @param {Uint8Array} bytes @returns {Promise<Uint8Array>}
 */
export async function deflateRaw(bytes) {
  const cs = new CompressionStream("deflate-raw");
  const writer = cs.writable.getWriter();
  writer.write(/** @type {Uint8Array<ArrayBuffer>} */ (bytes));
  writer.close();
  return new Uint8Array(await new Response(cs.readable).arrayBuffer());
}

/**
 * Builds a frame message (docs/PROTOCOL.md, "FRAME").
 * @param {{keyframe: boolean, frame: number, width: number, height: number, capturedUs?: number}} header
 * @param {{rect: PixelRect, encoding: number, len: number}[]} rects
 * @param {Uint8Array} data
 */
export function frameMessage(header, rects, data) {
  /** @type {number[]} */
  const head = [KIND_FRAME, (header.keyframe ? FLAG_KEYFRAME : 0) | FLAG_RESTART];
  // frame, width, height, then skipped tiles, server delay, RTT (the server's to fill)
  // and history length: zero; then when the picture was captured.
  const capturedUs = header.capturedUs ?? 0;
  for (const v of [header.frame, header.width, header.height, 0, 0, 0, 0, capturedUs, rects.length]) varint(head, v);
  for (const { rect, encoding, len } of rects) {
    head.push(encoding);
    for (const v of [rect.x, rect.y, rect.width, rect.height, len]) varint(head, v);
  }
  varint(head, data.length);
  const bytes = new Uint8Array(head.length + data.length);
  bytes.set(head);
  bytes.set(data, head.length);
  return bytes.buffer;
}

/** Keeps the last frame sent and turns each new picture into the smallest update. */
export class RectEncoder {
  constructor() {
    this.width = 0;
    this.height = 0;
    this.frame = 0;
    /** The pixels viewers have (RGBA), once a frame was sent. @type {Uint8ClampedArray | null} */
    this.sent = null;
    this.needKeyframe = true;
    this.scratch = new Uint8Array(0);
  }

  /** The next frame carries the whole picture (after a reconnect, the server has nothing). */
  forceKeyframe() {
    this.needKeyframe = true;
  }

  /**
   * Encodes what changed in `rgba` (a `width`×`height` RGBA image); null if nothing did.
   * @param {Uint8ClampedArray} rgba
   * @param {number} width
   * @param {number} height
   * @returns {Promise<EncodedFrame | null>}
   */
  async encode(rgba, width, height) {
    if (width < 1 || height < 1 || width > MAX_SCREEN_EDGE || height > MAX_SCREEN_EDGE) {
      throw new ProtocolError("SCREEN_TOO_LARGE", `a ${width}x${height} picture is outside 1..${MAX_SCREEN_EDGE}`);
    }
    if (rgba.length !== width * height * 4) throw new RangeError("pixel buffer does not match the size");
    // The picture was grabbed just before: its capture time, for end-to-end latency.
    const capturedUs = Math.round((performance.timeOrigin + performance.now()) * 1000) % 2 ** 32;
    const keyframe = this.needKeyframe || !this.sent || width !== this.width || height !== this.height;
    const now = new Uint32Array(rgba.buffer, rgba.byteOffset, width * height);
    /** @type {PixelRect[]} */
    let areas;
    if (keyframe) {
      areas = [];
      for (let y = 0; y < height; y += TILE_SIZE) {
        for (let x = 0; x < width; x += TILE_SIZE) {
          areas.push({ x, y, width: Math.min(TILE_SIZE, width - x), height: Math.min(TILE_SIZE, height - y) });
        }
      }
    } else {
      const before = new Uint32Array(/** @type {Uint8ClampedArray} */ (this.sent).buffer, 0, width * height);
      areas = dirtyRects(before, now, width, height).flatMap(split);
      if (!areas.length) return null;
    }
    const worst = areas.reduce((n, r) => n + r.width * r.height * 4 + 800, 0);
    if (this.scratch.length < worst) this.scratch = new Uint8Array(worst);
    const rects = [];
    let o = 0;
    for (const rect of areas) {
      const start = o;
      const { encoding, end } = encodeRect(rgba, now, width, rect, this.scratch, o);
      o = end;
      rects.push({ rect, encoding, len: o - start });
    }
    const data = await deflateRaw(this.scratch.subarray(0, o));
    this.frame += 1;
    this.width = width;
    this.height = height;
    this.needKeyframe = false;
    if (!this.sent || this.sent.length !== rgba.length) this.sent = new Uint8ClampedArray(rgba.length);
    this.sent.set(rgba);
    const buffer = frameMessage({ keyframe, frame: this.frame, width, height, capturedUs }, rects, data);
    return { buffer, keyframe, frame: this.frame, rects: rects.length };
  }
}
