/**
 * Options of `createClient` and of `client.checkout()`, with defaults and validation.
 * Every duration is in milliseconds and at most `MAX_TIMER_MS` (2^31 - 1, about 24.8
 * days): Node fires a longer timer after 1 ms. Where `null` is allowed it means no limit.
 *
 * @module
 */
import {
  DEFAULT_MAX_FRAME_BYTES,
  type EndpointInput,
  type Interface,
  type InterfaceSchema,
  InvalidOptionError,
  MAX_STREAM_CREDIT,
  type SecretSource,
  type ServerDiscovery,
} from '@taskpool/protocol';
import {
  abortSignal,
  anything,
  boolean,
  check,
  checkOptions,
  endpoints,
  integer,
  isServerDiscovery,
  milliseconds,
  nested,
  nullable,
  object,
  option,
  optional,
  optionError,
  type ResolvedOptions,
  required,
  resolveOptions,
  secret,
  string,
} from '@taskpool/protocol/internal';
import { dnsNameProblem, isDnsName } from './dns-feed.js';

/** TLS for a client: to `tls://` endpoints, or to every TCP endpoint when given. */
export interface ClientTlsOptions {
  /**
   * The CA certificates (PEM) the server's certificate must chain to: the value,
   * `{ file: '/path' }` or `{ env: 'NAME' }`.
   * @default the system's CAs
   * @example ca: { file: '/etc/taskpool/ca.crt' }
   */
  ca?: SecretSource;
  /**
   * This client's certificate (PEM), for a server with `requestCert` (mutual TLS).
   * @default none
   * @example cert: { file: 'client.crt' }
   */
  cert?: SecretSource;
  /**
   * The private key of `cert` (PEM).
   * @default none
   * @example key: { file: 'client.key' }
   */
  key?: SecretSource;
  /**
   * The name the server's certificate must carry (and the SNI name sent).
   * @default the endpoint's host
   * @example servername: 'hasher.internal'
   */
  servername?: string;
}

/** Shared-secret authentication: this client's key, which the server must hold too. */
export interface ClientAuthOptions {
  /**
   * Which of the server's keys this is.
   * @example keyId: 'k2026'
   */
  keyId: string;
  /**
   * The secret: the value, `{ env: 'NAME' }` or `{ file: '/path' }`.
   * @example key: { env: 'TASKPOOL_AUTH_KEY' }
   */
  key: SecretSource;
}

