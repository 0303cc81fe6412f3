/**
 * The server's `diagnostics_channel` channels: what a supervisor reports that is not an
 * answer to a call: workers spawned, ready and exited (and why), connections waiting for a
 * worker or turned away (and why), rolling restarts, workers that cannot start. Subscribe
 * by name, as with the client's channels; nothing is built for a channel nobody subscribes
 * to.
 *
 * @module
 */
import { channel } from 'node:diagnostics_channel';
import type { WorkerStartFailedError } from '@taskpool/protocol';

/** Channel names, for `diagnostics_channel.subscribe(name, listener)`. */
export const CHANNELS = {
  /** A worker exited, or was killed, before it was ready: {@link WorkerStartFailedEvent}. */
  workerStartFailed: 'taskpool:server:worker-start-failed',
  /** A worker became ready after others failed to start: {@link WorkerStartRecoveredEvent}. */
  workerStartRecovered: 'taskpool:server:worker-start-recovered',
  /** A worker process was spawned: {@link WorkerEvent}. */
  workerSpawned: 'taskpool:server:worker-spawned',
  /** A worker loaded its code and ran setup, and is a spare: {@link WorkerReadyEvent}. */
  workerReady: 'taskpool:server:worker-ready',
  /** A worker process exited and was reaped: {@link WorkerExitedEvent}. */
  workerExited: 'taskpool:server:worker-exited',
  /** An accepted connection waits for a worker: {@link ConnectionWaitingEvent}. */
  connectionWaiting: 'taskpool:server:connection-waiting',
  /** A connection was turned away before it was served: {@link ConnectionRefusedEvent}. */
  connectionRefused: 'taskpool:server:connection-refused',
  /** A rolling restart began (SIGHUP, `restart()`): {@link RestartEvent}. */
  restartBegun: 'taskpool:server:restart-begun',
  /** Every worker of the generations before a restart has exited: {@link RestartEvent}. */
  restartEnded: 'taskpool:server:restart-ended',
} as const;

/** Published on `taskpool:server:worker-spawned`. */
export interface WorkerEvent {
  /** The server's endpoint, as `unix:/path`, `tcp://host:port` or `tls://host:port`. */
  endpoint: string;
  /** The worker's number within its server. */
  workerId: number;
  /** The worker's process id; undefined if the process could not be spawned. */
  pid: number | undefined;
}

/** Published on `taskpool:server:worker-ready`. */
export interface WorkerReadyEvent extends WorkerEvent {
  /** Milliseconds from its spawn to ready (its code loaded, setup run). */
  ms: number;
}

/**
 * Why a worker exited: `finished` (its client left, or it retired after
 * `maxRequestsPerWorker`), `crashed` (it exited or was killed unasked while serving or as a
 * spare), `killed-hung` (the supervisor's hung-worker watchdog, or the worker's own hang
 * guard), `start-failed` (before it was ready),
 * `restart`, `close`, `surplus` (a spare not wanted), `listen-failed`.
 */
export type WorkerExitReason =
  | 'finished'
  | 'crashed'
  | 'killed-hung'
  | 'start-failed'
  | 'restart'
  | 'close'
  | 'surplus'
  | 'listen-failed';

/** Published on `taskpool:server:worker-exited`. */
export interface WorkerExitedEvent extends WorkerEvent {
  reason: WorkerExitReason;
  /** Its exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Published on `taskpool:server:connection-waiting`. */
export interface ConnectionWaitingEvent {
  endpoint: string;
  /** Connections waiting now, this one included. */
  waiting: number;
}

/** Published on `taskpool:server:connection-refused`. */
export interface ConnectionRefusedEvent {
  endpoint: string;
  /** As counted in `stats().rejected`: `waiting-full`, `peer-limit`, `busy`, `silent`, … */
  reason: string;
  /** The peer's IP address (TCP and TLS), when the supervisor knows it. */
  address: string | undefined;
}

/** Published on `taskpool:server:restart-begun` and `taskpool:server:restart-ended`. */
export interface RestartEvent {
  endpoint: string;
  /** The generation the restart started (workers spawned from then on belong to it). */
  generation: number;
}

/** Published on `taskpool:server:worker-start-failed`. */
export interface WorkerStartFailedEvent {
  /** The server's endpoint, as `unix:/path` or `tcp://host:port`. */
  endpoint: string;
  /** The worker's number within its server. */
  workerId: number;
  /** The worker's process id; undefined if the process could not be spawned. */
  pid: number | undefined;
  /** `WORKER_START_FAILED`, naming the worker code; `cause` is the load error, if it sent one. */
  error: WorkerStartFailedError;
  /** Start failures since a worker was last ready, this one included. */
  consecutiveFailures: number;
  /** Milliseconds the next spawn waits (the crash-loop backoff: 100 ms doubling to 5 s). */
  retryIn: number;
}

/** Published on `taskpool:server:worker-start-recovered`. */
export interface WorkerStartRecoveredEvent {
  /** The server's endpoint, as `unix:/path` or `tcp://host:port`. */
  endpoint: string;
  /** The number, within its server, of the worker that became ready. */
  workerId: number;
  /** That worker's process id. */
  pid: number | undefined;
  /** Start failures before this worker became ready. */
  failures: number;
}

export const channels = {
  workerStartFailed: channel(CHANNELS.workerStartFailed),
  workerStartRecovered: channel(CHANNELS.workerStartRecovered),
  workerSpawned: channel(CHANNELS.workerSpawned),
  workerReady: channel(CHANNELS.workerReady),
  workerExited: channel(CHANNELS.workerExited),
  connectionWaiting: channel(CHANNELS.connectionWaiting),
  connectionRefused: channel(CHANNELS.connectionRefused),
  restartBegun: channel(CHANNELS.restartBegun),
  restartEnded: channel(CHANNELS.restartEnded),
};
