/**
 * The Job::Async compliance run, through each mode: 8 + 2 = 10, then 506 additions at each
 * of concurrency 1, 2, 4, 8 and 50 (2,531 jobs in all). Every sum must be right, every job
 * handled once with one result, and nothing of the queue left in Redis afterwards.
 */
import { createQueue, QUEUE_MODES } from '@taskpool/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from '../../../test/helpers/redis-server.js';
import { keysUnder, uniquePrefix } from './helpers/keys.js';

type Sum = { first: number; second: number };

let redis: { url: string; close(): Promise<void> };
beforeAll(async () => {
  redis = await useRedis();
});
afterAll(() => redis.close());

const CASES: [number, number][] = Array.from({ length: 506 }, (_, i) => [
  (i * 7919) % 1000,
  (i * 104729) % 997,
]);

/** Runs `task` over `items`, at most `width` at a time. */
async function windowed<T>(items: T[], width: number, task: (item: T) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await task(items[next++] as T);
  };
  await Promise.all(Array.from({ length: width }, lane));
}

describe.each(QUEUE_MODES)('compliance in %s mode', (mode) => {
  it('8 + 2 = 10, then 2,531 jobs at concurrency 1, 2, 4, 8 and 50; no stray keys', async () => {
    const prefix = uniquePrefix();
    const options = { redis: redis.url, name: 'compliance', mode, prefix };
    const submitter = createQueue<Sum, number>(options);
    const workers = createQueue<Sum, number>(options);
    const handled = new Map<string, number>();
    const add = (job: { id: string; data: Sum }) => {
      handled.set(job.id, (handled.get(job.id) ?? 0) + 1);
      return job.data.first + job.data.second;
    };

    const first = workers.process(add);
    expect(await submitter.run({ first: 8, second: 2 })).toBe(10);
    await first.stop();

    let results = 1;
    for (const concurrency of [1, 2, 4, 8, 50]) {
      const consumer = workers.process(add, { concurrency });
      await windowed(CASES, concurrency, async ([a, b]) => {
        expect(await submitter.run({ first: a, second: b })).toBe(a + b);
        results++;
      });
      await consumer.stop();
    }

    expect(results).toBe(2_531);
    expect(handled.size).toBe(2_531);
    expect([...handled.values()].every((count) => count === 1)).toBe(true);
    await submitter.close();
    await workers.close();
    expect(await keysUnder(redis.url, prefix)).toEqual([]);
  });
});
