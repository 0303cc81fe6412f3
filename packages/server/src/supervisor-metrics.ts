/**
 * What the supervisor measures (unless `metrics: false`): the calls its workers report,
 * merged; how long connections wait for a worker and how long a worker serves one; and why
 * workers exited. Read as `server.stats().metrics`.
 *
 * @module
 */
import { createHistogram } from 'node:perf_hooks';
import type { ServerMetricsSnapshot } from '@taskpool/protocol';
import { recordDuration, summarize } from '@taskpool/protocol/internal';
import type { WorkerExitReason } from './diagnostics.js';
import { DurationHistogram } from './duration-histogram.js';
import type { WorkerMetricsReport } from './worker-metrics.js';

/** What `server.stats().metrics` holds (the type `co.serverStats()` shares). */
export type ServerMetrics = ServerMetricsSnapshot;

export class SupervisorMetrics {
  readonly #callDuration = new DurationHistogram();
  readonly #calls = new Map<string, number>();
  readonly #connectionWait = createHistogram();
  readonly #connectionServe = createHistogram();
  readonly #exited = new Map<string, number>();
  /** `performance.now()` of each serving worker's hand-off. */
  readonly #servingSince = new WeakMap<object, number>();

  /** A worker's report of the calls it ran, added up. */
  reported(report: WorkerMetricsReport): void {
    this.#callDuration.merge(report.callDuration);
    for (const [outcome, n] of Object.entries(report.calls)) {
      this.#calls.set(outcome, (this.#calls.get(outcome) ?? 0) + n);
    }
  }

  /** A connection accepted at `acceptedAt` went to `worker` now. */
  handedOff(worker: object, acceptedAt: number): void {
    const now = performance.now();
    recordDuration(this.#connectionWait, acceptedAt, now);
    this.#servingSince.set(worker, now);
  }

  /** `worker`'s service of its connection ended (it exited, or was released). */
  serviceEnded(worker: object): void {
    const since = this.#servingSince.get(worker);
    if (since === undefined) return;
    this.#servingSince.delete(worker);
    recordDuration(this.#connectionServe, since, performance.now());
  }

  /** A worker exited, for `reason`. */
  exited(worker: object, reason: WorkerExitReason): void {
    this.serviceEnded(worker);
    this.#exited.set(reason, (this.#exited.get(reason) ?? 0) + 1);
  }

  snapshot(): ServerMetrics {
    return {
      calls: Object.fromEntries(this.#calls),
      callDuration: this.#callDuration.summary(),
      connectionWait: summarize(this.#connectionWait),
      connectionServe: summarize(this.#connectionServe),
      workersExited: Object.fromEntries(this.#exited),
    };
  }
}
