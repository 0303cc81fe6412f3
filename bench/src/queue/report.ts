/**
 * From the queue figures to tables: per workload and row the median jobs/s over the
 * repetitions, the lowest and highest run, the ratio of medians to BullMQ's (above 1:
 * taskpool is faster) and, for a row on the Redis Cluster, to the same system's on the
 * single Redis (below 1: the cluster costs). As text for the terminal, Markdown for
 * --markdown, and plain data for --json.
 */
import { median, spread } from '../stats.js';
import {
  type FigureResult,
  type QueueBackend,
  type QueueRowSpec,
  type QueueSystemName,
  type QueueWorkload,
  queueWorkloads,
} from './spec.js';

export interface FigureRun {
  /** The row's name: the system's, with `-cluster` on the cluster. */
  row: string;
  system: QueueSystemName;
  backend: QueueBackend;
  workload: QueueWorkload['name'];
  rep: number;
  result?: FigureResult;
  error?: string;
  /** Keys the figure left under its prefix (deleted afterwards). */
  keysLeft?: number;
}

interface QueueRow {
  name: string;
  system: QueueSystemName;
  backend: QueueBackend;
  /** Jobs/s of every repetition that succeeded. */
  samples: number[];
  median: number;
  min: number;
  max: number;
  /** median / BullMQ's median. */
  ratio: number | undefined;
  /** On the cluster: median / the same system's median on the single Redis. */
  clusterRatio?: number;
  /** Drain only: median jobs/s of the bulk enqueue, and its ratio to BullMQ's. */
  enqueuePerSecond?: number;
  enqueueRatio?: number;
  /**
   * Median CPU time per timed job, µs, of the submitter, the consumer and redis-server (on
   * the cluster, its three masters together).
   */
  cpu: { submitter: number; worker: number; redis: number };
  /** Median keys left under the figure's prefix after the producer and consumer closed. */
  keysLeft: number;
  failures: string[];
}

export interface QueueWorkloadReport {
  workload: QueueWorkload;
  rows: QueueRow[];
}

export function aggregateQueue(
  runs: readonly FigureRun[],
  specs: readonly QueueRowSpec[],
): QueueWorkloadReport[] {
  return queueWorkloads.map((workload) => {
    const rows = specs.map(({ name, system, backend }): QueueRow => {
      const mine = runs.filter((run) => run.workload === workload.name && run.row === name);
      const ok = mine.flatMap((run) => (run.result ? [run.result] : []));
      const samples = ok.map((result) => result.jobsPerSecond);
      const enqueue = ok.flatMap((result) =>
        result.enqueuePerSecond === undefined ? [] : [result.enqueuePerSecond],
      );
      const cpu = (key: keyof FigureResult['cpu']) => median(ok.map((result) => result.cpu[key]));
      return {
        name,
        system,
        backend,
        samples,
        median: median(samples),
        ...spread(samples),
        ratio: undefined,
        ...(enqueue.length > 0 ? { enqueuePerSecond: median(enqueue) } : {}),
        cpu: { submitter: cpu('submitter'), worker: cpu('worker'), redis: cpu('redis') },
        keysLeft: median(mine.flatMap((run) => (run.keysLeft === undefined ? [] : [run.keysLeft]))),
        failures: mine.flatMap((run) => (run.error === undefined ? [] : [run.error])),
      };
    });
    const measured = (row: QueueRow | undefined) =>
      row && row.samples.length > 0 ? row : undefined;
    const bullmq = measured(rows.find((row) => row.name === 'bullmq'));
    for (const row of rows) {
      if (row.samples.length === 0) continue;
      if (bullmq) {
        row.ratio = row.median / bullmq.median;
        if (row.enqueuePerSecond !== undefined && bullmq.enqueuePerSecond !== undefined) {
          row.enqueueRatio = row.enqueuePerSecond / bullmq.enqueuePerSecond;
        }
      }
      const single = measured(
        rows.find((other) => other.system === row.system && other.backend === 'single'),
      );
      if (row.backend === 'cluster' && single) row.clusterRatio = row.median / single.median;
    }
    return { workload, rows };
  });
}

