/**
 * A histogram of durations that can cross processes: counts in log-spaced buckets (16 to a
 * doubling, so a percentile is within 4.5% of the true value), which a worker sends to its
 * supervisor as the counts added since it last sent, and the supervisor adds to its own.
 * (A `perf_hooks` histogram cannot be sent or merged across processes.)
 *
 * @module
 */

import type { DurationSummary } from '@taskpool/protocol';

/** Buckets to a doubling. */
const PER_DOUBLING = 16;

/** What a worker sends: the bucket counts added since its last report, and their extremes. */
export interface HistogramDelta {
  /** `[bucket, count]` pairs. */
  buckets: [number, number][];
  count: number;
  /** Sum of the values, in microseconds. */
  sum: number;
  min: number;
  max: number;
}

const bucketOf = (micros: number) => Math.floor(Math.log2(micros) * PER_DOUBLING);
/** A bucket's middle, in microseconds. */
const middleOf = (bucket: number) => 2 ** ((bucket + 0.5) / PER_DOUBLING);

export class DurationHistogram {
  readonly #counts = new Map<number, number>();
  /** Counts added since the last `takeDelta`. */
  readonly #added = new Map<number, number>();
  #count = 0;
  #sum = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = 0;
  #addedSum = 0;
  #addedMin = Number.POSITIVE_INFINITY;
  #addedMax = 0;

  /** Records one duration, in microseconds (at least 1). */
  record(micros: number): void {
    const value = micros < 1 ? 1 : micros;
    const bucket = bucketOf(value);
    this.#counts.set(bucket, (this.#counts.get(bucket) ?? 0) + 1);
    this.#added.set(bucket, (this.#added.get(bucket) ?? 0) + 1);
    this.#count++;
    this.#sum += value;
    this.#addedSum += value;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
    if (value < this.#addedMin) this.#addedMin = value;
    if (value > this.#addedMax) this.#addedMax = value;
  }

  /** What was recorded since the last call, or undefined when nothing was. */
  takeDelta(): HistogramDelta | undefined {
    if (this.#added.size === 0) return undefined;
    const buckets = [...this.#added];
    const count = buckets.reduce((total, [, n]) => total + n, 0);
    const delta = { buckets, count, sum: this.#addedSum, min: this.#addedMin, max: this.#addedMax };
    this.#added.clear();
    this.#addedSum = 0;
    this.#addedMin = Number.POSITIVE_INFINITY;
    this.#addedMax = 0;
    return delta;
  }

  /** Adds another process's delta. */
  merge(delta: HistogramDelta): void {
    for (const [bucket, n] of delta.buckets) {
      this.#counts.set(bucket, (this.#counts.get(bucket) ?? 0) + n);
    }
    this.#count += delta.count;
    this.#sum += delta.sum;
    if (delta.min < this.#min) this.#min = delta.min;
    if (delta.max > this.#max) this.#max = delta.max;
  }

  summary(): DurationSummary {
    const count = this.#count;
    if (count === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
    const sorted = [...this.#counts].sort(([a], [b]) => a - b);
    const at = (fraction: number) => {
      const rank = Math.ceil(fraction * count);
      let seen = 0;
      for (const [bucket, n] of sorted) {
        seen += n;
        if (seen >= rank) return Math.min(this.#max, Math.max(this.#min, middleOf(bucket)));
      }
      return this.#max;
    };
    const ms = (micros: number) => micros / 1_000;
    return {
      count,
      min: ms(this.#min),
      mean: ms(this.#sum / count),
      p50: ms(at(0.5)),
      p90: ms(at(0.9)),
      p99: ms(at(0.99)),
      max: ms(this.#max),
    };
  }
}
