/**
 * A Redis queue's `stats()` as Prometheus families: `taskpool_queue_*`.
 *
 * @module
 */
import type { DurationSummary } from '@taskpool/protocol';
import { counterFamily, countsBy, type FamilyDefinition, summaryFamily } from './metric-family.js';

/** What the families read of `queue.stats()` (`QueueStats` of `@taskpool/redis`). */
export interface QueueStatsLike {
  queued: number;
  delayed: number;
  failed: number;
  running: number | null;
  workers: number | null;
  metrics?: {
    submitted: number;
    taken: number;
    completed: number;
    failed: number;
    retried: number;
    recovered: number;
    duration: DurationSummary;
  };
}

type QueueFamily = FamilyDefinition<QueueStatsLike>;
type Counted = Exclude<keyof NonNullable<QueueStatsLike['metrics']>, 'duration'>;

const counter = (counted: Counted, help: string): QueueFamily =>
  counterFamily(`taskpool_queue_jobs_${counted}_total`, help, (stats) => stats.metrics?.[counted]);

/** Every queue family, by name. */
export const QUEUE_FAMILIES: readonly QueueFamily[] = [
  {
    name: 'taskpool_queue_jobs',
    help: 'Jobs in the queue, by state: queued, delayed (a retry backoff), failed (kept), running (reliable mode).',
    type: 'gauge',
    samples: (stats, labels) =>
      countsBy(
        'state',
        {
          queued: stats.queued,
          delayed: stats.delayed,
          failed: stats.failed,
          ...(stats.running === null ? {} : { running: stats.running }),
        },
        labels,
      ),
  },
  {
    name: 'taskpool_queue_workers',
    help: 'Live reliable-mode workers, anywhere.',
    type: 'gauge',
    samples: (stats, labels) => (stats.workers === null ? [] : [{ labels, value: stats.workers }]),
  },
  counter('submitted', 'Jobs this process submitted.'),
  counter('taken', "Jobs this process's workers took to run."),
  counter('completed', "Jobs this process's workers completed."),
  counter('failed', "Jobs this process's workers failed, retried ones included."),
  counter('retried', 'Failed jobs this process put back to be retried.'),
  counter('recovered', 'Jobs this process put back because their worker died.'),
  summaryFamily(
    'taskpool_queue_job_duration_seconds',
    "A job's run time in this process's workers.",
    (stats) => stats.metrics?.duration,
  ),
];
