/**
 * From the queue figures to tables: per workload and system the median jobs/s over the
 * repetitions, the lowest and highest run, and the ratio of medians to BullMQ's (above 1:
 * taskpool is faster). As text for the terminal, Markdown for --markdown, and plain data
 * for --json.
 */
import { median, spread } from '../stats.js';
import {
  type FigureResult,
  type QueueSystemName,
  type QueueWorkload,
  queueSystems,
  queueWorkloads,
} from './spec.js';

export interface FigureRun {
  system: QueueSystemName;
  workload: QueueWorkload['name'];
  rep: number;
  result?: FigureResult;
  error?: string;
  /** Keys the figure left under its prefix (deleted afterwards). */
  keysLeft?: number;
}

interface QueueRow {
  system: QueueSystemName;
  /** Jobs/s of every repetition that succeeded. */
  samples: number[];
  median: number;
  min: number;
  max: number;
  /** median / BullMQ's median. */
  ratio: number | undefined;
  /** Drain only: median jobs/s of the bulk enqueue, and its ratio to BullMQ's. */
  enqueuePerSecond?: number;
  enqueueRatio?: number;
  /** Median CPU time per timed job, µs, of the submitter, the consumer and redis-server. */
  cpu: { submitter: number; worker: number; redis: number };
  /** Median keys left under the figure's prefix after the producer and consumer closed. */
  keysLeft: number;
  failures: string[];
}

export interface QueueWorkloadReport {
  workload: QueueWorkload;
  rows: QueueRow[];
}

export function aggregateQueue(runs: readonly FigureRun[]): QueueWorkloadReport[] {
  return queueWorkloads.map((workload) => {
    const rows = queueSystems.map((system): QueueRow => {
      const mine = runs.filter((run) => run.workload === workload.name && run.system === system);
      const ok = mine.flatMap((run) => (run.result ? [run.result] : []));
      const samples = ok.map((result) => result.jobsPerSecond);
      const enqueue = ok.flatMap((result) =>
        result.enqueuePerSecond === undefined ? [] : [result.enqueuePerSecond],
      );
      const cpu = (key: keyof FigureResult['cpu']) => median(ok.map((result) => result.cpu[key]));
      return {
        system,
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
    const bullmq = rows.find((row) => row.system === 'bullmq' && row.samples.length > 0);
    for (const row of rows) {
      if (!bullmq || row.samples.length === 0) continue;
      row.ratio = row.median / bullmq.median;
      if (row.enqueuePerSecond !== undefined && bullmq.enqueuePerSecond !== undefined) {
        row.enqueueRatio = row.enqueuePerSecond / bullmq.enqueuePerSecond;
      }
    }
    return { workload, rows };
  });
}

const count = (value: number | undefined) =>
  value === undefined || !Number.isFinite(value) ? '' : Math.round(value).toLocaleString('en-US');
const times = (value: number | undefined) => (value === undefined ? '' : value.toFixed(2));

function cells(report: QueueWorkloadReport): { headers: string[]; rows: string[][] } {
  const drain = report.workload.name === 'drain';
  const headers = ['system', 'jobs/s (median)', 'min–max', '× bullmq'];
  if (drain) headers.push('enqueue jobs/s', '× bullmq');
  headers.push('CPU µs/job: submitter', 'worker', 'redis');
  const rows = report.rows.map((row) => {
    if (row.samples.length === 0) {
      return [row.system, 'failed', ...headers.slice(2).map(() => '')];
    }
    const line = [
      row.system,
      count(row.median),
      `${count(row.min)}–${count(row.max)}`,
      times(row.ratio),
    ];
    if (drain) line.push(count(row.enqueuePerSecond), times(row.enqueueRatio));
    line.push(count(row.cpu.submitter), count(row.cpu.worker), count(row.cpu.redis));
    return line;
  });
  return { headers, rows };
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
    row.failures.map((f) => `  ${row.system} failed: ${f.split('\n').slice(0, 3).join(' | ')}`),
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
