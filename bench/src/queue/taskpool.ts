/**
 * @taskpool/redis in one mode, used as docs/redis.md shows: `queue.run()` for
 * submit-and-await, `Promise.all` over `submit()` for the bulk enqueue (the command
 * connection pipelines what is issued in one tick), and `queue.process()` with
 * `concurrency` for the consumer. Default options otherwise (30 s job deadline; reliable
 * mode: 3 attempts, 30 s lease). On a Redis Cluster the queue is given an ioredis `Cluster`
 * (lazy, never connected: the queue opens connections of its own from its settings), as
 * docs/redis.md shows too.
 */
import { createQueue, type QueueConsumer, type QueueMode } from '@taskpool/redis';
import { Cluster } from 'ioredis';
import {
  type Consumer,
  consumerConcurrency,
  type JobData,
  type Producer,
  type QueueTarget,
} from './spec.js';

function open(mode: QueueMode, target: QueueTarget) {
  const cluster =
    typeof target.redis === 'string'
      ? undefined
      : new Cluster(
          target.redis.map(({ host, port }) => ({ host, port })),
          { lazyConnect: true },
        );
  const queue = createQueue<JobData, number>({
    redis: cluster ?? (target.redis as string),
    name: target.name,
    prefix: target.prefix,
    mode,
    onError: (error) => console.error(`taskpool ${mode}: ${String(error)}`),
  });
  const close = async () => {
    try {
      await queue.close();
    } finally {
      cluster?.disconnect();
    }
  };
  return { queue, close };
}

export function taskpoolProducer(mode: QueueMode, target: QueueTarget): Producer {
  const { queue, close } = open(mode, target);
  return {
    run: (n) => queue.run({ n }),
    async enqueue(inputs) {
      const handles = await Promise.all(inputs.map((n) => queue.submit({ n })));
      return { results: Promise.all(handles.map((handle) => handle.result)) };
    },
    waiting: async () => (await queue.stats()).queued,
    close,
  };
}

export async function taskpoolConsumer(mode: QueueMode, target: QueueTarget): Promise<Consumer> {
  const { queue, close } = open(mode, target);
  await queue.stats(); // connects the command connection before the first figure needs it
  let consumer: QueueConsumer | undefined;
  let processed = 0;
  const stop = async () => {
    const running = consumer;
    consumer = undefined;
    await running?.stop();
  };
  return {
    get processed() {
      return processed;
    },
    async start() {
      consumer = queue.process(
        (job) => {
          processed++;
          return job.data.n + 1;
        },
        { concurrency: consumerConcurrency },
      );
    },
    stop,
    async close() {
      await stop();
      await close();
    },
  };
}
