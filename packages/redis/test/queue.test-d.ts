import type {
  CallJob,
  CallTarget,
  Job,
  JobEndedMessage,
  JobHandle,
  Queue,
  QueueConsumer,
  QueueMetricsSnapshot,
  QueueStats,
} from '@taskpool/redis';
import { createQueue, serveQueue } from '@taskpool/redis';
import { describe, expectTypeOf, it } from 'vitest';

type Sum = { a: number; b: number };

describe('queue types', () => {
  const queue = createQueue<Sum, number>({ redis: 'redis://127.0.0.1:6379', name: 'sums' });

  it('types what is submitted and what comes back', () => {
    expectTypeOf(queue).toEqualTypeOf<Queue<Sum, number>>();
    expectTypeOf(queue.submit).parameter(0).toEqualTypeOf<Sum>();
    expectTypeOf(queue.submit({ a: 1, b: 2 })).resolves.toEqualTypeOf<JobHandle<number>>();
    expectTypeOf(queue.run({ a: 1, b: 2 })).resolves.toEqualTypeOf<number>();
    expectTypeOf(queue.collect('id')).resolves.toEqualTypeOf<number>();
  });

  it('types the jobs a worker gets and what it may answer', () => {
    queue.process((job) => {
      expectTypeOf(job).toEqualTypeOf<Job<Sum, number>>();
      expectTypeOf(job.data).toEqualTypeOf<Sum>();
      return job.data.a + job.data.b;
    });
    // @ts-expect-error a string is not this queue's result
    queue.process(() => 'not a number');
    expectTypeOf<Job<Sum, number>['done']>().parameter(0).toEqualTypeOf<number>();
  });

  it('types progress: what a handler may report is what a handle yields', () => {
    type Step = { done: number; of: number };
    const steps = createQueue<Sum, number, Step>({ redis: 'redis://127.0.0.1:6379', name: 's' });
    expectTypeOf(steps.submit({ a: 1, b: 2 })).resolves.toEqualTypeOf<JobHandle<number, Step>>();
    expectTypeOf<JobHandle<number, Step>['progress']>().toEqualTypeOf<AsyncIterable<Step>>();
    expectTypeOf<JobHandle<number>['progress']>().toEqualTypeOf<AsyncIterable<unknown>>();
    steps.process(async (job) => {
      expectTypeOf(job.progress).parameter(0).toEqualTypeOf<Step>();
      expectTypeOf(job.progress({ done: 1, of: 2 })).toEqualTypeOf<Promise<boolean>>();
      // @ts-expect-error a string is not this queue's progress
      await job.progress('half');
      return 3;
    });
  });

  it('gives metrics, or undefined when they are off', () => {
    expectTypeOf(queue.metrics()).toEqualTypeOf<QueueMetricsSnapshot | undefined>();
    expectTypeOf<QueueStats['metrics']>().toEqualTypeOf<QueueMetricsSnapshot | undefined>();
    expectTypeOf<JobEndedMessage['outcome']>().toEqualTypeOf<'completed' | 'failed'>();
  });

  it('bridges a queue of calls onto anything with call()', () => {
    const calls = createQueue<CallJob>({ redis: 'redis://127.0.0.1:6379', name: 'calls' });
    const client: CallTarget = { call: async () => undefined };
    expectTypeOf(serveQueue(calls, client)).toEqualTypeOf<QueueConsumer>();
  });
});
