/**
 * A worker: takes jobs from Redis up to its concurrency, yields them as an async iterator,
 * records how each ended (and counts and publishes it: `queue.metrics()`, the job-ended
 * channel), and stops without stranding any: jobs it took but did not finish go back to
 * the queue.
 *
 * @module
 */

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ClosedError, TimeoutError, ValidationError, WorkerLostError } from '@taskpool/protocol';
import { backoffDelay, toWire } from '@taskpool/protocol/internal';
import { retryDelay } from './backoff.js';
import type { QueueContext } from './context.js';
import { channels, type JobEndedMessage } from './diagnostics.js';
import { type Job, type Settlement, WorkerJob } from './job.js';
import type { Claimed, Mode, WorkSide } from './modes/mode.js';
import { checkStopOptions } from './options.js';
import { Slots } from './slots.js';
import { retryTransient, settlesWithin, sleep, whenAborted } from './time.js';
import { type Outcome, parseCancel } from './wire.js';

/** Options of `queue.jobs()` and `queue.process()`. */
export interface WorkOptions {
  /**
   * How many jobs this worker holds at once.
   *
   * @default 1
   * @example 8
   */
  concurrency?: number;
  /**
   * Stops the worker when aborted, as `stop()` does.
   *
   * @example AbortSignal.timeout(60_000)
   */
  signal?: AbortSignal;
  /**
   * The priorities this worker serves, highest first.
   *
   * @default all of the queue's priorities
   * @example ['high']
   */
  priorities?: readonly string[];
}

/** Options of `stop()` and `close()`. */
export interface StopOptions {
  /**
   * Milliseconds to let running jobs finish. Jobs still running then are aborted (their
   * `signal` fires with a ClosedError) and handed back to the queue; the call then returns
   * within one more second even if Redis is unreachable.
   *
   * @default the queue's `closeTimeout`
   * @example 60_000
   */
  timeout?: number;
}

