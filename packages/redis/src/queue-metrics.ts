/**
 * What a queue object measures while it runs (on unless `metrics: false`): the jobs its
 * submitter queued, and the jobs its workers took, completed, failed, retried and recovered,
 * with how long they ran. Counted in this process only and kept in memory, so that
 * `queue.metrics()` answers without a round trip to Redis and an adapter may poll it. Run
 * times go into a `perf_hooks` histogram in microseconds and are read as a summary in
 * milliseconds, as the client's metrics are.
 *
 * @module
 */
import { createHistogram } from 'node:perf_hooks';
import type { DurationSummary } from '@taskpool/protocol';
import { recordDuration, summarize } from '@taskpool/protocol/internal';

/**
 * What `queue.metrics()` (and `queue.stats().metrics`) holds: every figure since the queue
 * object was created, counted by this process's submitter and workers only. Other processes
 * serving the same queue count their own; add them up for the whole queue.
 */
export interface QueueMetricsSnapshot {
  /**
   * Jobs this queue object's `submit()` and `run()` queued (Redis acknowledged them). A job
   * queued again under the same id after Redis lost it is not counted again.
   */
  submitted: number;
  /**
   * Jobs this process's workers took off the queue to run. It counts attempts: a job
   * retried or recovered and taken again counts again. Taken jobs not yet in `completed`
   * or `failed` are running, or were handed back unfinished (a worker stopped, or lost its
   * lease).
   */
  taken: number;
  /** Jobs whose result this process's workers recorded. */
  completed: number;
  /**
   * Failed attempts this process's workers recorded, every one: those that will be retried
   * (also counted in `retried`) and those failed for good (`failed - retried`). A failure is
   * the handler's (a throw, `job.fail()`) or the worker's own: the job's deadline passed,
   * its data was unreadable, or (simple mode) its submitter cancelled it while it ran.
   * A `done()` or `fail()` that Redis refused because the job was no longer this worker's
   * is in neither `completed` nor `failed`: its lease lapsed and the job went to another
   * worker, or (recoverable and reliable modes) its submitter had cancelled it, as one does
   * at the job's deadline. So no end counts twice, however many workers ran the job.
   */
  failed: number;
  /**
   * Of `failed`, the attempts handed back for another try (reliable mode, after the
   * `backoff`); always 0 in the other modes, which do not retry.
   */
  retried: number;
  /**
   * Jobs this process's reliable workers put back on the queue because the worker that
   * held them (here or elsewhere) died or stalled past its lease: what their reapers
   * recovered. A job that had used its last attempt is failed with `WORKER_LOST` instead,
   * and is not counted here (nor in `failed`, which counts this process's own attempts).
   * Always 0 in the other modes: a recoverable job whose worker died is not recovered.
   */
  recovered: number;
  /**
   * How long the attempts in `completed` and `failed` ran in this process's workers: from
   * the take to `done()` or `fail()` (a handler's return or throw). Milliseconds, recorded
   * in microseconds.
   */
  duration: DurationSummary;
}

/** The counters behind {@link QueueMetricsSnapshot}, one set per queue object. */
export class QueueMetrics {
  #submitted = 0;
  #taken = 0;
  #completed = 0;
  #failed = 0;
  #retried = 0;
  #recovered = 0;
  readonly #duration = createHistogram();

  /** Redis acknowledged a job this queue object submitted. */
  jobSubmitted(): void {
    this.#submitted++;
  }

  /** A worker of this queue object took a job to run. */
  jobTaken(): void {
    this.#taken++;
  }

  /**
   * A job taken at `takenAt` ended at `endedAt` (`performance.now()` readings) and Redis
   * recorded it; `retried`: a failed attempt handed back for another try.
   */
  jobEnded(
    outcome: 'completed' | 'failed',
    retried: boolean,
    takenAt: number,
    endedAt: number,
  ): void {
    if (outcome === 'completed') this.#completed++;
    else this.#failed++;
    if (retried) this.#retried++;
    recordDuration(this.#duration, takenAt, endedAt);
  }

  /** A reaper of this queue object put `count` jobs of dead workers back on the queue. */
  jobsRecovered(count: number): void {
    this.#recovered += count;
  }

  snapshot(): QueueMetricsSnapshot {
    return {
      submitted: this.#submitted,
      taken: this.#taken,
      completed: this.#completed,
      failed: this.#failed,
      retried: this.#retried,
      recovered: this.#recovered,
      duration: summarize(this.#duration),
    };
  }
}
