/** `@taskpool/prometheus` on a real Redis queue: `taskpool_queue_*` from `queue.stats()`. */
import { registerMetrics } from '@taskpool/prometheus';
import { createQueue } from '@taskpool/redis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { useRedis } from '../../../test/helpers/redis-server.js';
import { deleteUnder, uniquePrefix } from '../../redis/test/helpers/keys.js';
import { parseExposition, sampleValue } from './exposition-text.js';

let redis: { url: string; close(): Promise<void> };
const prefix = uniquePrefix();
beforeAll(async () => {
  redis = await useRedis();
});
afterAll(async () => {
  await deleteUnder(redis.url, prefix);
  await redis.close();
});

it("exports a queue's jobs by state, its counters and its run times", async () => {
  const queue = createQueue<number, number>({ redis: redis.url, name: 'prom', prefix });
  try {
    const worker = queue.process((job) => job.data + 1);
    expect(await queue.run(1)).toBe(2);
    expect(await queue.run(2)).toBe(3);
    await worker.stop();
    // Queued with no worker to take it.
    await queue.submit(3);

    const registry = new Registry();
    registerMetrics(registry, { queue: { prom: queue } });
    const families = parseExposition(await registry.metrics());
    const labels = { queue: 'prom' };
    expect(sampleValue(families, 'taskpool_queue_jobs', { ...labels, state: 'queued' })).toBe(1);
    expect(sampleValue(families, 'taskpool_queue_jobs_submitted_total', labels)).toBe(3);
    expect(sampleValue(families, 'taskpool_queue_jobs_taken_total', labels)).toBe(2);
    expect(sampleValue(families, 'taskpool_queue_jobs_completed_total', labels)).toBe(2);
    expect(sampleValue(families, 'taskpool_queue_jobs_failed_total', labels)).toBe(0);
    const duration = 'taskpool_queue_job_duration_seconds';
    expect(families.get(duration)?.type).toBe('summary');
    expect(sampleValue(families, duration, labels, `${duration}_count`)).toBe(2);
  } finally {
    await queue.close({ timeout: 2_000 });
  }
});
