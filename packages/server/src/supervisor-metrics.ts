/**
 * What the supervisor measures (unless `metrics: false`): the calls its workers report,
 * merged; how long connections wait for a worker and how long a worker serves one; and why
 * workers exited. Read as `server.stats().metrics`.
 *
 * @module
 */
import { createHistogram } from 'node:perf_hooks';
import type { DurationSummary } from '@taskpool/protocol';
import { recordDuration, summarize } from '@taskpool/protocol/internal';
import type { WorkerExitReason } from './diagnostics.js';
import { DurationHistogram } from './duration-histogram.js';
import type { WorkerMetricsReport } from './worker-metrics.js';

/** What `server.stats().metrics` holds: every figure since the server was created. */
export interface ServerMetrics {
  /** Calls and streams that ended, by outcome: `ok`, or the error code sent. */
  calls: Record<string, number>;
  /**
   * How long handlers took, from a call's start in its worker to its reply (a stream's: to
   * its end), in milliseconds; within 4.5% (the buckets the workers send). Up to a second
   * behind: workers report every second, and when they exit.
   */
  callDuration: DurationSummary;
  /**
   * From a connection's accept to its hand-off to a worker: 0 for one a spare took at
   * once. Connections refused or dropped while they waited are not in it
   * (`stats().rejected` counts them).
   */
  connectionWait: DurationSummary;
  /**
   * From a connection's hand-off to the end of its worker's service: the worker exited
   * (its client left, it retired, it crashed or was killed), or its opening exchange failed
   * and it became a spare again.
   */
  connectionServe: DurationSummary;
  /**
   * Workers that exited, by reason (`finished`, `crashed`, `killed-hung`, `start-failed`,
   * `restart`, `close`, `surplus`, `listen-failed`), as `worker-exited` events say.
   */
  workersExited: Record<string, number>;
}

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
