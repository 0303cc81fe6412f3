/**
 * A mode is two small strategies over Redis: how a submitter queues, watches and cancels a
 * job, and how a worker takes, finishes and hands back jobs. The submitter and worker
 * logic above them is the same for every mode.
 *
 * @module
 */
import type { WireError } from '@taskpool/protocol/internal';
import type { QueueContext } from '../context.js';
import type { Outcome, Progress } from '../wire.js';

/** A job as its submitter queues it. */
export interface NewJob {
  id: string;
  /** The data as JSON. */
  json: string;
  priority: string;
  maxAttempts: number;
  /** Submitter's clock, epoch ms. */
  queuedAt: number;
  /** Submitter's clock, epoch ms; null for none. */
  deadline: number | null;
}

/** Why a submitter stopped waiting: its deadline passed, or it aborted. */
export type CancelReason = 'timeout' | 'abort';

/**
 * What Redis knows of a job its submitter waits for; `progress` is the latest update the
 * record keeps, if any.
 */
export type WatchResult =
  | { kind: 'finished'; outcome: Outcome; progress?: Progress }
  | { kind: 'pending'; progress?: Progress }
  | { kind: 'missing' }
  /** The mode keeps no records (simple). */
  | { kind: 'unknown' };

/** The submitter's half of a mode. */
export interface SubmitSide {
  /**
   * Queues `job` with `timeout` ms left before its deadline (null for none). Resolves with
   * the wait list's length, or -1 when Redis already had the job (a resent submit).
   */
  enqueue(job: NewJob, timeout: number | null): Promise<number>;
  /** Reads a job's state and points its outcome at this submitter. */
  watch(id: string): Promise<WatchResult>;
  /** Cancels a job nobody waits for any more. */
  cancel(job: NewJob, reason: CancelReason): Promise<void>;
  /** Deletes the record of a job whose result was collected. */
  forget(id: string): Promise<void>;
}

/** A job a worker took from Redis. */
export interface Claimed {
  id: string;
  /** The job's data, or undefined with {@link unreadable} set. */
  data: unknown;
  /** Why the data could not be read, if it could not. */
  unreadable?: string;
  priority: string;
  /** Epoch ms. */
  queuedAt: number;
  /** Epoch ms. */
  startedAt: number;
  /** Epoch ms on this machine's clock; null for none. */
  deadline: number | null;
  attempt: number;
  maxAttempts: number;
  /** Simple mode: the list entry exactly as popped, to push it back. */
  raw?: string;
  /** Simple mode: the client id to publish the outcome to. */
  replyTo?: string;
}

/** What a worker tells its mode. */
export interface WorkerHooks {
  /** Ids of the jobs the worker took and has not finished. */
  held(): string[];
  /** The worker's lease lapsed and its jobs were given to others. */
  leaseLost(): void;
}

/** The worker's half of a mode, one per worker. */
export interface WorkSide {
  /** Whether failed attempts can be retried. */
  readonly retries: boolean;
  /** Registers the worker. */
  start(): Promise<void>;
  /** Takes up to `max` jobs of `priorities`, waiting up to the block timeout for one. */
  take(max: number): Promise<Claimed[]>;
  /** Records the final outcome; false when the job is no longer this worker's. */
  finish(job: Claimed, outcome: Outcome): Promise<boolean>;
  /** Hands a failed attempt back for another try after `delay` ms. */
  retry(job: Claimed, error: WireError, delay: number): Promise<boolean>;
  /**
   * Stores and publishes a progress update (`json`, the value's JSON); false when the job is
   * no longer this worker's. Absent when the mode keeps no records (simple).
   */
  progress?(job: Claimed, json: string): Promise<boolean>;
  /** Hands back jobs that were taken but will not be finished. */
  release(jobs: readonly Claimed[]): Promise<void>;
  /** Makes a blocked {@link take} return now. */
  unblock(): Promise<void>;
  /** Deregisters and closes the worker's connection, within `ms`. */
  close(ms: number): Promise<void>;
}

/** A mode: builds both halves. */
export interface Mode {
  submitSide(context: QueueContext): SubmitSide;
  workSide(
    context: QueueContext,
    worker: { id: string; priorities: readonly string[] },
    hooks: WorkerHooks,
  ): WorkSide;
}