const count = (value: number | undefined) =>
  value === undefined || !Number.isFinite(value) ? '' : Math.round(value).toLocaleString('en-US');
const times = (value: number | undefined) => (value === undefined ? '' : value.toFixed(2));

/**
 * The table's cells. The ratio columns are there when their reference row is (BullMQ's
 * when the `queue` part ran, the cluster's when the `queue-cluster` part did).
 */
function cells(report: QueueWorkloadReport): { headers: string[]; rows: string[][] } {
  const drain = report.workload.name === 'drain';
  const withBullmq = report.rows.some((row) => row.name === 'bullmq');
  const withCluster = report.rows.some((row) => row.backend === 'cluster');
  const headers = ['system', 'jobs/s (median)', 'min–max'];
  if (withBullmq) headers.push('× bullmq');
  if (withCluster) headers.push('cluster × single');
  if (drain) headers.push('enqueue jobs/s', ...(withBullmq ? ['× bullmq'] : []));
  headers.push('CPU µs/job: submitter', 'worker', 'redis');
  const rows = report.rows.map((row) => {
    if (row.samples.length === 0) {
      return [row.name, 'failed', ...headers.slice(2).map(() => '')];
    }
    const line = [row.name, count(row.median), `${count(row.min)}–${count(row.max)}`];
    if (withBullmq) line.push(times(row.ratio));
    if (withCluster) line.push(times(row.clusterRatio));
    if (drain) {
      line.push(count(row.enqueuePerSecond), ...(withBullmq ? [times(row.enqueueRatio)] : []));
    }
    line.push(count(row.cpu.submitter), count(row.cpu.worker), count(row.cpu.redis));
    return line;
  });
  return { headers, rows };
}

/** What the tables do not say about their rows, printed once under them. */
export function queueNotes(specs: readonly QueueRowSpec[]): string[] {
  const clustered = specs.filter((spec) => spec.backend === 'cluster').map((spec) => spec.name);
  if (clustered.length === 0) return [];
  return [
    `${clustered.join(', ')}: the same system with its queue on a private Redis Cluster of three masters on 127.0.0.1 (no replicas), through an ioredis Cluster; cluster × single is its jobs/s over the same system's on the single Redis, from the same repetitions`,
    "a queue's keys share one hash slot (its name is the hash tag), so one master serves the whole queue: the ratio is the cost of the cluster client (slot routing, sharded pub/sub), not load spread over three masters; its redis CPU is the three masters' together",
  ];
}

function caption(report: QueueWorkloadReport, reps: number): string {
  const { workload } = report;
  const jobs = workload.jobs.toLocaleString('en-US');
  const runs = `${reps} run${reps === 1 ? '' : 's'}`;
  return `${workload.name}: ${workload.title}, ${jobs} jobs (jobs/s, higher is better; ${runs})`;
}

export function queueTextTable(report: QueueWorkloadReport, reps: number): string {
  const { headers, rows } = cells(report);
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (row: string[]) =>
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const failures = report.rows.flatMap((row) =>
    row.failures.map((f) => `  ${row.name} failed: ${f.split('\n').slice(0, 3).join(' | ')}`),
  );
  return [caption(report, reps), line(headers), ...rows.map(line), ...failures].join('\n');
}

export function queueMarkdownTable(report: QueueWorkloadReport, reps: number): string {
  const { headers, rows } = cells(report);
  const align = headers.map((_, i) => (i === 0 ? '---' : '---:'));
  const line = (row: string[]) => `| ${row.join(' | ')} |`;
  return [`**${caption(report, reps)}**`, '', line(headers), line(align), ...rows.map(line)].join(
    '\n',
  );
}