/** A running worker. */
export interface Worker {
  /** This worker's id (`host:pid:random`); reliable mode names its processing list after it. */
  readonly id: string;
  /** How many jobs it holds now. */
  readonly running: number;
  /** Stops taking jobs, lets running ones finish, hands back the rest. */
  stop(options?: StopOptions): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A worker whose jobs are consumed with `for await`. */
export interface JobStream<TData = unknown, TResult = unknown, TProgress = unknown>
  extends Worker,
    AsyncIterableIterator<Job<TData, TResult, TProgress>> {}

/** Grace after a stop deadline for handing jobs back and closing. */
const CLEANUP_MS = 1_000;
/** The pause after a failed take before the next: 100 ms, doubling, up to 2 s. */
const TAKE_BACKOFF = { base: 100, cap: 2_000 };

/**
 * How Redis took a job's end: its result or final failure recorded, or a failed attempt
 * handed back to be retried; null when the job was no longer this worker's.
 */
type Recorded = 'completed' | 'failed' | 'retried' | null;

/** The worker behind `jobs()` and `process()`. */
export class QueueWorker<TData, TResult, TProgress = unknown>
  implements JobStream<TData, TResult, TProgress>
{
  readonly id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #context: QueueContext;
  readonly #side: WorkSide;
  readonly #slots: Slots;
  /** Taken from Redis and not yet recorded as finished. */
  readonly #owned = new Map<string, WorkerJob<TData, TResult, TProgress>>();
  /** Taken and not yet yielded. */
  readonly #buffer: WorkerJob<TData, TResult, TProgress>[] = [];
  readonly #wakeReader = new Set<() => void>();
  /** Aborted when the worker stops taking jobs. */
  readonly #stopping = new AbortController();
  /** Aborted when the stop deadline passed: give up on Redis. */
  readonly #giveUp = new AbortController();
  readonly #loop: Promise<void>;
  #stopped: Promise<void> | undefined;
  #loopEnded = false;
  /** Set once stop() has finished. */
  #closed = false;
  #unlistenCancel: (() => void) | undefined;

  readonly #onStopped: () => void;

  constructor(
    context: QueueContext,
    mode: Mode,
    options: WorkOptions = {},
    onStopped: () => void = () => {},
  ) {
    this.#context = context;
    this.#onStopped = onStopped;
    this.#slots = new Slots(options.concurrency ?? 1);
    this.#side = mode.workSide(
      context,
      { id: this.id, priorities: options.priorities ?? context.options.priorities },
      {
        held: () => [...this.#owned.keys()],
        leaseLost: () => this.#leaseLost(),
      },
    );
    if (options.signal?.aborted) void this.stop();
    else options.signal?.addEventListener('abort', () => void this.stop(), { once: true });
    this.#loop = this.#run().finally(() => {
      this.#loopEnded = true;
      this.#wake();
    });
  }

  get running(): number {
    return this.#owned.size;
  }

  /** Holds one more slot (a handler still running after its job was settled). */
  hold(): void {
    this.#slots.hold();
  }

  /** Releases a slot taken with {@link hold}. */
  unhold(): void {
    this.#slots.release();
  }

  async #run(): Promise<void> {
    const stopping = this.#stopping.signal;
    const ready = Promise.all([
      this.#side.start(),
      this.#context
        .subscriber()
        .listen(this.#context.keys.cancel, (text) => this.#cancel(text))
        .then((unlisten) => {
          this.#unlistenCancel = unlisten;
        }),
    ]);
    ready.catch(this.#context.report);
    await Promise.race([ready, whenAborted(stopping)]);
    let failures = 0;
    while (!stopping.aborted) {
      await this.#slots.until(() => this.#slots.free > 0, stopping);
      if (stopping.aborted) break;
      let claimed: Claimed[];
      try {
        claimed = await this.#side.take(this.#slots.free);
        failures = 0;
      } catch (error) {
        if (stopping.aborted) break;
        this.#context.report(error);
        await sleep(backoffDelay(TAKE_BACKOFF, failures++), stopping);
        continue;
      }
      for (const job of claimed) this.#admit(job);
    }
  }

  #admit(claimed: Claimed): void {
    if (this.#closed) {
      // A take that was stuck while Redis was unreachable returned after the worker
      // stopped: hand the job straight back.
      this.#side.release([claimed]).catch(this.#context.report);
      return;
    }
    // Without it (simple mode) job.progress() refuses.
    const record = this.#side.progress;
    const metrics = this.#context.metrics;
    // The clock is read only for someone who will use the reading.
    const takenAt = metrics || channels.jobEnded.hasSubscribers ? performance.now() : 0;
    const job = new WorkerJob<TData, TResult, TProgress>(
      claimed,
      {
        settle: (j, s) => this.#settle(j, s),
        ...(record && { progress: (j, json) => this.#progress(record, j.claimed, json) }),
      },
      takenAt,
    );
    metrics?.jobTaken();
    this.#owned.set(job.id, job);
    this.#slots.hold();
    if (claimed.unreadable !== undefined) {
      const error = new ValidationError('INVALID_ARGS', `job ${job.id}: ${claimed.unreadable}`);
      void job.fail(error, { retry: false });
    } else if (claimed.deadline !== null && claimed.deadline <= Date.now()) {
      const error = new TimeoutError(Math.max(0, claimed.deadline - claimed.queuedAt));
      void job.fail(error, { retry: false });
    } else {
      job.armDeadline();
      this.#buffer.push(job);
      this.#wake();
    }
  }

  async #settle(
    job: WorkerJob<TData, TResult, TProgress>,
    settlement: Settlement,
  ): Promise<boolean> {
    const claimed = job.claimed;
    let recorded: Recorded;
    try {
      recorded = await retryTransient(() => this.#record(claimed, settlement), this.#giveUp.signal);
    } catch (error) {
      this.#context.report(error);
      recorded = null;
    } finally {
      this.#drop(job);
    }
    if (recorded !== null) this.#ended(job, recorded);
    return recorded !== null;
  }

  /**
   * Counts and publishes a job whose end Redis recorded. Ends Redis refused (the job was no
   * longer this worker's) are left out, so that a job is counted once across workers.
   */
  #ended(job: WorkerJob<TData, TResult, TProgress>, recorded: NonNullable<Recorded>): void {
    const outcome = recorded === 'completed' ? 'completed' : 'failed';
    this.#context.metrics?.jobEnded(outcome, recorded === 'retried', job.takenAt, job.endedAt);
    // takenAt is 0 for a job taken before anyone subscribed, with metrics off: no run time.
    if (job.takenAt !== 0 && channels.jobEnded.hasSubscribers) {
      const { name, mode } = this.#context.options;
      const message: JobEndedMessage = {
        queue: name,
        mode,
        outcome,
        ms: job.endedAt - job.takenAt,
      };
      channels.jobEnded.publish(message);
    }
  }

  /**
   * Records a progress update within the queue's `commandTimeout`. Progress is best effort:
   * it is not retried (ioredis resends it after a reconnection), and a failure resolves
   * false and goes to `onError` rather than failing the job.
   */
  async #progress(
    record: NonNullable<WorkSide['progress']>,
    claimed: Claimed,
    json: string,
  ): Promise<boolean> {
    try {
      return await this.#context.bounded(`job ${claimed.id}: progress`, record(claimed, json));
    } catch (error) {
      this.#context.report(error);
      return false;
    }
  }

  async #record(claimed: Claimed, settlement: Settlement): Promise<Recorded> {
    if (settlement.kind === 'done') {
      const outcome: Outcome = { id: claimed.id, ok: true, value: settlement.value };
      return (await this.#side.finish(claimed, outcome)) ? 'completed' : null;
    }
    const error = toWire(settlement.error);
    const delay = retryDelay(this.#context.options.backoff, claimed.attempt);
    const retry =
      this.#side.retries &&
      settlement.retry &&
      claimed.attempt < claimed.maxAttempts &&
      (claimed.deadline === null || Date.now() + delay < claimed.deadline);
    if (retry) return (await this.#side.retry(claimed, error, delay)) ? 'retried' : null;
    const outcome: Outcome = { id: claimed.id, ok: false, error, attempts: claimed.attempt };
    return (await this.#side.finish(claimed, outcome)) ? 'failed' : null;
  }

  /** Forgets a job that is settled or abandoned, once. */
  #drop(job: WorkerJob<TData, TResult, TProgress>): void {
    if (this.#owned.get(job.id) !== job) return;
    this.#owned.delete(job.id);
    const buffered = this.#buffer.indexOf(job);
    if (buffered >= 0) this.#buffer.splice(buffered, 1);
    this.#slots.release();
  }

  #cancel(text: string): void {
    const cancel = parseCancel(text);
    const job = cancel && this.#owned.get(cancel.id);
    if (!job) return;
    const claimed = job.claimed;
    const reason =
      cancel?.reason === 'timeout'
        ? new TimeoutError(Math.max(0, (claimed.deadline ?? Date.now()) - claimed.queuedAt))
        : new DOMException(`job ${job.id} was cancelled by its submitter`, 'AbortError');
    job.abort(reason);
    void job.fail(reason, { retry: false });
  }

  #leaseLost(): void {
    const reason = new WorkerLostError(
      'this worker lost its lease; its jobs went back to the queue',
    );
    for (const job of [...this.#owned.values()]) {
      job.abandon(reason);
      this.#drop(job);
    }
  }

  #wake(): void {
    for (const wake of this.#wakeReader) wake();
  }

  async next(): Promise<IteratorResult<Job<TData, TResult, TProgress>>> {
    for (;;) {
      const job = this.#buffer.shift();
      if (job) {
        if (job.settled) continue;
        return { done: false, value: job };
      }
      if (this.#loopEnded) return { done: true, value: undefined };
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#wakeReader.delete(wake);
          resolve();
        };
        this.#wakeReader.add(wake);
      });
    }
  }

  /** Ends iteration: the worker stops, and jobs taken but not yielded go back to the queue. */
  async return(): Promise<IteratorResult<Job<TData, TResult, TProgress>>> {
    void this.stop();
    // Wait for a pop in flight: what it brings back is handed back too.
    await settlesWithin(this.#loop, this.#context.options.closeTimeout);
    const unread = this.#buffer.splice(0);
    for (const job of unread) {
      job.abandon(new ClosedError('worker'));
      this.#drop(job);
    }
    if (unread.length > 0) {
      await settlesWithin(
        this.#side.release(unread.map((job) => job.claimed)).catch(this.#context.report),
        this.#context.options.closeTimeout,
      );
    }
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  stop(options: StopOptions = {}): Promise<void> {
    try {
      checkStopOptions('stop', options);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#stopped ??= this.#shutdown(options.timeout ?? this.#context.options.closeTimeout);
    return this.#stopped;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #shutdown(timeout: number): Promise<void> {
    const deadline = Date.now() + timeout;
    const left = () => Math.max(0, deadline - Date.now());
    this.#stopping.abort();
    // A blocked pop returns at once when unblocked; retry in case it was just being sent.
    while (!(await settlesWithin(this.#loop, 50)) && left() > 0) {
      this.#side.unblock().catch(this.#context.report);
    }
    const idle = new AbortController();
    await Promise.race([
      this.#slots.until(() => this.#slots.held === 0, idle.signal),
      sleep(left(), idle.signal),
    ]);
    idle.abort();
    this.#giveUp.abort();
    const unfinished = [...this.#owned.values()];
    for (const job of unfinished) {
      job.abandon(new ClosedError('worker'));
      this.#drop(job);
    }
    this.#unlistenCancel?.();
    const report = this.#context.report;
    if (unfinished.length > 0) {
      await settlesWithin(
        this.#side.release(unfinished.map((job) => job.claimed)).catch(report),
        CLEANUP_MS / 2,
      );
    }
    await this.#side.close(CLEANUP_MS / 2).catch(report);
    this.#loopEnded = true;
    this.#closed = true;
    this.#wake();
    this.#onStopped();
  }
}
