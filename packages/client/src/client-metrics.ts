/**
 * What a client measures while it runs (on unless `metrics: false`): how long calls take,
 * how long checkouts wait for a worker and hold it, how long connections take to open, and
 * how calls end, by error code. Recorded into `perf_hooks` histograms, in microseconds,
 * and read as summaries in milliseconds by `client.stats().metrics`.
 *
 * @module
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { type DurationSummary, isTaskpoolError } from '@taskpool/protocol';

/** What `client.stats().metrics` holds: every figure since the client was created. */
export interface ClientMetricsSnapshot {
  /**
   * Calls and streams that ended, by outcome: `ok`, the error code (`REMOTE_ERROR`,
   * `TIMEOUT`, `WORKER_LOST`, …), `aborted` for a call its `signal` ended (an `AbortError`
   * or `TimeoutError` reason), or `other` (a signal's own reason of another kind).
   */
  calls: Record<string, number>;
  /** From a call's sending to its end (a stream's: to its last item, or its failure). */
  callDuration: DurationSummary;
  /** From `checkout()` (or a one-shot call) to the worker it got. */
  checkoutWait: DurationSummary;
  /**
   * From a checkout's worker to its release. One-shot calls (`client.call`) are not in it:
   * a one-shot call holds its worker for its `callDuration`.
   */
  checkoutHold: DurationSummary;
  /** From a connection's start to the end of its opening exchange (failed ones not). */
  connectTime: DurationSummary;
}

/** The outcome a call is counted under. */
function outcomeOf(error: unknown): string {
  if (error === undefined) return 'ok';
  if (isTaskpoolError(error)) return error.code;
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'AbortError' || name === 'TimeoutError' ? 'aborted' : 'other';
}

/**
 * Microseconds from `start` to `end` (`performance.now()` readings), at least 1: a
 * histogram's floor. A reading costs about 60 ns, several histogram records: callers pass
 * the one they have.
 */
function micros(start: number, end: number): number {
  return Math.max(1, Math.round((end - start) * 1_000));
}

const ms = (micros: number) => micros / 1_000;

function summary(histogram: RecordableHistogram): DurationSummary {
  if (histogram.count === 0) {
    return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  }
  return {
    count: histogram.count,
    min: ms(histogram.min),
    mean: ms(histogram.mean),
    p50: ms(histogram.percentile(50)),
    p90: ms(histogram.percentile(90)),
    p99: ms(histogram.percentile(99)),
    max: ms(histogram.max),
  };
}

export class ClientMetrics {
  /** Calls that succeeded: the common outcome, counted without a map. */
  #ok = 0;
  readonly #failed = new Map<string, number>();
  readonly #callDuration = createHistogram();
  readonly #checkoutWait = createHistogram();
  readonly #checkoutHold = createHistogram();
  readonly #connectTime = createHistogram();

  /** A call or stream sent at `started` ended at `now` (`error` undefined: it succeeded). */
  callEnded(started: number, now: number, error: unknown): void {
    this.#callDuration.record(micros(started, now));
    if (error === undefined) {
      this.#ok++;
      return;
    }
    const outcome = outcomeOf(error);
    this.#failed.set(outcome, (this.#failed.get(outcome) ?? 0) + 1);
  }

  /** A checkout (or one-shot call) that began waiting at `since` got its worker at `now`. */
  checkoutAssigned(since: number, now: number): void {
    this.#checkoutWait.record(micros(since, now));
  }

  /** A checkout's worker, assigned at `since`, was given back at `now`. */
  checkoutReleased(since: number, now: number): void {
    this.#checkoutHold.record(micros(since, now));
  }

  /** A connection begun at `since` finished its opening exchange at `now`. */
  connected(since: number, now: number): void {
    this.#connectTime.record(micros(since, now));
  }

  snapshot(): ClientMetricsSnapshot {
    const calls: Record<string, number> = this.#ok > 0 ? { ok: this.#ok } : {};
    for (const [outcome, count] of this.#failed) calls[outcome] = count;
    return {
      calls,
      callDuration: summary(this.#callDuration),
      checkoutWait: summary(this.#checkoutWait),
      checkoutHold: summary(this.#checkoutHold),
      connectTime: summary(this.#connectTime),
    };
  }
}
