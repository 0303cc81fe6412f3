/**
 * `createClient`: the pool, checkouts, one-shot calls and lifecycle.
 *
 * @module
 */
import {
  type ClientMethods,
  ClosedError,
  type Endpoint,
  type EndpointInput,
  formatEndpoint,
  type Interface,
  type InterfaceSchema,
  isInterface,
  parseEndpoint,
  type StreamOptions,
} from '@taskpool/protocol';
import { argumentsToSend } from './call-checks.js';
import { CheckoutCore } from './checkout.js';
import { type Checkout, createCheckoutProxy } from './checkout-proxy.js';
import { ClientMetrics, type ClientMetricsSnapshot } from './client-metrics.js';
import { Connection } from './connection.js';
import { clientSecurity } from './connection-security.js';
import { timerDelay } from './deadline-queue.js';
import {
  callScope,
  callsTraced,
  channels,
  debug,
  traceCall,
  traceCheckout,
} from './diagnostics.js';
import { dnsFeed, isDnsName } from './dns-feed.js';
import { watchInScope } from './error-scope.js';
import type {
  CallArgs,
  CallRest,
  CallResult,
  MethodName,
  RemoteMethods,
  StreamName,
  StreamOf,
  StreamRest,
  UntypedMethods,
} from './method-types.js';
import { OneShotCall, type OneShotSettings } from './one-shot-call.js';
import { OneShotStream } from './one-shot-stream.js';
import {
  type CallOptions,
  type CheckoutOptions,
  type ClientOptions,
  checkCallOptions,
  checkCheckoutOptions,
  checkCloseOptions,
  checkMapOptions,
  checkStreamOptions,
  type MapOptions,
  type ResolvedClientOptions,
  resolveClientOptions,
} from './options.js';
import { orderedMap } from './ordered-map.js';
import { Pool, type PoolStats } from './pool.js';
import { registryFeed, type ServerFeed } from './server-feed.js';

/** Options of a one-shot `client.call()`: the checkout's and the call's. */
export interface OneShotOptions extends CallOptions, Pick<CheckoutOptions, 'waitForServer'> {}

/** Options of a one-shot `client.stream()`: the checkout's and the stream's. */
export interface OneShotStreamOptions
  extends StreamOptions,
    Pick<CheckoutOptions, 'waitForServer'> {}

/** A taskpool client. */
export interface Client<TMethods extends RemoteMethods = UntypedMethods> extends AsyncDisposable {
  /** Waits for a worker (FIFO) and gives exclusive use of it until released. */
  checkout(options?: CheckoutOptions): Promise<Checkout<TMethods>>;
  /**
   * One call on its own checkout (the worker is the call's alone while it runs, and
   * `checkoutDone` runs after it). When no worker is idle and none may be opened, it may be
   * pipelined behind other one-shot calls on a busy worker; one that a failure ahead of it
   * kept from running is sent again. Aborted by `signal`, it rejects at once with
   * `signal.reason`, like `co.call`; the worker goes back in the background.
   *
   * @example
   * const crypted = await client.call('hash', ['secret'], { timeout: 5_000 });
   */
  call<K extends MethodName<TMethods>>(
    method: K,
    ...rest: CallRest<TMethods, K, OneShotOptions>
  ): Promise<CallResult<TMethods, K>>;
  /**
   * A stream on its own checkout: the checkout is taken on the first `next()` (its wait is
   * bounded by `timeout` and `signal`), and released when the stream ends, fails or is
   * left (`break`, `return()`, `cancel()`).
   *
   * @example
   * for await (const row of client.stream('rows', ['SELECT * FROM big'])) console.log(row);
   */
  stream<K extends StreamName<TMethods>>(
    method: K,
    ...rest: StreamRest<TMethods, K, OneShotStreamOptions>
  ): StreamOf<TMethods, K>;
  /**
   * One call of `method` per input (the input is its single argument), at most
   * `concurrency` at once across the pool, each on its own checkout; yields the results in
   * input order. Takes sync and async iterables (an array, a generator, lines of a file).
   * It stops reading input and cancels the calls in flight when you `break`, when `signal`
   * aborts, or when a call fails: the results before the failed one come first, then its
   * error is thrown.
   *
   * @example
   * for await (const crypted of client.map('hash', passwords, { concurrency: 4 })) save(crypted);
   */
  map<K extends MethodName<TMethods>>(
    method: K,
    inputs: Iterable<CallArgs<TMethods, K>[0]> | AsyncIterable<CallArgs<TMethods, K>[0]>,
    options?: MapOptions,
  ): AsyncIterableIterator<CallResult<TMethods, K>>;
  /** Runs `fn` with a checkout, released when `fn` settles. */
  withCheckout<T>(
    fn: (checkout: Checkout<TMethods>) => T | Promise<T>,
    options?: CheckoutOptions,
  ): Promise<T>;
  /**
   * Counts of workers and waiting checkouts, and (unless `metrics: false`) `metrics`: call
   * outcomes by code and the distributions of call durations, checkout waits and holds
   * and connect times, since the client was created.
   */
  stats(): PoolStats & {
    /** Checkouts held, one-shot calls included. */
    checkouts: number;
    /** The `maxWorkers` option: the most connections the pool opens. */
    maxWorkers: number;
    metrics?: ClientMetricsSnapshot;
  };
  /**
   * Refuses new checkouts, rejects waiting ones, lets held checkouts finish until
   * `timeout`, then closes every connection.
   */
  close(options?: { timeout?: number }): Promise<void>;
  /** Closes every connection now; held checkouts become fatal (`CLOSED`). */
  destroy(): void;
}

