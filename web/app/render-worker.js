// Render worker: owns the screen canvas (an OffscreenCanvas), decodes each frame's tiles
// and draws them within one task, so a viewer never sees half a frame.

import { parseFrame, TILE_SIZE, ENCODING_SOLID, ENCODING_RAW, ENCODING_QOI, ProtocolError } from "./protocol.js";
import { decodeSolid } from "./decoders/solid.js";
import { decodeRaw } from "./decoders/raw.js";
import { decodeQoi } from "./decoders/qoi.js";

/** The worker's postMessage (the DOM typings describe `self` as a Window). */
const post = /** @type {(msg: any, transfer?: Transferable[]) => void} */ (
  /** @type {any} */ (self).postMessage.bind(self)
);

/** @type {OffscreenCanvas | null} */
let canvas = null;
/** @type {OffscreenCanvasRenderingContext2D | null} */
let ctx = null;

const DECODERS = {
  [ENCODING_SOLID]: decodeSolid,
  [ENCODING_RAW]: decodeRaw,
  [ENCODING_QOI]: decodeQoi,
};

/** Reusable tile buffers by pixel size (edge tiles are smaller). */
/** @type {Map<string, ImageData>} */
const tileImages = new Map();

/** @param {number} w @param {number} h */
function tileImage(w, h) {
  const key = `${w}x${h}`;
  let img = tileImages.get(key);
  if (!img) {
    img = new ImageData(w, h);
    tileImages.set(key, img);
  }
  return img;
}

/** @param {ArrayBuffer} buf */
function drawFrame(buf) {
  if (!canvas || !ctx) return;
  const f = parseFrame(buf);
  const resized = canvas.width !== f.width || canvas.height !== f.height;
  if (resized && !f.keyframe) throw new ProtocolError("PROTOCOL_VIOLATION", "delta frame for another screen size");
  // Decode every tile before drawing any, so a corrupt tile leaves the screen untouched.
  const decoded = f.tiles.map((t) => {
    const w = Math.min(TILE_SIZE, f.width - t.col * TILE_SIZE);
    const h = Math.min(TILE_SIZE, f.height - t.row * TILE_SIZE);
    const decode = DECODERS[/** @type {0|1|2} */ (t.encoding)];
    if (!decode) throw new ProtocolError("MESSAGE_MALFORMED", `unknown tile encoding ${t.encoding}`);
    const out = new Uint8ClampedArray(w * h * 4);
    try {
      decode(t.data, out);
    } catch (e) {
      throw new ProtocolError("TILE_CORRUPT", `tile ${t.col},${t.row}: ${/** @type {Error} */ (e).message}`);
    }
    return { t, w, h, out };
  });
  if (resized) {
    canvas.width = f.width;
    canvas.height = f.height;
  }
  for (const { t, w, h, out } of decoded) {
    const img = tileImage(w, h);
    img.data.set(out);
    ctx.putImageData(img, t.col * TILE_SIZE, t.row * TILE_SIZE);
  }
  return f;
}

self.onmessage = (/** @type {MessageEvent} */ ev) => {
  const msg = ev.data;
  if (msg.type === "init") {
    canvas = msg.canvas;
    ctx = /** @type {OffscreenCanvasRenderingContext2D} */ (canvas?.getContext("2d", { alpha: false }));
  } else if (msg.type === "frame") {
    try {
      const f = drawFrame(msg.buffer);
      if (f) {
        post({
          type: "drawn", frame: f.frame, width: f.width, height: f.height, tiles: f.tiles.length,
          bytes: msg.buffer.byteLength, skippedTiles: f.skippedTiles, latencyMs: f.serverDelayMs + f.rttMs / 2,
        });
      }
    } catch (e) {
      const err = /** @type {ProtocolError} */ (e);
      post({ type: "error", code: err.code || "MESSAGE_MALFORMED", message: err.message });
    }
  } else if (msg.type === "snapshot") {
    // Test and support hook: the screen's exact pixels.
    if (!canvas || !ctx || canvas.width === 0) {
      post({ type: "snapshot", id: msg.id, width: 0, height: 0, rgba: null });
      return;
    }
    const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
    post({ type: "snapshot", id: msg.id, width: img.width, height: img.height, rgba: img.data.buffer }, [img.data.buffer]);
  }
};
