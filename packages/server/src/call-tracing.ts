/**
 * The worker's tracing channel for handlers, `tracing:taskpool.server.call:*`: an APM (or
 * `@taskpool/otel`) subscribes in the worker, and, through `start.bindStore` or the
 * context's `run`, makes its context current while the handler runs. The context carries the call's W3C
 * `traceparent` (sent by a client whose tracing subscriber set one), so spans made in the
 * worker join the caller's trace.
 *
 * @module
 */
import { tracingChannel } from 'node:diagnostics_channel';
import type { Peer } from '@taskpool/protocol';
import type { CallMessage } from '@taskpool/protocol/internal';

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
   * and return what it returns.
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

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Runs `invoke` (the handler) traced (see `handlersTraced`): `start` (with its bound
 * stores current, and through the `run` a subscriber set), `end` when it returns or throws, `error`, and for a promise
 * `asyncStart` and `asyncEnd` when it settles, as `tracePromise` and `traceSync` publish.
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
  return start.runStores(context, () => {
    let value: unknown;
    try {
      value = context.run ? context.run(invoke) : invoke();
    } catch (thrown) {
      context.error = thrown;
      error.publish(context);
      end.publish(context);
      throw thrown;
    }
    if (!isThenable(value)) context.result = value;
    end.publish(context);
    if (!isThenable(value)) return value;
    return Promise.resolve(value).then(
      (resolved) => {
        context.result = resolved;
        asyncStart.publish(context);
        asyncEnd.publish(context);
        return resolved;
      },
      (thrown: unknown) => {
        context.error = thrown;
        error.publish(context);
        asyncStart.publish(context);
        asyncEnd.publish(context);
        throw thrown;
      },
    );
  });
}
