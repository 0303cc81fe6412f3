/**
 * How taskpool reports a distribution of durations (client and server metrics).
 *
 * @module
 */

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
