/**
 * The queue's `diagnostics_channel` channel: one message per job a worker of this process
 * ended, for adapters that record each run time (an OpenTelemetry histogram, say). Nothing
 * is built while nobody subscribes.
 *
 * @module
 */
import { channel } from 'node:diagnostics_channel';
import type { QueueMode } from './options.js';

/**
 * Channel names, for `diagnostics_channel.subscribe(name, listener)`; exported as
 * `QUEUE_CHANNELS`.
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * import { QUEUE_CHANNELS, type JobEndedMessage } from '@taskpool/redis';
 * subscribe(QUEUE_CHANNELS.jobEnded, (message) => {
 *   const { queue, outcome, ms } = message as JobEndedMessage;
 *   histogram.record(ms, { queue, outcome });
 * });
 * ```
 */
export const CHANNELS = {
  /** A worker of this process ended a job's attempt: {@link JobEndedMessage}. */
  jobEnded: 'taskpool:queue:job-ended',
} as const;

/**
 * What `taskpool:queue:job-ended` carries: published when Redis recorded the end of an
 * attempt a worker of this process ran, the same attempts as `completed` and `failed` of
 * `queue.metrics()` count (a failed attempt that will be retried is `failed`). Published
 * with `metrics: false` too; then only for jobs taken while someone subscribed, since
 * nothing reads the clock at a take without a subscriber.
 */
export interface JobEndedMessage {
  /** The queue's `name`. */
  queue: string;
  /** The queue's mode. */
  mode: QueueMode;
  /** `failed` for a failed attempt, retried or not. */
  outcome: 'completed' | 'failed';
  /** From the take to `done()` or `fail()`, in milliseconds (`performance.now()`). */
  ms: number;
}

export const channels = { jobEnded: channel(CHANNELS.jobEnded) };
