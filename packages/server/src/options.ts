/**
 * Options of `createServer`, with their defaults and validation.
 *
 * @module
 */
import {
  DEFAULT_MAX_FRAME_BYTES,
  type EndpointInput,
  type SecretSource,
  type ServiceRegistry,
} from '@taskpool/protocol';
import {
  anything,
  boolean,
  type Check,
  check,
  endpoint,
  func,
  integer,
  isServiceRegistry,
  milliseconds,
  nullable,
  object,
  oneOf,
  option,
  optional,
  optionError,
  type ResolvedOptions,
  required,
  resolveOptions,
  secret,
  secrets,
  string,
} from '@taskpool/protocol/internal';
import { isLogger, type ServerLogger } from './logger.js';
import type { WorkerDefinition } from './worker-definition.js';

/** TLS for a server: terminated in each worker, after the supervisor hands it the socket. */
export interface ServerTlsOptions {
  /**
   * The server's private key (PEM): the value, `{ file: '/path' }` (read again on a
   * rolling restart, so a renewed key is picked up) or `{ env: 'NAME' }`.
   * @example key: { file: '/etc/taskpool/server.key' }
   */
  key: SecretSource;
  /**
   * The server's certificate chain (PEM), given as `key` is.
   * @example cert: { file: '/etc/taskpool/server.crt' }
   */
  cert: SecretSource;
  /**
   * The CA certificates (PEM) client certificates must chain to, given as `key` is: with
   * `requestCert`, only clients holding such a certificate get past the handshake.
   * Required with `requestCert` (the system's CAs would let in anyone a public CA signed).
   * @default none
   * @example ca: { file: '/etc/taskpool/clients-ca.crt' }
   */
  ca?: SecretSource;
  /**
   * Mutual TLS: ask for a client certificate, and refuse a client without a valid one. Its
   * subject reaches handlers as `ctx.peer` and the `authorize` hook.
   * @default false
   * @example requestCert: true
   */
  requestCert?: boolean;
  /**
   * The oldest TLS version accepted.
   * @default 'TLSv1.3'
   * @example minVersion: 'TLSv1.2'
   */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
}

/** Shared-secret authentication: an HMAC challenge in the opening exchange. */
export interface ServerAuthOptions {
  /**
   * The keys clients may prove they hold, by key id. Several at once let keys rotate:
   * add the new one, move the clients, remove the old one. Each is the value,
   * `{ env: 'NAME' }` or `{ file: '/path' }` (read again on a rolling restart).
   * @example keys: { k2026: { env: 'TASKPOOL_AUTH_KEY' } }
   */
  keys: Record<string, SecretSource>;
}

