// Wire format, browser side: mirrors crates/proto (see docs/PROTOCOL.md).
// Binary messages are little-endian; the first byte is the kind.

export const PROTOCOL_VERSION = 1;
export const TILE_SIZE = 64;
export const KIND_FRAME = 0x01;
export const KIND_CURSOR_SHAPE = 0x02;
export const KIND_CURSOR_POSITION = 0x03;
export const FLAG_KEYFRAME = 0x01;
export const FRAME_HEADER_LEN = 32;
export const TILE_HEADER_LEN = 9;
export const ENCODING_SOLID = 0;
export const ENCODING_RAW = 1;
export const ENCODING_QOI = 2;
export const MAX_SCREEN_EDGE = 8192;

/** A protocol error with its stable code (docs/ERRORS.md). */
export class ProtocolError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/**
 * @typedef {{col: number, row: number, encoding: number, data: Uint8Array}} Tile
 * @typedef {{keyframe: boolean, frame: number, width: number, height: number,
 *   skippedTiles: number, serverDelayMs: number, rttMs: number, tiles: Tile[]}} Frame
 */

/**
 * Parses a frame message, checking every length like the Rust decoder does.
 * @param {ArrayBuffer} buf
 * @returns {Frame}
 */
export function parseFrame(buf) {
  const v = new DataView(buf);
  const bad = (/** @type {string} */ why) => new ProtocolError("MESSAGE_MALFORMED", why);
  if (buf.byteLength < FRAME_HEADER_LEN) throw bad("frame header truncated");
  if (v.getUint8(0) !== KIND_FRAME) throw bad("not a frame");
  const flags = v.getUint8(1);
  if (flags & ~FLAG_KEYFRAME) throw bad("unknown frame flags");
  if (v.getUint16(2, true) !== TILE_SIZE) throw bad("unexpected tile size");
  const frame = Number(v.getBigUint64(4, true));
  const width = v.getUint16(12, true);
  const height = v.getUint16(14, true);
  if (width < 1 || height < 1 || width > MAX_SCREEN_EDGE || height > MAX_SCREEN_EDGE) {
    throw new ProtocolError("SCREEN_TOO_LARGE", `screen ${width}x${height}`);
  }
  const cols = Math.ceil(width / TILE_SIZE);
  const rows = Math.ceil(height / TILE_SIZE);
  const count = v.getUint32(28, true);
  if (count > cols * rows) throw bad("more tiles than the screen has");
  /** @type {Tile[]} */
  const tiles = [];
  let pos = FRAME_HEADER_LEN;
  for (let i = 0; i < count; i++) {
    if (pos + TILE_HEADER_LEN > buf.byteLength) throw bad("tile header truncated");
    const col = v.getUint16(pos, true);
    const row = v.getUint16(pos + 2, true);
    const encoding = v.getUint8(pos + 4);
    const len = v.getUint32(pos + 5, true);
    pos += TILE_HEADER_LEN;
    if (col >= cols || row >= rows) throw bad("tile outside the screen");
    if (pos + len > buf.byteLength) throw bad("tile payload truncated");
    tiles.push({ col, row, encoding, data: new Uint8Array(buf, pos, len) });
    pos += len;
  }
  if (pos !== buf.byteLength) throw bad("trailing bytes");
  return {
    keyframe: (flags & FLAG_KEYFRAME) !== 0,
    frame,
    width,
    height,
    skippedTiles: v.getUint32(16, true),
    serverDelayMs: v.getUint32(20, true),
    rttMs: v.getUint32(24, true),
    tiles,
  };
}

/**
 * @typedef {{serial: number, width: number, height: number, hotX: number, hotY: number,
 *   rgba: Uint8ClampedArray}} CursorShape
 * @param {ArrayBuffer} buf
 * @returns {CursorShape}
 */
export function parseCursorShape(buf) {
  const v = new DataView(buf);
  if (buf.byteLength < 14) throw new ProtocolError("MESSAGE_MALFORMED", "cursor shape truncated");
  const width = v.getUint16(2, true);
  const height = v.getUint16(4, true);
  const len = width * height * 4;
  if (width < 1 || height < 1 || buf.byteLength !== 14 + len) {
    throw new ProtocolError("MESSAGE_MALFORMED", "cursor shape size");
  }
  return {
    width,
    height,
    hotX: v.getUint16(6, true),
    hotY: v.getUint16(8, true),
    serial: v.getUint32(10, true),
    rgba: new Uint8ClampedArray(buf, 14, len),
  };
}

/**
 * @param {ArrayBuffer} buf
 * @returns {{x: number, y: number, visible: boolean}}
 */
export function parseCursorPosition(buf) {
  if (buf.byteLength !== 10) throw new ProtocolError("MESSAGE_MALFORMED", "cursor position size");
  const v = new DataView(buf);
  return { visible: (v.getUint8(1) & 1) !== 0, x: v.getInt32(2, true), y: v.getInt32(6, true) };
}
