/**
 * Queue metrics, counted against a real Redis: each queue object counts what its own
 * submitter and workers did (submitted, taken, completed, failed, retried, recovered) and
 * how long its jobs ran; `taskpool:queue:job-ended` publishes each job a worker ended; and
 * `metrics: false` records nothing but still publishes.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  createQueue,
  type JobEndedMessage,
  QUEUE_CHANNELS,
  QUEUE_MODES,
  type Queue,
  type QueueMetricsSnapshot,
  type QueueMode,
  type QueueOptions,
} from '@taskpool/redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from '../../../test/helpers/redis-server.js';
import { type ChildWorker, cleanupChildWorkers, startChildWorker } from './helpers/child-worker.js';
import { deleteUnder, uniquePrefix } from './helpers/keys.js';
import { delay, eventually } from './helpers/wait.js';

let redis: { url: string; close(): Promise<void> };
beforeAll(async () => {
  redis = await useRedis();
});
afterAll(async () => {
  await cleanupChildWorkers();
  await redis.close();
});

const open: Queue<unknown, unknown>[] = [];
const prefixes: string[] = [];
const children: ChildWorker[] = [];
const listeners: (() => void)[] = [];
afterEach(async () => {
  for (const stop of listeners.splice(0)) stop();
  await Promise.all(children.splice(0).map((child) => child.kill()));
  await Promise.all(open.splice(0).map((queue) => queue.close({ timeout: 2_000 })));
  await Promise.all(prefixes.splice(0).map((prefix) => deleteUnder(redis.url, prefix)));
});

const NAME = 'metrics';

function setup(mode: QueueMode, extra: Partial<QueueOptions> = {}) {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  const settings = { redis: redis.url, name: NAME, prefix, mode, ...extra };
  const make = <TData = unknown, TResult = unknown>() => {
    const queue = createQueue<TData, TResult>(settings);
    open.push(queue as Queue<unknown, unknown>);
    return queue;
  };
  return { prefix, settings, make };
}

/** Collects what `taskpool:queue:job-ended` publishes until the test ends. */
function listenJobEnded(): JobEndedMessage[] {
  const seen: JobEndedMessage[] = [];
  const listener = (message: unknown) => seen.push(message as JobEndedMessage);
  subscribe(QUEUE_CHANNELS.jobEnded, listener);
  listeners.push(() => unsubscribe(QUEUE_CHANNELS.jobEnded, listener));
  return seen;
}

/** What a queue object counted; fails the test when its metrics are off. */
function metricsOf(queue: { metrics(): QueueMetricsSnapshot | undefined }): QueueMetricsSnapshot {
  const metrics = queue.metrics();
  if (!metrics) throw new Error('metrics are on by default');
  return metrics;
}

const ZERO = { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };

describe.each(QUEUE_MODES)('queue metrics in %s mode', (mode) => {
  it('counts jobs submitted by one queue object and taken and completed by another, and their run times', async () => {
    const { make } = setup(mode);
    const submitter = make<string, string>();
    const worker = make<string, string>();
    expect(metricsOf(worker)).toEqual({
      submitted: 0,
      taken: 0,
      completed: 0,
      failed: 0,
      retried: 0,
      recovered: 0,
      duration: ZERO,
    });
    const n = 10;
    worker.process(
      async (job) => {
        await delay(20);
        return job.data.toUpperCase();
      },
      { concurrency: 4 },
    );
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => submitter.run(`job ${i}`)),
    );
    expect(results).toHaveLength(n);
    // The outcome reaches the submitter from inside Redis's finish script: the worker counts
    // the job once that script's reply is back.
    await eventually(() => metricsOf(worker).completed === n, 10_000, 'completed');

    const worked = metricsOf(worker);
    expect(worked).toMatchObject({
      submitted: 0,
      taken: n,
      completed: n,
      failed: 0,
      retried: 0,
      recovered: 0,
    });
    expect(worked.duration.count).toBe(n);
    // Each job slept 20 ms (a timer may fire a little early by performance.now()).
    expect(worked.duration.min).toBeGreaterThanOrEqual(15);
    expect(worked.duration.min).toBeLessThanOrEqual(worked.duration.p50);
    expect(worked.duration.p50).toBeLessThanOrEqual(worked.duration.max);

    expect(metricsOf(submitter)).toEqual({
      submitted: n,
      taken: 0,
      completed: 0,
      failed: 0,
      retried: 0,
      recovered: 0,
      duration: ZERO,
    });
    // stats() carries the same snapshot beside the counts it reads from Redis.
    const stats = await worker.stats();
    expect(stats.metrics).toEqual(metricsOf(worker));
  });
});