function endpointsOf(connect: EndpointInput | EndpointInput[]): Endpoint[] {
  const list = Array.isArray(connect) && !('kind' in connect) ? connect : [connect];
  return (list as EndpointInput[]).map((input) => parseEndpoint(input));
}

/**
 * Where the client's servers come from: a fixed list (`endpoints`), or a feed that lists
 * them as it learns them (`discover`, or a `dns://` name in `connect`).
 */
function serversOf(
  resolved: ResolvedClientOptions,
  iface: Interface | undefined,
): { endpoints: Endpoint[]; feed?: ServerFeed } {
  if (resolved.discover !== undefined) {
    const hash = isInterface(iface) ? iface.describe().hash : null;
    return { endpoints: [], feed: registryFeed(resolved.discover, hash) };
  }
  const connect = resolved.connect as EndpointInput | EndpointInput[];
  if (isDnsName(connect)) return { endpoints: [], feed: dnsFeed(connect, resolved.dnsInterval) };
  return { endpoints: endpointsOf(connect) };
}

/**
 * Creates a client and starts connecting (`minWorkers` connections).
 *
 * @example
 * await using client = createClient({ connect: server.endpoint, interface: hasher });
 * await using co = await client.checkout({ timeout: 5_000 });
 * const crypted = await co.hash('secret');
 */
export function createClient<TSchema extends InterfaceSchema>(
  options: ClientOptions<TSchema> & { interface: Interface<TSchema> },
): Client<ClientMethods<TSchema>>;
/**
 * Creates a client without a runtime interface. Give the methods' types as a type
 * argument (for example `MethodsOf<typeof handlers>`), or get untyped methods.
 */