/** Options of {@link createServer}. */
export interface ServerOptions extends Partial<WorkerDefinition> {
  /**
   * Where to listen: `unix:/path` (or an absolute path, or `{ path }`), `tcp://host:port`
   * (or `{ host, port }`; the host defaults to 127.0.0.1; port 0 picks a free one) or
   * `tls://host:port` (with `tls`). Beyond loopback, a server needs `tls` or `auth` (or
   * `insecure`); a Unix socket's directory must not be writable by other users.
   * @example listen: 'unix:/run/user/1000/taskpool/hasher.sock'
   */
  listen: EndpointInput;
  /**
   * TLS, terminated in the worker. Given, a `tcp://` listen is TLS too.
   * @default none
   * @example tls: { key: { file: 'server.key' }, cert: { file: 'server.crt' } }
   */
  tls?: ServerTlsOptions;
  /**
   * Shared-secret authentication: a client must prove it holds one of `keys` before it
   * learns anything about the server or may call. Error stacks and the interface
   * description reach authenticated peers only (and Unix socket peers).
   * @default none
   * @example auth: { keys: { k2026: { env: 'TASKPOOL_AUTH_KEY' } } }
   */
  auth?: ServerAuthOptions;
  /**
   * Listen unprotected where others can reach it: plaintext TCP beyond loopback without
   * `auth`, or a Unix socket in a directory other users can write to. Without it, such a
   * `listen()` fails with `INSECURE_LISTEN`.
   * @default false
   * @example insecure: true
   */
  insecure?: boolean;
  /**
   * How long a connection has to finish its opening exchange (TLS handshake, `open`,
   * authentication) once a worker has it; while it waits for a worker, how long it has to
   * send its first bytes. Past it, it is closed, and the worker (no user code ran for it)
   * goes back to being a spare. A connection that has finished it may stay idle as long
   * as its client likes.
   * @default 5_000 (ms)
   * @example handshakeTimeout: 2_000
   */
  handshakeTimeout?: number;
  /**
   * Which peers receive error stacks (`RemoteError.remoteStack`): `'trusted'` ones
   * (authenticated with `auth` or a client certificate, or on a Unix socket), `'always'`,
   * or `'never'`.
   * @default 'trusted'
   * @example errorStacks: 'never'
   */
  errorStacks?: 'trusted' | 'always' | 'never';
  /**
   * The most connections waiting for a worker; one more is refused at once with
   * `SERVER_BUSY` (counted in `stats().rejected['waiting-full']`).
   * @default 1_024
   * @example maxWaitingConnections: 256
   */
  maxWaitingConnections?: number;
  /**
   * The most connections one remote address may hold (served and waiting), so that one
   * peer cannot take every worker; one more is refused at once with `SERVER_BUSY`
   * (`stats().rejected['peer-limit']`). Unix socket peers are not counted. `null` = no limit.
   * @default null
   * @example maxConnectionsPerPeer: 16
   */
  maxConnectionsPerPeer?: number | null;
  /**
   * Where the supervisor writes what it has to say (a worker killed as hung, workers that
   * cannot start, a restart that keeps its old secrets, a listener error, and at `info`
   * rolling restarts and workers that crashed): a pino logger, or any object with `info`,
   * `warn` and `error` taking `(fields, message)`. Workers still write to stderr.
   * @default warnings and errors as `taskpool server: …` lines on stderr
   * @example logger: pino({ name: 'hasher' })
   */
  logger?: ServerLogger;
  /**
   * Measure the calls workers run (durations and outcomes, in `server.stats().metrics`):
   * each worker reports to the supervisor every second. `false` records nothing.
   * @default true
   * @example metrics: false
   */
  metrics?: boolean;
  /**
   * Serve the server's stats and metrics in the Prometheus text format, over HTTP at
   * `http://metricsHost:metricsPort/metrics` (0: a free port; `server.metricsUrl` says
   * which). Names are those of `@taskpool/prometheus`: `taskpool_server_workers{state}`,
   * `taskpool_server_calls_total{outcome}`, `taskpool_server_call_duration_seconds`, …
   * @default null (no HTTP listener)
   * @example metricsPort: 9464
   */
  metricsPort?: number | null;
  /**
   * The address `metricsPort` listens on (unused without it). Loopback by default: give
   * `0.0.0.0` (or the address a scraper reaches) to be scraped from another machine.
   * @default '127.0.0.1'
   * @example metricsHost: '0.0.0.0'
   */
  metricsHost?: string;
  /**
   * Announce this server in a registry, where clients with `discover` find it: its
   * endpoint (`advertise`), version, interface hash, `maxWorkers` and how many workers are
   * spare and busy, renewed as the registry says (`redisRegistry`: every second). It is
   * withdrawn when the server closes; a server that dies drops out once its entry runs out
   * (`redisRegistry`: 3 seconds). With `workerModule`, `spares` must be at least 1: the
   * interface hash announced comes from a loaded worker.
   * @default none (not announced)
   * @example registry: redisRegistry({ redis: 'redis://10.0.0.2:6379', service: 'hasher' })
   */
  registry?: ServiceRegistry;
  /**
   * Where clients should connect to this server, as its `registry` entry says: needed when
   * it listens on every address (`tcp://0.0.0.0:7000`), or behind an address translation.
   * A TLS server's TCP endpoint is announced as `tls://`.
   * @default the `listen` endpoint (with its real port)
   * @example advertise: `tcp://${process.env.POD_IP}:7000`
   */
  advertise?: EndpointInput;
  /**
   * A module whose default export is the worker's code (`defineWorker({ interface, … })`).
   * Without it, workers re-execute this process's entry script in worker mode, as
   * `node:cluster` does, so a single-file server works: there `createServer` serves the
   * handed-over connection instead of listening.
   * @default the entry script (`process.argv[1]`)
   * @example workerModule: new URL('./hasher-worker.js', import.meta.url)
   */
  workerModule?: string | URL;
  /**
   * The name shown in process titles (`taskpool-server:NAME`, `taskpool-worker:NAME(N)`) and
   * sent in `hello`.
   * @default null
   * @example name: 'passwd-hasher'
   */
  name?: string;
  /**
   * Warm workers kept started (code loaded, `setup` run) so that a new connection is handed
   * over at once.
   * @default 2
   * @example spares: 4
   */
  spares?: number;
  /**
   * The most live worker processes (serving and spare). A connection beyond it waits up to
   * `connectionTimeout` for a worker to exit, then is refused with `SERVER_BUSY`.
   * @default 64
   * @example maxWorkers: 8
   */
  maxWorkers?: number;
  /**
   * How long an accepted connection may wait for a worker before it is refused.
   * @default 10_000 (ms)
   * @example connectionTimeout: 2_000
   */
  connectionTimeout?: number;
  /**
   * Calls a worker serves before it retires: it finishes the checkout it is in, tells the
   * client (a `retire` frame, no error) and exits. `null` = never.
   * @default null
   * @example maxRequestsPerWorker: 1_000
   */
  maxRequestsPerWorker?: number | null;
  /**
   * The least time between two worker spawns, and between two retirements in a rolling
   * restart (SIGHUP). 0 = no limit.
   * @default 0 (ms)
   * @example spawnInterval: 500
   */
  spawnInterval?: number;
  /**
   * A worker whose event loop stays blocked this long is killed (its client sees
   * `WORKER_LOST`). Idle workers are never killed. The supervisor watches with a monotonic
   * clock, and each worker also watches itself from a thread, so a hung worker is killed
   * even when its supervisor is gone. `null` = never.
   * @default 300_000 (ms)
   * @example hungWorkerTimeout: 30_000
   */
  hungWorkerTimeout?: number | null;
  /**
   * How long a worker's `setup` may take, at start and when it is retried before a call.
   * Past it, setup counts as failed: the call gets `SETUP_FAILED` ("setup did not finish
   * within …"). A worker that has not even reported ready `setupTimeout` + 10 s after it
   * was spawned (code that blocks while it loads) is killed and counted as a failed start.
   * `null` = no limit on setup; loading the code still has one: a worker whose code has not
   * loaded 10 s after it was spawned is killed and counted as a failed start.
   * @default 60_000 (ms)
   * @example setupTimeout: 5_000
   */
  setupTimeout?: number | null;
  /**
   * Calls a worker holds received but not started (pipelined behind the one running).
   * Past it, the worker stops reading its connection until it has run some of them, so the
   * client's further calls wait in the socket (TCP backpressure) instead of in the
   * worker's memory.
   * @default 1_024
   * @example maxQueuedCalls: 64
   */
  maxQueuedCalls?: number;
  /**
   * How long one frame may take to arrive once its first byte has: a peer that sends a
   * frame a byte a second cannot hold a worker. Past it the connection is closed with
   * `PROTOCOL_ERROR`.
   * @default 30_000 (ms)
   * @example frameTimeout: 5_000
   */
  frameTimeout?: number;
  /**
   * File mode of a Unix socket.
   * @default 0o600
   * @example socketMode: 0o660
   */
  socketMode?: number;
  /**
   * The largest frame a worker accepts or sends, in bytes.
   * @default 16 MiB
   * @example maxFrameBytes: 1024 * 1024
   */
  maxFrameBytes?: number;
  /**
   * Node.js options for worker processes.
   * @default process.execArgv
   * @example execArgv: ['--max-old-space-size=256']
   */
  execArgv?: string[];
  /**
   * Environment of worker processes.
   * @default process.env
   * @example env: { ...process.env, DB_PATH: '/var/lib/app.sqlite3' }
   */
  env?: NodeJS.ProcessEnv;
  /**
   * Close gracefully on SIGTERM and SIGINT, and restart workers onto fresh code on SIGHUP.
   * The handlers are installed when `listen()` starts (a SIGTERM while the first worker
   * loads closes the server, stopping its workers), and removed on close or when `listen()`
   * fails.
   * @default true
   * @example handleSignals: false
   */
  handleSignals?: boolean;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * createServer's options. Checked without zod: every worker runs createServer too (a
 * single-file server is re-executed in worker mode), and a worker should not load zod.
 */
