/**
 * The types of a stream as a client reads it. They live here, beside `ClientMethods`, so
 * that an interface's streaming methods are typed without the client package; the client
 * implements them.
 *
 * @module
 */

/** Options of one stream (`co.tail(...args, options)`, `co.stream()`, `client.stream()`). */
export interface StreamOptions {
  /**
   * Cancels the stream: the worker's `ctx.signal` aborts and its generator is returned (its
   * `finally` runs). A `next()` waiting rejects with `signal.reason`, and so does `result`.
   * @default none
   * @example co.tail('app.log', undefined, { signal: AbortSignal.timeout(10_000) })
   */
  signal?: AbortSignal;
  /**
   * How many items the worker may produce ahead of the consumer (its credit). The worker
   * pulls its generator only while it holds credit, so at most this many items are made
   * and buffered before they are read. The client grants more each time half of it has been
   * read. From 1 to `MAX_STREAM_CREDIT` (2^20). Items take a round trip to be granted, so a
   * window of 16 is bounded by latency: for many small items, 128 to 256 is faster.
   * @default 16
   * @example { highWaterMark: 256 } // small items, a fast consumer
   */
  highWaterMark?: number;
  /**
   * How long (ms, at most `MAX_TIMER_MS`) a `next()` may wait for the next item, while the
   * consumer waits. Past it the checkout is poisoned with `TIMEOUT`, as a call's deadline
   * does. Time the consumer spends elsewhere does not count (time the stream waits behind
   * calls made before it on the checkout does). A stream whose producer may be quiet for a
   * long time (following a log) needs a longer one, or `null` = no limit.
   * @default the checkout's `timeout`
   * @example { timeout: 60_000 }
   */
  timeout?: number | null;
  /**
   * How long (ms) the stream may go unread (no `next()` waiting, and none called) before it
   * is cancelled: a consumer that forgot a stream would otherwise hold its worker for ever.
   * The next `next()` then rejects with `CANCELLED`, saying so. `null` = never.
   * @default the client's `streamIdleTimeout` (60 s)
   * @example { streamIdleTimeout: 600_000 } // the consumer may pause for ten minutes
   */
  streamIdleTimeout?: number | null;
}

/**
 * A stream of items from a worker: an async iterator (read it with `for await`), with the
 * generator's return value as `result`. Leaving it early (`break`, `return()`), `cancel()`,
 * its `signal` and disposing of it (`await using`) all stop the worker's generator.
 *
 * @example
 * await using co = await client.checkout();
 * const lines = co.tail('app.log');
 * for await (const line of lines) if (line.includes('READY')) break;
 */
export interface TaskStream<TItem = unknown, TResult = unknown>
  extends AsyncIterableIterator<TItem>,
    AsyncDisposable {
  /** The next item, or done once the stream has ended (or been left). */
  next(): Promise<IteratorResult<TItem, undefined>>;
  /**
   * Leaves the stream (what `break` calls): resolves done at once, and the worker stops the
   * generator (within the client's `cancelGrace`, or the checkout is poisoned).
   */
  return(): Promise<IteratorResult<TItem, undefined>>;
  /**
   * The generator's return value, once the stream has ended; rejects with the stream's
   * error, or with the reason it was cancelled. Reading it is optional: an unread rejection
   * is not reported as unhandled.
   */
  readonly result: Promise<TResult>;
  /**
   * Stops the stream: the worker aborts `ctx.signal`, then returns the generator. Items not
   * read are dropped; `next()` returns `done`, and `result` rejects with `reason` (a
   * `CANCELLED` error by default). Resolves once the worker has stopped it (or the checkout
   * gave up on the worker after `cancelGrace`); never rejects.
   */
  cancel(reason?: unknown): Promise<void>;
}

/** A stream's arguments, then its options (after a rest element, no options). */
export type WithStreamOptions<TArgs extends readonly unknown[]> = number extends TArgs['length']
  ? TArgs
  : [...TArgs, options?: StreamOptions];

/** Marks the arguments of a streaming method's type, so `co.stream()` can find them. */
declare const STREAM_ARGS: unique symbol;

/**
 * A streaming method of a checkout: its arguments, then (optionally, when `TOptions` is
 * true) its options; returns a {@link TaskStream}. To pass options after optional
 * arguments, pass `undefined` for the arguments left out:
 * `co.tail('app.log', undefined, { highWaterMark: 64 })`.
 */
export type StreamMethod<
  TArgs extends readonly unknown[],
  TItem,
  TResult,
  TOptions extends boolean = true,
> = ((
  ...args: TOptions extends true ? WithStreamOptions<TArgs> : TArgs
) => TaskStream<TItem, TResult>) & {
  /** Type-level only: the arguments without the options. */
  readonly [STREAM_ARGS]?: TArgs;
};

/** The arguments (without options) of a streaming method's type. */
export type StreamArgsOf<TMethod> = TMethod extends { readonly [STREAM_ARGS]?: infer A }
  ? A extends readonly unknown[]
    ? A
    : unknown[]
  : TMethod extends (...args: infer A) => unknown
    ? A
    : unknown[];
