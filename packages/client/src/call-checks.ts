/**
 * What a checkout's call and a one-shot call judge alike: whether arguments may be sent,
 * and whether an error reply leaves the worker fit to serve the next checkout.
 *
 * @module
 */
import { type Interface, UnknownMethodError, ValidationError } from '@taskpool/protocol';
import { findNonJson, isJsonValue } from '@taskpool/protocol/internal';

/**
 * Error codes raised before a handler ran, or by a handler that stopped as asked: they
 * say nothing about the worker's health, so it stays pooled. Any other error reply (the
 * handler threw, returned a bad result, or setup failed) replaces the worker on release,
 * unless `dontReforkAfterError`.
 */
const WORKER_UNTOUCHED = new Set<string>([
  'UNKNOWN_METHOD',
  'INVALID_ARGS',
  'PRECEDING_CALL_FAILED',
  'CANCELLED',
  'STREAM_REQUIRED',
  'FORBIDDEN',
]);

/** An error reply with this code means the handler misbehaved: the worker is replaced. */
export function taintsWorker(code: string): boolean {
  return !WORKER_UNTOUCHED.has(code);
}

/**
 * Throws INVALID_ARGS or UNKNOWN_METHOD unless the call may be sent; returns the arguments
 * to send: without trailing `undefined`s, which JSON would carry as `null` (which a zod
 * `.optional()` refuses), where left out they arrive as `undefined`.
 */
export function argumentsToSend(
  iface: Interface | undefined,
  method: string | null,
  args: readonly unknown[],
): readonly unknown[] {
  if (!Array.isArray(args)) {
    throw new ValidationError(
      'INVALID_ARGS',
      `arguments must be an array, received ${typeof args}`,
    );
  }
  if (iface) {
    if (!iface.has(method)) throw new UnknownMethodError(method);
    iface.parseArgs(method, args);
  }
  if (!isJsonValue(args)) {
    throw new ValidationError(
      'INVALID_ARGS',
      `arguments of ${method ?? '->()'}: ${findNonJson(args)}`,
    );
  }
  let end = args.length;
  while (end > 0 && args[end - 1] === undefined) end--;
  return end === args.length ? args : args.slice(0, end);
}
