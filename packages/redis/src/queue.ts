/**
 * `createQueue()`: the composition root. It validates the options, picks the mode, and
 * hands out the submitter (`submit`, `run`, `collect`) and consumers (`jobs`, `process`).
 *
 * @module
 */
import { ClosedError } from '@taskpool/protocol';
import { argumentError } from '@taskpool/protocol/internal';
import { masters } from './connection.js';
import {
  Consumer,
  type JobStream,
  type QueueConsumer,
  type StopOptions,
  type WorkOptions,
} from './consumer.js';
import { QueueContext } from './context.js';
import type { JobHandler } from './handler-runner.js';
import { type JobRecord, readJobRecord } from './job-record.js';
import type { Mode } from './modes/mode.js';
import { recoverableMode } from './modes/recoverable.js';
import { reliableMode } from './modes/reliable.js';
import { simpleMode } from './modes/simple.js';
import {
  checkStopOptions,
  checkWorkOptions,
  keepsNoRecords,
  type QueueMode,
  type QueueOptions,
  resolveQueueOptions,
} from './options.js';
import type { QueueMetricsSnapshot } from './queue-metrics.js';
import { type QueueStats, readStats } from './stats.js';
import { type CollectOptions, type JobHandle, type SubmitOptions, Submitter } from './submitter.js';

/**
 * A Redis job queue: submit jobs from anywhere, work them anywhere. `TProgress` types the
 * progress updates its handlers report (`job.progress()`) and its handles yield.
 */
export interface Queue<TData = unknown, TResult = unknown, TProgress = unknown> {
  readonly name: string;
  readonly mode: QueueMode;
  /** This submitter's id: outcomes of its jobs are published to it. */
  readonly clientId: string;
  /**
   * Queues a job; resolves once Redis has it, with its id, result promise and progress
   * updates (`handle.progress`, recoverable and reliable modes).
   */
  submit(data: TData, options?: SubmitOptions): Promise<JobHandle<TResult, TProgress>>;
  /** Submits and waits for the result. */
  run(data: TData, options?: SubmitOptions): Promise<TResult>;
  /** Waits for the result of a job submitted earlier (recoverable and reliable modes). */
  collect(id: string, options?: CollectOptions): Promise<TResult>;
  /** Starts a consumer whose jobs are read with `for await`. */
  jobs(options?: WorkOptions): JobStream<TData, TResult, TProgress>;
  /** Starts a consumer that runs `handler` for each job. */
  process(handler: JobHandler<TData, TResult, TProgress>, options?: WorkOptions): QueueConsumer;
  /**
   * Counts waiting, delayed, failed and running jobs (read from Redis), and, unless
   * `metrics: false`, this process's `metrics`.
   */
  stats(): Promise<QueueStats>;
  /**
   * What this queue object counted since it was created: jobs its submitter queued, jobs
   * its consumers took, completed, failed, retried and recovered, and their run times.
   * Synchronous and local (no Redis round trip), so an adapter may poll it. Undefined with
   * `metrics: false`, so that metrics that are off do not read as an idle queue.
   *
   * @example
   * ```ts
   * const metrics = queue.metrics();
   * if (metrics) console.log(`${metrics.completed} done, p99 ${metrics.duration.p99} ms`);
   * ```
   */
  metrics(): QueueMetricsSnapshot | undefined;
  /** Reads a job's record (recoverable and reliable modes); null when there is none. */
  getJob(id: string): Promise<JobRecord | null>;
  /** Stops every consumer of this queue object (see `QueueConsumer.stop`). */
  stop(options?: StopOptions): Promise<void>;
  /**
   * Stops the consumers, rejects every result still awaited with ClosedError (the jobs stay
   * queued; `collect()` can pick them up later), and closes the connections.
   */
  close(options?: StopOptions): Promise<void>;
  /** Deletes every key of this queue: all jobs, records and lists. Returns how many. */
  obliterate(): Promise<number>;
  [Symbol.asyncDispose](): Promise<void>;
}

const MODES: Record<QueueMode, Mode> = {
  simple: simpleMode,
  recoverable: recoverableMode,
  reliable: reliableMode,
};

