/**
 * `queue.process(handler)`: runs a handler for each job a worker yields, concurrently up to
 * the worker's concurrency; its return value completes the job and its throw fails it.
 *
 * @module
 */
import type { Job } from './job.js';
import type { QueueWorker } from './worker.js';

/** Handles one job: its return value is the job's result; a throw fails the attempt. */
export type JobHandler<TData, TResult, TProgress = unknown> = (
  job: Job<TData, TResult, TProgress>,
) => TResult | Promise<TResult>;

async function runOne<TData, TResult, TProgress>(
  job: Job<TData, TResult, TProgress>,
  handler: JobHandler<TData, TResult, TProgress>,
): Promise<void> {
  let value: TResult;
  try {
    value = await handler(job);
  } catch (error) {
    await job.fail(error);
    return;
  }
  await job.done(value).catch(() => {});
}

/** Feeds every job of `worker` to `handler`; a job's slot is held until its handler returns. */
export function processJobs<TData, TResult, TProgress>(
  worker: QueueWorker<TData, TResult, TProgress>,
  handler: JobHandler<TData, TResult, TProgress>,
  report: (error: unknown) => void,
): void {
  (async () => {
    for await (const job of worker) {
      worker.hold();
      runOne(job, handler)
        .catch(report)
        .finally(() => worker.unhold());
    }
  })().catch(report);
}