describe('failures', () => {
  it('reliable mode: every failed attempt counts as failed, the ones given another try also as retried', async () => {
    const { make } = setup('reliable', { maxAttempts: 3, backoff: 10 });
    const submitter = make<string, string>();
    const worker = make<string, string>();
    worker.process((job) => {
      if (job.data === 'doomed' || job.attempt < 3) {
        throw new Error(`${job.data} failed attempt ${job.attempt}`);
      }
      return 'third time lucky';
    });
    const flaky = await submitter.submit('flaky');
    const doomed = await submitter.submit('doomed', { maxAttempts: 2 });
    expect(await flaky.result).toBe('third time lucky');
    await expect(doomed.result).rejects.toMatchObject({ code: 'JOB_FAILED' });
    // flaky: 2 failed attempts (both retried) and a completed one; doomed: 2 failed
    // attempts, the first retried.
    await eventually(() => metricsOf(worker).duration.count === 5, 10_000, 'five attempts');
    expect(metricsOf(worker)).toMatchObject({
      taken: 5,
      completed: 1,
      failed: 4,
      retried: 3,
      recovered: 0,
    });
    expect(metricsOf(submitter)).toMatchObject({ submitted: 2, taken: 0, failed: 0 });
  });

  it.each(['simple', 'recoverable'] as const)(
    '%s mode: a failure is failed for good, never retried',
    async (mode) => {
      const { make } = setup(mode);
      const queue = make<string, string>();
      queue.process((job) => {
        throw new Error(`no luck with ${job.data}`);
      });
      await expect(queue.run('anything')).rejects.toMatchObject({ code: 'JOB_FAILED' });
      await eventually(() => metricsOf(queue).failed === 1, 10_000, 'failed');
      expect(metricsOf(queue)).toMatchObject({
        submitted: 1,
        taken: 1,
        completed: 0,
        failed: 1,
        retried: 0,
      });
      expect(metricsOf(queue).duration.count).toBe(1);
    },
  );
});

describe('recovery', () => {
  it('counts as recovered a job its reaper put back after the worker holding it was SIGKILLed', async () => {
    const { prefix, make } = setup('reliable', { leaseTime: 1_000 });
    const submitter = make<{ n: number }, number>();
    const doomed = await startChildWorker({
      REDIS_URL: redis.url,
      QUEUE_NAME: NAME,
      QUEUE_PREFIX: prefix,
      LEASE_MS: '1000',
      BEHAVIOUR: 'hang',
    });
    children.push(doomed);
    const handle = await submitter.submit({ n: 21 }, { timeout: 30_000 });
    const [, id] = await doomed.line(/^started (\S+) 1$/);
    expect(id).toBe(handle.id);
    await doomed.kill();

    const rescuer = make<{ n: number }, number>();
    rescuer.process((job) => job.data.n * 2);
    expect(await handle.result).toBe(42);
    await eventually(() => metricsOf(rescuer).completed === 1, 10_000, 'completed');
    expect(metricsOf(rescuer)).toMatchObject({
      taken: 1,
      completed: 1,
      failed: 0,
      retried: 0,
      recovered: 1,
    });
    // The submitter has no worker, hence no reaper: it recovered nothing.
    expect(metricsOf(submitter)).toMatchObject({ submitted: 1, recovered: 0 });
  });
});

describe('the job-ended channel', () => {
  it('publishes the queue, mode, outcome and run time of each job a worker ended', async () => {
    const seen = listenJobEnded();
    const { make } = setup('recoverable');
    const queue = make<string, string>();
    queue.process(async (job) => {
      if (job.data === 'bad') throw new Error('bad job');
      await delay(20);
      return 'good';
    });
    expect(await queue.run('good')).toBe('good');
    await expect(queue.run('bad')).rejects.toMatchObject({ code: 'JOB_FAILED' });
    await eventually(() => seen.length === 2, 10_000, 'two messages');
    // In either order: each is published when its worker has Redis's reply.
    const completed = seen.find((message) => message.outcome === 'completed');
    const failed = seen.find((message) => message.outcome === 'failed');
    expect(completed).toEqual({
      queue: NAME,
      mode: 'recoverable',
      outcome: 'completed',
      ms: expect.any(Number),
    });
    expect(completed?.ms).toBeGreaterThanOrEqual(15);
    expect(failed).toEqual({
      queue: NAME,
      mode: 'recoverable',
      outcome: 'failed',
      ms: expect.any(Number),
    });
    expect(failed?.ms).toBeGreaterThanOrEqual(0);
    // The same runs as the metrics measured.
    expect(metricsOf(queue).duration.count).toBe(2);
  });
});

describe('metrics: false', () => {
  it('records nothing: metrics() is undefined and stats() has no metrics, yet the channel publishes', async () => {
    const seen = listenJobEnded();
    const { make } = setup('reliable', { metrics: false });
    const queue = make<string, string>();
    queue.process((job) => `${job.data}!`);
    expect(await queue.run('quiet')).toBe('quiet!');
    expect(queue.metrics()).toBeUndefined();
    expect(await queue.stats()).not.toHaveProperty('metrics');
    await eventually(() => seen.length === 1, 10_000, 'a message');
    expect(seen[0]).toMatchObject({ queue: NAME, mode: 'reliable', outcome: 'completed' });
  });
});
