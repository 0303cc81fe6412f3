/**
 * Consumers: priorities served in order and FIFO within one, the concurrency cap (one slot
 * per job, held until its handler returns), stop() draining what runs and taking nothing
 * new, and jobs a consumer took but will not run going back to the queue.
 */
import { createQueue, QUEUE_MODES, type Queue, type QueueMode, queueKeys } from '@taskpool/redis';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, useRedis } from '../../../test/helpers/redis-server.js';
import { deleteUnder, keysUnder, uniquePrefix } from './helpers/keys.js';
import { delay, eventually } from './helpers/wait.js';

let redis: { url: string; close(): Promise<void> };
beforeAll(async () => {
  redis = await useRedis();
});
afterAll(() => redis.close());

const open: Queue<unknown, unknown>[] = [];
const prefixes: string[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((queue) => queue.close({ timeout: 2_000 })));
  await Promise.all(prefixes.splice(0).map((prefix) => deleteUnder(redis.url, prefix)));
});

function setup(mode: QueueMode, extra: { priorities?: string[] } = {}) {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  const settings = { redis: redis.url, name: 'workers', mode, prefix, ...extra };
  const make = () => {
    const q = createQueue<number, number>(settings);
    open.push(q as Queue<unknown, unknown>);
    return q;
  };
  return { prefix, submitter: make(), make };
}

describe.each(QUEUE_MODES)('workers in %s mode', (mode) => {
  it('serves priorities in order, FIFO within each', async () => {
    const { submitter, make } = setup(mode, { priorities: ['high', 'normal', 'low'] });
    const results: Promise<number>[] = [];
    for (let i = 0; i < 5; i++) {
      for (const priority of ['low', 'normal', 'high']) {
        const n = { low: 300, normal: 200, high: 100 }[priority as 'low'] + i;
        results.push((await submitter.submit(n, { priority, timeout: null })).result);
      }
    }
    const order: number[] = [];
    make().process((job) => {
      order.push(job.data);
      return job.data;
    });
    await Promise.all(results);
    expect(order).toEqual([
      100, 101, 102, 103, 104, 200, 201, 202, 203, 204, 300, 301, 302, 303, 304,
    ]);
  });

  it('a worker serving only "high" drains it while "low" keeps its backlog', async () => {
    const { submitter, make } = setup(mode, { priorities: ['high', 'low'] });
    for (let i = 0; i < 1_000; i++) await submitter.submit(i, { priority: 'low', timeout: null });
    const high = await Promise.all(
      Array.from({ length: 20 }, (_, i) => submitter.submit(i, { priority: 'high' })),
    );
    make().process((job) => job.data, { priorities: ['high'], concurrency: 4 });
    expect(await Promise.all(high.map((h) => h.result))).toHaveLength(20);
    expect((await submitter.stats()).waiting).toEqual({ high: 0, low: 1_000 });
  });

  it('never holds more than its concurrency, and a freed slot takes the next job', async () => {
    const { submitter, make } = setup(mode);
    let running = 0;
    let most = 0;
    make().process(
      async (job) => {
        running++;
        most = Math.max(most, running);
        await delay(5);
        running--;
        return job.data;
      },
      { concurrency: 3 },
    );
    await Promise.all(Array.from({ length: 60 }, (_, i) => submitter.run(i)));
    expect(most).toBe(3);
  });

  it('stop() lets running jobs finish, takes nothing new, and strands nothing', async () => {
    const { submitter, make, prefix } = setup(mode);
    let started = 0;
    let finished = 0;
    const release: (() => void)[] = [];
    const consumer = make().process(
      async (job) => {
        started++;
        await new Promise<void>((resolve) => release.push(resolve));
        finished++;
        return job.data;
      },
      { concurrency: 2 },
    );
    const handles = await Promise.all(
      Array.from({ length: 5 }, (_, i) => submitter.submit(i, { timeout: null })),
    );
    await eventually(() => started === 2, 5_000, 'two jobs started');
    const stopped = consumer.stop({ timeout: 10_000 });
    await delay(100);
    for (const resolve of release.splice(0)) resolve();
    await stopped;
    expect(finished).toBe(2);
    expect(started).toBe(2);
    expect((await submitter.stats()).queued).toBe(3);
    if (mode === 'reliable') {
      expect(
        (await keysUnder(redis.url, prefix)).filter((k) => k.includes(':processing:')),
      ).toEqual([]);
    }
    make().process((job) => job.data);
    expect(await Promise.all(handles.map((h) => h.result))).toEqual([0, 1, 2, 3, 4]);
  });

  it('stop() past its deadline aborts running jobs and hands them back', async () => {
    const { submitter, make } = setup(mode);
    const reasons: unknown[] = [];
    const consumer = make().process(
      (job) =>
        new Promise((_, reject) => {
          job.signal.addEventListener('abort', () => {
            reasons.push(job.signal.reason);
            reject(job.signal.reason);
          });
        }),
    );
    const handle = await submitter.submit(7, { timeout: null });
    await eventually(async () => (await submitter.stats()).queued === 0, 5_000, 'job taken');
    await delay(50);
    await consumer.stop({ timeout: 100 });
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatchObject({ code: 'CLOSED' });
    make().process((job) => job.data * 3);
    expect(await handle.result).toBe(21);
  });

  it('breaking out of jobs() hands back what was taken but not yielded', async () => {
    const { submitter, make } = setup(mode);
    const handles = await Promise.all(
      Array.from({ length: 6 }, (_, i) => submitter.submit(i, { timeout: null })),
    );
    const worker = make();
    for await (const job of worker.jobs({ concurrency: 6 })) {
      await job.done(job.data * 10);
      break;
    }
    make().process((job) => job.data * 10);
    const results = await Promise.all(handles.map((h) => h.result));
    expect(results).toEqual([0, 10, 20, 30, 40, 50]);
  });

  it('a running handler holds one slot, that of its job: the other slots keep taking', async () => {
    const { submitter, make } = setup(mode);
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const slow = await submitter.submit(0, { timeout: null });
    const quick = await Promise.all(
      [1, 2, 3, 4].map((i) => submitter.submit(i, { timeout: null })),
    );
    make().process(
      async (job) => {
        if (job.data === 0) await gate;
        return job.data;
      },
      { concurrency: 2 },
    );
    expect(await Promise.all(quick.map((h) => h.result))).toEqual([1, 2, 3, 4]);
    open();
    expect(await slow.result).toBe(0);
  });

  it('a job settled by its handler keeps its slot until the handler returns', async () => {
    const { submitter, make } = setup(mode);
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const first = await submitter.submit(0, { timeout: null });
    const second = await submitter.submit(1, { timeout: null });
    const started: number[] = [];
    make().process(async (job) => {
      started.push(job.data);
      if (job.data === 0) {
        await job.done(0);
        await gate;
      }
      return job.data;
    });
    expect(await first.result).toBe(0);
    await delay(200);
    expect(started).toEqual([0]);
    open();
    expect(await second.result).toBe(1);
    expect(started).toEqual([0, 1]);
  });

  it('a consumer given an already aborted signal stops at once and takes nothing', async () => {
    const { submitter, make } = setup(mode);
    const handle = await submitter.submit(5, { timeout: null });
    const consumer = make().jobs({ signal: AbortSignal.abort() });
    await consumer.stop();
    const read: unknown[] = [];
    for await (const job of consumer) read.push(job);
    expect(read).toEqual([]);
    expect((await submitter.stats()).queued).toBe(1);
    make().process((job) => job.data * 2);
    expect(await handle.result).toBe(10);
  });
});

