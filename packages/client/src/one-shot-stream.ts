/**
 * `client.stream()`: a stream on a checkout of its own. The checkout is taken on the first
 * `next()` and released as soon as the stream ends, fails, or its consumer leaves it (the
 * release waits, in the background, for the worker to stop the stream).
 *
 * @module
 */
import { CancelledError, type StreamOptions, type TaskStream } from '@taskpool/protocol';
import type { Checkout } from './checkout-proxy.js';
import type { CheckoutOptions } from './options.js';

/** Takes a checkout for the stream; rejects as `client.checkout()` does. */
type Acquire = (options: CheckoutOptions) => Promise<Checkout>;

/**
 * `idle`: nothing asked yet. `acquiring`: waiting for a worker. `streaming`: the stream is
 * open on its checkout. `finished`: ended, failed or left; the checkout is (being) released.
 */
type OneShotPhase = 'idle' | 'acquiring' | 'streaming' | 'finished';

const DONE: IteratorResult<unknown> = Object.freeze({ done: true, value: undefined });
const ignore = () => {};

export class OneShotStream implements TaskStream<unknown, unknown> {
  readonly result: Promise<unknown>;
  readonly #acquire: Acquire;
  readonly #method: string | null;
  readonly #args: readonly unknown[];
  readonly #options: StreamOptions & Pick<CheckoutOptions, 'waitForServer'>;
  /** Aborts the wait for a worker when the consumer leaves before it came. */
  readonly #leaving = new AbortController();
  #phase: OneShotPhase = 'idle';
  #started: Promise<TaskStream | undefined> | undefined;
  #checkout: Checkout | undefined;
  #inner: TaskStream | undefined;
  #resolveResult!: (value: unknown) => void;
  #rejectResult!: (error: unknown) => void;

  constructor(
    acquire: Acquire,
    method: string | null,
    args: readonly unknown[],
    options: StreamOptions & Pick<CheckoutOptions, 'waitForServer'>,
  ) {
    this.#acquire = acquire;
    this.#method = method;
    this.#args = args;
    this.#options = options;
    this.result = new Promise((resolve, reject) => {
      this.#resolveResult = resolve;
      this.#rejectResult = reject;
    });
    this.result.catch(ignore);
  }

  async next(): Promise<IteratorResult<unknown>> {
    if (this.#phase === 'finished' && this.#started === undefined) return DONE; // left unstarted
    this.#started ??= this.#start();
    const inner = await this.#started;
    if (!inner || this.#phase === 'finished') return DONE;
    try {
      const step = await inner.next();
      if (step.done) this.#finish();
      return step;
    } catch (error) {
      this.#finish();
      throw error;
    }
  }

  async return(): Promise<IteratorResult<unknown>> {
    await this.#leave(new CancelledError('the consumer stopped reading the stream'));
    return DONE;
  }

  async cancel(reason?: unknown): Promise<void> {
    await this.#leave(reason ?? new CancelledError('the stream was cancelled'));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.cancel();
  }

  async #start(): Promise<TaskStream | undefined> {
    this.#phase = 'acquiring';
    // #leave may run while the checkout is awaited, which TypeScript's narrowing cannot see.
    const left = () => (this.#phase as OneShotPhase) === 'finished';
    const { signal, timeout, waitForServer, highWaterMark, streamIdleTimeout } = this.#options;
    const waitSignal = signal
      ? AbortSignal.any([signal, this.#leaving.signal])
      : this.#leaving.signal;
    let checkout: Checkout;
    try {
      checkout = await this.#acquire({
        signal: waitSignal,
        ...(timeout !== undefined ? { timeout } : {}),
        ...(waitForServer !== undefined ? { waitForServer } : {}),
      });
    } catch (error) {
      if (left()) return undefined; // left while waiting
      this.#phase = 'finished';
      this.#rejectResult(error);
      throw error;
    }
    if (left()) {
      void checkout.release();
      return undefined;
    }
    this.#checkout = checkout;
    const inner = checkout.stream(this.#method, this.#args, {
      ...(signal ? { signal } : {}),
      ...(timeout !== undefined ? { timeout } : {}),
      ...(highWaterMark !== undefined ? { highWaterMark } : {}),
      ...(streamIdleTimeout !== undefined ? { streamIdleTimeout } : {}),
    });
    this.#inner = inner;
    this.#phase = 'streaming';
    inner.result.then(this.#resolveResult, this.#rejectResult);
    return inner;
  }

  /** The consumer leaves: the wait for a worker is abandoned, or the stream cancelled. */
  async #leave(reason: unknown): Promise<void> {
    const phase = this.#phase;
    if (phase === 'finished') return;
    this.#phase = 'finished';
    if (phase === 'idle' || phase === 'acquiring') {
      this.#rejectResult(reason);
      this.#leaving.abort(reason);
      return;
    }
    const inner = this.#inner as TaskStream;
    const stopped = inner.cancel(reason);
    this.#release();
    await stopped;
  }

  /** The stream is over for the consumer: give the worker back (once it has stopped). */
  #finish(): void {
    this.#phase = 'finished';
    this.#release();
  }

  #release(): void {
    const checkout = this.#checkout;
    this.#checkout = undefined;
    // A release never rejects; it waits for the worker to end the stream.
    if (checkout) void checkout.release();
  }
}