const SERVER_OPTIONS = {
  listen: required(endpoint),
  interface: optional(anything),
  setup: optional(func as Check<WorkerDefinition['setup']>),
  checkoutDone: optional(func as Check<WorkerDefinition['checkoutDone']>),
  workerModule: optional(
    check<string | URL>(
      'a module path or file URL',
      (value) => (typeof value === 'string' && value !== '') || value instanceof URL,
    ),
  ),
  name: optional(string),
  spares: option(integer(0), 2),
  maxWorkers: option(integer(1), 64),
  connectionTimeout: option(milliseconds(0), 10_000),
  maxRequestsPerWorker: option(nullable(integer(1)), null),
  spawnInterval: option(milliseconds(0), 0),
  hungWorkerTimeout: option(nullable(milliseconds(1)), 300_000),
  setupTimeout: option(nullable(milliseconds(1)), 60_000),
  maxQueuedCalls: option(integer(1), 1_024),
  frameTimeout: option(milliseconds(1), 30_000),
  socketMode: option(integer(0, 0o777), 0o600),
  maxFrameBytes: option(integer(1), DEFAULT_MAX_FRAME_BYTES),
  // Copied, so that the caller changing them later does not change the workers to come.
  execArgv: optional(
    check<string[]>(
      'an array of strings',
      (value) => Array.isArray(value) && value.every((item) => typeof item === 'string'),
      (value) => [...(value as string[])],
    ),
  ),
  env: optional(
    check<Record<string, string | undefined>>(
      'an object of strings',
      (value) =>
        isRecord(value) &&
        Object.values(value).every((item) => item === undefined || typeof item === 'string'),
      (value) => ({ ...(value as Record<string, string | undefined>) }),
    ),
  ),
  handleSignals: option(boolean, true),
  tls: optional(
    object({
      key: required(secret),
      cert: required(secret),
      ca: optional(secret),
      requestCert: option(boolean, false),
      minVersion: option(oneOf(['TLSv1.2', 'TLSv1.3']), 'TLSv1.3'),
    }),
  ),
  auth: optional(object({ keys: required(secrets) })),
  insecure: option(boolean, false),
  handshakeTimeout: option(milliseconds(1), 5_000),
  errorStacks: option(oneOf(['trusted', 'always', 'never']), 'trusted'),
  maxWaitingConnections: option(integer(0), 1_024),
  maxConnectionsPerPeer: option(nullable(integer(1)), null),
  authorize: optional(func as Check<WorkerDefinition['authorize']>),
  logger: optional(check<ServerLogger>('an object with info, warn and error functions', isLogger)),
  metrics: option(boolean, true),
  metricsPort: option(nullable(integer(0, 65_535), 'no HTTP listener'), null),
  metricsHost: option(
    check<string>('a host name or address', (value) => typeof value === 'string' && value !== ''),
    '127.0.0.1',
  ),
  registry: optional(
    check<ServiceRegistry>(
      'a registry ({ description, register, watch }, such as redisRegistry(…))',
      isServiceRegistry,
    ),
  ),
  advertise: optional(endpoint),
};

