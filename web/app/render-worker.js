// Render worker: owns the screen canvas (an OffscreenCanvas), applies each frame to its
// picture (decoders/screen.js) and puts the changed areas on the canvas within one task,
// so a viewer never sees half a frame. A frame's lossy images (JPEG) and video chunks
// are decoded first, natively (decoders/media.js); frames are applied in the order
// they came.

import { parseFrame, ProtocolError } from "./protocol.js";
import { ScreenDecoder } from "./decoders/screen.js";
import { VideoStreams, decodeImages } from "./decoders/media.js";

/** The worker's postMessage (the DOM typings describe `self` as a Window). */
const post = /** @type {(msg: import("./protocol.js").FromRenderWorker, transfer?: Transferable[]) => void} */ (
  /** @type {any} */ (self).postMessage.bind(self)
);

/** @type {OffscreenCanvas | null} */
let canvas = null;
/** @type {OffscreenCanvasRenderingContext2D | null} */
let ctx = null;
const screen = new ScreenDecoder();
/** The picture as an ImageData (shares the decoder's pixels). @type {ImageData | null} */
let image = null;

const videos = new VideoStreams();

/** @param {ArrayBuffer} buf */
async function drawFrame(buf) {
  if (!canvas || !ctx) return;
  const f = parseFrame(buf);
  const images = f.images.length ? await decodeImages(f.images) : [];
  const frames = [];
  for (const op of f.ops) {
    if (op.op === "video") frames.push(await videos.decode(f.videos[op.chunk], op.rect.width, op.rect.height));
  }
  const changed = screen.apply(f, images, frames);
  if (!image || image.data !== screen.pixels) {
    image = new ImageData(screen.pixels, screen.width, screen.height);
  }
  if (canvas.width !== screen.width || canvas.height !== screen.height) {
    canvas.width = screen.width;
    canvas.height = screen.height;
  }
  if (f.keyframe) {
    ctx.putImageData(image, 0, 0);
  } else {
    // One put of the changed areas' bounding box: fewer, larger puts are cheaper than
    // one per rectangle, and copies move areas the box covers anyway.
    let x0 = Infinity, y0 = Infinity, x1 = 0, y1 = 0;
    for (const r of changed) {
      x0 = Math.min(x0, r.x); y0 = Math.min(y0, r.y);
      x1 = Math.max(x1, r.x + r.width); y1 = Math.max(y1, r.y + r.height);
    }
    if (x1 > x0) ctx.putImageData(image, 0, 0, x0, y0, x1 - x0, y1 - y0);
  }
  const count = (/** @type {string} */ kind) => f.ops.filter((o) => o.op === kind).length;
  return { f, rects: count("rect"), copies: count("copy"), lossy: count("image"), video: count("video") };
}

/** Test and support hook: the screen's exact pixels. @param {number} id */
function snapshot(id) {
  if (!canvas || !ctx || canvas.width === 0) {
    post({ type: "snapshot", id, width: 0, height: 0, rgba: null });
    return;
  }
  const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
  post({ type: "snapshot", id, width: img.width, height: img.height, rgba: img.data.buffer }, [img.data.buffer]);
}

/** Frames wait for the one before them (image decoding is asynchronous). */
let queue = Promise.resolve();

self.onmessage = (/** @type {MessageEvent} */ ev) => {
  const msg = /** @type {import("./protocol.js").ToRenderWorker} */ (ev.data);
  if (msg.type === "init") {
    canvas = msg.canvas;
    ctx = /** @type {OffscreenCanvasRenderingContext2D} */ (canvas?.getContext("2d", { alpha: false }));
  } else if (msg.type === "frame") {
    const bytes = msg.buffer.byteLength;
    queue = queue.then(async () => {
      try {
        const drawn = await drawFrame(msg.buffer);
        if (drawn) {
          const { f, rects, copies, lossy, video } = drawn;
          post({
            type: "drawn", frame: f.frame, width: f.width, height: f.height, tiles: rects, copies, lossy, video,
            bytes, skippedTiles: f.skippedTiles, latencyMs: f.serverDelayMs + f.rttMs / 2,
          });
        }
      } catch (e) {
        const err = /** @type {ProtocolError} */ (e);
        post({ type: "error", code: err.code || "MESSAGE_MALFORMED", message: err.message });
      }
    });
  } else if (msg.type === "snapshot") {
    // After the frames that came before it.
    queue = queue.then(() => snapshot(msg.id));
  }
};
