// Decoding a frame's lossy media natively: JPEG images with one createImageBitmap call
// each, video chunks with WebCodecs' VideoDecoder, one decoder per stream. Out come RGBA
// pictures for decoders/screen.js to paint.
//
// Colour: VP8 streams are BT.601 limited range, VP9 streams (profile 1, 4:4:4) BT.601
// full range, as the presenter's libvpx wrote them. Chromium takes the colour space from
// the decoder configuration, not the bitstream (it assumed BT.709 for both), so the
// configuration says it: the VP9 codec string carries it, and both name it in
// `colorSpace`.

import { ProtocolError, VIDEO_VP8, VIDEO_VP9 } from "../protocol.js";

/** @typedef {import("./screen.js").DecodedImage} DecodedImage */

/** Scratch canvas to read decoded pictures back as pixels. @type {OffscreenCanvas | null} */
let scratch = null;

/**
 * Draws a picture on the scratch canvas and reads it back as RGBA.
 * @param {CanvasImageSource} source @param {number} width @param {number} height
 * @returns {DecodedImage}
 */
function readBack(source, width, height) {
  if (!scratch) scratch = new OffscreenCanvas(width, height);
  if (scratch.width < width || scratch.height < height) {
    scratch.width = Math.max(scratch.width, width);
    scratch.height = Math.max(scratch.height, height);
  }
  const sctx = /** @type {OffscreenCanvasRenderingContext2D} */ (scratch.getContext("2d", { willReadFrequently: true }));
  sctx.drawImage(source, 0, 0, width, height);
  return { width, height, rgba: sctx.getImageData(0, 0, width, height).data };
}

/**
 * Decodes a frame's JPEG images to RGBA.
 * @param {import("../protocol.js").FrameImage[]} images
 * @returns {Promise<DecodedImage[]>}
 */
export async function decodeImages(images) {
  const out = [];
  for (const img of images) {
    let bitmap;
    try {
      bitmap = await createImageBitmap(new Blob([/** @type {BlobPart} */ (img.data)], { type: "image/jpeg" }));
    } catch (e) {
      throw new ProtocolError("TILE_CORRUPT", `a lossy image does not decode: ${/** @type {Error} */ (e).message}`);
    }
    try {
      if (bitmap.width !== img.width || bitmap.height !== img.height) {
        throw new ProtocolError("TILE_CORRUPT", `a lossy image is ${bitmap.width}x${bitmap.height}, not ${img.width}x${img.height}`);
      }
      out.push(readBack(bitmap, img.width, img.height));
    } finally {
      bitmap.close();
    }
  }
  return out;
}

/**
 * The WebCodecs configuration of a stream in `codec` (a protocol code).
 * @param {number} codec @param {number} width @param {number} height
 * @returns {VideoDecoderConfig}
 */
export function decoderConfig(codec, width, height) {
  const base = { codedWidth: width, codedHeight: height, optimizeForLatency: true };
  /** @type {VideoColorSpaceInit} */
  const bt601 = { primaries: "smpte170m", transfer: "smpte170m", matrix: "smpte170m" };
  if (codec === VIDEO_VP9) {
    // Profile 1, level 1.0, 8 bits, 4:4:4 (03), BT.601 primaries, transfer and matrix
    // (06), full range (01).
    return { ...base, codec: "vp09.01.10.08.03.06.06.06.01", colorSpace: { ...bt601, fullRange: true } };
  }
  if (codec === VIDEO_VP8) return { ...base, codec: "vp8", colorSpace: { ...bt601, fullRange: false } };
  throw new ProtocolError("MESSAGE_MALFORMED", `unknown video codec ${codec}`);
}

/** The codec names (hello.video) of the streams this browser decodes. */
export async function supportedCodecs() {
  const out = [];
  try {
    if (typeof VideoDecoder === "undefined") return out;
    for (const [name, codec] of /** @type {const} */ ([["vp9", VIDEO_VP9], ["vp8", VIDEO_VP8]])) {
      if ((await VideoDecoder.isConfigSupported(decoderConfig(codec, 640, 360))).supported) out.push(name);
    }
  } catch {
    // No WebCodecs worth the name: JPEG it is.
  }
  return out;
}

/**
 * A stream's WebCodecs decoder, its codec, and who waits for its next picture.
 * @typedef {{decoder: VideoDecoder, codec: number, waiting: ((f: VideoFrame | Error) => void)[], broken: Error | null}} Stream
 */

/** The video streams of one screen. */
export class VideoStreams {
  constructor() {
    /** @type {Map<number, Stream>} */
    this.streams = new Map();
    this.timestamp = 0;
  }

  /**
   * Decodes one chunk to RGBA: a keyframe (re)starts its stream's decoder, any other
   * chunk goes on with it. One picture out per chunk in.
   * @param {import("../protocol.js").VideoChunk} chunk
   * @param {number} width @param {number} height
   * @returns {Promise<DecodedImage>}
   */
  async decode(chunk, width, height) {
    let s = this.streams.get(chunk.stream);
    if (chunk.keyframe) {
      if (s && s.decoder.state !== "closed") s.decoder.close();
      s = this.start(chunk, width, height);
    }
    if (!s || s.broken) throw new ProtocolError("TILE_CORRUPT", `video stream ${chunk.stream}: no keyframe came, or it broke`);
    if (s.codec !== chunk.codec) throw new ProtocolError("TILE_CORRUPT", `video stream ${chunk.stream} changed its codec`);
    const stream = s;
    const out = await new Promise((resolve) => {
      stream.waiting.push(resolve);
      const type = chunk.keyframe ? "key" : "delta";
      stream.decoder.decode(new EncodedVideoChunk({ type, timestamp: this.timestamp++, data: chunk.data }));
    });
    if (out instanceof Error) throw new ProtocolError("TILE_CORRUPT", `video stream ${chunk.stream}: ${out.message}`);
    const frame = /** @type {VideoFrame} */ (out);
    try {
      return readBack(frame, width, height);
    } finally {
      frame.close();
    }
  }

  /**
   * @param {import("../protocol.js").VideoChunk} chunk
   * @param {number} width @param {number} height
   * @returns {Stream}
   */
  start(chunk, width, height) {
    /** @type {Stream} */
    const fresh = { decoder: /** @type {any} */ (null), codec: chunk.codec, waiting: [], broken: null };
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
    fresh.decoder.configure(decoderConfig(chunk.codec, width, height));
    this.streams.set(chunk.stream, fresh);
    // Streams end and new ones start; few are alive at once.
    for (const [id, old] of this.streams) {
      if (this.streams.size <= 8) break;
      if (id !== chunk.stream) {
        if (old.decoder.state !== "closed") old.decoder.close();
        this.streams.delete(id);
      }
    }
    return fresh;
  }
}
