/**
 * A job as a worker sees it: its data and timestamps, a signal that aborts at its
 * deadline, on cancellation or when the worker loses it, `progress()` updates for its
 * submitter, and `done()` / `fail()`, of which only the first call counts.
 *
 * @module
 */
import { TimeoutError, ValidationError } from '@taskpool/protocol';
import { findNonJson } from '@taskpool/protocol/internal';
import type { Claimed } from './modes/mode.js';
import { checkFailOptions, keepsNoRecords } from './options.js';

/** Options of {@link Job.fail}. */
export interface FailOptions {
  /**
   * Whether another attempt may be made (reliable mode, attempts left, and time before the
   * deadline). `false` fails the job for good.
   *
   * @default true
   * @example { retry: false }
   */
  retry?: boolean;
}

/** One job taken by a worker. */
export interface Job<TData = unknown, TResult = unknown, TProgress = unknown> {
  /** The job's id (a v4 UUID), the same on the submitter's side. */
  readonly id: string;
  /** The data it was submitted with. */
  readonly data: TData;
  /** Its priority's name. */
  readonly priority: string;
  /** Which attempt this is, from 1. */
  readonly attempt: number;
  /** How many attempts it may have. */
  readonly maxAttempts: number;
  /** When it was submitted, epoch ms. */
  readonly queuedAt: number;
  /** When this attempt started, epoch ms. */
  readonly startedAt: number;
  /** When `done()` or `fail()` was called, epoch ms. */
  readonly finishedAt: number | undefined;
  /** When its submitter stops waiting, epoch ms on this machine's clock; null for never. */
  readonly deadline: number | null;
  /** Aborts at the deadline, when the job is cancelled, or when this worker loses it. */
  readonly signal: AbortSignal;
  /** Milliseconds left before the deadline (at least 1), or null without one. */
  remaining(): number | null;
  /**
   * Reports progress to the job's submitter (recoverable and reliable modes): the value is
   * published to it, for `handle.progress`, and kept in the job's record as the latest
   * (`queue.getJob(id).progress`). Delivery is best effort; an update whose promise
   * resolved, or one made before `done()` / `fail()` was called, reaches a connected
   * submitter before the job's outcome (the outcome waits, up to `commandTimeout`, for the
   * reports still in flight).
   *
   * Resolves true once recorded; false when the job is no longer this worker's or already
   * settled, or when Redis did not answer within the queue's `commandTimeout` (that error
   * goes to `onError`). A failed report never fails the job. Rejects with ValidationError
   * (`INVALID_ARGS`) when `value` does not survive JSON, and with InvalidOptionError
   * (`INVALID_OPTION`) in simple mode, which keeps no records to report to.
   *
   * @example
   * ```ts
   * queue.process(async (job) => {
   *   for (const [i, file] of job.data.files.entries()) {
   *     await upload(file);
   *     await job.progress({ done: i + 1, of: job.data.files.length });
   *   }
   *   return 'uploaded';
   * });
   * ```
   */
  progress(value: TProgress): Promise<boolean>;
  /** Records the result; resolves false when the job was no longer this worker's. */
  done(value: TResult): Promise<boolean>;
  /** Records a failure (or schedules a retry); resolves false when no longer this worker's. */
  fail(error: unknown, options?: FailOptions): Promise<boolean>;
}

/** How a job ended, as handed to the worker. */
export type Settlement =
  | { kind: 'done'; value: unknown }
  | { kind: 'fail'; error: unknown; retry: boolean };

/** What a {@link WorkerJob} (`TJob`) asks of its worker. */
export interface JobHooks<TJob> {
  /** Records how the job ended; false when it was no longer this worker's. */
  settle(job: TJob, settlement: Settlement): Promise<boolean>;
  /**
   * Records a progress update (`json`, the value's JSON); never rejects. Absent when the
   * mode keeps no records.
   */
  progress?(job: TJob, json: string): Promise<boolean>;
}

