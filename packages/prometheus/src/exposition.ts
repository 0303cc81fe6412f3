/**
 * The Prometheus text format (version 0.0.4), written without prom-client: what a server's
 * `metricsPort` serves, and what {@link toPrometheusText} gives a user with their own HTTP
 * server.
 *
 * @module
 */
import type { Labels, MetricFamily } from './metric-family.js';

/** The `Content-Type` of the text format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const escapeHelp = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (text: string) =>
  text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(
    ([name, value]) => `${name}="${escapeLabel(String(value))}"`,
  );
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** Families in the text format: `# HELP`, `# TYPE`, then one line per sample. */
export function toPrometheusText(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    for (const sample of family.values) {
      lines.push(
        `${sample.metricName ?? family.name}${formatLabels(sample.labels)} ${formatValue(sample.value)}`,
      );
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
