/**
 * A metric family as prom-client's registry reads one (`get()`'s result), and as the text
 * format writes it: a name, its help, its type, and its samples.
 *
 * @module
 */
import type { DurationSummary } from '@taskpool/protocol';

/** Label values of one sample. */
export type Labels = Record<string, string | number>;

/** One sample: a value with its labels (`metricName` for a summary's `_sum` and `_count`). */
export interface Sample {
  labels: Labels;
  value: number;
  metricName?: string;
}

/** A metric family: every sample of one name. */
export interface MetricFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'summary';
  values: Sample[];
}

/** The quantiles a duration summary reports, and the summary's fields for them. */
const QUANTILES = [
  [0.5, 'p50'],
  [0.9, 'p90'],
  [0.99, 'p99'],
] as const;

/**
 * A duration (a `DurationSummary` in milliseconds) as a Prometheus summary in seconds: its
 * quantiles, `_sum` and `_count`.
 */
function summarySamples(name: string, summary: DurationSummary, labels: Labels): Sample[] {
  // No observation yet: no quantile (NaN, as Prometheus's own summaries say), not 0 s.
  const samples: Sample[] = QUANTILES.map(([quantile, field]) => ({
    labels: { ...labels, quantile },
    value: summary.count === 0 ? Number.NaN : summary[field] / 1_000,
  }));
  samples.push(
    { metricName: `${name}_sum`, labels, value: (summary.mean * summary.count) / 1_000 },
    { metricName: `${name}_count`, labels, value: summary.count },
  );
  return samples;
}

/** Samples of a count by one label (`outcome`, `reason`, `state`, …). */
export function countsBy(label: string, counts: Record<string, number>, labels: Labels): Sample[] {
  return Object.entries(counts).map(([key, value]) => ({
    labels: { ...labels, [label]: key },
    value,
  }));
}

/** Builds families from a source's stats: one definition per metric name, in one table. */
export interface FamilyDefinition<TStats> {
  name: string;
  help: string;
  type: MetricFamily['type'];
  samples(stats: TStats, labels: Labels): Sample[];
}

/**
 * A summary family (seconds) of the duration `read` gives; no sample while it gives none
 * (metrics off, or a source older than the field).
 */
export function summaryFamily<TStats>(
  name: string,
  help: string,
  read: (stats: TStats) => DurationSummary | undefined,
): FamilyDefinition<TStats> {
  return {
    name,
    help,
    type: 'summary',
    samples: (stats, labels) => {
      const summary = read(stats);
      return summary ? summarySamples(name, summary, labels) : [];
    },
  };
}

/** A counter family of the one count `read` gives; no sample while it gives none. */
export function counterFamily<TStats>(
  name: string,
  help: string,
  read: (stats: TStats) => number | undefined,
): FamilyDefinition<TStats> {
  return {
    name,
    help,
    type: 'counter',
    samples: (stats, labels) => {
      const value = read(stats);
      return value === undefined ? [] : [{ labels, value }];
    },
  };
}

/** A family's samples from several sources, each with its own labels. */
export function familyOf<TStats>(
  definition: FamilyDefinition<TStats>,
  sources: readonly { stats: TStats; labels: Labels }[],
): MetricFamily {
  return {
    name: definition.name,
    help: definition.help,
    type: definition.type,
    values: sources.flatMap(({ stats, labels }) => definition.samples(stats, labels)),
  };
}
