/**
 * The public face of a checkout: its own members, plus one method per interface method
 * (any name when there is no interface) through a Proxy. The proxy is never a thenable
 * and never answers symbols, `toJSON` or inspection hooks with a remote method.
 *
 * @module
 */
import {
  type Interface,
  type ServerStatsSnapshot,
  type StreamOptions,
  type TaskStream,
  UnknownMethodError,
} from '@taskpool/protocol';
import { argumentCount, type HelloMessage } from '@taskpool/protocol/internal';
import type { CheckoutCore } from './checkout.js';
import type {
  CallRest,
  CallResult,
  MethodName,
  RemoteMethods,
  StreamName,
  StreamOf,
  StreamRest,
  UntypedMethods,
} from './method-types.js';
import type { CallOptions } from './options.js';

/** Options of `co.serverStats()`. */
export interface ServerStatsOptions {
  /**
   * How long (ms, at most `MAX_TIMER_MS`) to wait for the worker's answer; past it the
   * worker is taken to be stuck and the checkout is poisoned with `TIMEOUT`, as by a
   * call's deadline. `null` = no limit.
   * @default the checkout's `timeout`
   * @example await co.serverStats({ timeout: 2_000 })
   */
  timeout?: number | null;
}

/** The members every checkout has. Their names cannot be used as remote methods on it. */
export interface CheckoutBase<TMethods extends RemoteMethods = UntypedMethods>
  extends AsyncDisposable {
  /**
   * Calls `method` with `args`, typed like the method itself (and like `client.call`):
   * `co.call('hash', ['x'])` is `co.hash('x')` with options. Untyped, any name, and `null`
   * for a one-function interface.
   */
  call<K extends MethodName<TMethods>>(
    method: K,
    ...rest: CallRest<TMethods, K, CallOptions>
  ): Promise<CallResult<TMethods, K>>;
  /**
   * Starts a stream of `method` (see `TaskStream`), typed like the method itself:
   * `co.stream('tail', ['app.log'], { highWaterMark: 64 })` is `co.tail('app.log')` with
   * options. Untyped, any name: the way to read a handler that returns an async iterable
   * without being an `async function*`, or to pass options to a method typed by `MethodsOf`.
   */
  stream<K extends StreamName<TMethods>>(
    method: K,
    ...rest: StreamRest<TMethods, K, StreamOptions>
  ): StreamOf<TMethods, K>;
  /** Calls a one-function server's function with these arguments (the original's `$co->(…)`). */
  invoke(...args: unknown[]): Promise<unknown>;
  /** Lets every call made settle, then returns the worker (or replaces it). Idempotent. */
  release(): Promise<void>;
  /** Poisons the checkout: calls in flight and every later call reject with this error. */
  throwFatalError(reason: unknown): void;
  /**
   * The server's stats, as `server.stats()` gives them in the server: workers by state,
   * waiting connections, counters, uptime and version. The worker asks its server and
   * answers at once, even while a call runs (unless a handler blocks its event loop).
   * Bounded by `options.timeout` (default: the checkout's), which, when it passes, poisons
   * the checkout as a call's would. A server that does not answer the worker within 5 s
   * rejects it with `TIMEOUT`, one that is gone with `CLOSED`: there the worker answered,
   * and the checkout stays usable, although those codes are fatal elsewhere (their `fatal`
   * says so; it does not apply to this request).
   *
   * @example
   * const { serving, spares } = await co.serverStats();
   */
  serverStats(options?: ServerStatsOptions): Promise<ServerStatsSnapshot>;
  /** The worker's process id. */
  readonly pid: number | undefined;
  /** The worker's hello: protocol, pid, server name, worker number, interface. */
  readonly worker: HelloMessage | undefined;
}

/** A checkout: its own members and the remote methods. */
export type Checkout<TMethods extends RemoteMethods = UntypedMethods> = CheckoutBase<TMethods> &
  Omit<TMethods, keyof CheckoutBase>;

/** Names that never become remote methods on a checkout proxy. */
const NEVER_REMOTE = new Set([
  'then',
  'catch',
  'finally',
  'toJSON',
  'constructor',
  'inspect',
  'valueOf',
  'toString',
]);

/** A streaming method of the interface: its arguments, then optionally its options. */
function streamMethod(
  core: CheckoutCore,
  method: string,
  arity: number | undefined,
): (...args: unknown[]) => TaskStream {
  return (...args: unknown[]) => {
    if (arity !== undefined && args.length === arity + 1) {
      return core.stream(method, args.slice(0, arity), args[arity] as StreamOptions | undefined);
    }
    return core.stream(method, args);
  };
}

export function createCheckoutProxy<TMethods extends RemoteMethods>(
  core: CheckoutCore,
  iface: Interface | undefined,
): Checkout<TMethods> {
  const base: CheckoutBase = {
    // Typed by the interface for the caller; checked at run time by the core.
    call: ((method: string | null, args: readonly unknown[] = [], options?: CallOptions) =>
      core.call(method, args, options)) as CheckoutBase['call'],
    stream: ((method: string | null, args: readonly unknown[] = [], options?: StreamOptions) =>
      core.stream(method, args, options)) as CheckoutBase['stream'],
    invoke: (...args) => core.call(null, args),
    release: () => core.release(),
    throwFatalError: (reason) => core.throwFatalError(reason),
    serverStats: (options) => core.serverStats(options),
    get pid() {
      return core.pid;
    },
    get worker() {
      return core.worker;
    },
    [Symbol.asyncDispose]: () => core.release(),
  };
  const methods = new Map<string, (...args: unknown[]) => unknown>();
  return new Proxy(base, {
    get(target, property, receiver) {
      if (typeof property === 'symbol' || Object.hasOwn(target, property)) {
        return Reflect.get(target, property, receiver);
      }
      if (NEVER_REMOTE.has(property)) return undefined;
      let method = methods.get(property);
      if (!method) {
        if (iface && !iface.has(property)) {
          method = () => Promise.reject(new UnknownMethodError(property));
        } else if (
          // Without an interface, the worker's hello says which methods stream.
          iface ? iface.isStream(property) : core.worker?.streams?.includes(property)
        ) {
          method = streamMethod(core, property, iface && argumentCount(iface, property));
        } else {
          method = (...args: unknown[]) => core.call(property, args);
        }
        methods.set(property, method);
      }
      return method;
    },
    has(target, property) {
      if (typeof property === 'symbol' || Object.hasOwn(target, property))
        return property in target;
      return iface ? iface.has(property) : !NEVER_REMOTE.has(property);
    },
  }) as Checkout<TMethods>;
}
