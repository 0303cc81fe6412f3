/**
 * `@taskpool/otel` on a real Redis queue: jobs sent, consumed and ended as observable
 * counters, the queue's states read from Redis, and each job's run time as
 * `messaging.process.duration`.
 */
import { type DataPoint, type Histogram, MeterProvider } from '@opentelemetry/sdk-metrics';
import { instrumentQueue, instrumentTaskpool } from '@taskpool/otel';
import { createQueue } from '@taskpool/redis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { useRedis } from '../../../test/helpers/redis-server.js';
import { deleteUnder, uniquePrefix } from '../../redis/test/helpers/keys.js';
import { CollectingReader } from './helpers/collecting-reader.js';

let redis: { url: string; close(): Promise<void> };
const prefix = uniquePrefix();
beforeAll(async () => {
  redis = await useRedis();
});
afterAll(async () => {
  await deleteUnder(redis.url, prefix);
  await redis.close();
});

it("reports a queue's jobs on the messaging conventions", async () => {
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  using _instrumentation = instrumentTaskpool({ meterProvider });
  const queue = createQueue<number, number>({
    redis: redis.url,
    name: 'otel',
    prefix,
    mode: 'reliable',
    // One retry: the failed job is taken twice.
    maxAttempts: 2,
  });
  const stop = instrumentQueue(queue, { meterProvider });
  try {
    const worker = queue.process((job) => {
      if (job.data < 0) throw new Error('negative');
      return job.data * 2;
    });
    expect(await queue.run(21)).toBe(42);
    expect(await queue.run(1)).toBe(2);
    await expect(queue.run(-1)).rejects.toThrow('negative');
    await worker.stop();

    const { resourceMetrics } = await reader.collect();
    const all = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
    const points = (name: string) =>
      (all.find((metric) => metric.descriptor.name === name)?.dataPoints ??
        []) as DataPoint<unknown>[];
    const destination = { 'messaging.system': 'taskpool', 'messaging.destination.name': 'otel' };
    expect(points('messaging.client.sent.messages')).toEqual([
      expect.objectContaining({
        attributes: { ...destination, 'messaging.operation.name': 'send' },
        value: 3,
      }),
    ]);
    expect(points('messaging.client.consumed.messages')[0]?.value).toBe(4);
    const ended = Object.fromEntries(
      points('taskpool.queue.jobs.ended').map((point) => [
        point.attributes['taskpool.job.outcome'],
        point.value,
      ]),
    );
    expect(ended).toEqual({ completed: 2, failed: 2, retried: 1, recovered: 0 });
    const states = Object.fromEntries(
      points('taskpool.queue.jobs').map((point) => [
        point.attributes['taskpool.job.state'],
        point.value,
      ]),
    );
    expect(states).toMatchObject({ queued: 0, running: 0 });

    const durations = points('messaging.process.duration') as DataPoint<Histogram>[];
    const completed = durations.find((point) => !('error.type' in point.attributes));
    const failed = durations.find((point) => point.attributes['error.type'] === 'failed');
    expect(completed?.attributes).toEqual({
      ...destination,
      'messaging.operation.name': 'process',
    });
    expect(completed?.value.count).toBe(2);
    expect(failed?.value.count).toBe(2);
  } finally {
    stop();
    await queue.close({ timeout: 2_000 });
    await meterProvider.shutdown();
  }
});
