/**
 * `client.stream()`: a stream on a checkout of its own. The checkout is taken on the first
 * `next()` and released as soon as the stream ends for the worker (its items may still be
 * read), fails, or its consumer leaves it (the release waits, in the background, for the
 * worker to stop the stream).
 *
 * @module
 */
import { CancelledError, type TaskStream } from '@taskpool/protocol';
import type { Checkout } from './checkout-proxy.js';
import type { OneShotStreamOptions } from './client.js';
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
  readonly #options: OneShotStreamOptions;
  /** Aborts the wait for a worker when the consumer leaves before it came. */
  readonly #leaving = new AbortController();
  #phase: OneShotPhase = 'idle';
  #started: Promise<TaskStream | undefined> | undefined;
  #checkout: Checkout | undefined;
  #inner: TaskStream | undefined;
  #resolveResult!: (value: unknown) => void;
  #rejectResult!: (error: unknown) => void;
  /** The error that prevented the checkout was thrown by a `next()` already. */
  #failureThrown = false;

  constructor(
    acquire: Acquire,
    method: string | null,
    args: readonly unknown[],
    options: OneShotStreamOptions,
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
    let inner: TaskStream | undefined;
    try {
      inner = await this.#started;
    } catch (error) {
      // What prevented the checkout is thrown once; the stream is over after it.
      if (this.#failureThrown) return DONE;
      this.#failureThrown = true;
      throw error;
    }
    if (!inner) return DONE;
    return inner.next();
  }

  /** Leaves the stream at once; the worker stops it (and the checkout goes back) meanwhile. */
  return(): Promise<IteratorResult<unknown>> {
    void this.#leave(new CancelledError('the consumer stopped reading the stream'));
    return Promise.resolve(DONE);
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
    const { waitForServer, ...streamOptions } = this.#options;
    const { signal, timeout } = streamOptions;
    const waitSignal = signal
      ? AbortSignal.any([signal, this.#leaving.signal])
      : this.#leaving.signal;
    let checkout: Checkout;
    try {
      checkout = await this.#acquire({ signal: waitSignal, timeout, waitForServer });
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
    const inner = checkout.stream(this.#method, this.#args, streamOptions);
    this.#inner = inner;
    this.#phase = 'streaming';
    inner.result.then(this.#resolveResult, this.#rejectResult);
    // The checkout goes back once the stream is over for the worker, or left (result
    // settles then), whether or not the consumer reads to the end: items already received
    // stay readable.
    const release = () => this.#release();
    inner.result.then(release, release);
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
    await (this.#inner as TaskStream).cancel(reason);
  }

  /** Gives the worker back: the release waits for the worker to end the stream. */
  #release(): void {
    const checkout = this.#checkout;
    this.#checkout = undefined;
    // A release never rejects.
    if (checkout) void checkout.release();
  }
}
