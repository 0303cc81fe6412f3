/**
 * `client.map()`: one call per input, at most `concurrency` in flight, results in input
 * order. Input is read only as calls can start (a slow consumer stops the reading too,
 * once `concurrency` results wait). It stops reading input and cancels the calls in flight
 * when the consumer leaves (`break`), when `signal` aborts, or when a call fails: the
 * results before the failed one are yielded, then its error is thrown.
 *
 * @module
 */
import { CancelledError, ValidationError } from '@taskpool/protocol';

/** Makes one call; its promise rejects with the reason when `signal` aborts. */
type CallOne = (input: unknown, signal: AbortSignal) => Promise<unknown>;

/** One input's call, in input order. */
interface Entry {
  readonly index: number;
  readonly controller: AbortController;
  /** Settles with how the call ended; never rejects. */
  readonly settled: Promise<void>;
  ok: boolean;
  value: unknown;
}

/** Reads a sync or async iterable through one async interface. */
function iteratorOf(inputs: unknown): AsyncIterator<unknown> | Iterator<unknown> {
  if (inputs !== null && typeof inputs === 'object') {
    const async = (inputs as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator];
    if (typeof async === 'function') return async.call(inputs);
  }
  if (inputs !== null && inputs !== undefined) {
    const sync = (inputs as Partial<Iterable<unknown>>)[Symbol.iterator];
    if (typeof sync === 'function' && typeof inputs !== 'string') return sync.call(inputs);
  }
  throw new ValidationError(
    'INVALID_ARGS',
    `client.map: inputs must be an iterable or an async iterable (an array, a generator, a stream of lines), received ${inputs === null ? 'null' : typeof inputs}`,
  );
}

/**
 * Waits for `promise`, or rejects with the abort reason first. The listener is removed once
 * the wait is over, so a long-lived signal does not collect one per wait.
 */
function orAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

const ignore = () => {};

export async function* orderedMap(
  callOne: CallOne,
  inputs: unknown,
  concurrency: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<unknown, void, undefined> {
  const source = iteratorOf(inputs);
  const inFlight: Entry[] = [];
  /** The first input whose call failed, or Infinity: no input is read after it. */
  let failedAt = Number.POSITIVE_INFINITY;
  let inputEnded = false;
  let nextInput: Promise<IteratorResult<unknown>> | undefined;
  let count = 0;
  /**
   * Controllers of calls that are done, not aborted, and no longer in `inFlight`, for the
   * next calls: the first listener on a new signal costs Node about 7 µs, on a signal that
   * had one before under 1 µs, and each call listens to its signal while it is sent.
   */
  const spare: AbortController[] = [];

  const start = (input: unknown) => {
    const index = count++;
    const controller = spare.pop() ?? new AbortController();
    const entry: Entry = {
      index,
      controller,
      ok: false,
      value: undefined,
      settled: callOne(input, controller.signal).then(
        (value) => {
          entry.ok = true;
          entry.value = value;
        },
        (error: unknown) => {
          entry.value = error;
          if (index < failedAt) {
            failedAt = index;
            // The calls after a failure are not wanted: stop them now.
            for (const later of inFlight) {
              if (later.index > index)
                later.controller.abort(new CancelledError('an earlier input of client.map failed'));
            }
          }
        },
      ),
    };
    inFlight.push(entry);
  };

  try {
    for (;;) {
      // Start calls while there is room and input, unless the oldest call has finished
      // meanwhile: its result goes out first.
      while (
        !inputEnded &&
        failedAt === Number.POSITIVE_INFINITY &&
        inFlight.length < concurrency
      ) {
        nextInput ??= Promise.resolve(source.next());
        const head = inFlight[0];
        const step = head
          ? await orAbort(Promise.race([nextInput, head.settled.then(() => undefined)]), signal)
          : await orAbort(nextInput, signal);
        if (step === undefined) break; // the oldest call finished first
        nextInput = undefined;
        if (step.done) inputEnded = true;
        else start(step.value);
      }
      const head = inFlight.shift();
      if (!head) return;
      await orAbort(head.settled, signal);
      if (!head.ok) throw head.value;
      // Settled, so its call no longer listens to the signal; out of `inFlight`, so nothing
      // here aborts it any more.
      if (!head.controller.signal.aborted) spare.push(head.controller);
      yield head.value;
    }
  } finally {
    const stopped = new CancelledError('client.map stopped before this input was done');
    for (const entry of inFlight) entry.controller.abort(stopped);
    if (!inputEnded) {
      // Stop the producer; its own error on closing is not the consumer's concern. An
      // async generator queues return() behind a next() still pending, which may wait for
      // ever (lines from a socket): then it is returned when that next() settles, unawaited.
      if (nextInput) {
        void nextInput.then(() => source.return?.(), ignore).catch(ignore);
      } else {
        try {
          await source.return?.();
        } catch {}
      }
    }
  }
}
