/**
 * The submitting side of a queue: queues jobs, keeps one entry per job it waits for, and
 * settles each exactly once: with the published outcome, with what it finds in the job's
 * record after a reconnection, with a TimeoutError at the deadline, with the abort reason,
 * or with a ClosedError on close. A job Redis lost (its record is gone after a restart) is
 * queued again under the same id. Progress updates published on the same channel feed the
 * job's handle until it settles.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { ClosedError, JobFailedError, TimeoutError, ValidationError } from '@taskpool/protocol';
import { argumentError, findNonJson, fromWire } from '@taskpool/protocol/internal';
import type { QueueContext } from './context.js';
import type { CancelReason, Mode, NewJob, SubmitSide, WatchResult } from './modes/mode.js';
import { checkCollectOptions, checkSubmitOptions, keepsNoRecords } from './options.js';
import { NO_PROGRESS, ProgressFeed } from './progress.js';
import { retryTransient } from './time.js';
import { type Outcome, parseMessage } from './wire.js';

/** Options of `submit()` and `run()`. */
export interface SubmitOptions {
  /**
   * Milliseconds from now until the result promise rejects with `TimeoutError`; the job is
   * then cancelled, and a worker that has it aborts it. At most `MAX_TIMER_MS` (2^31 - 1);
   * `null` waits for ever.
   *
   * @default the queue's `timeout` (30 s)
   * @example 5_000
   */
  timeout?: number | null;
  /**
   * Rejects the promise with `signal.reason` and cancels the job when aborted.
   *
   * @example controller.signal
   */
  signal?: AbortSignal;
  /**
   * The job's priority: one of the queue's `priorities`.
   *
   * @default the queue's `defaultPriority`
   * @example 'high'
   */
  priority?: string;
  /**
   * Attempts this job may have (reliable mode).
   *
   * @default the queue's `maxAttempts`
   * @example 1
   */
  maxAttempts?: number;
}

/** Options of `collect()`. */
export type CollectOptions = Pick<SubmitOptions, 'timeout' | 'signal'>;

/** A submitted job. */
export interface JobHandle<TResult = unknown, TProgress = unknown> {
  /** The job's id, a v4 UUID. */
  readonly id: string;
  /** The length of its priority's list right after it was queued (-1 if resent). */
  readonly queueLength: number;
  /**
   * Settles once: the result, or JobFailedError (its cause is the handler's error),
   * TimeoutError, the abort reason, or ClosedError. Ignoring it is safe: a rejection
   * nobody awaits is not reported as unhandled.
   */
  readonly result: Promise<TResult>;
  /**
   * The job's progress updates (`job.progress(value)` in its handler), recoverable and
   * reliable modes. Yields each update received since submit, in order, and ends once
   * `result` has settled, after the updates that arrived before the outcome; when `result`
   * rejects it just ends (the error is on `result`). Updates are "latest wins": at most
   * `PROGRESS_BUFFER` (64) unread ones are kept, the oldest dropped first. Delivery is
   * best effort across reconnections, where only the latest value (kept in the job's record)
   * is caught up.
   *
   * Reading it is optional and costs nothing when skipped. It can be iterated once: a
   * second `for await` throws a TypeError. Breaking out stops the updates and does not touch
   * the job. In simple mode iterating throws InvalidOptionError (`INVALID_OPTION`).
   *
   * @example
   * ```ts
   * const handle = await queue.submit(files);
   * for await (const update of handle.progress) bar.update(update);
   * console.log(await handle.result);
   * ```
   */
  readonly progress: AsyncIterable<TProgress>;
}

interface Waiting {
  /** Null for a job collected by id: its data is unknown here, so it cannot be resent. */
  job: NewJob | null;
  /** Its handle's progress; null for a job collected by id, or in simple mode. */
  feed: ProgressFeed<unknown> | null;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** Aborted once settled: stops retries of its commands. */
  settled: AbortController;
  promise: Promise<unknown>;
}

