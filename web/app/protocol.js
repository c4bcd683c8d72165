// Wire format, browser side: mirrors crates/proto (see docs/PROTOCOL.md).
// The first byte of a binary message is its kind; a frame's numbers are LEB128 varints,
// cursor messages are fixed little-endian fields.

export const PROTOCOL_VERSION = 4;
/** Edge of the server's cache tiles; frames carry exact rectangles. */
export const TILE_SIZE = 64;
export const KIND_FRAME = 0x01;
export const KIND_CURSOR_SHAPE = 0x02;
export const KIND_CURSOR_POSITION = 0x03;
export const FLAG_KEYFRAME = 0x01;
export const FLAG_RESTART = 0x02;
export const FLAG_IMAGES = 0x04;
export const FLAG_VIDEO = 0x08;
export const ENCODING_SOLID = 0;
export const ENCODING_RAW = 1;
export const ENCODING_QOI = 2;
export const ENCODING_PALETTE = 3;
export const OP_COPY = 0x10;
export const OP_IMAGE = 0x20;
export const OP_VIDEO = 0x30;
export const VIDEO_VP8 = 1;
export const VIDEO_VP9 = 2;
export const MAX_VIDEO_CHUNKS = 64;
export const MAX_VIDEO_EDGE = 4096;
export const IMAGE_JPEG = 1;
export const MAX_IMAGES = 64;
export const MAX_IMAGE_EDGE = 16384;
export const MAX_SCREEN_EDGE = 8192;
export const MAX_OPS = 1 << 20;
export const MAX_HISTORY = 32768;

/** A protocol error with its stable code (docs/ERRORS.md). */
export class ProtocolError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.name = "ProtocolError";
    this.code = code;
  }
}

/**
 * @typedef {{x: number, y: number, width: number, height: number}} PixelRect
 * @typedef {{op: "rect", rect: PixelRect, encoding: number, len: number}
 *   | {op: "copy", fromX: number, fromY: number, rect: PixelRect}
 *   | {op: "image", image: number, fromX: number, fromY: number, rect: PixelRect}
 *   | {op: "video", chunk: number, rect: PixelRect}} Op
 * @typedef {{format: number, width: number, height: number, data: Uint8Array}} FrameImage
 * @typedef {{codec: number, stream: number, keyframe: boolean, data: Uint8Array}} VideoChunk
 * @typedef {{keyframe: boolean, restart: boolean, frame: number, width: number, height: number,
 *   skippedTiles: number, serverDelayMs: number, rttMs: number, historyLen: number, capturedUs: number,
 *   ops: Op[], data: Uint8Array, images: FrameImage[], videos: VideoChunk[]}} Frame
 */

/** Bits a palette index takes with `n` colours. @param {number} n */
export const paletteBits = (n) => (n <= 2 ? 1 : n <= 4 ? 2 : n <= 16 ? 4 : 8);

/** Exact PALETTE payload length. @param {number} n @param {number} w @param {number} h */
export const paletteLen = (n, w, h) => 1 + 3 * n + Math.ceil((w * paletteBits(n)) / 8) * h;

/**
 * Whether `len` can be the payload of a `w`×`h` rectangle in `encoding` (as the Rust side).
 * @param {number} encoding @param {number} len @param {number} w @param {number} h
 */
export function payloadLenOk(encoding, len, w, h) {
  const px = w * h;
  if (encoding === ENCODING_SOLID) return len === 3;
  if (encoding === ENCODING_RAW) return len === px * 3;
  if (encoding === ENCODING_QOI) return len >= 1 && len <= px * 4;
  if (encoding === ENCODING_PALETTE) return len >= paletteLen(1, w, h) && len <= paletteLen(256, w, h);
  return false;
}

/**
 * Parses a frame message (docs/PROTOCOL.md, "FRAME"), checking every length and bound
 * like the Rust decoder does.
 * @param {ArrayBuffer} buf
 * @returns {Frame}
 */
