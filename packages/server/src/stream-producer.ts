/**
 * One stream in a worker: reads the async iterable a streaming handler returned, one item
 * per unit of credit the client has granted, and sends each item. At zero credit (or while
 * the socket waits to drain) it does not call `next()`, so a generator stays suspended at
 * its `yield` and does no work ahead of its consumer.
 *
 * A cancel (from the client, or because the client went away) aborts the call's signal
 * first, then returns the generator once the `next()` in progress has settled: a generator
 * stuck in an `await` sees the abort there, and its `finally` runs on the return. The
 * stream then ends with the cancel's reason.
 *
 * @module
 */
import { MAX_STREAM_CREDIT } from '@taskpool/protocol';
import { type CallContext, runInContext } from './call-context.js';
import { type CallEnd, failed } from './call-runner.js';
import type { Dispatcher } from './dispatcher.js';

/** Where the items go: the connection's socket. */
export interface StreamSink {
  /** Sends one item; throws when it cannot be encoded (too large for a frame). */
  sendItem(id: number, value: unknown): void;
  /** False while the socket holds more than its high-water mark of unsent bytes. */
  writable(): boolean;
  /** Calls `resume` once the socket has drained. */
  onDrain(resume: () => void): void;
}

/**
 * `waiting`: between items (for credit, or the socket to drain). `pulling`: a `next()` is in
 * progress. `cancelling`: cancelled, returning the generator. `ended`: the end was reported.
 */
type StreamPhase = 'waiting' | 'pulling' | 'cancelling' | 'ended';

const ignore = () => {};

export class StreamProducer {
  readonly #id: number;
  readonly #method: string | null;
  readonly #ctx: CallContext;
  readonly #dispatcher: Dispatcher;
  readonly #sink: StreamSink;
  readonly #finish: (end: CallEnd) => void;
  readonly #items: AsyncIterable<unknown>;
  #iterator: AsyncIterator<unknown> | undefined;
  #phase: StreamPhase = 'waiting';
  #credit: number;
  /** The `next()` in progress, so that a cancel returns the generator only after it. */
  #pending: Promise<unknown> | undefined;
  #drainAwaited = false;

  constructor(init: {
    id: number;
    ctx: CallContext;
    /** What the handler returned. */
    items: AsyncIterable<unknown>;
    credit: number;
    dispatcher: Dispatcher;
    sink: StreamSink;
    /** Called once, with how the stream ended. */
    finish: (end: CallEnd) => void;
  }) {
    this.#id = init.id;
    this.#method = init.ctx.method;
    this.#ctx = init.ctx;
    this.#credit = Math.min(init.credit, MAX_STREAM_CREDIT);
    this.#dispatcher = init.dispatcher;
    this.#sink = init.sink;
    this.#finish = init.finish;
    this.#items = init.items;
  }

  /** Starts reading the items. */
  start(): void {
    try {
      this.#iterator = this.#open();
    } catch (error) {
      this.#end(failed({ id: this.#id }, error));
      return;
    }
    this.#pull();
  }

  #open(): AsyncIterator<unknown> {
    const items = this.#items;
    return runInContext(this.#ctx, () => items[Symbol.asyncIterator]());
  }

  /** The client read `n` more items: it may have that many more. */
  grant(n: number): void {
    if (this.#phase === 'ended' || this.#phase === 'cancelling') return;
    this.#credit = Math.min(this.#credit + n, MAX_STREAM_CREDIT);
    this.#pull();
  }

  /** Stops the stream (see the module comment); it ends with `reason`. */
  cancel(reason: unknown): void {
    this.#stop(reason);
  }

  /**
   * Aborts the call's signal with `reason`, returns the generator once the `next()` in
   * progress has settled (opening it first if it was never read, so that one that started
   * is closed too), then ends the stream with `reason`.
   */
  #stop(reason: unknown): void {
    if (this.#phase === 'ended' || this.#phase === 'cancelling') return;
    const pending = this.#phase === 'pulling' ? this.#pending : undefined;
    this.#phase = 'cancelling';
    this.#ctx.abort(reason);
    let iterator = this.#iterator;
    if (iterator === undefined) {
      try {
        iterator = this.#open();
      } catch {
        // Nothing was read, and there is nothing to close.
      }
    }
    const finish = () => this.#end(failed({ id: this.#id }, reason));
    (pending ?? Promise.resolve())
      .then(ignore, ignore)
      .then(() => iterator?.return?.())
      .then(finish, finish);
  }

  #pull(): void {
    if (this.#phase !== 'waiting' || this.#credit <= 0) return;
    if (!this.#sink.writable()) {
      // The client is not reading what was sent: make nothing more until it does.
      if (!this.#drainAwaited) {
        this.#drainAwaited = true;
        this.#sink.onDrain(() => {
          this.#drainAwaited = false;
          this.#pull();
        });
      }
      return;
    }
    this.#phase = 'pulling';
    const iterator = this.#iterator as AsyncIterator<unknown>;
    let step: Promise<IteratorResult<unknown>>;
    try {
      step = Promise.resolve(runInContext(this.#ctx, () => iterator.next()));
    } catch (error) {
      this.#onError(error);
      return;
    }
    this.#pending = step;
    step.then(this.#onStep, this.#onError);
  }

  readonly #onStep = (step: IteratorResult<unknown>): void => {
    if (this.#phase !== 'pulling') return; // cancelled meanwhile: the cancel ends it
    this.#pending = undefined;
    if (typeof step !== 'object' || step === null) {
      this.#end(
        failed(
          { id: this.#id },
          new TypeError(
            `the iterator's next() gave ${step === null ? 'null' : typeof step}, not an iterator result`,
          ),
        ),
      );
      return;
    }
    if (step.done) {
      let value: unknown;
      try {
        value = this.#dispatcher.checkResult(this.#method, step.value);
      } catch (error) {
        this.#end(failed({ id: this.#id }, error));
        return;
      }
      this.#end({ type: 'result', id: this.#id, value: value === undefined ? null : value });
      return;
    }
    try {
      const item = this.#dispatcher.checkItem(this.#method, step.value);
      this.#sink.sendItem(this.#id, item === undefined ? null : item);
    } catch (error) {
      // A bad item (or one too large to send) ends the stream as a cancel does: the
      // generator is stopped before the end goes out and anything queued behind it runs.
      this.#phase = 'waiting';
      this.#stop(error);
      return;
    }
    this.#credit--;
    this.#phase = 'waiting';
    this.#pull();
  };

  readonly #onError = (error: unknown): void => {
    if (this.#phase !== 'pulling') return;
    this.#pending = undefined;
    this.#end(failed({ id: this.#id }, error));
  };

  #end(end: CallEnd): void {
    if (this.#phase === 'ended') return;
    this.#phase = 'ended';
    this.#finish(end);
  }
}
