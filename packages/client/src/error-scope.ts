/**
 * Scoped error context (what Callback::Frame did for AnyEvent::Task). `errorScope(fn,
 * { catch, name })` runs `fn` in an AsyncLocalStorage scope: a call made inside it whose
 * rejection nobody handles is delivered once to the innermost scope's `catch`, with a
 * trace of scope names and the call site, instead of reaching `unhandledRejection`.
 * Scope values travel into the worker's `ctx.scope`.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { isTaskpoolError } from '@taskpool/protocol';
import {
  type Check,
  check,
  checkOptions,
  func,
  isJsonValue,
  optional,
  string,
} from '@taskpool/protocol/internal';

/** Options of {@link errorScope}. */
export interface ErrorScopeOptions {
  /**
   * Receives a rejection of a call made in this scope that nobody handled, with a trace.
   * If it throws, the new error goes to the next scope out with the same trace; with no
   * scope left it is thrown as an uncaught exception.
   * @default none: the error goes to the next scope out
   * @example catch: (error, trace) => logger.error(trace)
   */
  catch?: (error: unknown, trace: string) => void;
  /**
   * The scope's name in traces.
   * @default 'ANONYMOUS SCOPE'
   * @example name: 'POST /login'
   */
  name?: string;
  /**
   * Values sent with every call made in this scope (and inner ones, which may add to
   * them); handlers read them as `ctx.scope`. Must be JSON.
   * @default {}
   * @example values: { requestId: req.id }
   */
  values?: Record<string, unknown>;
}

/** The options of {@link errorScope}, as the option checker reads them. */
const ERROR_SCOPE_OPTIONS = {
  catch: optional(func as Check<(error: unknown, trace: string) => void>),
  name: optional(string),
  values: optional(
    check<Record<string, unknown>>(
      'an object of JSON values',
      (value) =>
        typeof value === 'object' && value !== null && !Array.isArray(value) && isJsonValue(value),
    ),
  ),
};

interface ScopeFrame {
  readonly name: string;
  readonly catch: ((error: unknown, trace: string) => void) | undefined;
  readonly values: Record<string, unknown>;
  readonly parent: ScopeFrame | undefined;
  readonly delivered: WeakSet<object>;
}

const storage = new AsyncLocalStorage<ScopeFrame>();

/**
 * Runs `fn` in a new error scope and returns what it returns.
 *
 * @example
 * await errorScope(async () => {
 *   const co = await client.checkout();
 *   co.audit('login'); // not awaited: if it fails, `catch` gets it
 * }, { name: 'login', catch: (error, trace) => console.error(trace) });
 */
export function errorScope<T>(fn: () => T, options: ErrorScopeOptions = {}): T {
  // Checked here rather than when a call is made in the scope: a bad value would otherwise
  // surface far from where it was given (values as INVALID_ARGS of some later call).
  checkOptions('errorScope', ERROR_SCOPE_OPTIONS, options);
  const parent = storage.getStore();
  const frame: ScopeFrame = {
    name: options.name ?? 'ANONYMOUS SCOPE',
    catch: options.catch,
    values: { ...parent?.values, ...options.values },
    parent,
    delivered: new WeakSet(),
  };
  return storage.run(frame, fn);
}

/** The values of the scopes around the caller, or undefined outside any. */
export function scopeValues(): Record<string, unknown> | undefined {
  const values = storage.getStore()?.values;
  return values && Object.keys(values).length > 0 ? values : undefined;
}

/** A promise that knows whether anyone has attached a handler to it. */
class WatchedPromise<T> extends Promise<T> {
  static override get [Symbol.species]() {
    return Promise;
  }
  handled = false;
  // biome-ignore lint/suspicious/noThenProperty: a Promise subclass overrides then() to learn that someone handles it
  override then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.handled = true;
    return super.then(onFulfilled, onRejected);
  }
}

function buildTrace(error: unknown, site: string, label: string, frame: ScopeFrame): string {
  const lines = [
    error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    '----- taskpool error scope trace -----',
    `${site} - ${label}`,
  ];
  for (let at: ScopeFrame | undefined = frame; at; at = at.parent) lines.push(at.name);
  return lines.join('\n');
}

function deliver(error: unknown, trace: string, from: ScopeFrame | undefined): void {
  for (let frame = from; frame; frame = frame.parent) {
    if (!frame.catch) continue;
    if (typeof error === 'object' && error !== null) {
      if (frame.delivered.has(error)) return;
      frame.delivered.add(error);
    }
    try {
      frame.catch(error, trace);
      return;
    } catch (next) {
      error = next;
    }
  }
  process.nextTick(() => {
    throw error;
  });
}

function callSite(): string {
  const stack = new Error().stack?.split('\n') ?? [];
  // Skip the error line and the frames inside the client.
  const outside = stack
    .slice(1)
    .find((line) => !line.includes('/packages/client/') && !line.includes('@taskpool/client'));
  return outside?.trim().replace(/^at /, '') ?? 'unknown call site';
}

/**
 * Wraps a call's promise when the caller is inside an error scope, so that a rejection
 * nobody handles goes to the scope. Outside any scope the promise is returned as it is.
 * Rejections with `PRECEDING_CALL_FAILED` follow a failure already delivered, and are not
 * delivered again.
 */
export function watchInScope<T>(
  promise: Promise<T>,
  clientName: string | undefined,
  method: string | null,
): Promise<T> {
  const frame = storage.getStore();
  if (!frame) return promise;
  const label = `${clientName ?? 'ANONYMOUS CLIENT'} -> ${method ?? '->()'}`;
  const site = callSite();
  let rejectWatched!: (reason: unknown) => void;
  let resolveWatched!: (value: T) => void;
  const watched = new WatchedPromise<T>((resolve, reject) => {
    resolveWatched = resolve;
    rejectWatched = reject;
  });
  // An internal handler that does not count as the user's: no unhandledRejection event.
  Promise.prototype.then.call(watched, undefined, () => {});
  promise.then(resolveWatched, (error: unknown) => {
    rejectWatched(error);
    setImmediate(() => {
      if (watched.handled) return;
      if (isTaskpoolError(error) && error.code === 'PRECEDING_CALL_FAILED') return;
      deliver(error, buildTrace(error, site, label, frame), frame);
    });
  });
  return watched;
}