/** Options after validation, with defaults filled in. */
export type ResolvedServerOptions = ResolvedOptions<typeof SERVER_OPTIONS>;

/**
 * Validates server options and fills in defaults. `what` names the entry point in errors:
 * `forkTaskServer` when its child makes the server.
 */
export function resolveServerOptions(
  options: ServerOptions,
  what = 'createServer',
): ResolvedServerOptions {
  const resolved = resolveOptions(what, SERVER_OPTIONS, options);
  if (resolved.interface === undefined && resolved.workerModule === undefined) {
    throw optionError(
      what,
      'interface',
      'handlers, an implementation or a function (or a workerModule)',
      undefined,
    );
  }
  // Checked here, not when a worker is spawned: a spawn can run in a timer, where a throw
  // is an uncaught exception instead of an error the caller sees.
  if (resolved.workerModule === undefined && process.argv[1] === undefined) {
    throw optionError(
      what,
      'workerModule',
      'a worker module when this process has no entry script for workers to re-execute (as under node -e, or in a REPL)',
      undefined,
    );
  }
  return resolved;
}

/** The options of `server.close()`. */
const CLOSE_OPTIONS = { timeout: option(milliseconds(0), 10_000) };

/**
 * Validates the options of `server.close()` (and of a forked server's) and fills in the
 * default timeout; throws InvalidOptionError.
 */
