/**
 * Observability: `diagnostics_channel` channels for checkouts and calls, tracing channels
 * (`tracing:taskpool.client.call:*`, `tracing:taskpool.client.checkout:*`) for APMs, and
 * debug output with `NODE_DEBUG=taskpool`. Nothing is built for a channel nobody
 * subscribes to.
 *
 * @module
 */
import { channel, tracingChannel } from 'node:diagnostics_channel';
import { debuglog } from 'node:util';
import { scopeValues } from './error-scope.js';

/** Channel names, for `diagnostics_channel.subscribe(name, listener)`. */
export const CHANNELS = {
  checkoutQueued: 'taskpool:checkout:queued',
  checkoutAssigned: 'taskpool:checkout:assigned',
  checkoutReleased: 'taskpool:checkout:released',
  callStart: 'taskpool:call:start',
  callFinish: 'taskpool:call:finish',
  callError: 'taskpool:call:error',
  workerLost: 'taskpool:worker:lost',
} as const;

export const channels = {
  checkoutQueued: channel(CHANNELS.checkoutQueued),
  checkoutAssigned: channel(CHANNELS.checkoutAssigned),
  checkoutReleased: channel(CHANNELS.checkoutReleased),
  callStart: channel(CHANNELS.callStart),
  callFinish: channel(CHANNELS.callFinish),
  callError: channel(CHANNELS.callError),
  workerLost: channel(CHANNELS.workerLost),
};

/** Writes to stderr when NODE_DEBUG includes `taskpool`. */
export const debug = debuglog('taskpool');

/**
 * The context of a traced call, as its `tracing:taskpool.client.call` subscribers see it. A
 * `start` subscriber may set `traceparent` (W3C): it travels with the call, in its scope
 * values, and the worker's handler runs under it (`tracing:taskpool.server.call`).
 */
export interface CallTraceContext {
  method: string | null;
  /** The interface's name (`defineInterface`'s `name`); undefined for a client without one. */
  interface: string | undefined;
  /** The client's `name` option, if it has one. */
  client: string | undefined;
  /**
   * The server's endpoint (`unix:/path`, `tcp://host:port`, `tls://host:port`): the
   * checkout's, or for a one-shot call the client's when it has only one (else undefined).
   */
  endpoint: string | undefined;
  /** The worker's process id, for a call on a checkout; undefined for a one-shot call. */
  pid: number | undefined;
  /** Set by a `start` subscriber: the W3C trace context to send with the call. */
  traceparent?: string;
  /** What the call resolved with, once it has (set by the tracing channel). */
  result?: unknown;
  /** What it rejected with, if it did (set by the tracing channel). */
  error?: unknown;
}

/** The context of a traced checkout (`tracing:taskpool.client.checkout`). */
export interface CheckoutTraceContext {
  /** The client's `name` option, if it has one. */
  client: string | undefined;
  /** The checkout, once it has its worker. */
  result?: unknown;
  error?: unknown;
}

/** Channel name prefixes of the tracing channels (`tracing:<name>:start`, …). */
export const TRACING_CHANNELS = {
  call: 'taskpool.client.call',
  checkout: 'taskpool.client.checkout',
} as const;

const callTracing = tracingChannel<unknown, CallTraceContext>(TRACING_CHANNELS.call);
const checkoutTracing = tracingChannel<unknown, CheckoutTraceContext>(TRACING_CHANNELS.checkout);

/** The call being made now, while its traced function runs (its scope is read then). */
let tracedCall: CallTraceContext | undefined;

/** True when anyone subscribes to the calls' tracing channel (see `traceCall`). */
export function callsTraced(): boolean {
  return callTracing.hasSubscribers;
}

/** What a traced call's context starts with (see {@link CallTraceContext}). */
export type CallTraceStart = Pick<
  CallTraceContext,
  'method' | 'interface' | 'client' | 'endpoint' | 'pid'
>;

/** Makes the call `make` returns, traced (callers check `callsTraced` first). */
export function traceCall(call: CallTraceStart, make: () => Promise<unknown>): Promise<unknown> {
  const context: CallTraceContext = { ...call };
  return callTracing.tracePromise(() => {
    tracedCall = context;
    try {
      return make();
    } finally {
      tracedCall = undefined;
    }
  }, context);
}

/** Takes the checkout `take` returns, traced when anyone subscribes. */
export function traceCheckout<T>(client: string | undefined, take: () => Promise<T>): Promise<T> {
  if (!checkoutTracing.hasSubscribers) return take();
  return checkoutTracing.tracePromise(take, { client });
}

/**
 * The scope values a call sends: its error scope's, and the `traceparent` a tracing
 * subscriber gave it.
 */
export function callScope(): Record<string, unknown> | undefined {
  const values = scopeValues();
  const traceparent = tracedCall?.traceparent;
  return typeof traceparent === 'string' ? { ...values, traceparent } : values;
}
