/**
 * One stream on a checkout, as its consumer reads it: a {@link TaskStream}. It buffers the
 * items the worker sends, grants credit as they are read (half the window at a time, so
 * that grants go out in batches), and ends with the worker's result or error.
 *
 * Two sides end separately. The consumer leaves (`break`, `return()`, `cancel()`, an abort,
 * or the idle timeout), after which nothing more is read and the worker is told to stop.
 * The worker's side ends when its last frame (`result` or `error`) comes, or the connection
 * ends: only then is the checkout's worker free for the next call. The checkout owns the
 * worker's side (cancel grace, poisoning); this class owns what the consumer sees.
 *
 * @module
 */
import {
  CancelledError,
  type LogTimer,
  type TaskpoolError,
  type TaskStream,
} from '@taskpool/protocol';
import type { ErrorMessage, ResultMessage } from '@taskpool/protocol/internal';
import type { PendingCall } from './connection.js';
import { timerDelay } from './deadline-queue.js';

/** What a stream needs of its checkout. */
export interface StreamOwner {
  /** The worker's last frame for `stream`, or the error that ended the connection first. */
  onStreamReply(stream: StreamCall, reply: ResultMessage | ErrorMessage | TaskpoolError): void;
  /**
   * The consumer left `stream` before its end: tell the worker to stop. `misbehaved`: it
   * left because an item broke its schema.
   */
  onStreamLeft(stream: StreamCall, misbehaved: boolean): void;
  /** Grants the worker `n` more items of stream `id`. */
  grant(id: number, n: number): void;
  /** `next()` waited `timeout` ms for an item: the worker is stuck (fatal). */
  onStreamTimeout(stream: StreamCall, timeout: number): void;
}

/** How the worker's side ended, as the consumer will see it. */
type Ending = { ok: true; value: unknown } | { ok: false; error: unknown };

/** A `next()` waiting for an item. */
interface Waiter {
  resolve(result: IteratorResult<unknown>): void;
  reject(error: unknown): void;
}

const DONE: IteratorResult<unknown> = Object.freeze({ done: true, value: undefined });

/** Read slots at the front of the buffer past which it is compacted. */
const COMPACT_AFTER = 1024;
const ignore = () => {};

interface StreamSettings {
  method: string | null;
  /** Items the worker may send ahead of the consumer. */
  highWaterMark: number;
  /** Longest wait of a `next()` for an item, or null. */
  timeout: number | null;
  /** Longest time with nothing read before the stream is cancelled, or null. */
  idleTimeout: number | null;
  /** Validates an item on receipt (throws `INVALID_RESULT`), when the interface says how. */
  parseItem: ((value: unknown) => unknown) | undefined;
}

export class StreamCall implements PendingCall, TaskStream<unknown, unknown> {
  /** The call id on the connection (0 until sent). */
  id = 0;
  /** A stream has no overall deadline: `timeout` bounds each wait for an item instead. */
  readonly deadline = Number.POSITIVE_INFINITY;
  readonly method: string | null;
  readonly result: Promise<unknown>;
  /** The cancel grace timer the checkout arms once the consumer has left. */
  graceTimer: NodeJS.Timeout | undefined;
  /** The checkout's log timer for this stream, if it has a log. */
  logTimer: LogTimer | undefined;
  /** Epoch seconds when sent, for merging the worker's log (only with a log). */
  sentAt = 0;
  /** `performance.now()` when made, for diagnostics (only with subscribers). */
  started = 0;
  readonly #owner: StreamOwner | undefined;
  readonly #settings: StreamSettings;
  readonly #items: unknown[] = [];
  #head = 0;
  #waiters: Waiter[] = [];
  /** How the worker's side ended, once it has; unread items may still be buffered. */
  #ending: Ending | undefined;
  /** The consumer left: nothing more is read. */
  #left = false;
  /** An error the next `next()` throws, once (an abort, the idle timeout, a failure). */
  #toThrow: unknown;
  #resolveResult!: (value: unknown) => void;
  #rejectResult!: (error: unknown) => void;
  /** Items read since credit was last granted. */
  #readSinceGrant = 0;
  /** Resolved once the worker's side has ended. */
  #workerEnded: Promise<void>;
  #markWorkerEnded!: () => void;
  /** `performance.now()` when a `next()` began to wait, or -1 while none waits. */
  #waitingSince = -1;
  #waitTimer: NodeJS.Timeout | undefined;
  /** `performance.now()` when the consumer last called `next()`. */
  #lastRead = performance.now();
  #idleTimer: NodeJS.Timeout | undefined;
  readonly #onAbort: (() => void) | undefined;
  readonly #signal: AbortSignal | undefined;

