/**
 * How taskpool reports a distribution of durations (client, server and queue metrics), and
 * the two steps that fill one from a `perf_hooks` histogram: record in microseconds, read
 * in milliseconds.
 *
 * @module
 */
import type { RecordableHistogram } from 'node:perf_hooks';

/** A distribution of durations, in milliseconds; all 0 while `count` is 0. */
export interface DurationSummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * Records into `histogram` the time from `start` to `end` (`performance.now()` readings),
 * in microseconds and at least 1: a histogram's floor. A reading costs about 60 ns, several
 * histogram records: callers pass the readings they have rather than take new ones.
 *
 * @example
 * ```ts
 * const histogram = createHistogram();
 * const start = performance.now();
 * await work();
 * recordDuration(histogram, start, performance.now());
 * ```
 */
export function recordDuration(histogram: RecordableHistogram, start: number, end: number): void {
  histogram.record(Math.max(1, Math.round((end - start) * 1_000)));
}

const ms = (micros: number) => micros / 1_000;

/**
 * Reads a histogram filled by {@link recordDuration} (microseconds) as a
 * {@link DurationSummary} (milliseconds).
 *
 * @example
 * ```ts
 * const { count, p99 } = summarize(histogram);
 * ```
 */
export function summarize(histogram: RecordableHistogram): DurationSummary {
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
