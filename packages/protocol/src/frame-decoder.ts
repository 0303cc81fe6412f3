/**
 * An incremental frame decoder: feed it whatever a socket read returned, get back every
 * complete frame's JSON value. Frames split across reads and many frames in one read both
 * work. A length prefix above `maxFrameBytes` is refused before any of the body is kept.
 *
 * @module
 */
import { ProtocolError } from './errors.js';
import { DEFAULT_MAX_FRAME_BYTES, FRAME_HEADER_BYTES } from './limits.js';

/** Options of a {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /**
   * The largest frame body accepted, in bytes. A larger length prefix throws a
   * ProtocolError at once, without buffering the body.
   * @default 16 MiB
   * @example new FrameDecoder({ maxFrameBytes: 1024 * 1024 })
   */
  maxFrameBytes?: number;
}

const EMPTY = Buffer.alloc(0);

export class FrameDecoder {
  readonly #maxFrameBytes: number;
  /** Bytes not yet consumed, starting at #offset. */
  #buffer: Buffer = EMPTY;
  #offset = 0;
  /** Chunks of a large frame's body collected without copying, until it is whole. */
  #parts: Buffer[] = [];
  #partsBytes = 0;
  /** The body size of the frame being collected in #parts, or -1. */
  #pendingBody = -1;
  #failed: ProtocolError | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** Bytes held waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.#buffer.length - this.#offset + this.#partsBytes;
  }

  /**
   * Feeds one chunk; returns the values of every frame it completed, in order. Throws a
   * ProtocolError on an oversized length or a body that is not JSON; after that the decoder
   * is dead and throws the same error again.
   */
  push(chunk: Buffer): unknown[] {
    if (this.#failed) throw this.#failed;
    try {
      return this.#push(chunk);
    } catch (error) {
      this.#failed =
        error instanceof ProtocolError ? error : new ProtocolError('undecodable frame');
      this.#buffer = EMPTY;
      this.#parts = [];
      throw this.#failed;
    }
  }

  #push(chunk: Buffer): unknown[] {
    const out: unknown[] = [];
    if (this.#pendingBody >= 0) {
      if (!this.#collect(chunk, out)) return out;
    } else if (this.#offset < this.#buffer.length) {
      this.#buffer = Buffer.concat([this.#buffer.subarray(this.#offset), chunk]);
      this.#offset = 0;
    } else {
      this.#buffer = chunk;
      this.#offset = 0;
    }
    this.#drain(out);
    return out;
  }

  /** Adds a chunk to a large frame; returns true (with leftovers in #buffer) once whole. */
  #collect(chunk: Buffer, out: unknown[]): boolean {
    const need = this.#pendingBody - this.#partsBytes;
    if (chunk.length < need) {
      this.#parts.push(chunk);
      this.#partsBytes += chunk.length;
      return false;
    }
    this.#parts.push(chunk.subarray(0, need));
    const body = Buffer.concat(this.#parts, this.#pendingBody);
    this.#parts = [];
    this.#partsBytes = 0;
    this.#pendingBody = -1;
    out.push(parseBody(body, 0, body.length));
    this.#buffer = chunk;
    this.#offset = need;
    return true;
  }

  #drain(out: unknown[]): void {
    const buffer = this.#buffer;
    let offset = this.#offset;
    while (buffer.length - offset >= FRAME_HEADER_BYTES) {
      const size = buffer.readUInt32BE(offset);
      if (size > this.#maxFrameBytes) {
        throw new ProtocolError(
          `frame length ${size} exceeds maxFrameBytes ${this.#maxFrameBytes}`,
          { data: { bodyBytes: size, maxFrameBytes: this.#maxFrameBytes } },
        );
      }
      const start = offset + FRAME_HEADER_BYTES;
      const end = start + size;
      if (end > buffer.length) {
        // Incomplete: collect the body chunk by chunk, so that a frame split over many
        // reads is copied once, not once per read.
        const part = buffer.subarray(start);
        this.#parts = [part];
        this.#partsBytes = part.length;
        this.#pendingBody = size;
        this.#buffer = EMPTY;
        this.#offset = 0;
        return;
      }
      out.push(parseBody(buffer, start, end));
      offset = end;
    }
    this.#offset = offset;
    if (offset === buffer.length) {
      this.#buffer = EMPTY;
      this.#offset = 0;
    }
  }
}

function parseBody(buffer: Buffer, start: number, end: number): unknown {
  const text = buffer.toString('utf8', start, end);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ProtocolError(`frame body is not JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