  constructor(
    owner: StreamOwner | undefined,
    settings: StreamSettings,
    signal: AbortSignal | undefined,
  ) {
    this.#owner = owner;
    this.#settings = settings;
    this.method = settings.method;
    this.result = new Promise((resolve, reject) => {
      this.#resolveResult = resolve;
      this.#rejectResult = reject;
    });
    // Reading the result is optional: its rejection is not an unhandled one.
    this.result.catch(ignore);
    this.#workerEnded = new Promise((resolve) => {
      this.#markWorkerEnded = resolve;
    });
    this.#signal = signal;
    this.#onAbort = signal ? () => this.#leave(signal.reason, true) : undefined;
  }

  /** A stream that failed before it was sent (bad arguments, a released checkout, ...). */
  static failed(method: string | null, error: unknown): StreamCall {
    const stream = new StreamCall(
      undefined,
      { method, highWaterMark: 1, timeout: null, idleTimeout: null, parseItem: undefined },
      undefined,
    );
    stream.#toThrow = error;
    stream.#left = true;
    stream.#rejectResult(error);
    stream.#markWorkerEnded();
    return stream;
  }

  /** Called once the call went out: its signal is watched, and the idle clock starts. */
  sent(id: number): void {
    this.id = id;
    // Not before: a stream that failed to go out must not act on its signal later.
    if (this.#signal && this.#onAbort) {
      this.#signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    const idle = this.#settings.idleTimeout;
    if (idle !== null && !this.#left) this.#armIdle(idle);
  }

  /** The consumer is still reading and the worker still producing: no other call may go. */
  get active(): boolean {
    return !this.#left && this.#ending === undefined;
  }

  /** The worker's side has ended (its last frame came, or the connection ended). */
  get workerDone(): boolean {
    return this.#ending !== undefined;
  }

  /** PendingCall: settled once the worker's side ended. */
  get done(): boolean {
    return this.#ending !== undefined;
  }

  /** Never called: a stream is not in the connection's deadline queue. */
  expire(): void {}

  // --- from the worker (through the connection and the checkout) ---

  item(value: unknown): void {
    if (this.#left || this.#ending) return; // left: the worker is being stopped
    let parsed = value;
    const parse = this.#settings.parseItem;
    if (parse) {
      try {
        parsed = parse(value);
      } catch (invalid) {
        // The item breaks its schema: the stream fails here, and the worker is stopped.
        this.#leave(invalid, true, true);
        return;
      }
    }
    const waiter = this.#waiters.shift();
    if (waiter) {
      if (this.#waiters.length === 0) this.#waitingSince = -1;
      this.#consumed();
      waiter.resolve({ done: false, value: parsed });
    } else {
      this.#items.push(parsed);
    }
  }

  reply(reply: ResultMessage | ErrorMessage | TaskpoolError): void {
    this.#owner?.onStreamReply(this, reply);
  }

  /** The checkout's verdict on the worker's last frame: how the stream ended. */
  end(ending: Ending): void {
    if (this.#ending) return;
    this.#ending = ending;
    this.#stopTimers();
    this.#markWorkerEnded();
    if (this.#signal && this.#onAbort) this.#signal.removeEventListener('abort', this.#onAbort);
    if (!this.#left) {
      if (ending.ok) this.#resolveResult(ending.value);
      else this.#rejectResult(ending.error);
    }
    // Waiters are only there when the buffer is empty: they get the end now.
    for (const waiter of this.#waiters.splice(0)) this.#settleWaiter(waiter);
  }

  // --- the consumer's side ---

  next(): Promise<IteratorResult<unknown>> {
    this.#lastRead = performance.now();
    if (this.#head < this.#items.length) {
      const items = this.#items;
      const value = items[this.#head];
      items[this.#head++] = undefined;
      if (this.#head === items.length) {
        items.length = 0;
        this.#head = 0;
      } else if (this.#head >= COMPACT_AFTER && this.#head * 2 >= items.length) {
        // A consumer that never quite catches up never empties the buffer: drop the read
        // slots now and then, so that it stays about as small as the window.
        items.splice(0, this.#head);
        this.#head = 0;
      }
      this.#consumed();
      return Promise.resolve({ done: false, value });
    }
    if (this.#ending || this.#left) {
      return new Promise((resolve, reject) => this.#settleWaiter({ resolve, reject }));
    }
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      if (this.#waitingSince < 0) {
        this.#waitingSince = performance.now();
        const timeout = this.#settings.timeout;
        if (timeout !== null && this.#waitTimer === undefined) this.#armWait(timeout);
      }
    });
  }

  return(): Promise<IteratorResult<unknown>> {
    this.#leave(new CancelledError('the consumer stopped reading the stream'), false);
    return Promise.resolve(DONE);
  }

  async cancel(reason?: unknown): Promise<void> {
    this.#leave(reason ?? new CancelledError('the stream was cancelled'), false);
    await this.#workerEnded;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.cancel();
  }

  // --- internals ---

  /**
   * The consumer leaves: buffered items are dropped, `result` rejects with `reason` (if the
   * worker's side has not ended), and the worker is told to stop. With `raise`, the next
   * `next()` (or the one waiting) rejects with `reason`; otherwise it returns done.
   */
  #leave(reason: unknown, raise: boolean, misbehaved = false): void {
    if (this.#left) return;
    this.#left = true;
    this.#items.length = 0;
    this.#head = 0;
    if (raise) this.#toThrow = reason;
    if (this.#signal && this.#onAbort) this.#signal.removeEventListener('abort', this.#onAbort);
    if (this.#ending) return; // the worker's side is over: nothing to stop
    this.#stopTimers();
    this.#rejectResult(reason);
    for (const waiter of this.#waiters.splice(0)) this.#settleWaiter(waiter);
    this.#owner?.onStreamLeft(this, misbehaved);
  }

  /** Answers a `next()` that finds no item: an error to throw (once), or done. */
  #settleWaiter(waiter: Waiter): void {
    if (this.#toThrow !== undefined) {
      const error = this.#toThrow;
      this.#toThrow = undefined;
      waiter.reject(error);
      return;
    }
    const ending = this.#ending;
    if (ending && !ending.ok && !this.#left) {
      // Thrown once, after the items before it; later calls return done.
      this.#left = true;
      waiter.reject(ending.error);
      return;
    }
    this.#left = true;
    waiter.resolve(DONE);
  }

  /** An item went to the consumer: grant the worker more once half the window is read. */
  #consumed(): void {
    if (this.#ending || this.#left) return;
    this.#readSinceGrant++;
    if (this.#readSinceGrant * 2 >= this.#settings.highWaterMark) {
      const n = this.#readSinceGrant;
      this.#readSinceGrant = 0;
      this.#owner?.grant(this.id, n);
    }
  }

  /**
   * One timer for the waits of `next()`, set again when it fires rather than on every
   * wait: an item that comes only clears `#waitingSince`.
   */
  #armWait(timeout: number, delay = timeout): void {
    this.#waitTimer = setTimeout(() => {
      this.#waitTimer = undefined;
      if (this.#waitingSince < 0 || this.#left || this.#ending) return;
      const left = this.#waitingSince + timeout - performance.now();
      if (left > 0) {
        this.#armWait(timeout, Math.ceil(left));
        return;
      }
      this.#owner?.onStreamTimeout(this, timeout);
    }, timerDelay(delay));
  }

  #armIdle(idle: number, delay = idle): void {
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#left || this.#ending) return;
      const left = this.#waiters.length > 0 ? idle : this.#lastRead + idle - performance.now();
      if (left > 0) {
        this.#armIdle(idle, Math.ceil(left));
        return;
      }
      this.#leave(
        new CancelledError(
          `the stream of ${this.method ?? '->()'} was cancelled: nothing read from it for ${idle} ms (streamIdleTimeout)`,
        ),
        true,
      );
    }, timerDelay(delay));
    this.#idleTimer.unref();
  }

  #stopTimers(): void {
    clearTimeout(this.#waitTimer);
    clearTimeout(this.#idleTimer);
    this.#waitTimer = undefined;
    this.#idleTimer = undefined;
  }
}