export function createClient<TMethods extends RemoteMethods = UntypedMethods>(
  options: ClientOptions & { interface?: undefined },
): Client<TMethods>;
export function createClient(options: ClientOptions): Client<UntypedMethods> {
  const resolved = resolveClientOptions(options);
  const iface = options.interface as Interface | undefined;
  const { endpoints, feed } = serversOf(resolved, iface);
  const security = clientSecurity(resolved);
  const metrics = resolved.metrics ? new ClientMetrics() : undefined;
  const pool = new Pool<Connection>(
    resolved,
    endpoints,
    (endpoint, events) => {
      const opening = Connection.open(
        endpoint,
        { maxFrameBytes: resolved.maxFrameBytes, timeout: resolved.connectTimeout, security },
        events,
      );
      if (!metrics) return opening;
      const since = performance.now();
      return opening.then((connection) => {
        metrics.connected(since, performance.now());
        return connection;
      });
    },
    feed?.description,
  );
  const watching = feed?.start(
    (list) => pool.updateServers(list),
    (error) => {
      debug('reading the servers of %s failed: %s', feed.description, (error as Error).message);
      pool.discoveryFailed(error);
    },
  );
  const held = new Set<CheckoutCore>();
  /** One-shot calls holding a worker (or a place on one). */
  const oneShots = new Set<OneShotCall>();
  const drained: (() => void)[] = [];
  const wakeIfDrained = () => {
    if (held.size === 0 && oneShots.size === 0) for (const wake of drained.splice(0)) wake();
  };
  let closing: Promise<void> | undefined;

  /** A checkout with options already checked (by `checkout`, or by `client.stream`). */
  const checkoutChecked = async (
    checkoutOptions: CheckoutOptions,
  ): Promise<Checkout<UntypedMethods>> => {
    if (closing) throw new ClosedError('client');
    const timeout =
      checkoutOptions.timeout !== undefined ? checkoutOptions.timeout : resolved.timeout;
    const waitingSince = metrics ? performance.now() : 0;
    const connection = await pool.acquire(
      timeout,
      checkoutOptions.signal,
      checkoutOptions.waitForServer ?? null,
    );
    if (closing) {
      // close() came between the worker's assignment and this continuation: refused like
      // every checkout close() finds waiting.
      pool.release(connection, 'pool');
      throw new ClosedError('client');
    }
    const core = new CheckoutCore(connection, pool, {
      timeout,
      log: checkoutOptions.log,
      interface: iface,
      clientName: resolved.name,
      cancelGrace: resolved.cancelGrace,
      streamIdleTimeout: resolved.streamIdleTimeout,
      dontReforkAfterError: resolved.dontReforkAfterError,
      leaseTimeout: resolved.leaseTimeout,
      metrics,
      onReleased: () => {
        held.delete(core);
        wakeIfDrained();
      },
    });
    held.add(core);
    metrics?.checkoutAssigned(waitingSince, performance.now());
    if (channels.checkoutAssigned.hasSubscribers) {
      channels.checkoutAssigned.publish({ pid: connection.pid, waiting: pool.stats().waiting });
    }
    return createCheckoutProxy<UntypedMethods>(core, iface);
  };

  const checkout = async (
    checkoutOptions: CheckoutOptions = {},
  ): Promise<Checkout<UntypedMethods>> => {
    checkCheckoutOptions(checkoutOptions);
    return traceCheckout(resolved.name, () => checkoutChecked(checkoutOptions));
  };

  const withCheckout = async <T>(
    fn: (co: Checkout<UntypedMethods>) => T | Promise<T>,
    checkoutOptions?: CheckoutOptions,
  ): Promise<T> => {
    const co = await checkout(checkoutOptions);
    try {
      return await fn(co);
    } finally {
      await co.release();
    }
  };

  const oneShotSettings: OneShotSettings = {
    pool,
    interface: iface,
    cancelGrace: resolved.cancelGrace,
    dontReforkAfterError: resolved.dontReforkAfterError,
    metrics,
    closing: () => closing !== undefined,
    onAssigned: (call) => oneShots.add(call),
    onLeft: (call) => {
      oneShots.delete(call);
      wakeIfDrained();
    },
  };

  const oneShot = (
    method: string | null,
    args: readonly unknown[],
    callOptions: OneShotOptions,
  ): Promise<unknown> => {
    let sent: readonly unknown[];
    try {
      checkCallOptions('client.call', callOptions);
      if (closing) throw new ClosedError('client');
      if (callOptions.signal?.aborted) throw callOptions.signal.reason;
      sent = argumentsToSend(iface, method, args);
    } catch (error) {
      return watchInScope(Promise.reject(error), resolved.name, method);
    }
    const { signal, timeout, waitForServer } = callOptions;
    const run = () =>
      OneShotCall.run(
        oneShotSettings,
        method,
        sent as unknown[],
        {
          signal,
          timeout: timeout !== undefined ? timeout : resolved.timeout,
          waitForServer: waitForServer ?? null,
        },
        callScope(),
      );
    const call = callsTraced()
      ? traceCall(
          {
            method,
            interface: iface?.name,
            client: resolved.name,
            endpoint: endpoints.length === 1 ? formatEndpoint(endpoints[0] as Endpoint) : undefined,
            pid: undefined,
          },
          run,
        )
      : run();
    return watchInScope(call, resolved.name, method);
  };

  const stream = (
    method: string | null,
    args: readonly unknown[] = [],
    streamOptions: OneShotStreamOptions = {},
  ) => {
    try {
      checkStreamOptions('client.stream', streamOptions);
    } catch (error) {
      // Thrown by the first next(), as every other failure of a stream is.
      return new OneShotStream(() => Promise.reject(error), method, args, {});
    }
    return new OneShotStream(checkoutChecked, method, args, streamOptions);
  };

  async function* map(
    method: string | null,
    inputs: unknown,
    mapOptions: MapOptions = {},
  ): AsyncGenerator<unknown, void, undefined> {
    checkMapOptions(mapOptions);
    const { concurrency = resolved.maxWorkers, signal, ...callOptions } = mapOptions;
    yield* orderedMap(
      (input, callSignal) => oneShot(method, [input], { ...callOptions, signal: callSignal }),
      inputs,
      concurrency,
      signal,
    );
  }

  // Async, so that a bad option rejects the promise instead of throwing at the caller.
  const close = async (options: { timeout?: number } = {}): Promise<void> => {
    checkCloseOptions(options);
    const { timeout = 10_000 } = options;
    closing ??= (async () => {
      const unwatched = watching?.stop();
      pool.close();
      if (held.size > 0 || oneShots.size > 0) {
        // Held checkouts finish as their owners release them, and one-shot calls as their
        // replies come, until the deadline.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => drained.push(resolve)),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, timerDelay(timeout));
          }),
        ]);
        clearTimeout(timer);
      }
      endHeld();
      await pool.whenEmpty(1_000);
      await unwatched;
    })();
    return closing;
  };

  /** Poisons every checkout still held with CLOSED, and closes every connection. */
  const endHeld = () => {
    for (const core of held) core.throwFatalError(new ClosedError('client'));
    pool.destroy();
  };

  return {
    checkout,
    call: ((method: string | null, args: readonly unknown[] = [], callOptions = {}) =>
      oneShot(method, args, callOptions)) as Client['call'],
    stream: stream as unknown as Client['stream'],
    map: map as Client['map'],
    withCheckout,
    stats: () => {
      const counts = {
        ...pool.stats(),
        checkouts: held.size + oneShots.size,
        maxWorkers: resolved.maxWorkers,
      };
      return metrics ? { ...counts, metrics: metrics.snapshot() } : counts;
    },
    close,
    destroy: () => {
      closing ??= Promise.resolve();
      void watching?.stop();
      endHeld();
    },
    [Symbol.asyncDispose]: () => close(),
  };
}
