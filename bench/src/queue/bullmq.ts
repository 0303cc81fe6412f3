/**
 * BullMQ, used as its documentation shows: a `Queue` to add jobs, `job.waitUntilFinished`
 * on a `QueueEvents` for submit-and-await, `addBulk` for the bulk enqueue (whose results
 * the submitter takes from the same `QueueEvents` stream), and a `Worker` with
 * `concurrency` for the consumer. Default job options otherwise (one attempt; finished
 * jobs are kept, `removeOnComplete: false`), as a user who changes nothing gets.
 *
 * `bullmq` is imported when a BullMQ figure starts, so taskpool's figures never load it.
 */
import type { Job, Worker } from 'bullmq';
import {
  type Consumer,
  consumerConcurrency,
  type JobData,
  type Producer,
  type QueueTarget,
} from './spec.js';

/** How long a submitter waits for one result before failing the figure. */
const RESULT_TTL_MS = 30_000;

/** The single Redis's URL: BullMQ has no cluster row (the cluster rows are taskpool's). */
function urlOf(target: QueueTarget): string {
  if (typeof target.redis !== 'string') throw new Error('BullMQ runs on the single Redis only');
  return target.redis;
}

export async function bullmqProducer(target: QueueTarget): Promise<Producer> {
  const { Queue, QueueEvents } = await import('bullmq');
  const options = { connection: { url: urlOf(target) }, prefix: target.prefix };
  const queue = new Queue<JobData, number>(target.name, options);
  const events = new QueueEvents(target.name, options);
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  return {
    async run(n) {
      const job = await queue.add('add', { n });
      return (await job.waitUntilFinished(events, RESULT_TTL_MS)) as number;
    },
    async enqueue(inputs) {
      const index = new Map<string, number>();
      const values: number[] = new Array(inputs.length);
      let left = inputs.length;
      let settle: (error?: Error) => void = () => {};
      const results = new Promise<number[]>((resolve, reject) => {
        settle = (error) => {
          events.off('completed', onCompleted);
          events.off('failed', onFailed);
          if (error) reject(error);
          else resolve(values);
        };
      });
      results.catch(() => {});
      const onCompleted = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
        const i = index.get(jobId);
        if (i === undefined) return;
        index.delete(jobId);
        values[i] = returnvalue as number;
        if (--left === 0) settle();
      };
      const onFailed = ({ jobId, failedReason }: { jobId: string; failedReason: string }) => {
        if (index.has(jobId)) settle(new Error(`job ${jobId} failed: ${failedReason}`));
      };
      events.on('completed', onCompleted);
      events.on('failed', onFailed);
      const jobs: Job<JobData, number>[] = await queue.addBulk(
        inputs.map((n) => ({ name: 'add', data: { n } })),
      );
      jobs.forEach((job, i) => {
        if (job.id === undefined) throw new Error(`addBulk returned job ${i} without an id`);
        index.set(job.id, i);
      });
      return { results };
    },
    waiting: () => queue.getWaitingCount(),
    async close() {
      await events.close();
      await queue.close();
    },
  };
}

export async function bullmqConsumer(target: QueueTarget): Promise<Consumer> {
  const { Worker } = await import('bullmq');
  let worker: Worker<JobData, number> | undefined;
  let processed = 0;
  const stop = async () => {
    const running = worker;
    worker = undefined;
    await running?.close();
  };
  return {
    get processed() {
      return processed;
    },
    async start() {
      worker = new Worker<JobData, number>(
        target.name,
        async (job) => {
          processed++;
          return job.data.n + 1;
        },
        {
          connection: { url: urlOf(target) },
          prefix: target.prefix,
          concurrency: consumerConcurrency,
        },
      );
      worker.on('error', (error) => console.error(`bullmq worker: ${error.message}`));
      await worker.waitUntilReady();
    },
    stop,
    close: stop,
  };
}
