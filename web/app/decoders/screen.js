// The viewer's picture: an RGBA framebuffer kept exact by applying frames whole, as
// crates/codec/src/decoder.rs does. Pure (no DOM), so node's tests run it on vectors the
// Rust encoder wrote. The render worker puts the changed areas on its canvas.

import { ENCODING_SOLID, ENCODING_RAW, ENCODING_QOI, ENCODING_PALETTE, ProtocolError } from "../protocol.js";
import { decodeSolid } from "./solid.js";
import { decodeRaw } from "./raw.js";
import { decodeQoi } from "./qoi.js";
import { decodePalette } from "./palette.js";
import { Inflater } from "./inflate.js";

/** @typedef {import("../protocol.js").Frame} Frame @typedef {import("../protocol.js").PixelRect} PixelRect */
/** A frame's image, decoded (by the render worker: createImageBitmap). @typedef {{width: number, height: number, rgba: Uint8ClampedArray}} DecodedImage */

const DECODERS = {
  [ENCODING_SOLID]: decodeSolid,
  [ENCODING_RAW]: decodeRaw,
  [ENCODING_QOI]: decodeQoi,
  [ENCODING_PALETTE]: decodePalette,
};

export class ScreenDecoder {
  constructor() {
    this.width = 0;
    this.height = 0;
    /** RGBA, rows top to bottom. */
    this.pixels = new Uint8ClampedArray(0);
    this.inflater = new Inflater();
    this.broken = false;
  }

  /**
   * Applies `f` whole, or throws a ProtocolError and leaves the picture as it was.
   * `images` are the frame's images, decoded, in order (the browser decodes JPEG
   * natively, so this stays pure).
   * `frames` are its VIDEO ops' pictures, decoded (WebCodecs), in op order.
   * @param {Frame} f
   * @param {DecodedImage[]} [images]
   * @param {DecodedImage[]} [frames]
   * @returns {PixelRect[]} the areas written, in op order
   */
  apply(f, images = [], frames = []) {
    if (!f.keyframe && (f.width !== this.width || f.height !== this.height)) {
      throw new ProtocolError("PROTOCOL_VIOLATION", "delta frame for a screen this viewer does not have");
    }
    if (images.length !== f.images.length) {
      throw new ProtocolError("TILE_CORRUPT", `${f.images.length} images, ${images.length} decoded`);
    }
    f.images.forEach((img, i) => {
      if (images[i].width !== img.width || images[i].height !== img.height) {
        throw new ProtocolError("TILE_CORRUPT", `image ${i} decodes to ${images[i].width}x${images[i].height}, not ${img.width}x${img.height}`);
      }
    });
    const videoOps = f.ops.filter((o) => o.op === "video");
    if (frames.length !== videoOps.length) {
      throw new ProtocolError("TILE_CORRUPT", `${videoOps.length} video frames, ${frames.length} decoded`);
    }
    videoOps.forEach((op, i) => {
      if (frames[i].width !== op.rect.width || frames[i].height !== op.rect.height) {
        throw new ProtocolError("TILE_CORRUPT", `a video frame decodes to ${frames[i].width}x${frames[i].height}, not ${op.rect.width}x${op.rect.height}`);
      }
    });
    if (f.restart) {
      this.inflater.restart();
      this.broken = false;
    } else if (this.broken) {
      throw new ProtocolError("TILE_CORRUPT", "a broken stream can only go on after a restart");
    }
    let payloadLen = 0;
    for (const op of f.ops) if (op.op === "rect") payloadLen += op.len;
    let bytes;
    try {
      bytes = this.inflater.inflate(f.data, payloadLen + f.historyLen);
    } catch (e) {
      this.broken = true;
      throw new ProtocolError("TILE_CORRUPT", `frame data: ${/** @type {Error} */ (e).message}`);
    }
    // Decode every rectangle before touching the picture.
    /** @type {Uint8ClampedArray[]} */
    const decoded = [];
    let at = 0;
    for (const op of f.ops) {
      if (op.op !== "rect") continue;
      const { width: w, height: h } = op.rect;
      const out = new Uint8ClampedArray(w * h * 4);
      try {
        DECODERS[/** @type {0|1|2|3} */ (op.encoding)](bytes.subarray(at, at + op.len), out, w, h);
      } catch (e) {
        throw new ProtocolError("TILE_CORRUPT", `rect at ${op.rect.x},${op.rect.y}: ${/** @type {Error} */ (e).message}`);
      }
      at += op.len;
      decoded.push(out);
    }
    if (f.keyframe) {
      this.width = f.width;
      this.height = f.height;
      this.pixels = new Uint8ClampedArray(f.width * f.height * 4);
      for (let i = 3; i < this.pixels.length; i += 4) this.pixels[i] = 255;
    }
    const stride = this.width * 4;
    let next = 0;
    let nextVideo = 0;
    /** Paints `r` from the `srcWidth`-pixel-wide RGBA `src`, starting at (fromX, fromY). */
    const paint = (/** @type {Uint8ClampedArray} */ src, /** @type {number} */ srcWidth,
      /** @type {number} */ fromX, /** @type {number} */ fromY, /** @type {PixelRect} */ r) => {
      for (let y = 0; y < r.height; y++) {
        const s = ((fromY + y) * srcWidth + fromX) * 4;
        this.pixels.set(src.subarray(s, s + r.width * 4), (r.y + y) * stride + r.x * 4);
      }
    };
    for (const op of f.ops) {
      const r = op.rect;
      if (op.op === "rect") {
        paint(decoded[next++], r.width, 0, 0, r);
      } else if (op.op === "video") {
        paint(frames[nextVideo++].rgba, r.width, 0, 0, r);
      } else if (op.op === "image") {
        const img = images[op.image];
        paint(img.rgba, img.width, op.fromX, op.fromY, r);
      } else {
        // Read before write: moving down, copy the bottom row first.
        const rowBytes = r.width * 4;
        const copyRow = (/** @type {number} */ y) => {
          const s = (op.fromY + y) * stride + op.fromX * 4;
          this.pixels.copyWithin((r.y + y) * stride + r.x * 4, s, s + rowBytes);
        };
        if (r.y > op.fromY) for (let y = r.height - 1; y >= 0; y--) copyRow(y);
        else for (let y = 0; y < r.height; y++) copyRow(y);
      }
    }
    return f.ops.map((op) => op.rect);
  }
}
