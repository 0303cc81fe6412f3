/**
 * A queue consumer: takes jobs from Redis up to its concurrency, yields them as an async
 * iterator (or runs `process()`'s handler on each), records how each ended (and counts and
 * publishes it: `queue.metrics()`, the job-ended channel), and stops without stranding any:
 * jobs it took but did not finish go back to the queue.
 *
 * Where a consumer is in its life is one field, its phase, and every move from one phase to
 * another is made in one method (`#enter`).
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
import { type JobHandler, runHandler } from './handler-runner.js';
import { type Job, type Settlement, WorkerJob } from './job.js';
import { JobIterator } from './job-iterator.js';
import type { Claimed, Mode, WorkSide } from './modes/mode.js';
import { checkStopOptions } from './options.js';
import { Slots } from './slots.js';
import { retryTransient, settlesWithin, sleep, whenAborted } from './time.js';
import { type Outcome, parseCancel } from './wire.js';

/** Options of `queue.jobs()` and `queue.process()`. */
export interface WorkOptions {
  /**
   * How many jobs this consumer holds at once.
   *
   * @default 1
   * @example 8
   */
  concurrency?: number;
  /**
   * Stops the consumer when aborted, as `stop()` does.
   *
   * @example AbortSignal.timeout(60_000)
   */
  signal?: AbortSignal;
  /**
   * The priorities this consumer serves, highest first.
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

/** A running queue consumer, as `queue.process()` and `serveQueue()` return it. */
export interface QueueConsumer {
  /** This consumer's id (`host:pid:random`); reliable mode names its processing list after it. */
  readonly id: string;
  /** How many jobs it holds now. */
  readonly running: number;
  /** Stops taking jobs, lets running ones finish, hands back the rest. */
  stop(options?: StopOptions): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A consumer whose jobs are read with `for await`, as `queue.jobs()` returns it. */
export interface JobStream<TData = unknown, TResult = unknown, TProgress = unknown>
  extends QueueConsumer,
    AsyncIterableIterator<Job<TData, TResult, TProgress>> {}

/** Grace after a stop deadline for handing jobs back and closing. */
const CLEANUP_MS = 1_000;
/** The pause after a failed take before the next: 100 ms, doubling, up to 2 s. */
const TAKE_BACKOFF = { base: 100, cap: 2_000 };

/**
 * How Redis took a job's end: its result or final failure recorded, or a failed attempt
 * handed back to be retried; null when the job was no longer this consumer's.
 */
type Recorded = 'completed' | 'failed' | 'retried' | null;

/**
 * A consumer's phases, in the order it goes through them. What is true in each:
 *
 * - `starting`: it registers (reliable mode's lease) and subscribes to cancellations;
 *   nothing is taken yet.
 * - `taking`: the take loop takes jobs whenever a slot is free.
 * - `stopping`: `stop()` was called; nothing new is taken, and a take in flight is being
 *   ended (the jobs it brings are still admitted).
 * - `draining`: the take loop has ended: no more jobs come, and those held may finish.
 * - `releasing`: nothing is held any more, or the stop deadline passed: Redis is given up
 *   on (settlements still being retried stop), the jobs still held are abandoned and handed
 *   back, and the connection closes. A take still stuck (Redis unreachable) is left behind.
 * - `closed`: `stop()` has finished.
 */
const PHASES = ['starting', 'taking', 'stopping', 'draining', 'releasing', 'closed'] as const;
type Phase = (typeof PHASES)[number];

/** The phases each phase may be entered from; any other move is refused. */
const ENTERED_FROM: { readonly [P in Phase]: readonly Phase[] } = {
  starting: [],
  taking: ['starting'],
  stopping: ['starting', 'taking'],
  // After a stop, or by itself when starting failed (the take loop then never ran).
  draining: ['starting', 'taking', 'stopping'],
  // From 'stopping' when the deadline passed before the take loop ended.
  releasing: ['stopping', 'draining'],
  closed: ['releasing'],
};

/** What the queue gives a consumer besides its options. */
interface ConsumerSetup<TData, TResult, TProgress> {
  /** `process()`'s handler, run on each job; without one, the jobs are read with `for await`. */
  handler?: JobHandler<TData, TResult, TProgress>;
  /** Called once the consumer has stopped. */
  onStopped?: () => void;
}

/** The consumer behind `jobs()`, `process()` and `serveQueue()`. */
export class Consumer<TData, TResult, TProgress = unknown>
  implements JobStream<TData, TResult, TProgress>
{
  readonly id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #context: QueueContext;
  readonly #side: WorkSide;
  readonly #slots: Slots<WorkerJob<TData, TResult, TProgress>>;
  /** Taken from Redis and not yet recorded as finished. */
  readonly #owned = new Map<string, WorkerJob<TData, TResult, TProgress>>();
  /** Taken and not yet yielded, for `for await` (or the handler runner). */
  readonly #jobs: JobIterator<WorkerJob<TData, TResult, TProgress>>;
  /** Where this consumer is in its life; changed only by {@link #enter}. */
  #phase: Phase = 'starting';
  /** Aborted on entering 'stopping': wakes the take loop's waits. */
  readonly #stopping = new AbortController();
  /** Aborted on entering 'releasing': settlements still retried against Redis give up. */
  readonly #giveUp = new AbortController();
  readonly #loop: Promise<void>;
  /** The one shutdown, which every `stop()` returns. */
  #stopped: Promise<void> | undefined;
  #unlistenCancel: (() => void) | undefined;
  readonly #onStopped: () => void;

  constructor(
    context: QueueContext,
    mode: Mode,
    options: WorkOptions = {},
    setup: ConsumerSetup<TData, TResult, TProgress> = {},
  ) {
    this.#context = context;
    this.#onStopped = setup.onStopped ?? (() => {});
    this.#slots = new Slots(options.concurrency ?? 1);
    this.#jobs = new JobIterator({
      exhausted: () => this.#reached('draining'),
      stop: async () => {
        void this.stop();
        await settlesWithin(this.#loop, context.options.closeTimeout);
      },
      handBack: (jobs) => this.#handBack(jobs, context.options.closeTimeout),
    });
    this.#side = mode.workSide(
      context,
      { id: this.id, priorities: options.priorities ?? context.options.priorities },
      {
        held: () => [...this.#owned.keys()],
        leaseLost: () => this.#leaseLost(),
      },
    );
    // Whatever ends the loop (a failed start ends it at once) ends iteration too.
    this.#loop = this.#run()
      .catch(context.report)
      .finally(() => this.#enter('draining'));
    if (setup.handler) {
      runHandler(this.#jobs, setup.handler, {
        keepSlotWhile: (job, work) => this.#keepSlotWhile(job, work),
        report: context.report,
      });
    }
    // After the loop exists: a stop waits for it.
    if (options.signal?.aborted) void this.stop();
    else options.signal?.addEventListener('abort', () => void this.stop(), { once: true });
  }

