/**
 * What a worker measures of the calls it runs (unless the server has `metrics: false`):
 * how long each handler took, from its start to its reply (a stream's: to its end), and
 * how it ended. Sent to the supervisor as what changed, every second and before the worker
 * exits; the supervisor adds every worker's to its own (`server.stats().metrics`).
 *
 * @module
 */
import { DurationHistogram, type HistogramDelta } from './duration-histogram.js';

/** What a worker sends: the calls ended since its last report, by outcome, and their durations. */
export interface WorkerMetricsReport {
  calls: Record<string, number>;
  callDuration: HistogramDelta;
}

export class WorkerMetrics {
  readonly #durations = new DurationHistogram();
  #calls = new Map<string, number>();

  /** A call started at `startedAt` (`performance.now()`) ended: `ok`, or its error code. */
  record(startedAt: number, outcome: string): void {
    this.#durations.record(Math.round((performance.now() - startedAt) * 1_000));
    this.#calls.set(outcome, (this.#calls.get(outcome) ?? 0) + 1);
  }

  /** What changed since the last report, or undefined when nothing did. */
  takeReport(): WorkerMetricsReport | undefined {
    const callDuration = this.#durations.takeDelta();
    if (callDuration === undefined) return undefined;
    const calls = Object.fromEntries(this.#calls);
    this.#calls = new Map();
    return { calls, callDuration };
  }
}
