/**
 * Messages between the supervisor and its worker processes over Node's IPC channel, and
 * the worker's start-up configuration (passed in one environment variable).
 *
 * @module
 */
import type { ServerStatsSnapshot } from '@taskpool/protocol';
import type { WireError } from '@taskpool/protocol/internal';
import type { OpeningRejection } from './opening-exchange.js';
import type { WorkerMetricsReport } from './worker-metrics.js';

/**
 * Supervisor → worker. `connection` comes with the socket handle, and with the bytes the
 * client sent while it waited for a worker (base64), which the supervisor had to read to
 * notice a client that left.
 */
export type SupervisorMessage =
  | { t: 'connection'; head?: string }
  | { t: 'ping' }
  /** Finish the current checkout, tell the client (a `retire` frame), exit when it leaves. */
  | { t: 'retire'; reason: string }
  /** The answer to the worker's `stats` request `id`. */
  | { t: 'stats'; id: number; stats: ServerStatsSnapshot }
  /**
   * The TLS key and certificates and the `auth` keys, sent over the channel once the
   * worker's code has loaded, never in its environment (which other processes of the user
   * can read, and which a handler's child processes would inherit).
   */
  | { t: 'secrets'; secrets: WorkerSecrets };

/** The secrets a worker needs; PEM and keys in base64. */
export interface WorkerSecrets {
  tls?: { key: string; cert: string; ca?: string };
  keys?: Record<string, string>;
}

/**
 * Worker → supervisor. `loaded`: its code is imported and is a worker definition (setup
 * has not run yet). `start-failed`: its code cannot load; the worker exits next. `stats`:
 * its client asked for the server's stats; `id` is the worker's own, for the answer.
 */
export type WorkerMessage =
  /** `interfaceHash`: the hash of the interface it serves (`describe().hash`), or null for a plain record of handlers. */
  | { t: 'loaded'; interfaceHash: string | null }
  | { t: 'ready' }
  | { t: 'pong' }
  | { t: 'start-failed'; error: WireError }
  | { t: 'stats'; id: number }
  /**
   * The connection it was handed ended in its opening exchange, before any user code ran
   * for it: the worker is a spare again.
   */
  | { t: 'released'; reason: OpeningRejection }
  /** The calls it ran since its last report (see worker-metrics.ts). */
  | { t: 'metrics'; report: WorkerMetricsReport };

/** The environment variable that makes a process a worker and carries its configuration. */
export const WORKER_ENV = 'TASKPOOL_WORKER_CONFIG';

/** The server's options a worker enforces, passed through unchanged. */
export interface WorkerLimits {
  maxFrameBytes: number;
  maxRequestsPerWorker: number | null;
  maxQueuedCalls: number;
  frameTimeout: number;
  hungWorkerTimeout: number | null;
  setupTimeout: number | null;
}

/** How a worker treats the connections it is handed (its secrets come over the channel). */
export interface WorkerSecurity {
  transport: 'unix' | 'tcp';
  /** TLS is on: the worker waits for its `secrets` before it is ready. */
  tls: { requestCert: boolean; minVersion: 'TLSv1.2' | 'TLSv1.3' } | null;
  /** `auth` is on: the worker waits for its `secrets` before it is ready. */
  auth: boolean;
  handshakeTimeout: number;
  errorStacks: 'trusted' | 'always' | 'never';
}

/** What a worker process needs to know at start. */
export interface WorkerConfig {
  workerId: number;
  serverName: string | null;
  /** The server's endpoint as a string: in single-file mode it picks the right createServer. */
  endpoint: string;
  limits: WorkerLimits;
  security: WorkerSecurity;
  /** Measure the calls it runs (the server's `metrics`). */
  metrics: boolean;
  /** A module URL holding the worker's code, or null when the entry script is re-executed. */
  workerModule: string | null;
}

let cached: WorkerConfig | null | undefined;

/**
 * The worker configuration when this process is a worker, else null. The variable is
 * removed from the environment once read, so that processes a handler starts are not
 * mistaken for workers.
 */
export function workerConfig(): WorkerConfig | null {
  if (cached === undefined) {
    const raw = process.env[WORKER_ENV];
    delete process.env[WORKER_ENV];
    cached = raw ? (JSON.parse(raw) as WorkerConfig) : null;
  }
  return cached;
}

/** True inside a worker process (for code that should only run in the supervisor). */
export function isWorker(): boolean {
  return workerConfig() !== null;
}
