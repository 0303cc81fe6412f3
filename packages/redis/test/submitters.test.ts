/**
 * What submitters get back: each only its own results, values unchanged by the trip,
 * v4 UUID ids, queue lengths, timestamps, and results collected after a restart under the
 * same client id.
 */
import { createQueue, QUEUE_MODES, type Queue, type QueueMode } from '@taskpool/redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from '../../../test/helpers/redis-server.js';
import { deleteUnder, uniquePrefix } from './helpers/keys.js';

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

function options(mode: QueueMode) {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  return { redis: redis.url, name: 'submitters', mode, prefix };
}

function queue<TData = unknown, TResult = unknown>(settings: ReturnType<typeof options>) {
  const q = createQueue<TData, TResult>(settings);
  open.push(q as Queue<unknown, unknown>);
  return q;
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe.each(QUEUE_MODES)('submitters in %s mode', (mode) => {
  it('two submitters each receive only their own results, each exactly once', async () => {
    const settings = options(mode);
    const a = queue<{ who: string; n: number }, string>(settings);
    const b = queue<{ who: string; n: number }, string>(settings);
    const worker = queue<{ who: string; n: number }, string>(settings);
    worker.process((job) => `${job.data.who}:${job.data.n}`, { concurrency: 8 });
    const [fromA, fromB] = await Promise.all(
      [a, b].map((q, i) => {
        const who = i === 0 ? 'a' : 'b';
        return Promise.all(Array.from({ length: 100 }, (_, n) => q.run({ who, n })));
      }),
    );
    expect(fromA).toEqual(Array.from({ length: 100 }, (_, n) => `a:${n}`));
    expect(fromB).toEqual(Array.from({ length: 100 }, (_, n) => `b:${n}`));
    expect(a.clientId).not.toBe(b.clientId);
  });

  it('data and results keep their types: "1" stays a string, objects deep-equal', async () => {
    const settings = options(mode);
    const q = queue(settings);
    q.process((job) => job.data);
    const values = ['1', 1, '', 0, null, true, { nested: { list: [1, 'two', { three: 3 }] } }];
    for (const value of values) expect(await q.run(value)).toEqual(value);
    expect(await q.run('1')).toBe('1');
  });

  it('ids are v4 UUIDs, unique; submit reports the queue length', async () => {
    const settings = options(mode);
    const q = queue(settings);
    const handles = [];
    for (let i = 0; i < 100; i++) handles.push(await q.submit(i, { timeout: null }));
    expect(new Set(handles.map((h) => h.id)).size).toBe(100);
    for (const h of handles) expect(h.id).toMatch(UUID_V4);
    expect(handles.map((h) => h.queueLength)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect((await q.stats()).queued).toBe(100);
  });

  it('a job records when it was queued, started and finished', async () => {
    const settings = options(mode);
    const q = queue(settings);
    const times: number[][] = [];
    (async () => {
      for await (const job of q.jobs()) {
        times.push([job.queuedAt, job.startedAt]);
        await job.done(null);
        times.push([job.finishedAt ?? 0]);
      }
    })();
    const before = Date.now();
    await q.run('t');
    const [[queued, started] = [], [finished] = []] = times;
    expect(queued).toBeGreaterThanOrEqual(before - 1_000);
    expect(started).toBeGreaterThanOrEqual(queued ?? 0);
    expect(finished).toBeGreaterThanOrEqual(started ?? 0);
  });
});

describe.each(['recoverable', 'reliable'] as const)('collecting in %s mode', (mode) => {
  it('a submitter restarted with the same client id collects a result finished while it was gone', async () => {
    const settings = { ...options(mode), clientId: 'restarting-client' };
    const before = queue<number, number>(settings);
    const handle = await before.submit(21, { timeout: null });
    await before.close();
    await expect(handle.result).rejects.toMatchObject({ code: 'CLOSED' });

    const worker = queue<number, number>(settings);
    worker.process((job) => job.data * 2);
    const record = async () => (await worker.getJob(handle.id))?.state;
    for (let i = 0; i < 200 && (await record()) !== 'completed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await record()).toBe('completed');

    const after = queue<number, number>(settings);
    expect(await after.collect(handle.id)).toBe(42);
    expect(await after.getJob(handle.id)).toBeNull();
  });

  it('another client collect()s a job handed over to it, and an unknown id is rejected', async () => {
    const settings = options(mode);
    const submitter = queue<number, number>(settings);
    const other = queue<number, number>(settings);
    const handle = await submitter.submit(5, { timeout: null });
    await submitter.close();
    const collected = other.collect(handle.id, { timeout: 5_000 });
    const worker = queue<number, number>(settings);
    worker.process((job) => job.data + 1);
    expect(await collected).toBe(6);
    await expect(other.collect('no-such-job')).rejects.toMatchObject({ code: 'JOB_FAILED' });
  });
});
