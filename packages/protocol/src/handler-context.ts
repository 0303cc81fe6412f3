/**
 * What a handler in a worker receives besides its arguments.
 *
 * @module
 */
import type { DeferredLog } from './deferred-log.js';

/** The context of one call, passed to every handler as its last argument. */
export interface HandlerContext<TCall = (method: string, ...args: unknown[]) => Promise<unknown>> {
  /** Aborts when the client cancels the call, its deadline passes, or the client goes away. */
  readonly signal: AbortSignal;
  /** This call's log; it is sent back with the reply and merged into the client's log. */
  readonly log: DeferredLog;
  /** Calls another handler of the same interface in this process (Clutch's cascade). */
  readonly call: TCall;
  /** The worker's number within its server, from 1. */
  readonly workerId: number;
  /** The method called, or null for a call of the one-function interface. */
  readonly method: string | null;
  /** Values of the caller's error scope (request id, trace context, …). */
  readonly scope: Readonly<Record<string, unknown>>;
}