export function parseFrame(buf) {
  const bytes = new Uint8Array(buf);
  const bad = (/** @type {string} */ why) => new ProtocolError("MESSAGE_MALFORMED", why);
  let pos = 0;
  const u8 = () => {
    if (pos >= bytes.length) throw bad("frame truncated");
    return bytes[pos++];
  };
  /** An LEB128 number of at most `max` (minimal form, at most 2^53). @param {number} max */
  const varint = (max) => {
    let v = 0, mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = u8();
      v += (b & 0x7f) * mul;
      if (!(b & 0x80)) {
        if (i > 0 && b === 0) throw bad("non-minimal varint");
        if (v > max) throw bad(`value ${v} exceeds ${max}`);
        return v;
      }
      mul *= 128;
    }
    throw bad("varint too long");
  };
  if (u8() !== KIND_FRAME) throw bad("not a frame");
  const flags = u8();
  if (flags & ~(FLAG_KEYFRAME | FLAG_RESTART | FLAG_IMAGES | FLAG_VIDEO)) throw bad("unknown frame flags");
  const frame = varint(Number.MAX_SAFE_INTEGER);
  const width = varint(0xffff), height = varint(0xffff);
  if (width < 1 || height < 1 || width > MAX_SCREEN_EDGE || height > MAX_SCREEN_EDGE) {
    throw new ProtocolError("SCREEN_TOO_LARGE", `screen ${width}x${height}`);
  }
  const U32 = 0xffffffff;
  const skippedTiles = varint(U32), serverDelayMs = varint(U32), rttMs = varint(U32);
  const historyLen = varint(MAX_HISTORY);
  // The low 32 bits of the presenter's clock in µs since 1970 (see docs/PROTOCOL.md).
  const capturedUs = varint(U32);
  const count = varint(MAX_OPS);
  const maxInflated = width * height * 4 + MAX_HISTORY;
  let total = historyLen;
  const rect = () => ({ x: varint(0xffff), y: varint(0xffff), width: varint(0xffff), height: varint(0xffff) });
  const fits = (/** @type {PixelRect} */ r) =>
    r.width > 0 && r.height > 0 && r.x + r.width <= width && r.y + r.height <= height;
  /** @type {Op[]} */
  const ops = [];
  for (let i = 0; i < count; i++) {
    const tag = u8();
    if (tag === OP_VIDEO) {
      const chunk = varint(MAX_VIDEO_CHUNKS - 1);
      const r = rect();
      if (!fits(r)) throw bad("video op outside the screen");
      ops.push({ op: "video", chunk, rect: r });
    } else if (tag === OP_IMAGE) {
      const image = varint(MAX_IMAGES - 1);
      const fromX = varint(0xffff), fromY = varint(0xffff);
      const r = rect();
      if (!fits(r)) throw bad("image op outside the screen");
      ops.push({ op: "image", image, fromX, fromY, rect: r });
    } else if (tag === OP_COPY) {
      const fromX = varint(0xffff), fromY = varint(0xffff);
      const r = rect();
      if (!fits(r) || !fits({ ...r, x: fromX, y: fromY })) throw bad("copy outside the screen");
      ops.push({ op: "copy", fromX, fromY, rect: r });
    } else if (tag <= ENCODING_PALETTE) {
      const r = rect();
      if (!fits(r)) throw bad("rect outside the screen");
      const len = varint(U32);
      if (!payloadLenOk(tag, len, r.width, r.height)) {
        throw new ProtocolError("TILE_CORRUPT", `payload of ${len} bytes cannot encode a ${r.width}x${r.height} rect`);
      }
      total += len;
      if (total > maxInflated) throw new ProtocolError("TILE_CORRUPT", "pixel data larger than the screen allows");
      ops.push({ op: "rect", rect: r, encoding: tag, len });
    } else {
      throw bad(`unknown op ${tag}`);
    }
  }
  const dataLen = varint(bytes.length);
  if (pos + dataLen > bytes.length) throw bad("data truncated");
  const dataAt = pos;
  pos += dataLen;
  if ((total === 0) !== (dataLen === 0)) throw new ProtocolError("TILE_CORRUPT", "data does not match the ops");
  const corrupt = (/** @type {string} */ why) => new ProtocolError("TILE_CORRUPT", why);
  /** @type {FrameImage[]} */
  const images = [];
  if (flags & FLAG_IMAGES) {
    const n = varint(MAX_IMAGES);
    if (n === 0) throw bad("the images flag is set but the frame has no images");
    const maxPixels = 2 * width * height + (1 << 20);
    let pixels = 0;
    for (let i = 0; i < n; i++) {
      const format = u8();
      if (format !== IMAGE_JPEG) throw bad(`unknown image format ${format}`);
      const w = varint(0xffff), h = varint(0xffff);
      if (w < 1 || h < 1 || w > MAX_IMAGE_EDGE || h > MAX_IMAGE_EDGE) throw corrupt(`image ${i} of ${w}x${h}`);
      pixels += w * h;
      if (pixels > maxPixels) throw corrupt("images larger than the screen allows");
      const len = varint(bytes.length);
      if (pos + len > bytes.length) throw bad("image truncated");
      images.push({ format, width: w, height: h, data: bytes.subarray(pos, pos + len) });
      pos += len;
    }
  }
  /** @type {VideoChunk[]} */
  const videos = [];
  if (flags & FLAG_VIDEO) {
    const n = varint(MAX_VIDEO_CHUNKS);
    if (n === 0) throw bad("the video flag is set but the frame has no video chunks");
    for (let i = 0; i < n; i++) {
      const codec = u8();
      if (codec !== VIDEO_VP8 && codec !== VIDEO_VP9) throw bad(`unknown video codec ${codec}`);
      const stream = varint(0xffffffff);
      const key = u8();
      if (key > 1) throw bad("bad keyframe flag");
      const len = varint(bytes.length);
      if (pos + len > bytes.length) throw bad("video chunk truncated");
      videos.push({ codec, stream, keyframe: key === 1, data: bytes.subarray(pos, pos + len) });
      pos += len;
    }
  }
  if (pos !== bytes.length) throw bad("trailing bytes");
  const decodes = videos.map(() => 0);
  for (const op of ops) {
    if (op.op !== "video") continue;
    if (op.chunk >= videos.length) throw corrupt(`video op names chunk ${op.chunk}, the frame has ${videos.length}`);
    const even = (/** @type {number} */ v) => v >= 2 && v <= MAX_VIDEO_EDGE && v % 2 === 0;
    if (!even(op.rect.width) || !even(op.rect.height)) throw corrupt("a video region needs even sizes");
    decodes[op.chunk]++;
  }
  if (decodes.some((d) => d !== 1)) throw corrupt("a video chunk not decoded exactly once");
  const used = images.map(() => false);
  for (const op of ops) {
    if (op.op !== "image") continue;
    const img = images[op.image];
    if (!img) throw corrupt(`image op names image ${op.image}, the frame has ${images.length}`);
    if (op.fromX + op.rect.width > img.width || op.fromY + op.rect.height > img.height) {
      throw corrupt("image op reads outside its image");
    }
    used[op.image] = true;
  }
  if (used.includes(false)) throw corrupt("an image no op uses");
  return {
    keyframe: (flags & FLAG_KEYFRAME) !== 0,
    restart: (flags & FLAG_RESTART) !== 0,
    frame, width, height, skippedTiles, serverDelayMs, rttMs, historyLen, capturedUs,
    ops,
    data: bytes.subarray(dataAt, dataAt + dataLen),
    images,
    videos,
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

// ---- Messages between the page and its workers (render-worker.js, encode-worker.js) ----

/**
 * To the render worker.
 * @typedef {{type: "init", canvas: OffscreenCanvas}
 *   | {type: "frame", buffer: ArrayBuffer}
 *   | {type: "snapshot", id: number}} ToRenderWorker
 */

/**
 * From the render worker: a frame drawn (with what it held), a failure, a snapshot.
 * @typedef {{type: "drawn", frame: number, width: number, height: number, tiles: number, copies: number,
 *     lossy: number, video: number, bytes: number, skippedTiles: number, latencyMs: number}
 *   | {type: "error", code: string, message: string}
 *   | {type: "snapshot", id: number, width: number, height: number, rgba: ArrayBuffer | null}} FromRenderWorker
 */

/**
 * To the presenting page's encode worker: pictures (a stream, or bitmaps one by one),
 * flow control, and the test hook.
 * @typedef {{type: "stream", stream: ReadableStream<VideoFrame>}
 *   | {type: "bitmap", bitmap: ImageBitmap}
 *   | {type: "ready"}
 *   | {type: "keyframe"}
 *   | {type: "pause", paused: boolean}
 *   | {type: "snapshot", id: number}} ToEncodeWorker
 */

/**
 * From the encode worker: an encoded frame to send, a failure, a snapshot.
 * @typedef {({type: "encoded"} & import("./encoders/rects.js").EncodedFrame)
 *   | {type: "error", code: string, message: string}
 *   | {type: "snapshot", id: number, width: number, height: number, rgba: ArrayBuffer | null}} FromEncodeWorker
 */
