/**
 * What `taskpool bench` prints at the end: calls/s, the latency percentiles, and the
 * failures by code, as text or as one JSON object with the same numbers.
 *
 * @module
 */
import type { Tally } from './tally.js';

/** Latency in milliseconds, to the microsecond. */
interface LatencyMs {
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** The result of a run, as `--json` prints it. */
export interface BenchReport {
  endpoint: string;
  method: string;
  concurrency: number;
  /** Each call took its own checkout (else each lane held one for the run). */
  checkoutPerCall: boolean;
  /** Calls made: `ok` + `failed`. */
  calls: number;
  ok: number;
  failed: number;
  /** How long the calls took, from the first call to the end of the last one. */
  seconds: number;
  callsPerSecond: number;
  /** Latency of every call, failed ones included; all 0 when no call was made. */
  latencyMs: LatencyMs;
  /** Failures by `err.code` (or the error's name): `{ REMOTE_ERROR: 3 }`. */
  errors: Record<string, number>;
}

const round = (value: number, digits: number) => {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
};

/** Nanoseconds to milliseconds, to the microsecond. */
const ms = (nanoseconds: number) => round(nanoseconds / 1e6, 3);

export function benchReport(
  run: Pick<BenchReport, 'endpoint' | 'method' | 'concurrency' | 'checkoutPerCall'>,
  tally: Tally,
  elapsedMs: number,
): BenchReport {
  const { latency } = tally;
  const made = tally.done > 0;
  const seconds = elapsedMs / 1_000;
  return {
    ...run,
    calls: tally.done,
    ok: tally.ok,
    failed: tally.failed,
    seconds: round(seconds, 3),
    callsPerSecond: seconds > 0 ? round(tally.done / seconds, 1) : 0,
    latencyMs: {
      min: made ? ms(latency.min) : 0,
      mean: made ? ms(latency.mean) : 0,
      p50: made ? ms(latency.percentile(50)) : 0,
      p90: made ? ms(latency.percentile(90)) : 0,
      p99: made ? ms(latency.percentile(99)) : 0,
      max: made ? ms(latency.max) : 0,
    },
    errors: Object.fromEntries([...tally.errors].sort(([, a], [, b]) => b - a)),
  };
}

/** The report for people. */
export function formatBenchReport(report: BenchReport): string {
  const { latencyMs: latency } = report;
  const lanes = report.concurrency === 1 ? '1 lane' : `${report.concurrency} lanes`;
  const mode = report.checkoutPerCall ? 'a checkout per call' : 'a checkout per lane';
  const errors = Object.entries(report.errors);
  return [
    `${report.method} on ${report.endpoint}: ${lanes}, ${mode}`,
    `calls       ${report.calls} in ${report.seconds} s (${report.failed} failed)`,
    `calls/s     ${report.callsPerSecond}`,
    `latency ms  p50 ${latency.p50}  p90 ${latency.p90}  p99 ${latency.p99}  max ${latency.max}  (min ${latency.min}, mean ${latency.mean})`,
    `errors      ${errors.length === 0 ? 'none' : errors.map(([code, n]) => `${code} ${n}`).join(', ')}`,
  ].join('\n');
}
