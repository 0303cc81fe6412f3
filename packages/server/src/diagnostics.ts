/**
 * The server's `diagnostics_channel` channels: what a supervisor reports that is not an
 * answer to a call, such as workers that cannot start. Subscribe by name, as with the
 * client's channels; nothing is built for a channel nobody subscribes to.
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
} as const;

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
};