  get running(): number {
    return this.#owned.size;
  }

  /**
   * Moves to phase `next` if it may be entered from the current one (see
   * {@link ENTERED_FROM}), and does what entering it means.
   */
  #enter(next: Phase): void {
    if (!ENTERED_FROM[next].includes(this.#phase)) return;
    this.#phase = next;
    switch (next) {
      case 'stopping':
        this.#stopping.abort();
        break;
      case 'draining':
        // A reader waiting for a job learns that none will come.
        this.#jobs.wake();
        break;
      case 'releasing':
        this.#giveUp.abort();
        this.#jobs.wake();
        break;
      case 'closed':
        this.#onStopped();
        break;
    }
  }

  /** True once this consumer is in `phase` or past it. */
  #reached(phase: Phase): boolean {
    return PHASES.indexOf(this.#phase) >= PHASES.indexOf(phase);
  }

  async #run(): Promise<void> {
    const stopping = this.#stopping.signal;
    const ready = Promise.all([
      this.#side.start(),
      this.#context
        .subscriber()
        .listen(this.#context.keys.cancel, (text) => this.#cancel(text))
        .then((unlisten) => {
          // Subscribed after a stop had already unsubscribed: undone at once.
          if (this.#reached('releasing')) unlisten();
          else this.#unlistenCancel = unlisten;
        }),
    ]);
    // A failed start is reported once, here; the loop then ends (no job can be taken).
    const started = ready.then(
      () => true,
      (error: unknown) => {
        this.#context.report(error);
        return false;
      },
    );
    if (!(await Promise.race([started, whenAborted(stopping).then(() => true)]))) return;
    this.#enter('taking');
    let failures = 0;
    while (this.#phase === 'taking') {
      await this.#slots.until(() => this.#slots.free > 0, stopping);
      if (this.#phase !== 'taking') break;
      let claimed: Claimed[];
      try {
        claimed = await this.#side.take(this.#slots.free);
        failures = 0;
      } catch (error) {
        if (this.#phase !== 'taking') break;
        this.#context.report(error);
        await sleep(backoffDelay(TAKE_BACKOFF, failures++), stopping);
        continue;
      }
      for (const job of claimed) this.#admit(job);
    }
  }

  #admit(claimed: Claimed): void {
    if (this.#reached('releasing')) {
      // A take that was stuck while Redis was unreachable returned after the consumer gave
      // up on its jobs: hand the job straight back.
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
    this.#slots.hold(job);
    if (claimed.unreadable !== undefined) {
      const error = new ValidationError('INVALID_ARGS', `job ${job.id}: ${claimed.unreadable}`);
      void job.fail(error, { retry: false });
    } else if (claimed.deadline !== null && claimed.deadline <= Date.now()) {
      const error = new TimeoutError(Math.max(0, claimed.deadline - claimed.queuedAt));
      void job.fail(error, { retry: false });
    } else {
      job.armDeadline();
      this.#jobs.push(job);
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
   * longer this consumer's) are left out, so that a job is counted once across consumers.
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

  /**
   * Forgets a job that is settled or abandoned, once. Its slot is free then, unless its
   * handler still runs (see {@link #keepSlotWhile}).
   */
  #drop(job: WorkerJob<TData, TResult, TProgress>): void {
    if (this.#owned.get(job.id) !== job) return;
    this.#owned.delete(job.id);
    this.#jobs.remove(job);
    this.#slots.release(job, 'job');
  }

  /**
   * Runs `work`, `process()`'s handler on `job`, keeping the job's slot held until it has
   * returned: a handler may settle its job and carry on, and what it still does counts
   * against the concurrency (and a stop waits for it).
   */
  async #keepSlotWhile(
    job: WorkerJob<TData, TResult, TProgress>,
    work: () => Promise<void>,
  ): Promise<void> {
    this.#slots.keep(job, 'handler');
    try {
      await work();
    } finally {
      this.#slots.release(job, 'handler');
    }
  }

  /** Abandons `jobs` (their signal aborts with a ClosedError) and hands them back within `ms`. */
  async #handBack(jobs: WorkerJob<TData, TResult, TProgress>[], ms: number): Promise<void> {
    for (const job of jobs) {
      job.abandon(new ClosedError('worker'));
      this.#drop(job);
    }
    if (jobs.length === 0) return;
    await settlesWithin(
      this.#side.release(jobs.map((job) => job.claimed)).catch(this.#context.report),
      ms,
    );
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

  next(): Promise<IteratorResult<Job<TData, TResult, TProgress>>> {
    return this.#jobs.next();
  }

  /** Ends iteration: the consumer stops, and jobs taken but not yielded go back to the queue. */
  return(): Promise<IteratorResult<Job<TData, TResult, TProgress>>> {
    return this.#jobs.return();
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
    this.#enter('stopping');
    // A blocked pop returns at once when unblocked; retry in case it was just being sent.
    // The loop's end enters 'draining'.
    while (!(await settlesWithin(this.#loop, 50)) && left() > 0) {
      this.#side.unblock().catch(this.#context.report);
    }
    const idle = new AbortController();
    await Promise.race([
      this.#slots.until(() => this.#slots.held === 0, idle.signal),
      sleep(left(), idle.signal),
    ]);
    idle.abort();
    this.#enter('releasing');
    this.#unlistenCancel?.();
    // A job whose end is being recorded is not handed back: recorded, it must not run again
    // (simple mode's hand-back queues it anew); its settlement drops it.
    const unsettled = [...this.#owned.values()].filter((job) => !job.settled);
    await this.#handBack(unsettled, CLEANUP_MS / 4);
    await this.#side.close(CLEANUP_MS / 2).catch(this.#context.report);
    this.#enter('closed');
  }
}
