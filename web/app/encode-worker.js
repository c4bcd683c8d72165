// Presenter worker: takes captured pictures (VideoFrames from a stream, or ImageBitmaps),
// reads their pixels on an OffscreenCanvas, and encodes what changed. It encodes only
// when the page says the socket has room, always the newest picture, so a slow link
// lowers the frame rate instead of building a queue.

import { RectEncoder } from "./encoders/rects.js";
import { ProtocolError } from "./protocol.js";

/** Most pictures encoded per second. */
const MAX_FPS = 15;

/** The worker's postMessage (the DOM typings describe `self` as a Window). */
const post = /** @type {(msg: import("./protocol.js").FromEncodeWorker, transfer?: Transferable[]) => void} */ (
  /** @type {any} */ (self).postMessage.bind(self)
);

const encoder = new RectEncoder();
/** @type {OffscreenCanvas | null} */
let canvas = null;
/** @type {OffscreenCanvasRenderingContext2D | null} */
let ctx = null;
let ready = true;
let paused = false;
let lastEncoded = -Infinity;
/** The newest picture not yet encoded. @type {VideoFrame | ImageBitmap | null} */
let pending = null;

/** @param {VideoFrame | ImageBitmap} picture */
function offer(picture) {
  pending?.close();
  pending = picture;
  pump();
}

/** An encode is under way (compression is asynchronous). */
let busy = false;

async function pump() {
  if (!pending || !ready || paused || busy) return;
  const wait = lastEncoded + 1000 / MAX_FPS - performance.now();
  if (wait > 0) {
    setTimeout(pump, wait);
    return;
  }
  const picture = pending;
  pending = null;
  busy = true;
  try {
    const width = "displayWidth" in picture ? picture.displayWidth : picture.width;
    const height = "displayHeight" in picture ? picture.displayHeight : picture.height;
    if (!canvas || canvas.width !== width || canvas.height !== height) {
      canvas = new OffscreenCanvas(width, height);
      ctx = canvas.getContext("2d", { willReadFrequently: true, alpha: false });
    }
    const c = /** @type {OffscreenCanvasRenderingContext2D} */ (ctx);
    c.drawImage(picture, 0, 0);
    const image = c.getImageData(0, 0, width, height);
    lastEncoded = performance.now();
    const out = await encoder.encode(image.data, width, height);
    if (out) {
      ready = false;
      post({ type: "encoded", ...out }, [out.buffer]);
    }
  } catch (e) {
    // A coded failure (a screen too large) keeps its code; anything else is the encoder's.
    const code = e instanceof ProtocolError ? e.code : "ENCODE_FAILED";
    post({ type: "error", code, message: String(/** @type {any} */ (e)?.message || e) });
  } finally {
    busy = false;
    picture.close();
  }
  pump();
}

/** Reads a track's frames as they come (Chrome's MediaStreamTrackProcessor). @param {ReadableStream<VideoFrame>} stream */
async function readStream(stream) {
  const reader = stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    offer(value);
  }
}

self.onmessage = (/** @type {MessageEvent} */ ev) => {
  const msg = /** @type {import("./protocol.js").ToEncodeWorker} */ (ev.data);
  if (msg.type === "stream") readStream(msg.stream);
  else if (msg.type === "bitmap") offer(msg.bitmap);
  else if (msg.type === "ready") {
    ready = true;
    pump();
  } else if (msg.type === "keyframe") {
    encoder.forceKeyframe();
    ready = true;
    pump();
  } else if (msg.type === "pause") {
    paused = msg.paused;
    pump();
  } else if (msg.type === "snapshot") {
    // What viewers have now, for tests and support.
    const rgba = encoder.sent ? encoder.sent.slice().buffer : null;
    post({ type: "snapshot", id: msg.id, width: encoder.width, height: encoder.height, rgba }, rgba ? [rgba] : []);
  }
};
