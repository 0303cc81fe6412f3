/**
 * What a worker runs: the interface, and the optional `setup` and `checkoutDone` hooks.
 *
 * @module
 */
import type { AnyImplementation, HandlerContext, Peer } from '@taskpool/protocol';

/** A record of handlers: each receives its arguments, then the call context. */
export type HandlerRecord = Record<string, (...args: never[]) => unknown>;

/** One function serving every call: it receives the method name (or null), then the arguments. */
export type InterfaceFunction = (method: string | null, ...args: never[]) => unknown;

/** Anything a server accepts as its interface. */
export type ServerInterface = AnyImplementation | HandlerRecord | InterfaceFunction;

/** The code of a worker. */
export interface WorkerDefinition {
  /**
   * The calls the worker serves: `iface.implement({...})` (validated by zod on both ends),
   * a plain record of handlers, or one function receiving `(method, ...args)`.
   * @example interface: hasher.implement({ hash: (plain) => bcrypt.hashSync(plain, 10) })
   */
  interface: ServerInterface;
  /**
   * Runs once in each worker before its first call (spares run it while they wait). If it
   * throws, the first call fails with `SETUP_FAILED` (`setup exception: …`) and setup runs
   * again on the next call.
   * @default none
   * @example setup: () => { db = new Database('app.sqlite3'); }
   */
  setup?: (ctx: Pick<HandlerContext, 'log' | 'workerId'>) => unknown;
  /**
   * Runs when the client releases a checkout and the worker goes back to the client's pool
   * (for example, to roll back a transaction left open). If it throws, the worker exits and
   * the client replaces it.
   * @default none
   * @example checkoutDone: () => { if (db.inTransaction) db.exec('ROLLBACK'); }
   */
  checkoutDone?: () => unknown;
  /**
   * Decides whether `peer` may call `method` (null for the one-function interface), before
   * the arguments are checked; runs in the worker for every call. A refused call fails with
   * `FORBIDDEN`, and the checkout stays usable. It may return a promise. A throw refuses too
   * (and is written to stderr).
   * @default every peer may call every method
   * @example authorize: (peer, method) => peer.subject === 'CN=billing' || method !== 'refund'
   */
  authorize?: (peer: Peer, method: string | null) => boolean | Promise<boolean>;
}

/** Types a worker module's default export. */
export function defineWorker<const TDefinition extends WorkerDefinition>(
  definition: TDefinition,
): TDefinition {
  return definition;
}

/** What a module's default export (or its namespace, without one) holds, in words. */
function describeExport(loaded: Record<string, unknown>): string {
  if (!('default' in loaded)) {
    const names = Object.keys(loaded);
    return names.length === 0
      ? 'a module with no exports'
      : `a module with no default export (its exports: ${names.join(', ')})`;
  }
  const value = loaded.default;
  if (value === null) return 'a default export of null';
  if (typeof value !== 'object') return `a default export of type ${typeof value}`;
  const keys = Object.keys(value);
  return keys.length === 0
    ? 'a default export with no interface (an empty object)'
    : `a default export with no interface (its keys: ${keys.join(', ')})`;
}

/** Reads a worker definition from a loaded module: its default export, or its named exports. */
export function definitionFromModule(
  loaded: Record<string, unknown>,
  where: string,
): WorkerDefinition {
  const candidate = (loaded.default ?? loaded) as Partial<WorkerDefinition> | undefined;
  const iface = candidate?.interface;
  if (typeof iface !== 'function' && (typeof iface !== 'object' || iface === null)) {
    throw new TypeError(
      `worker module ${where}: expected a default export { interface, setup?, checkoutDone?, authorize? } (see defineWorker), received ${describeExport(loaded)}`,
    );
  }
  return candidate as WorkerDefinition;
}
