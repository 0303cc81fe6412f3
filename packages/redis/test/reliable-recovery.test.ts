/**
 * Reliable mode recovers what dies: a worker process SIGKILLed mid-job has its job
 * completed by another worker, with one result and no id left in any processing list; a
 * live worker that keeps renewing its lease keeps its job however long it runs; a worker
 * whose event loop stalled past its lease loses the job and cannot finish it; attempts,
 * backoff and maxAttempts apply to handler failures and to dead workers alike.
 */
import { JobFailedError } from '@taskpool/protocol';
import { createQueue, type Queue, type QueueOptions, queueKeys } from '@taskpool/redis';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from '../../../test/helpers/redis-server.js';
import { type ChildWorker, cleanupChildWorkers, startChildWorker } from './helpers/child-worker.js';
import { deleteUnder, keysUnder, uniquePrefix } from './helpers/keys.js';
import { delay } from './helpers/wait.js';

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
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.kill()));
  await Promise.all(open.splice(0).map((queue) => queue.close({ timeout: 2_000 })));
  await Promise.all(prefixes.splice(0).map((prefix) => deleteUnder(redis.url, prefix)));
});

function setup(extra: Partial<QueueOptions> & { leaseTime?: number } = {}) {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  const settings = {
    redis: redis.url,
    name: 'recovery',
    prefix,
    mode: 'reliable' as const,
    ...extra,
  };
  const make = <TData = unknown, TResult = unknown>() => {
    const queue = createQueue<TData, TResult>(settings);
    open.push(queue as Queue<unknown, unknown>);
    return queue;
  };
  const child = async (env: Record<string, string>) => {
    const started = await startChildWorker({
      REDIS_URL: redis.url,
      QUEUE_NAME: 'recovery',
      QUEUE_PREFIX: prefix,
      LEASE_MS: String(settings.leaseTime ?? 30_000),
      ...env,
    });
    children.push(started);
    return started;
  };
  return { prefix, make, child };
}

async function processingLists(prefix: string): Promise<string[]> {
  return (await keysUnder(redis.url, prefix)).filter((key) => key.includes(':processing:'));
}

/** Counts the messages published on `channel` while `during` runs. */
async function countPublished(channel: string, during: () => Promise<void>): Promise<number> {
  const listener = new Redis(redis.url);
  let count = 0;
  listener.on('message', () => count++);
  await listener.subscribe(channel);
  try {
    await during();
    await delay(200);
    return count;
  } finally {
    listener.disconnect();
  }
}

describe('reliable mode recovery', () => {
  it('a worker SIGKILLed mid-job: another worker completes it, one result, no id left in a processing list', async () => {
    const { prefix, make, child } = setup({ leaseTime: 1_000 });
    const submitter = make<{ n: number }, number>();
    const doomed = await child({ BEHAVIOUR: 'hang' });
    const published = await countPublished(
      queueKeys(prefix, 'recovery').done(submitter.clientId),
      async () => {
        const handle = await submitter.submit({ n: 20 }, { timeout: 30_000 });
        const [, id, attempt] = await doomed.line(/^started (\S+) (\d+)$/);
        expect([id, attempt]).toEqual([handle.id, '1']);
        await doomed.kill();

        const seen: [string, number][] = [];
        make<{ n: number }, number>().process((job) => {
          seen.push([job.id, job.attempt]);
          return job.data.n * 2;
        });
        expect(await handle.result).toBe(40);
        expect(seen).toEqual([[handle.id, 2]]);
      },
    );
    expect(published).toBe(1);
    expect(await processingLists(prefix)).toEqual([]);
  });

  it('a live slow worker keeps its job while it renews its lease, however long it runs', async () => {
    const { make } = setup({ leaseTime: 600 });
    const submitter = make<string, string>();
    const calls: string[] = [];
    make<string, string>().process(async (job) => {
      calls.push(`slow:${job.attempt}`);
      await delay(2_400);
      return 'slow';
    });
    const handle = await submitter.submit('long job');
    await delay(100);
    // A second worker, whose heartbeat (and reaper) runs every 200 ms all along.
    make<string, string>().process(() => {
      calls.push('other');
      return 'other';
    });
    expect(await handle.result).toBe('slow');
    expect(calls).toEqual(['slow:1']);
  });

  it('a worker stalled past its lease loses the job to another and cannot finish it', async () => {
    const { make, child } = setup({ leaseTime: 500 });
    const submitter = make<string, string>();
    const stalled = await child({ BEHAVIOUR: 'block', BLOCK_MS: '3000' });
    const handle = await submitter.submit('stall', { timeout: 30_000 });
    await stalled.line(/^started \S+ 1$/);
    make<string, string>().process((job) => `rescued on attempt ${job.attempt}`);
    expect(await handle.result).toBe('rescued on attempt 2');
    const [, id, recorded] = await stalled.line(/^done (\S+) (\w+)$/);
    expect([id, recorded]).toEqual([handle.id, 'false']);
  });

  it('failed attempts are retried after a backoff, up to maxAttempts', async () => {
    const { make } = setup({ maxAttempts: 3, backoff: { type: 'exponential', delay: 50 } });
    const submitter = make<string, string>();
    const attempts: number[] = [];
    make<string, string>().process((job) => {
      attempts.push(job.attempt);
      if (job.attempt < 3) throw new Error(`attempt ${job.attempt} failed`);
      return 'third time lucky';
    });
    expect(await submitter.run('flaky')).toBe('third time lucky');
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('a job failing every attempt is failed with its last error and kept for inspection', async () => {
    const { make } = setup({ maxAttempts: 2, backoff: 10 });
    const submitter = make<string, string>();
    make<string, string>().process((job) => {
      throw new RangeError(`no luck on attempt ${job.attempt}`);
    });
    const handle = await submitter.submit('doomed');
    const error = (await handle.result.catch((e: unknown) => e)) as JobFailedError;
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error.message).toMatch(/after 2 attempts: no luck on attempt 2/);
    const record = await submitter.getJob(handle.id);
    expect(record).toMatchObject({ state: 'failed', attempts: 2, maxAttempts: 2, data: 'doomed' });
    expect(record?.outcome).toMatchObject({ ok: false, attempts: 2 });
    expect((await submitter.stats()).failed).toBe(1);
  });

  it('a job whose workers die on every attempt fails with WORKER_LOST after maxAttempts', async () => {
    const { make, child } = setup({
      leaseTime: 600,
      maxAttempts: 2,
      priorities: ['main', 'other'],
    });
    const submitter = make<string, string>();
    // A live worker that serves another priority: its reaper recovers the dead workers' jobs.
    make<string, string>().process(() => 'other', { priorities: ['other'] });
    const env = { BEHAVIOUR: 'hang', PRIORITIES: 'main,other', SERVE: 'main' };
    const handle = await submitter.submit('cursed', { timeout: 30_000 });
    for (const attempt of ['1', '2']) {
      const worker = await child(env);
      const [, id, seen] = await worker.line(/^started (\S+) (\d+)$/);
      expect([id, seen]).toEqual([handle.id, attempt]);
      await worker.kill();
    }
    const error = (await handle.result.catch((e: unknown) => e)) as JobFailedError;
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error.cause).toMatchObject({ code: 'WORKER_LOST' });
  });
});