export function resolveCloseOptions(options: unknown): ResolvedOptions<typeof CLOSE_OPTIONS> {
  return resolveOptions('close', CLOSE_OPTIONS, options);
}

/** A server option a forked server does not take: given, it is refused, saying why. */
const notTaken = (why: string) => optional(check<undefined>(`nothing (${why})`, () => false));

/**
 * forkTaskServer's options: the server's own (checked here, before anything is forked, as
 * the forked server will check them), and the fork's: `module`, where to listen,
 * `startTimeout` and `stderr`. The worker code comes from `module`, so the options that
 * give code in-process are refused, as is `handleSignals`.
 */
const FORK_OPTIONS = {
  ...SERVER_OPTIONS,
  module: required(
    check<string | URL>(
      'the path or file URL of a worker module',
      (value) => (typeof value === 'string' && value !== '') || value instanceof URL,
    ),
  ),
  listen: optional(endpoint),
  startTimeout: option(milliseconds(1), 10_000),
  stderr: option(oneOf(['inherit', 'pipe']), 'inherit'),
  interface: notTaken('the worker code comes from option module'),
  setup: notTaken('the worker code comes from option module'),
  checkoutDone: notTaken('the worker code comes from option module'),
  authorize: notTaken('the worker code comes from option module'),
  logger: notTaken('functions cannot reach the forked server; it writes to its stderr'),
  workerModule: notTaken('the worker code comes from option module'),
  handleSignals: notTaken('a forked server always handles its signals'),
  advertise: notTaken('a forked server has no registry to announce it in'),
  registry: notTaken(
    'a registry cannot reach the forked server: create the server with createServer, or run taskpool serve --service NAME --redis URL',
  ),
};

/** forkTaskServer's options after validation, with defaults filled in. */
type ResolvedForkOptions = ResolvedOptions<typeof FORK_OPTIONS>;

/** Validates forkTaskServer's options and fills in defaults. */
export function resolveForkOptions(options: unknown): ResolvedForkOptions {
  return resolveOptions('forkTaskServer', FORK_OPTIONS, options);
}
