/**
 * What a bench run has counted so far: calls done and failed, failures by code, and the
 * latency of every call in a histogram. Read live by the progress line, and at the end for
 * the report.
 *
 * @module
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** The name a failure is counted under: its `code`, or else its `name`. */
function errorKey(error: unknown): string {
  const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
  if (typeof code === 'string' && code !== '') return code;
  if (typeof name === 'string' && name !== '') return name;
  return typeof error;
}

export class Tally {
  /** Calls that returned. */
  ok = 0;
  /** Calls that failed (or could not be made: no worker in time). */
  failed = 0;
  /** Failures by code (see `errorKey`). */
  readonly errors = new Map<string, number>();
  /**
   * Latency of every call, failed ones included, in nanoseconds: a histogram keeps the
   * percentiles of any number of calls in constant memory.
   */
  readonly latency: RecordableHistogram = createHistogram();

  get done(): number {
    return this.ok + this.failed;
  }

  succeeded(nanoseconds: bigint): void {
    this.ok++;
    this.#record(nanoseconds);
  }

  fail(error: unknown, nanoseconds: bigint): void {
    this.failed++;
    const key = errorKey(error);
    this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
    this.#record(nanoseconds);
  }

  #record(nanoseconds: bigint): void {
    // The histogram takes values from 1.
    this.latency.record(nanoseconds > 0n ? nanoseconds : 1n);
  }
}