/** Options of {@link createClient}. */
export interface ClientOptions<TSchema extends InterfaceSchema = InterfaceSchema> {
  /**
   * The server to connect to (`unix:/path`, `tcp://host:port`, `{ path }`, `{ host, port }`),
   * or several: each new connection goes to the one this client has the fewest connections
   * to (equals in turn), and a server that refuses is skipped until it answers again. `dns://name:port` connects to every address the name resolves to (a Kubernetes
   * headless Service lists every pod), resolved again every `dnsInterval` ms;
   * `dns+srv://name` to every target of its SRV records. Give `connect` or `discover`.
   * @default none (give `discover`)
   * @example connect: 'unix:/run/user/1000/taskpool/hasher.sock'
   * @example connect: ['tcp://10.0.0.1:7000', 'tcp://10.0.0.2:7000']
   * @example connect: 'dns://hasher-headless.default.svc.cluster.local:7000'
   */
  connect?: EndpointInput | EndpointInput[];
  /**
   * Find the servers in a registry they announce themselves in (their option `registry`),
   * such as `redisRegistry` of `@taskpool/redis`. New connections go to the one of two
   * listed servers, drawn at random, with more room (`maxWorkers` less its busy workers and
   * waiting connections, as last announced); servers whose interface hash differs from this
   * client's `interface` get none (when no listed server matches, checkouts fail with
   * `INTERFACE_MISMATCH`); a server that refuses is skipped until it answers again, and one
   * that leaves the list gets no new connection. Held checkouts are not moved: each stays one
   * connection to one worker. Give `connect` or `discover`.
   * @default none (give `connect`)
   * @example discover: redisRegistry({ redis: 'redis://10.0.0.2:6379', service: 'hasher' })
   */
  discover?: ServerDiscovery;
  /**
   * How often (ms) `dns://` and `dns+srv://` names are resolved again.
   * @default 5000
   * @example dnsInterval: 30_000
   */
  dnsInterval?: number;
  /**
   * TLS: connections to `tls://` endpoints use it, and given, every TCP endpoint does.
   * @default none (system CAs for `tls://` endpoints)
   * @example tls: { ca: { file: 'ca.crt' }, servername: 'hasher.internal' }
   */
  tls?: ClientTlsOptions;
  /**
   * Prove to the server that this client holds a key, and require the server to prove it
   * holds it too: a server without `auth`, or with another key, is refused (`AUTH_FAILED`).
   * @default none
   * @example auth: { keyId: 'k2026', key: { env: 'TASKPOOL_AUTH_KEY' } }
   */
  auth?: ClientAuthOptions;
  /**
   * Measure calls, checkouts and connections (`client.stats().metrics`): a few clock
   * readings and histogram records per call. `false` records nothing.
   * @default true
   * @example metrics: false
   */
  metrics?: boolean;
  /**
   * Talk plaintext TCP to addresses beyond loopback without `auth`. Without it, such a
   * connection fails with `INSECURE_CONNECT` before anything is sent.
   * @default false
   * @example insecure: true
   */
  insecure?: boolean;
  /**
   * The interface (from `defineInterface`): checkouts get typed methods, and arguments and
   * results are validated on this side too. Without it, methods of any name return
   * `Promise<unknown>`.
   * @default none
   * @example interface: hasher
   */
  interface?: Interface<TSchema>;
  /**
   * A name for traces, timers and debug output.
   * @default null
   * @example name: 'web-frontend'
   */
  name?: string;
  /**
   * Connections opened at start and kept open (clamped to `maxWorkers`).
   * @default 2
   * @example minWorkers: 0
   */
  minWorkers?: number;
  /**
   * The most connections (workers) this client holds at once; more checkouts wait.
   * @default 20
   * @example maxWorkers: 4
   */
  maxWorkers?: number;
  /**
   * The default deadline of each call (and of waiting for a worker), in ms, at most
   * `MAX_TIMER_MS`. `null` = none.
   * @default 30_000
   * @example timeout: 5_000
   */
  timeout?: number | null;
  /**
   * Retire a worker after it has served this many checkouts (for code that leaks).
   * `null` = never.
   * @default null
   * @example maxCheckouts: 100
   */
  maxCheckouts?: number | null;
  /**
   * Return a worker whose handler failed (it threw, returned an invalid result, or setup
   * failed) to the pool instead of replacing it. Errors raised before a handler ran
   * (`UNKNOWN_METHOD`, `INVALID_ARGS`, `PRECEDING_CALL_FAILED`) and a cancel the handler
   * honoured (`CANCELLED`) never replace it; fatal errors always do.
   * @default false
   * @example dontReforkAfterError: true
   */
  dontReforkAfterError?: boolean;
  /**
   * The most checkouts that may wait for a worker; one more is refused with `QUEUE_FULL`.
   * @default 10_000
   * @example maxQueue: 100
   */
  maxQueue?: number;
  /**
   * A checkout with no call in flight for this long (ms, at most `MAX_TIMER_MS`) is taken
   * back: its worker returns to the pool and its next use fails with `LEASE_EXPIRED`.
   * `null` = never.
   * @default 300_000
   * @example leaseTimeout: 60_000
   */
  leaseTimeout?: number | null;
  /**
   * A worker above `minWorkers` that waits in the pool this long (ms, at most
   * `MAX_TIMER_MS`) is closed (counted as retired), so that a burst does not hold a
   * server's workers for ever. `null` = never.
   * @default 30_000
   * @example idleTimeout: 60_000
   */
  idleTimeout?: number | null;
  /**
   * Delays (ms, at most `MAX_TIMER_MS`) between connection attempts while a server does
   * not answer: the first retry, then every next one.
   * @default { first: 200, every: 1_000 }
   * @example reconnect: { first: 50, every: 500 }
   */
  reconnect?: { first?: number; every?: number };
  /**
   * How long (ms, at most `MAX_TIMER_MS`) a cancelled call may run on after its cancel
   * frame before the worker is dropped (the connection closed) and the checkout becomes
   * fatal.
   * @default 1_000
   * @example cancelGrace: 250
   */
  cancelGrace?: number;
  /**
   * How long (ms, at most `MAX_TIMER_MS`) a stream may go unread before it is cancelled, so
   * that a consumer that forgot a stream does not hold its worker for ever (see
   * `StreamOptions.streamIdleTimeout`, which overrides it per stream). `null` = never.
   * @default 60_000
   * @example streamIdleTimeout: 600_000
   */
  streamIdleTimeout?: number | null;
  /**
   * How long (ms, at most `MAX_TIMER_MS`) a new connection may take to say hello.
   * @default 10_000
   * @example connectTimeout: 2_000
   */
  connectTimeout?: number;
  /**
   * The largest frame sent or accepted, in bytes.
   * @default 16 MiB
   * @example maxFrameBytes: 1024 * 1024
   */
  maxFrameBytes?: number;
}