/** Builds the error a submitter's promise rejects with for a failed outcome. */
function failedError(outcome: Extract<Outcome, { ok: false }>): JobFailedError {
  const cause = fromWire(outcome.error);
  const tries = outcome.attempts === 1 ? '1 attempt' : `${outcome.attempts} attempts`;
  return new JobFailedError(`job ${outcome.id} failed after ${tries}: ${cause.message}`, {
    cause,
    data: { id: outcome.id, attempts: outcome.attempts },
  });
}

/** The submitter of one queue. */
export class Submitter {
  readonly #context: QueueContext;
  readonly #side: SubmitSide;
  readonly #waiting = new Map<string, Waiting>();
  #listening: Promise<void> | undefined;
  #closed = false;

  constructor(context: QueueContext, mode: Mode) {
    this.#context = context;
    this.#side = mode.submitSide(context);
  }

  /** How many jobs this submitter waits for. */
  get waiting(): number {
    return this.#waiting.size;
  }

  async submit(data: unknown, options: SubmitOptions = {}): Promise<JobHandle<unknown>> {
    if (this.#closed) throw new ClosedError('queue');
    const { timeout, signal, job } = this.#newJob(data, options);
    signal?.throwIfAborted();
    const feed = this.#context.options.mode === 'simple' ? null : new ProgressFeed(job.id);
    const waiting = this.#wait(job, timeout, signal, feed);
    const enqueue = async () => {
      await this.#listen();
      const length = await retryTransient(
        () => this.#side.enqueue(job, timeout),
        waiting.settled.signal,
      );
      this.#context.metrics?.jobSubmitted();
      return length;
    };
    const enqueued = enqueue();
    enqueued.catch((error: unknown) => waiting.reject(error));
    // A fast worker may publish the result before the enqueue reply arrives: still wait
    // for the reply then. Timeouts, aborts and close reject through `waiting`.
    const queueLength = await Promise.race([enqueued, waiting.promise.then(() => enqueued)]);
    return { id: job.id, queueLength, result: waiting.promise, progress: feed ?? NO_PROGRESS };
  }

  /** Waits for the outcome of a job submitted earlier, perhaps by another process. */
  async collect(id: string, options: CollectOptions = {}): Promise<unknown> {
    if (this.#closed) throw new ClosedError('queue');
    if (this.#context.options.mode === 'simple') {
      throw keepsNoRecords('collect');
    }
    if (typeof id !== 'string') throw argumentError('collect', 'id', 'a job id (a string)', id);
    checkCollectOptions(options);
    const existing = this.#waiting.get(id);
    if (existing) return existing.promise;
    const timeout = options.timeout === undefined ? this.#context.options.timeout : options.timeout;
    options.signal?.throwIfAborted();
    const waiting = this.#wait(null, timeout, options.signal, null, id);
    await Promise.race([this.#listen(), waiting.promise.catch(() => {})]);
    if (!waiting.settled.signal.aborted) this.#check(id, waiting);
    return waiting.promise;
  }

  /** Rejects every job still waited for with ClosedError; their jobs stay queued. */
  close(): void {
    this.#closed = true;
    for (const waiting of this.#waiting.values()) waiting.reject(new ClosedError('queue'));
  }

  #newJob(data: unknown, options: SubmitOptions) {
    const queue = this.#context.options;
    checkSubmitOptions(options, queue);
    const priority = options.priority ?? queue.defaultPriority;
    const problem = findNonJson(data);
    if (problem !== undefined) throw new ValidationError('INVALID_ARGS', `submit: ${problem}`);
    const signal = options.signal;
    const timeout = options.timeout === undefined ? queue.timeout : options.timeout;
    const attempts = options.maxAttempts ?? queue.maxAttempts;
    const queuedAt = Date.now();
    const job: NewJob = {
      id: randomUUID(),
      json: JSON.stringify(data) ?? 'null',
      priority,
      maxAttempts: attempts,
      queuedAt,
      deadline: timeout === null ? null : queuedAt + timeout,
    };
    return { timeout, signal, job };
  }

  /** Registers a job to wait for; its promise settles once, whoever settles it. */
  #wait(
    job: NewJob | null,
    timeout: number | null,
    signal: AbortSignal | undefined,
    feed: ProgressFeed<unknown> | null,
    id = job?.id ?? '',
  ): Waiting {
    const settled = new AbortController();
    let resolve!: (value: unknown) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => {});
    const timer =
      timeout === null
        ? undefined
        : setTimeout(() => {
            waiting.reject(new TimeoutError(timeout));
            this.#cancel(job, 'timeout');
          }, timeout);
    const onAbort = () => {
      waiting.reject(signal?.reason);
      this.#cancel(job, 'abort');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const end = () => {
      if (this.#waiting.get(id) === waiting) this.#waiting.delete(id);
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      settled.abort();
      feed?.end();
    };
    const waiting: Waiting = {
      job,
      feed,
      settled,
      promise,
      resolve: (value) => {
        if (settled.signal.aborted) return;
        end();
        resolve(value);
      },
      reject: (error) => {
        if (settled.signal.aborted) return;
        end();
        reject(error);
      },
    };
    this.#waiting.set(id, waiting);
    return waiting;
  }

  #cancel(job: NewJob | null, reason: CancelReason): void {
    if (job) this.#side.cancel(job, reason).catch(this.#context.report);
  }

  /** Subscribes to this submitter's outcome channel once. */
  #listen(): Promise<void> {
    this.#listening ??= (async () => {
      const subscriber = this.#context.subscriber();
      subscriber.onResubscribed(() => this.#reconcile());
      await subscriber.listen(this.#context.keys.done(this.#context.options.clientId), (text) =>
        this.#receive(text),
      );
    })().catch((error: unknown) => {
      this.#listening = undefined;
      throw error;
    });
    return this.#listening;
  }

