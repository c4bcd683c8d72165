// Render worker: owns the screen canvas (an OffscreenCanvas), applies each frame to its
// picture (decoders/screen.js) and puts the changed areas on the canvas within one task,
// so a viewer never sees half a frame. A frame's lossy images (JPEG) are decoded first,
// natively, one createImageBitmap call each (a frame has one); frames are applied in
// the order they came.

import { parseFrame, ProtocolError } from "./protocol.js";
import { ScreenDecoder } from "./decoders/screen.js";

/** The worker's postMessage (the DOM typings describe `self` as a Window). */
const post = /** @type {(msg: any, transfer?: Transferable[]) => void} */ (
  /** @type {any} */ (self).postMessage.bind(self)
);

/** @type {OffscreenCanvas | null} */
let canvas = null;
/** @type {OffscreenCanvasRenderingContext2D | null} */
let ctx = null;
const screen = new ScreenDecoder();
/** The picture as an ImageData (shares the decoder's pixels). @type {ImageData | null} */
let image = null;

/** Scratch canvas to read decoded images back as pixels. @type {OffscreenCanvas | null} */
let scratch = null;

/**
 * Decodes a frame's JPEG images to RGBA.
 * @param {import("./protocol.js").FrameImage[]} images
 * @returns {Promise<import("./decoders/screen.js").DecodedImage[]>}
 */
async function decodeImages(images) {
  const out = [];
  for (const img of images) {
    let bitmap;
    try {
      bitmap = await createImageBitmap(new Blob([/** @type {BlobPart} */ (img.data)], { type: "image/jpeg" }));
    } catch (e) {
      throw new ProtocolError("TILE_CORRUPT", `a lossy image does not decode: ${/** @type {Error} */ (e).message}`);
    }
    if (bitmap.width !== img.width || bitmap.height !== img.height) {
      bitmap.close();
      throw new ProtocolError("TILE_CORRUPT", `a lossy image is ${bitmap.width}x${bitmap.height}, not ${img.width}x${img.height}`);
    }
    if (!scratch) scratch = new OffscreenCanvas(img.width, img.height);
    if (scratch.width < img.width || scratch.height < img.height) {
      scratch.width = Math.max(scratch.width, img.width);
      scratch.height = Math.max(scratch.height, img.height);
    }
    const sctx = /** @type {OffscreenCanvasRenderingContext2D} */ (scratch.getContext("2d", { willReadFrequently: true }));
    sctx.drawImage(bitmap, 0, 0);
    bitmap.close();
    out.push({ width: img.width, height: img.height, rgba: sctx.getImageData(0, 0, img.width, img.height).data });
  }
  return out;
}

/**
 * A video stream's WebCodecs decoder, and who waits for its next picture.
 * @typedef {{decoder: VideoDecoder, waiting: ((f: VideoFrame | Error) => void)[], broken: Error | null}} Stream
 */
/** @type {Map<number, Stream>} */
const streams = new Map();
let timestamp = 0;

/**
 * Decodes one chunk of a video stream to RGBA: a keyframe (re)starts the stream's
 * decoder, any other chunk goes on with it. One picture out per chunk in.
 * @param {import("./protocol.js").VideoChunk} chunk
 * @param {number} width @param {number} height
 * @returns {Promise<import("./decoders/screen.js").DecodedImage>}
 */
async function decodeVideo(chunk, width, height) {
  let s = streams.get(chunk.stream);
  if (chunk.keyframe) {
    if (s && s.decoder.state !== "closed") s.decoder.close();
    /** @type {Stream} */
    const fresh = { decoder: /** @type {any} */ (null), waiting: [], broken: null };
    fresh.decoder = new VideoDecoder({
      output: (frame) => {
        const w = fresh.waiting.shift();
        if (w) w(frame);
        else frame.close();
      },
      error: (e) => {
        fresh.broken = e;
        fresh.waiting.splice(0).forEach((w) => w(e));
      },
    });
    fresh.decoder.configure({ codec: "vp8", codedWidth: width, codedHeight: height, optimizeForLatency: true });
    s = fresh;
    streams.set(chunk.stream, s);
    // Streams end and new ones start; few are alive at once.
    for (const [id, old] of streams) {
      if (streams.size <= 8) break;
      if (id !== chunk.stream) { if (old.decoder.state !== "closed") old.decoder.close(); streams.delete(id); }
    }
  }
  if (!s || s.broken) throw new ProtocolError("TILE_CORRUPT", `video stream ${chunk.stream}: no keyframe came, or it broke`);
  const stream = s;
  const out = await new Promise((resolve) => {
    stream.waiting.push(resolve);
    stream.decoder.decode(new EncodedVideoChunk({ type: chunk.keyframe ? "key" : "delta", timestamp: timestamp++, data: chunk.data }));
  });
  if (out instanceof Error) throw new ProtocolError("TILE_CORRUPT", `video stream ${chunk.stream}: ${out.message}`);
  const frame = /** @type {VideoFrame} */ (out);
  try {
    if (!scratch) scratch = new OffscreenCanvas(width, height);
    if (scratch.width < width || scratch.height < height) {
      scratch.width = Math.max(scratch.width, width);
      scratch.height = Math.max(scratch.height, height);
    }
    const sctx = /** @type {OffscreenCanvasRenderingContext2D} */ (scratch.getContext("2d", { willReadFrequently: true }));
    sctx.drawImage(frame, 0, 0, width, height);
    return { width, height, rgba: sctx.getImageData(0, 0, width, height).data };
  } finally {
    frame.close();
  }
}

/** @param {ArrayBuffer} buf */
async function drawFrame(buf) {
  if (!canvas || !ctx) return;
  const f = parseFrame(buf);
  const images = f.images.length ? await decodeImages(f.images) : [];
  const frames = [];
  for (const op of f.ops) {
    if (op.op === "video") frames.push(await decodeVideo(f.videos[op.chunk], op.rect.width, op.rect.height));
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
  const msg = ev.data;
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
