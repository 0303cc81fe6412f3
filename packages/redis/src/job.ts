/**
 * A job as a worker sees it: its data and timestamps, a signal that aborts at its
 * deadline, on cancellation or when the worker loses it, and `done()` / `fail()`, of which
 * only the first call counts.
 *
 * @module
 */
import { TimeoutError, ValidationError } from '@taskpool/protocol';
import { findNonJson } from '@taskpool/protocol/internal';
import type { Claimed } from './modes/mode.js';
import { checkFailOptions } from './options.js';

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
export interface Job<TData = unknown, TResult = unknown> {
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
  /** Records the result; resolves false when the job was no longer this worker's. */
  done(value: TResult): Promise<boolean>;
  /** Records a failure (or schedules a retry); resolves false when no longer this worker's. */
  fail(error: unknown, options?: FailOptions): Promise<boolean>;
}

/** How a job ended, as handed to the worker. */
export type Settlement =
  | { kind: 'done'; value: unknown }
  | { kind: 'fail'; error: unknown; retry: boolean };

/** The worker's implementation of {@link Job}. */
export class WorkerJob<TData, TResult> implements Job<TData, TResult> {
  readonly claimed: Claimed;
  readonly #settle: (job: WorkerJob<TData, TResult>, settlement: Settlement) => Promise<boolean>;
  readonly #controller = new AbortController();
  #outcome: Promise<boolean> | undefined;
  #finishedAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    claimed: Claimed,
    settle: (job: WorkerJob<TData, TResult>, settlement: Settlement) => Promise<boolean>,
  ) {
    this.claimed = claimed;
    this.#settle = settle;
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
    this.#outcome = this.#settle(this, settlement);
    return this.#outcome;
  }
}