  #receive(text: string): void {
    const message = parseMessage(text);
    if (!message) {
      this.#context.report(new Error(`ignored a malformed message: ${text.slice(0, 200)}`));
      return;
    }
    if (message.kind === 'outcome') {
      this.#settle(message.outcome);
      return;
    }
    const { id, seq, value } = message.progress;
    this.#waiting.get(id)?.feed?.push(seq, value);
  }

  #settle(outcome: Outcome): void {
    const waiting = this.#waiting.get(outcome.id);
    if (!waiting) return;
    if (!outcome.ok) {
      waiting.reject(failedError(outcome));
      return;
    }
    waiting.resolve(outcome.value);
    this.#side.forget(outcome.id).catch(this.#context.report);
  }

  /** After a reconnection: collect what was published meanwhile, resend what Redis lost. */
  #reconcile(): void {
    for (const [id, waiting] of this.#waiting) this.#check(id, waiting);
  }

  #check(id: string, waiting: Waiting): void {
    const signal = waiting.settled.signal;
    retryTransient(async () => {
      const state = await this.#side.watch(id);
      this.#catchUp(waiting, state);
      if (state.kind === 'finished') this.#settle(state.outcome);
      else if (state.kind === 'missing') await this.#resend(id, waiting);
    }, signal).catch((error: unknown) => {
      if (!signal.aborted) this.#context.report(error);
    });
  }

  /** Feeds the latest progress the record keeps, if this handle has not seen it yet. */
  #catchUp(waiting: Waiting, state: WatchResult): void {
    if ((state.kind === 'pending' || state.kind === 'finished') && state.progress) {
      waiting.feed?.push(state.progress.seq, state.progress.value);
    }
  }

  async #resend(id: string, waiting: Waiting): Promise<void> {
    const job = waiting.job;
    if (!job) {
      waiting.reject(
        new JobFailedError(`job ${id} is unknown, or its record expired`, { data: { id } }),
      );
      return;
    }
    const timeout = job.deadline === null ? null : job.deadline - Date.now();
    if (timeout !== null && timeout <= 0) return;
    // The new record counts its progress from 1 again.
    waiting.feed?.restart();
    await this.#side.enqueue(job, timeout);
  }
}
