// The presenter's side of the wire format in the browser: finds the 64×64 tiles that
// changed since the last frame sent and encodes them (SOLID, QOI, or RAW when QOI would
// be larger), exactly as the agent does (crates/codec/src/tile.rs). Pure: no DOM, so it
// runs in a Worker and in node's tests.

import {
  TILE_SIZE, KIND_FRAME, FLAG_KEYFRAME, FRAME_HEADER_LEN, TILE_HEADER_LEN, ENCODING_SOLID, ENCODING_RAW,
  ENCODING_QOI, MAX_SCREEN_EDGE,
} from "../protocol.js";
import { encodeQoi } from "./qoi.js";

/**
 * @typedef {{col: number, row: number, encoding: number, data: Uint8Array}} EncodedTile
 * @typedef {{buffer: ArrayBuffer, keyframe: boolean, frame: number, tiles: number}} EncodedFrame
 */

/**
 * Encodes one tile of an RGBA image.
 * @param {Uint8ClampedArray | Uint8Array} rgba
 * @param {number} width
 * @param {number} x0 @param {number} y0 @param {number} w @param {number} h
 * @param {Uint8Array} scratch at least TILE_SIZE*TILE_SIZE*4 bytes
 * @returns {{encoding: number, data: Uint8Array}}
 */
export function encodeTile(rgba, width, x0, y0, w, h, scratch) {
  const first = (y0 * width + x0) * 4;
  const [r0, g0, b0] = [rgba[first], rgba[first + 1], rgba[first + 2]];
  let solid = true;
  for (let y = y0; y < y0 + h && solid; y++) {
    for (let i = (y * width + x0) * 4, end = i + w * 4; i < end; i += 4) {
      if (rgba[i] !== r0 || rgba[i + 1] !== g0 || rgba[i + 2] !== b0) {
        solid = false;
        break;
      }
    }
  }
  if (solid) return { encoding: ENCODING_SOLID, data: Uint8Array.of(r0, g0, b0) };
  const len = encodeQoi(rgba, width, x0, y0, w, h, scratch);
  if (len <= w * h * 3) return { encoding: ENCODING_QOI, data: scratch.slice(0, len) };
  const raw = new Uint8Array(w * h * 3);
  let o = 0;
  for (let y = y0; y < y0 + h; y++) {
    for (let i = (y * width + x0) * 4, end = i + w * 4; i < end; i += 4) {
      raw[o++] = rgba[i];
      raw[o++] = rgba[i + 1];
      raw[o++] = rgba[i + 2];
    }
  }
  return { encoding: ENCODING_RAW, data: raw };
}

/**
 * Builds a frame message (docs/PROTOCOL.md, "FRAME").
 * @param {{keyframe: boolean, frame: number, width: number, height: number}} header
 * @param {EncodedTile[]} tiles
 */
export function frameMessage(header, tiles) {
  const size = FRAME_HEADER_LEN + tiles.reduce((n, t) => n + TILE_HEADER_LEN + t.data.length, 0);
  const buffer = new ArrayBuffer(size);
  const v = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  v.setUint8(0, KIND_FRAME);
  v.setUint8(1, header.keyframe ? FLAG_KEYFRAME : 0);
  v.setUint16(2, TILE_SIZE, true);
  v.setBigUint64(4, BigInt(header.frame), true);
  v.setUint16(12, header.width, true);
  v.setUint16(14, header.height, true);
  // skipped tiles, server delay and RTT (16..28) are the server's to fill: zero.
  v.setUint32(28, tiles.length, true);
  let pos = FRAME_HEADER_LEN;
  for (const t of tiles) {
    v.setUint16(pos, t.col, true);
    v.setUint16(pos + 2, t.row, true);
    v.setUint8(pos + 4, t.encoding);
    v.setUint32(pos + 5, t.data.length, true);
    bytes.set(t.data, pos + TILE_HEADER_LEN);
    pos += TILE_HEADER_LEN + t.data.length;
  }
  return buffer;
}

/** Whether two RGBA images differ inside one tile. */
function tileDiffers(/** @type {Uint32Array} */ a, /** @type {Uint32Array} */ b, width, x0, y0, w, h) {
  for (let y = y0; y < y0 + h; y++) {
    for (let i = y * width + x0, end = i + w; i < end; i++) {
      if (a[i] !== b[i]) return true;
    }
  }
  return false;
}

/** Keeps the last frame sent and turns each new picture into the smallest update. */
export class TileEncoder {
  constructor() {
    this.width = 0;
    this.height = 0;
    this.frame = 0;
    /** The pixels viewers have (RGBA), once a frame was sent. @type {Uint8ClampedArray | null} */
    this.sent = null;
    this.needKeyframe = true;
    this.scratch = new Uint8Array(TILE_SIZE * TILE_SIZE * 4);
  }

  /** The next frame carries every tile (after a reconnect, the server has nothing). */
  forceKeyframe() {
    this.needKeyframe = true;
  }

  /**
   * Encodes what changed in `rgba` (a `width`×`height` RGBA image); null if nothing did.
   * @param {Uint8ClampedArray} rgba
   * @param {number} width
   * @param {number} height
   * @returns {EncodedFrame | null}
   */
  encode(rgba, width, height) {
    if (width < 1 || height < 1 || width > MAX_SCREEN_EDGE || height > MAX_SCREEN_EDGE) {
      throw new RangeError(`a ${width}x${height} picture is outside 1..${MAX_SCREEN_EDGE}`);
    }
    if (rgba.length !== width * height * 4) throw new RangeError("pixel buffer does not match the size");
    const keyframe = this.needKeyframe || !this.sent || width !== this.width || height !== this.height;
    const now = new Uint32Array(rgba.buffer, rgba.byteOffset, width * height);
    const before = this.sent && !keyframe ? new Uint32Array(this.sent.buffer, 0, width * height) : null;
    /** @type {EncodedTile[]} */
    const tiles = [];
    const cols = Math.ceil(width / TILE_SIZE);
    const rows = Math.ceil(height / TILE_SIZE);
    for (let row = 0; row < rows; row++) {
      for (let col = 0; col < cols; col++) {
        const x0 = col * TILE_SIZE, y0 = row * TILE_SIZE;
        const w = Math.min(TILE_SIZE, width - x0), h = Math.min(TILE_SIZE, height - y0);
        if (before && !tileDiffers(now, before, width, x0, y0, w, h)) continue;
        tiles.push({ col, row, ...encodeTile(rgba, width, x0, y0, w, h, this.scratch) });
      }
    }
    if (!tiles.length) return null;
    this.frame += 1;
    this.width = width;
    this.height = height;
    this.needKeyframe = false;
    if (!this.sent || this.sent.length !== rgba.length) this.sent = new Uint8ClampedArray(rgba.length);
    this.sent.set(rgba);
    const buffer = frameMessage({ keyframe, frame: this.frame, width, height }, tiles);
    return { buffer, keyframe, frame: this.frame, tiles: tiles.length };
  }
}
