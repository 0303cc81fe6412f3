/**
 * A writer that batches frames per tick: every message sent during one synchronous run
 * (and the promise jobs after it) goes out in one `write`, so pipelining does not cost a
 * system call per call.
 *
 * @module
 */
import { FrameBatch } from './frame-encoder.js';
import { DEFAULT_MAX_FRAME_BYTES } from './limits.js';
import type { Message } from './messages.js';

/** The part of a socket a FrameWriter needs. */
export interface FrameSink {
  write(chunk: Buffer): boolean;
  readonly destroyed: boolean;
}

const resolved = Promise.resolve();

/**
 * A batch this large is written at once instead of at the end of the tick, so that the peer
 * starts on it while the rest is produced: the two processes then work at the same time
 * instead of in turns. 16 frames or 16 KiB of JSON keep the writes few.
 */
const FLUSH_FRAMES = 16;
const FLUSH_CHARS = 16 * 1024;

/**
 * The same bound for the items of a stream (`sendBulk`): they come in runs, with nobody
 * waiting on any one of them, so fewer, larger writes cost less and delay nothing. On two
 * cores, a write of 16 small frames spent as long in the kernel as the worker spent making
 * the 16 items.
 */
const BULK_FLUSH_FRAMES = 64;
const BULK_FLUSH_CHARS = 64 * 1024;

export class FrameWriter {
  readonly #sink: FrameSink;
  readonly #batch: FrameBatch;
  #scheduled = false;
  #corked = 0;
  readonly #flush = () => this.flush();
  /**
   * A promise job, then a tick: the tick queued from a promise job runs once every promise
   * job queued by then, and those they queue, has run. So a reply that settles calls whose
   * continuations make new calls sends them all in one write. (`queueMicrotask` would cost
   * an AsyncResource per flush and write before later continuations had run.)
   */
  readonly #defer = () => process.nextTick(this.#flush);

  constructor(sink: FrameSink, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {
    this.#sink = sink;
    this.#batch = new FrameBatch(maxFrameBytes);
  }

  /**
   * Serialises `message` now (an unencodable or oversized one throws a ProtocolError here,
   * to the caller) and writes it with the others of this tick, or at once with those before
   * it when they make a large batch.
   */
  send(message: Message): void {
    this.#add(message, FLUSH_FRAMES, FLUSH_CHARS);
  }

  /**
   * `send` for a frame of a run that nothing waits on one by one (a stream's items): it is
   * written with the others of this tick, or at once when they make a larger batch than
   * `send` lets grow.
   */
  sendBulk(message: Message): void {
    this.#add(message, BULK_FLUSH_FRAMES, BULK_FLUSH_CHARS);
  }

  /** Adds `message` to the batch, written at once past these bounds, else at the tick's end. */
  #add(message: Message, maxFrames: number, maxChars: number): void {
    const batch = this.#batch;
    batch.add(message);
    if (batch.length >= maxFrames || batch.chars >= maxChars) {
      this.flush();
      return;
    }
    if (!this.#scheduled && this.#corked === 0) {
      this.#scheduled = true;
      void resolved.then(this.#defer);
    }
  }

  /**
   * Until the matching `uncork()`, what is sent is not left for the end of the tick:
   * `uncork()` writes it at once. For a caller that knows when a burst of sends ends (a
   * worker answering what one read brought): one write without waiting for the tick. A
   * batch that grows large is still written as it fills (see `send`), corked or not.
   */
  cork(): void {
    this.#corked++;
  }

  uncork(): void {
    if (this.#corked > 0 && --this.#corked === 0 && this.#batch.length > 0) this.flush();
  }

  /** Writes whatever is waiting now. */
  flush(): void {
    this.#scheduled = false;
    if (this.#batch.length === 0) return;
    const chunk = this.#batch.take();
    if (!this.#sink.destroyed) this.#sink.write(chunk);
  }
}