describe('a reliable consumer stopped or failing as it starts', () => {
  it('holds no lease once stopped, even when the stop came during its first renewal', async () => {
    // A Redis of its own: CLIENT PAUSE holds every client of the server it is sent to.
    const own = await startRedisServer();
    const prefix = uniquePrefix();
    // Renewals every 100 ms.
    const queue = createQueue<number, number>({
      redis: own.url,
      name: 'workers',
      mode: 'reliable',
      prefix,
      leaseTime: 300,
    });
    await queue.stats(); // connected: what follows is about the lease, not the connection
    const redisClient = new Redis(own.url);
    try {
      // Writes wait 300 ms: the first lease renewal comes back after the stop began.
      await redisClient.client('PAUSE', 300, 'WRITE');
      const consumers = [queue.jobs({ signal: AbortSignal.abort() }), queue.jobs()];
      await Promise.all(consumers.map((consumer) => consumer.stop()));
      // A renewal timer left running would register the lease again within 100 ms.
      await delay(500);
      expect(await redisClient.zcard(queueKeys(prefix, 'workers').workers)).toBe(0);
    } finally {
      redisClient.disconnect();
      await queue.close({ timeout: 2_000 });
      await own.stop();
    }
  });

  it('reports a start that fails, and ends iteration, without an unhandled rejection', async () => {
    const { prefix } = setup('reliable');
    // The live-workers key of another type: the first lease renewal fails (WRONGTYPE).
    const redisClient = new Redis(redis.url);
    try {
      await redisClient.set(queueKeys(prefix, 'workers').workers, 'not a zset');
    } finally {
      redisClient.disconnect();
    }
    const errors: unknown[] = [];
    const queue = createQueue<number, number>({
      redis: redis.url,
      name: 'workers',
      mode: 'reliable',
      prefix,
      onError: (error) => errors.push(error),
    });
    open.push(queue as Queue<unknown, unknown>);
    const consumer = queue.jobs();
    // Nothing reads it yet: a failed start must not become an unhandled rejection.
    await eventually(() => errors.length > 0, 10_000, 'the start failure reported');
    await delay(100);
    const read: unknown[] = [];
    for await (const job of consumer) read.push(job);
    expect(read).toEqual([]);
    // Said once.
    expect(errors.filter((error) => (error as Error).message.startsWith('WRONGTYPE'))).toHaveLength(
      1,
    );
    await consumer.stop();
  });
});
