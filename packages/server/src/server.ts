/**
 * `createServer`: in the supervisor process it listens and manages workers; in a worker
 * process started by re-executing the entry script, the same call serves the connection
 * handed to that worker instead.
 *
 * @module
 */
import { type Endpoint, formatEndpoint, parseEndpoint } from '@taskpool/protocol';
import { workerConfig } from './ipc.js';
import { resolveCloseOptions, resolveServerOptions, type ServerOptions } from './options.js';
import { type CloseOptions, type ServerStats, Supervisor } from './supervisor.js';
import { serverVersion } from './version.js';
import { runWorker } from './worker-runtime.js';

/** A taskpool server. */
export interface TaskServer extends AsyncDisposable {
  /**
   * Starts listening and spawning spares; resolves with the endpoint (the real port when
   * listening on TCP port 0) once a first worker has loaded its code. When the code cannot
   * load, rejects with `WORKER_START_FAILED` (the load error as `cause`), leaving nothing
   * running; so it does when a first worker exits, or is killed, before it is ready. A
   * SIGTERM or SIGINT while it starts (with `handleSignals`) closes the server and rejects it
   * with `CLOSED`. In a worker process it never resolves: the worker serves.
   */
  listen(): Promise<Endpoint>;
  /**
   * Stops accepting, lets busy workers finish until the deadline, then TERM, then KILL.
   * Bad options reject it with `INVALID_OPTION`.
   */
  close(options?: CloseOptions): Promise<void>;
  /** Rolling restart: every worker is replaced by one running fresh code (as SIGHUP does). */
  restart(): void;
  /** Counts of workers and waiting connections, uptime, version and `metrics` (see `ServerStats`). */
  stats(): ServerStats;
  /** Where the server listens. */
  readonly endpoint: Endpoint;
  /**
   * Where `metricsPort` serves the Prometheus text format (`http://host:port/metrics`) once
   * listening; null without `metricsPort`, before `listen()` and after `close()`.
   */
  readonly metricsUrl: string | null;
}

function workerModeServer(options: ServerOptions): TaskServer | undefined {
  const config = workerConfig();
  if (config === null || config.workerModule !== null) return undefined;
  const endpoint = parseEndpoint(options.listen);
  const mine = formatEndpoint(endpoint) === config.endpoint;
  const idle = (): ServerStats => ({
    starting: 0,
    spares: 0,
    serving: 0,
    waitingConnections: 0,
    spawned: 0,
    killedHung: 0,
    startFailures: 0,
    consecutiveStartFailures: 0,
    lastStartError: null,
    startedAt: null,
    uptime: null,
    version: serverVersion(),
  });
  return {
    endpoint,
    metricsUrl: null,
    listen: () => {
      if (!mine || options.interface === undefined) return new Promise<never>(() => {});
      return runWorker(
        {
          interface: options.interface,
          setup: options.setup,
          checkoutDone: options.checkoutDone,
          authorize: options.authorize,
        },
        config,
      );
    },
    close: async (closeOptions) => {
      resolveCloseOptions(closeOptions);
    },
    restart: () => {},
    stats: idle,
    [Symbol.asyncDispose]: async () => {},
  };
}

/**
 * Creates a server. Call `listen()` to start it.
 *
 * @example
 * const server = createServer({
 *   name: 'passwd-hasher',
 *   listen: `unix:${defaultSocketPath('hasher.sock')}`,
 *   interface: hasher.implement({ hash: (p) => bcrypt.hashSync(p, 10), verify: … }),
 * });
 * await server.listen();
 */
export function createServer(options: ServerOptions): TaskServer {
  return createServerAs('createServer', options);
}

/**
 * createServer for an entry point that its errors name otherwise: `forkTaskServer`, whose
 * child makes the server. Not exported by the package.
 */
export function createServerAs(what: string, options: ServerOptions): TaskServer {
  const resolved = resolveServerOptions(options, what);
  const inWorker = workerModeServer(options);
  if (inWorker) return inWorker;
  const supervisor = new Supervisor(resolved, what);
  return {
    get endpoint() {
      return supervisor.endpoint;
    },
    get metricsUrl() {
      return supervisor.metricsUrl;
    },
    listen: () => supervisor.listen(),
    close: (closeOptions) => supervisor.close(closeOptions),
    restart: () => supervisor.restart(),
    stats: () => supervisor.stats(),
    [Symbol.asyncDispose]: () => supervisor.close(),
  };
}