/** Options of `client.checkout()`. */
export interface CheckoutOptions {
  /**
   * The deadline of waiting for a worker and of each call on this checkout, in ms, at most
   * `MAX_TIMER_MS`. `null` = none.
   * @default the client's `timeout`
   * @example await client.checkout({ timeout: 5_000 })
   */
  timeout?: number | null;
  /**
   * Aborts waiting for a worker.
   * @default none
   * @example await client.checkout({ signal: AbortSignal.timeout(100) })
   */
  signal?: AbortSignal;
  /**
   * A deferred log: worker logs are merged into it, and each call adds a timer named
   * after its method.
   * @default none
   * @example await client.checkout({ log: new DeferredLog() })
   */
  log?: import('@taskpool/protocol').DeferredLog;
  /**
   * How long (ms, at most `MAX_TIMER_MS`) this checkout keeps trying while no server can be
   * reached: every endpoint's last connection attempt failed (no such socket, refused, a
   * connect timeout, or an error the server sent instead of `hello`, such as `SERVER_BUSY`)
   * and the client holds no connection. Past it, the next such failure rejects the
   * checkout with `TIMEOUT`, saying what each endpoint did (`message`, `data.endpoints`,
   * `cause`). `0` gives up at the first failed attempt made while it waits: for a tool
   * with no reason to wait for a server that may come later. A server that answers but
   * whose workers are all busy is waited for until `timeout`. `null` = keep trying until
   * `timeout` (a client started before its server still gets a worker).
   * @default null
   * @example await client.checkout({ waitForServer: 0 })
   */
  waitForServer?: number | null;
}

/** Options of `client.map()`: each call's (as `client.call` takes them) and the concurrency. */
export interface MapOptions extends CallOptions, Pick<CheckoutOptions, 'waitForServer'> {
  /**
   * Calls in flight at most. Inputs are read only as fast as calls can start.
   * @default the client's `maxWorkers`
   * @example { concurrency: 4 }
   */
  concurrency?: number;
}

/** Options of one call. */
export interface CallOptions {
  /**
   * Cancels the call: before it is sent it is dropped; in flight, the worker gets a cancel
   * frame (a call it has not started never runs). The promise rejects at once with
   * `signal.reason` (with `client.call` too, whose worker goes back in the background).
   * @default none
   * @example await co.call('hash', ['x'], { signal: AbortSignal.timeout(100) })
   */
  signal?: AbortSignal;
  /**
   * This call's deadline in ms (at most `MAX_TIMER_MS`; `null` = none), instead of the
   * checkout's. For `client.call` it bounds the wait for a worker, then the call from when
   * it is sent (time queued behind other calls on a busy worker included).
   * @default the checkout's `timeout` (for `client.call`, the client's)
   * @example await co.call('slow', [], { timeout: 60_000 })
   */
  timeout?: number | null;
}

/** A deadline in milliseconds, or null for none. */
const DEADLINE = nullable(milliseconds(1));

/** What `connect` takes: endpoints, or a DNS name (whose form is checked after). */
const connectTargets = check<EndpointInput | EndpointInput[]>(
  `${endpoints.expected}, or "dns://name:port" or "dns+srv://name"`,
  (value) => isDnsName(value) || endpoints.test(value),
);

/** createClient's options. */
const CLIENT_OPTIONS = {
  connect: optional(connectTargets),
  discover: optional(
    check<ServerDiscovery>(
      'a server discovery ({ description, watch }, such as redisRegistry(…))',
      isServerDiscovery,
    ),
  ),
  dnsInterval: option(milliseconds(10), 5_000),
  interface: optional(anything),
  name: optional(string),
  minWorkers: option(integer(0), 2),
  maxWorkers: option(integer(1), 20),
  timeout: option(DEADLINE, 30_000),
  maxCheckouts: option(nullable(integer(1)), null),
  dontReforkAfterError: option(boolean, false),
  maxQueue: option(integer(0), 10_000),
  leaseTimeout: option(DEADLINE, 300_000),
  idleTimeout: option(DEADLINE, 30_000),
  reconnect: nested({
    first: option(milliseconds(0), 200),
    every: option(milliseconds(1), 1_000),
  }),
  cancelGrace: option(milliseconds(0), 1_000),
  streamIdleTimeout: option(DEADLINE, 60_000),
  connectTimeout: option(milliseconds(1), 10_000),
  maxFrameBytes: option(integer(1), DEFAULT_MAX_FRAME_BYTES),
  tls: optional(
    object({
      ca: optional(secret),
      cert: optional(secret),
      key: optional(secret),
      servername: optional(string),
    }),
  ),
  auth: optional(object({ keyId: required(string), key: required(secret) })),
  insecure: option(boolean, false),
  metrics: option(boolean, true),
};