/**
 * Creates a queue handle. It connects lazily on first use and may both submit and work.
 *
 * @example
 * ```ts
 * const queue = createQueue<{ a: number; b: number }, number>({
 *   redis: 'redis://127.0.0.1:6379',
 *   name: 'sums',
 *   mode: 'reliable',
 * });
 * queue.process((job) => job.data.a + job.data.b, { concurrency: 4 });
 * console.log(await queue.run({ a: 8, b: 2 })); // 10
 * await queue.close();
 * ```
 */
export function createQueue<TData = unknown, TResult = unknown, TProgress = unknown>(
  options: QueueOptions,
): Queue<TData, TResult, TProgress> {
  const resolved = resolveQueueOptions(options);
  const context = new QueueContext(resolved);
  const mode = MODES[resolved.mode];
  const submitter = new Submitter(context, mode);
  const consumers = new Set<Consumer<TData, TResult, TProgress>>();
  let closing: Promise<void> | undefined;

  const bounded = <T>(what: string, promise: Promise<T>) => context.bounded(what, promise);

  const startConsumer = (
    what: string,
    workOptions: WorkOptions = {},
    handler?: JobHandler<TData, TResult, TProgress>,
  ) => {
    if (closing) throw new ClosedError('queue');
    checkWorkOptions(what, workOptions, resolved.priorities);
    const consumer: Consumer<TData, TResult, TProgress> = new Consumer(context, mode, workOptions, {
      handler,
      onStopped: () => consumers.delete(consumer),
    });
    consumers.add(consumer);
    return consumer;
  };

  const stopAll = (stopOptions?: StopOptions) =>
    Promise.all([...consumers].map((consumer) => consumer.stop(stopOptions))).then(() => {});

  const queue: Queue<TData, TResult, TProgress> = {
    name: resolved.name,
    mode: resolved.mode,
    clientId: resolved.clientId,
    submit: (data, submitOptions) =>
      submitter.submit(data, submitOptions) as Promise<JobHandle<TResult, TProgress>>,
    run: async (data, submitOptions) =>
      (await submitter.submit(data, submitOptions)).result as Promise<TResult>,
    collect: (id, collectOptions) => submitter.collect(id, collectOptions) as Promise<TResult>,
    jobs: (workOptions) => startConsumer('jobs', workOptions),
    process(handler, workOptions) {
      if (typeof handler !== 'function') {
        throw argumentError('process', 'handler', 'a function', handler);
      }
      return startConsumer('process', workOptions, handler);
    },
    stats: () =>
      bounded(
        'stats',
        readStats(context, {
          awaiting: submitter.waiting,
          running: [...consumers].reduce((n, c) => n + c.running, 0),
        }),
      ),
    metrics: () => context.metrics?.snapshot(),
    getJob(id) {
      // A rejection, as from every other promise-returning method of the queue.
      if (resolved.mode === 'simple') return Promise.reject(keepsNoRecords('getJob'));
      return bounded('getJob', readJobRecord(context, id));
    },
    async stop(stopOptions) {
      checkStopOptions('stop', stopOptions);
      await stopAll(stopOptions);
    },
    close(stopOptions) {
      try {
        checkStopOptions('close', stopOptions);
      } catch (error) {
        return Promise.reject(error);
      }
      closing ??= (async () => {
        await stopAll(stopOptions);
        submitter.close();
        await context.close(1_000);
      })();
      return closing;
    },
    obliterate: () => bounded('obliterate', obliterate(context)),
    [Symbol.asyncDispose]: () => queue.close(),
  };
  return queue;
}

async function obliterate(context: QueueContext): Promise<number> {
  let deleted = 0;
  // On a cluster SCAN reads one node: scan every master (the queue's keys are all on the
  // one that holds its slot, and UNLINK of keys of one slot is routed there).
  for (const server of await masters(context.commands)) {
    let cursor = '0';
    do {
      const [next, keys] = await server.scan(cursor, 'MATCH', context.keys.pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await context.commands.unlink(...keys);
    } while (cursor !== '0');
  }
  return deleted;
}
