/**
 * What a client measures while it runs (on unless `metrics: false`): how long calls take,
 * how long checkouts wait for a worker and hold it, how long connections take to open, and
 * how calls end, by error code. Recorded into `perf_hooks` histograms, in microseconds,
 * and read as summaries in milliseconds by `client.stats().metrics`.
 *
 * @module
 */
import { createHistogram } from 'node:perf_hooks';
import { type DurationSummary, isTaskpoolError } from '@taskpool/protocol';
import { recordDuration, summarize } from '@taskpool/protocol/internal';

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
    recordDuration(this.#callDuration, started, now);
    if (error === undefined) {
      this.#ok++;
      return;
    }
    const outcome = outcomeOf(error);
    this.#failed.set(outcome, (this.#failed.get(outcome) ?? 0) + 1);
  }

  /** A checkout (or one-shot call) that began waiting at `since` got its worker at `now`. */
  checkoutAssigned(since: number, now: number): void {
    recordDuration(this.#checkoutWait, since, now);
  }

  /** A checkout's worker, assigned at `since`, was given back at `now`. */
  checkoutReleased(since: number, now: number): void {
    recordDuration(this.#checkoutHold, since, now);
  }

  /** A connection begun at `since` finished its opening exchange at `now`. */
  connected(since: number, now: number): void {
    recordDuration(this.#connectTime, since, now);
  }

  snapshot(): ClientMetricsSnapshot {
    const calls: Record<string, number> = this.#ok > 0 ? { ok: this.#ok } : {};
    for (const [outcome, count] of this.#failed) calls[outcome] = count;
    return {
      calls,
      callDuration: summarize(this.#callDuration),
      checkoutWait: summarize(this.#checkoutWait),
      checkoutHold: summarize(this.#checkoutHold),
      connectTime: summarize(this.#connectTime),
    };
  }
}