/** createClient's options, checked, with their defaults. */
export type ResolvedClientOptions = ResolvedOptions<typeof CLIENT_OPTIONS>;

/** Validates client options and fills in defaults; `minWorkers` is clamped to `maxWorkers`. */
export function resolveClientOptions(
  options: ClientOptions<InterfaceSchema>,
): ResolvedClientOptions {
  const resolved = resolveOptions('createClient', CLIENT_OPTIONS, options);
  if (resolved.connect === undefined && resolved.discover === undefined) {
    throw optionError(
      'createClient',
      'connect',
      'the servers (or option discover: where to find them)',
      undefined,
    );
  }
  if (resolved.connect !== undefined && resolved.discover !== undefined) {
    throw new InvalidOptionError(
      'createClient: options connect and discover: expected one of them, received both',
    );
  }
  if (isDnsName(resolved.connect)) {
    const problem = dnsNameProblem(resolved.connect);
    if (problem !== undefined) {
      throw optionError('createClient', 'connect', problem, resolved.connect);
    }
  }
  resolved.minWorkers = Math.min(resolved.minWorkers, resolved.maxWorkers);
  return resolved;
}

/** How long a checkout keeps trying to reach a server (`waitForServer`). */
const WAIT_FOR_SERVER = nullable(milliseconds(0), 'no limit (until the timeout)');

/** The options of `client.checkout()`. */
const CHECKOUT_OPTIONS = {
  timeout: optional(DEADLINE),
  signal: optional(abortSignal),
  log: optional(anything),
  waitForServer: optional(WAIT_FOR_SERVER),
};

/** The options of one call on a checkout. */
const CALL_OPTIONS = { signal: optional(abortSignal), timeout: optional(DEADLINE) };

/** The options of a one-shot `client.call()`: the call's and the checkout's wait. */
const ONE_SHOT_OPTIONS = { ...CALL_OPTIONS, waitForServer: optional(WAIT_FOR_SERVER) };

/** The options of one stream on a checkout. */
const STREAM_OPTIONS = {
  signal: optional(abortSignal),
  highWaterMark: optional(integer(1, MAX_STREAM_CREDIT)),
  timeout: optional(DEADLINE),
  streamIdleTimeout: optional(DEADLINE),
};

/** The options of a one-shot `client.stream()`: the stream's and the checkout's wait. */
const ONE_SHOT_STREAM_OPTIONS = { ...STREAM_OPTIONS, waitForServer: optional(WAIT_FOR_SERVER) };

/** The options of `client.map()`. */
const MAP_OPTIONS = {
  ...ONE_SHOT_OPTIONS,
  concurrency: optional(integer(1)),
};

/** The options of `co.serverStats()`. */
const SERVER_STATS_OPTIONS = { timeout: optional(DEADLINE) };

/** The options of `client.close()`. */
const CLOSE_OPTIONS = { timeout: optional(milliseconds(0)) };

/**
 * Validates the options of `client.checkout()` (unknown keys included); throws
 * InvalidOptionError. It allocates nothing when they are good.
 */
export function checkCheckoutOptions(options: unknown): void {
  checkOptions('checkout', CHECKOUT_OPTIONS, options);
}

/**
 * Validates the options of one call: `what` is `call` on a checkout, `client.call` for a
 * one-shot call (which also takes `waitForServer`). It allocates nothing when they are good.
 */
export function checkCallOptions(what: 'call' | 'client.call', options: unknown): void {
  checkOptions(what, what === 'call' ? CALL_OPTIONS : ONE_SHOT_OPTIONS, options);
}

/**
 * Validates the options of a stream: `what` is `stream` on a checkout, `client.stream` for a
 * one-shot stream (which also takes `waitForServer`).
 */
export function checkStreamOptions(what: 'stream' | 'client.stream', options: unknown): void {
  checkOptions(what, what === 'stream' ? STREAM_OPTIONS : ONE_SHOT_STREAM_OPTIONS, options);
}

/** Validates the options of `client.map()`. */
export function checkMapOptions(options: unknown): void {
  checkOptions('client.map', MAP_OPTIONS, options);
}

/** Validates the options of `co.serverStats()`. */
export function checkServerStatsOptions(options: unknown): void {
  checkOptions('serverStats', SERVER_STATS_OPTIONS, options);
}

/** Validates the options of `client.close()`; throws InvalidOptionError. */
export function checkCloseOptions(options: unknown): void {
  checkOptions('close', CLOSE_OPTIONS, options);
}
