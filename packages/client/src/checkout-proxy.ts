/**
 * The public face of a checkout: its own members, plus one method per interface method
 * (any name when there is no interface) through a Proxy. The proxy is never a thenable
 * and never answers symbols, `toJSON` or inspection hooks with a remote method.
 *
 * @module
 */
import { UnknownMethodError } from '@taskpool/protocol';
import type { HelloMessage } from '@taskpool/protocol/internal';
import type { CheckoutCore } from './checkout.js';
import type {
  CallRest,
  CallResult,
  MethodName,
  RemoteMethods,
  UntypedMethods,
} from './method-types.js';
import type { CallOptions } from './options.js';

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
  /** Calls a one-function server's function with these arguments (the original's `$co->(…)`). */
  invoke(...args: unknown[]): Promise<unknown>;
  /** Lets every call made settle, then returns the worker (or replaces it). Idempotent. */
  release(): Promise<void>;
  /** Poisons the checkout: calls in flight and every later call reject with this error. */
  throwFatalError(reason: unknown): void;
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

export function createCheckoutProxy<TMethods extends RemoteMethods>(
  core: CheckoutCore,
  iface: { has(name: unknown): boolean } | undefined,
): Checkout<TMethods> {
  const base: CheckoutBase = {
    // Typed by the interface for the caller; checked at run time by the core.
    call: ((method: string | null, args: readonly unknown[] = [], options?: CallOptions) =>
      core.call(method, args, options)) as CheckoutBase['call'],
    invoke: (...args) => core.call(null, args),
    release: () => core.release(),
    throwFatalError: (reason) => core.throwFatalError(reason),
    get pid() {
      return core.pid;
    },
    get worker() {
      return core.worker;
    },
    [Symbol.asyncDispose]: () => core.release(),
  };
  const methods = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  return new Proxy(base, {
    get(target, property, receiver) {
      if (typeof property === 'symbol' || Object.hasOwn(target, property)) {
        return Reflect.get(target, property, receiver);
      }
      if (NEVER_REMOTE.has(property)) return undefined;
      let method = methods.get(property);
      if (!method) {
        method =
          iface && !iface.has(property)
            ? () => Promise.reject(new UnknownMethodError(property))
            : (...args: unknown[]) => core.call(property, args);
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
