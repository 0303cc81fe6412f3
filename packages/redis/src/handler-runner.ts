/**
 * `queue.process(handler)`: runs a handler for each job a consumer yields, concurrently up
 * to the consumer's concurrency; its return value completes the job and its throw fails it.
 *
 * @module
 */
import type { Job } from './job.js';

/** Handles one job: its return value is the job's result; a throw fails the attempt. */
export type JobHandler<TData, TResult, TProgress = unknown> = (
  job: Job<TData, TResult, TProgress>,
) => TResult | Promise<TResult>;

/** What the runner asks of the consumer whose jobs it runs. */
export interface HandlerHooks<TJob> {
  /**
   * Runs `work`, the handler on `job`, keeping the job's slot held until it has returned,
   * even past the job's settlement.
   */
  keepSlotWhile(job: TJob, work: () => Promise<void>): Promise<void>;
  /** Where errors go (the queue's `onError`). */
  report(error: unknown): void;
}

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

/**
 * Feeds every job of `jobs` to `handler`, without waiting for one to end before the next
 * starts: the consumer's slots bound how many run at once, since a job's slot is held until
 * its handler returns.
 */
export function runHandler<TData, TResult, TProgress, TJob extends Job<TData, TResult, TProgress>>(
  jobs: AsyncIterable<TJob>,
  handler: JobHandler<TData, TResult, TProgress>,
  hooks: HandlerHooks<TJob>,
): void {
  const report = hooks.report;
  (async () => {
    for await (const job of jobs) {
      hooks.keepSlotWhile(job, () => runOne(job, handler).catch(report)).catch(report);
    }
  })().catch(report);
}
