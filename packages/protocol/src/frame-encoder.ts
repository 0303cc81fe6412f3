/**
 * Frame encoding: a 4-byte big-endian body length, then the body as UTF-8 JSON.
 * {@link FrameBatch} serialises each value when it is added (so an unencodable value
 * fails at once, at its caller) and writes many frames into one buffer.
 *
 * @module
 */
import { ProtocolError } from './errors.js';
import { DEFAULT_MAX_FRAME_BYTES, FRAME_HEADER_BYTES } from './limits.js';

function serialise(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) {
    throw new ProtocolError(`cannot encode ${typeof value} as a frame: JSON has no form for it`);
  }
  return json;
}

function checkSize(bodyBytes: number, maxFrameBytes: number): void {
  if (bodyBytes > maxFrameBytes) {
    throw new ProtocolError(`frame of ${bodyBytes} bytes exceeds maxFrameBytes ${maxFrameBytes}`, {
      data: { bodyBytes, maxFrameBytes },
    });
  }
}

/** Worst-case UTF-8 bytes per UTF-16 code unit. */
const MAX_UTF8_PER_UNIT = 3;

/** Frames serialised but not yet written, to be taken as one buffer. */
export class FrameBatch {
  readonly #maxFrameBytes: number;
  #bodies: string[] = [];
  /** UTF-16 code units in the waiting bodies. */
  #chars = 0;

  constructor(maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Frames waiting. */
  get length(): number {
    return this.#bodies.length;
  }

  /** UTF-16 code units of the waiting frames' bodies (their size for ASCII JSON). */
  get chars(): number {
    return this.#chars;
  }

  /** Serialises one value as a frame. Throws a ProtocolError if JSON cannot carry it or it is too large. */
  add(value: unknown): void {
    const json = serialise(value);
    // The exact size is only worth computing when the cheap bound does not settle it.
    if (json.length * MAX_UTF8_PER_UNIT > this.#maxFrameBytes) {
      checkSize(Buffer.byteLength(json), this.#maxFrameBytes);
    }
    this.#bodies.push(json);
    this.#chars += json.length;
  }

  /** Returns every waiting frame in one buffer and empties the batch. */
  take(): Buffer {
    const bodies = this.#bodies;
    // Sized for one byte per code unit, which JSON of ASCII text is; grown to the exact size
    // of what is left when a body that is not ASCII does not fit.
    let out = Buffer.allocUnsafe(this.#chars + FRAME_HEADER_BYTES * bodies.length);
    let offset = 0;
    for (let i = 0; i < bodies.length; i++) {
      const body = bodies[i] as string;
      const room = out.length - offset - FRAME_HEADER_BYTES;
      if (room < body.length * MAX_UTF8_PER_UNIT && room < Buffer.byteLength(body)) {
        let rest = 0;
        for (let j = i; j < bodies.length; j++) {
          rest += FRAME_HEADER_BYTES + Buffer.byteLength(bodies[j] as string);
        }
        const bigger = Buffer.allocUnsafe(offset + rest);
        out.copy(bigger, 0, 0, offset);
        out = bigger;
      }
      const size = out.write(body, offset + FRAME_HEADER_BYTES);
      out.writeUInt32BE(size, offset);
      offset += FRAME_HEADER_BYTES + size;
    }
    this.#bodies = [];
    this.#chars = 0;
    return offset === out.length ? out : out.subarray(0, offset);
  }
}

/** Encodes many values into one buffer, so that many frames cost one write. */
export function encodeFrames(
  values: readonly unknown[],
  maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
): Buffer {
  const batch = new FrameBatch(maxFrameBytes);
  for (const value of values) batch.add(value);
  return batch.take();
}

/** Encodes one value as one frame. */
export function encodeFrame(value: unknown, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Buffer {
  const json = serialise(value);
  const size = Buffer.byteLength(json);
  checkSize(size, maxFrameBytes);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + size);
  frame.writeUInt32BE(size, 0);
  frame.write(json, FRAME_HEADER_BYTES);
  return frame;
}
