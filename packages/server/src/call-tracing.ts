/**
 * The worker's tracing channel for handlers, `tracing:taskpool.server.call:*`: an APM (or
 * `@taskpool/otel`) subscribes in the worker, and, through `start.bindStore` or the
 * context's `run`, makes its context current while the handler runs. The context carries the call's W3C
 * `traceparent` (sent by a client whose tracing subscriber set one), so spans made in the
 * worker join the caller's trace.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { tracingChannel } from 'node:diagnostics_channel';
import type { Peer } from '@taskpool/protocol';
import type { CallMessage } from '@taskpool/protocol/internal';
import { isAsyncIterable, isThenable } from './value-kinds.js';

/** What `tracing:taskpool.server.call` subscribers see of a call. */
export interface ServerCallTraceContext {
  method: string | null;
  /** The interface's name (`defineInterface`'s `name`); undefined for a worker without one. */
  interface: string | undefined;
  workerId: number;
  /** The caller's W3C trace context, when its client sent one. */
  traceparent: string | undefined;
  peer: Peer;
  /**
   * Set by a `start` subscriber: the handler is called through it, so a tracer whose
   * context is not an `AsyncLocalStorage` it can bind (OpenTelemetry's `context.with`)
   * makes its context current in the handler. It must call `handler` once, synchronously,
   * and return what it returns. For a stream it is called again for each step of the
   * handler's items (creating the iterator, each `next()`, `return()`).
   *
   * @example context.run = (handler) => otel.context.with(ctx, handler)
   */
  run?: <T>(handler: () => T) => T;
  /** The handler's value (a promise's, once settled). */
  result?: unknown;
  /** What the handler threw or rejected with. */
  error?: unknown;
}

/** The tracing channel's name (`tracing:taskpool.server.call:start`, …). */
export const SERVER_CALL_TRACING = 'taskpool.server.call';

const serverCall = tracingChannel<unknown, ServerCallTraceContext>(SERVER_CALL_TRACING);

/** True when anyone subscribes to the handlers' tracing channel. */
export function handlersTraced(): boolean {
  return serverCall.hasSubscribers;
}

/**
 * A stream's items, traced: each step of its iterator runs with the stores bound to
 * `start` as they were at the handler's call (`resume`, a snapshot) and through the
 * context's `run`, so the generator's body runs with the tracer's context current between
 * yields too; and the trace ends
 * (`asyncStart`, `asyncEnd`) when the items end, fail, or are left (`return()`).
 */
function tracedItems(
  items: AsyncIterable<unknown>,
  context: ServerCallTraceContext,
  resume: <T>(step: () => T) => T,
  settled: (thrown: unknown, failed: boolean) => void,
): AsyncIterable<unknown> {
  // Not runStores again per step: that would publish `start` again.
  const within = <T>(step: () => T): T => resume(() => (context.run ? context.run(step) : step()));
  let iterator: AsyncIterator<unknown> | undefined;
  let over = false;
  const finish = (thrown: unknown, failed: boolean) => {
    if (over) return;
    over = true;
    settled(thrown, failed);
  };
  const step = (
    take: (from: AsyncIterator<unknown>) => Promise<IteratorResult<unknown>> | undefined,
    last: boolean,
  ): Promise<IteratorResult<unknown>> => {
    let pending: Promise<IteratorResult<unknown>> | undefined;
    try {
      iterator ??= within(() => items[Symbol.asyncIterator]());
      const from = iterator;
      pending = within(() => take(from));
    } catch (thrown) {
      finish(thrown, true);
      return Promise.reject(thrown);
    }
    if (pending === undefined) {
      finish(undefined, false);
      return Promise.resolve({ done: true, value: undefined });
    }
    return Promise.resolve(pending).then(
      (result) => {
        if (typeof result !== 'object' || result === null) {
          // Not an iterator result: the stream fails (the producer says why), and so ends.
          finish(new TypeError('the iterator gave no iterator result'), true);
        } else if (result.done || last) {
          finish(undefined, false);
        }
        return result;
      },
      (thrown: unknown) => {
        finish(thrown, true);
        throw thrown;
      },
    );
  };
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => step((from) => from.next(), false),
      return: (value?: unknown) => step((from) => from.return?.(value), true),
      throw: (thrown?: unknown) => step((from) => from.throw?.(thrown), true),
    }),
  };
}

/**
 * Runs `invoke` (the handler) traced (see `handlersTraced`): `start` (with its bound
 * stores current, and through the `run` a subscriber set), `end` when it returns or throws,
 * `error`, and for a promise `asyncStart` and `asyncEnd` when it settles, as `tracePromise`
 * and `traceSync` publish; for a stream, when its items end (see `tracedItems`).
 */
export function traceHandler(
  call: CallMessage,
  interfaceName: string | undefined,
  workerId: number,
  peer: Peer,
  invoke: () => unknown,
): unknown {
  const traceparent = call.scope?.traceparent;
  const context: ServerCallTraceContext = {
    method: call.method,
    interface: interfaceName,
    workerId,
    traceparent: typeof traceparent === 'string' ? traceparent : undefined,
    peer,
  };
  const { start, end, asyncStart, asyncEnd, error } = serverCall;
  const stream = call.credit !== undefined;
  const settled = (thrown: unknown, failed: boolean) => {
    if (failed) {
      context.error = thrown;
      error.publish(context);
    } else if (!('result' in context)) {
      // A stream's items ended: it has no value, but it has ended.
      context.result = undefined;
    }
    asyncStart.publish(context);
    asyncEnd.publish(context);
  };
  return start.runStores(context, () => {
    // The stores bound to `start`, as they are now, for the steps of a stream's items.
    const resume = AsyncLocalStorage.snapshot();
    let value: unknown;
    try {
      value = context.run ? context.run(invoke) : invoke();
    } catch (thrown) {
      context.error = thrown;
      error.publish(context);
      end.publish(context);
      throw thrown;
    }
    // A stream's handler has returned, its items are to come: it ends with its last one.
    // A thenable is awaited first, traced or not (a value may be both, as a query is).
    const streaming = stream && !isThenable(value) && isAsyncIterable(value);
    if (!isThenable(value) && !streaming) context.result = value;
    end.publish(context);
    if (streaming) return tracedItems(value as AsyncIterable<unknown>, context, resume, settled);
    if (!isThenable(value)) return value;
    return Promise.resolve(value).then(
      (resolved) => {
        if (stream && isAsyncIterable(resolved)) {
          return tracedItems(resolved, context, resume, settled);
        }
        context.result = resolved;
        settled(undefined, false);
        return resolved;
      },
      (thrown: unknown) => {
        settled(thrown, true);
        throw thrown;
      },
    );
  });
}