/** The worker's implementation of {@link Job}. */
export class WorkerJob<TData, TResult, TProgress = unknown>
  implements Job<TData, TResult, TProgress>
{
  readonly claimed: Claimed;
  /**
   * `performance.now()` when the worker took it, read only when someone measures (metrics,
   * or a job-ended subscriber); else 0.
   */
  readonly takenAt: number;
  /** `performance.now()` when `done()` or `fail()` was called, when {@link takenAt} was read. */
  endedAt = 0;
  readonly #hooks: JobHooks<WorkerJob<TData, TResult, TProgress>>;
  readonly #controller = new AbortController();
  /** Progress reports not yet answered: the outcome is recorded after them. */
  readonly #reporting = new Set<Promise<boolean>>();
  #outcome: Promise<boolean> | undefined;
  #finishedAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    claimed: Claimed,
    hooks: JobHooks<WorkerJob<TData, TResult, TProgress>>,
    takenAt = 0,
  ) {
    this.claimed = claimed;
    this.#hooks = hooks;
    this.takenAt = takenAt;
  }

  get id(): string {
    return this.claimed.id;
  }
  get data(): TData {
    return this.claimed.data as TData;
  }
  get priority(): string {
    return this.claimed.priority;
  }
  get attempt(): number {
    return this.claimed.attempt;
  }
  get maxAttempts(): number {
    return this.claimed.maxAttempts;
  }
  get queuedAt(): number {
    return this.claimed.queuedAt;
  }
  get startedAt(): number {
    return this.claimed.startedAt;
  }
  get finishedAt(): number | undefined {
    return this.#finishedAt;
  }
  get deadline(): number | null {
    return this.claimed.deadline;
  }
  get signal(): AbortSignal {
    return this.#controller.signal;
  }
  /** True once `done()`, `fail()` or {@link abandon} was called. */
  get settled(): boolean {
    return this.#outcome !== undefined;
  }

  remaining(): number | null {
    return this.deadline === null ? null : Math.max(1, this.deadline - Date.now());
  }

  progress(value: TProgress): Promise<boolean> {
    if (!this.#hooks.progress) return Promise.reject(keepsNoRecords('job.progress'));
    const problem = findNonJson(value);
    if (problem !== undefined) {
      return Promise.reject(
        new ValidationError('INVALID_ARGS', `job ${this.id}: progress: ${problem}`),
      );
    }
    if (this.settled) return Promise.resolve(false);
    // A top-level undefined has no JSON text: it is reported as null, as submit() sends it.
    const reported = this.#hooks.progress(this, JSON.stringify(value) ?? 'null');
    this.#reporting.add(reported);
    const forget = () => this.#reporting.delete(reported);
    reported.then(forget, forget);
    return reported;
  }

  done(value: TResult): Promise<boolean> {
    const problem = findNonJson(value);
    if (problem !== undefined) {
      const error = new ValidationError('INVALID_RESULT', `job ${this.id}: ${problem}`);
      return this.fail(error, { retry: false }).then(() => Promise.reject(error));
    }
    return this.#end({ kind: 'done', value });
  }

  fail(error: unknown, options: FailOptions = {}): Promise<boolean> {
    try {
      checkFailOptions(options);
    } catch (invalid) {
      // The job is not settled: a handler that catches this can still fail it properly.
      return Promise.reject(invalid);
    }
    return this.#end({ kind: 'fail', error, retry: options.retry !== false });
  }

  /** Fails the job with a TimeoutError when its deadline passes. */
  armDeadline(): void {
    if (this.deadline === null) return;
    const timeout = Math.max(0, this.deadline - this.queuedAt);
    this.#timer = setTimeout(
      () => {
        const error = new TimeoutError(timeout);
        this.abort(error);
        this.fail(error, { retry: false }).catch(() => {});
      },
      Math.max(0, this.deadline - Date.now()),
    );
  }

  /** Aborts the signal; the job still has to be settled. */
  abort(reason: unknown): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  /** Settles locally without telling Redis (the job is no longer this worker's). */
  abandon(reason: unknown): void {
    this.abort(reason);
    if (this.#outcome) return;
    clearTimeout(this.#timer);
    this.#finishedAt = Date.now();
    this.#outcome = Promise.resolve(false);
  }

  #end(settlement: Settlement): Promise<boolean> {
    if (this.#outcome) return this.#outcome.then(() => false);
    clearTimeout(this.#timer);
    this.#finishedAt = Date.now();
    // Read now: the outcome may wait for progress reports, which are not the job's run time.
    if (this.takenAt !== 0) this.endedAt = performance.now();
    // A report still in flight is published before the outcome: were the outcome first, the
    // submitter would end its progress iteration without it. Reports have a deadline, so
    // this wait ends.
    this.#outcome =
      this.#reporting.size === 0
        ? this.#hooks.settle(this, settlement)
        : Promise.allSettled(this.#reporting).then(() => this.#hooks.settle(this, settlement));
    return this.#outcome;
  }
}
