/**
 * From the runs to the table: medians, min–max spread and ratios per workload and system,
 * printed as text or Markdown, and the issue's targets for taskpool, met or missed.
 */
import type { JobOutcome } from './runner.js';
import { median, spread } from './stats.js';
import type { System } from './systems/system.js';
import { bareNodeRow, type WorkloadName, type WorkloadSpec, workloads } from './workloads.js';

export interface Run {
  system: string;
  workload: WorkloadName;
  rep: number;
  outcome: JobOutcome;
}

interface Row {
  system: string;
  /** Every observation of the primary figure, over all repetitions. */
  samples: number[];
  median: number;
  min: number;
  max: number;
  /** median / the baseline row's median. */
  ratio: number | undefined;
  /** Medians over repetitions. */
  extras: Record<string, number>;
  /** For the extras shown against the baseline: this row's median / the baseline row's. */
  extraRatios: Record<string, number>;
  failures: string[];
  /** Not run: the system is not available yet (taskpool before its client exists). */
  pending?: boolean;
}

export interface WorkloadReport {
  spec: WorkloadSpec;
  rows: Row[];
}

function summarize(system: string, runs: Run[]): Row {
  const samples: number[] = [];
  const extraValues = new Map<string, number[]>();
  const failures: string[] = [];
  for (const { outcome } of runs) {
    if (!outcome.result) {
      failures.push(outcome.error ?? 'no result');
      continue;
    }
    samples.push(...(outcome.result.samples ?? [outcome.result.value]));
    for (const [key, value] of Object.entries(outcome.result.extras)) {
      extraValues.set(key, [...(extraValues.get(key) ?? []), value]);
    }
  }
  const extras = Object.fromEntries([...extraValues].map(([key, values]) => [key, median(values)]));
  return {
    system,
    samples,
    median: median(samples),
    ...spread(samples),
    ratio: undefined,
    extras,
    extraRatios: {},
    failures,
  };
}

export function aggregate(
  runs: Run[],
  order: readonly System[],
  selected: readonly WorkloadName[],
  pending: readonly System[] = [],
): WorkloadReport[] {
  return selected.map((name) => {
    const spec = workloads[name];
    const mine = runs.filter((run) => run.workload === name);
    const rows = order.flatMap((system): Row[] => {
      if (mine.some((run) => run.system === system.name)) {
        return [
          summarize(
            system.name,
            mine.filter((run) => run.system === system.name),
          ),
        ];
      }
      if (pending.includes(system) && system.workloads.includes(name)) {
        const row = summarize(system.name, []);
        return [{ ...row, pending: true }];
      }
      return [];
    });
    if (name === 'idle-memory') {
      const bare = mine.flatMap((run) => {
        const value = run.outcome.result?.extras.bareMb;
        return value === undefined ? [] : [value];
      });
      if (bare.length > 0) {
        rows.unshift({
          system: bareNodeRow,
          samples: bare,
          median: median(bare),
          ...spread(bare),
          ratio: undefined,
          extras: {},
          extraRatios: {},
          failures: [],
        });
      }
    }
    const baseline = rows.find((row) => row.system === spec.baseline && row.samples.length > 0);
    for (const row of rows) {
      if (!baseline || row.samples.length === 0) continue;
      row.ratio = row.median / baseline.median;
      for (const { key, vsBaseline } of spec.extras) {
        const mine = row.extras[key];
        const theirs = baseline.extras[key];
        if (vsBaseline && mine !== undefined && theirs !== undefined) {
          row.extraRatios[key] = mine / theirs;
        }
      }
    }
    return { spec, rows };
  });
}

function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return '—';
  if (unit === 'ms' || unit === 'MB' || unit === '×') return value.toFixed(unit === '×' ? 2 : 1);
  if (unit === 'µs/call' && value < 100) return value.toFixed(1);
  return Math.round(value).toLocaleString('en-US');
}

const ratioCell = (ratio: number | undefined) => (ratio === undefined ? '' : ratio.toFixed(2));

interface Column {
  header: string;
  cell(row: Row): string;
  left?: boolean;
}

function columns(report: WorkloadReport): Column[] {
  const { spec } = report;
  return [
    { header: 'system', cell: (row) => row.system, left: true },
    {
      header: `${spec.unit} (median)`,
      cell: (row) =>
        row.pending
          ? 'pending'
          : row.samples.length > 0
            ? formatValue(row.median, spec.unit)
            : 'failed',
    },
    {
      header: 'min–max',
      cell: (row) =>
        row.samples.length > 0
          ? `${formatValue(row.min, spec.unit)}–${formatValue(row.max, spec.unit)}`
          : '',
    },
    { header: `× ${spec.baseline ?? ''}`, cell: (row) => ratioCell(row.ratio) },
    ...spec.extras.flatMap((extra): Column[] => [
      {
        header: extra.header ?? `${extra.label}${extra.unit === '×' ? '' : ` (${extra.unit})`}`,
        cell: (row) => {
          const value = row.extras[extra.key];
          return value === undefined ? '' : formatValue(value, extra.unit);
        },
      },
      ...(extra.vsBaseline
        ? [
            {
              header: `${extra.label} × ${spec.baseline ?? ''}`,
              cell: (row: Row) => ratioCell(row.extraRatios[extra.key]),
            },
          ]
        : []),
    ]),
    {
      header: 'runs',
      cell: (row) =>
        row.failures.length > 0 ? `${row.samples.length} ok, ${row.failures.length} failed` : '',
    },
  ];
}

function caption(spec: WorkloadSpec, runsPerRow: string): string {
  const better = spec.better === 'higher' ? 'higher is better' : 'lower is better';
  return `${spec.name}: ${spec.title} (${spec.unit}, ${better}; ${runsPerRow})`;
}

export function textTable(report: WorkloadReport, runsPerRow: string): string {
  const cols = columns(report).filter((col) => report.rows.some((row) => col.cell(row) !== ''));
  const cells = report.rows.map((row) => cols.map((col) => col.cell(row)));
  const widths = cols.map((col, i) =>
    Math.max(col.header.length, ...cells.map((line) => (line[i] ?? '').length)),
  );
  const pad = (text: string, i: number) =>
    cols[i]?.left ? text.padEnd(widths[i] ?? 0) : text.padStart(widths[i] ?? 0);
  const lines = [
    caption(report.spec, runsPerRow),
    `  ${cols.map((col, i) => pad(col.header, i)).join('  ')}`,
    ...cells.map((line) => `  ${line.map(pad).join('  ')}`),
    ...(report.spec.notes ?? []).map((note) => `  note: ${note}`),
  ];
  return lines.join('\n');
}

export function markdownTable(report: WorkloadReport, runsPerRow: string): string {
  const cols = columns(report).filter((col) => report.rows.some((row) => col.cell(row) !== ''));
  const lines = [
    `**${caption(report.spec, runsPerRow)}**`,
    '',
    `| ${cols.map((col) => col.header).join(' | ')} |`,
    `| ${cols.map((col) => (col.left ? '---' : '---:')).join(' | ')} |`,
    ...report.rows.map((row) => `| ${cols.map((col) => col.cell(row)).join(' | ')} |`),
  ];
  const notes = report.spec.notes ?? [];
  if (notes.length > 0) lines.push('', ...notes.map((note) => `- ${note}`));
  return lines.join('\n');
}

export interface TargetCheck {
  target: string;
  value: number | undefined;
  status: 'met' | 'missed' | 'pending';
}

function rowOf(reports: WorkloadReport[], workload: WorkloadName, system: string) {
  const row = reports
    .find((report) => report.spec.name === workload)
    ?.rows.find((candidate) => candidate.system === system);
  return row && row.samples.length > 0 ? row : undefined;
}

/**
 * The faster of the process pools (workerpool, tinypool) in `workload` in this run, or
 * undefined when neither ran. piscina's workers are threads, so it is not one of them.
 */
function bestProcessPool(reports: WorkloadReport[], workload: WorkloadName) {
  return ['workerpool', 'tinypool']
    .flatMap((system) => rowOf(reports, workload, system) ?? [])
    .sort((a, b) => b.median - a.median)[0];
}

/** The issue's targets, measured on taskpool's rows against rows of the same run. */
export function checkTargets(reports: WorkloadReport[]): TargetCheck[] {
  const ratio = (workload: WorkloadName, system: string, against: string) => {
    const mine = rowOf(reports, workload, system);
    const theirs = rowOf(reports, workload, against);
    return mine && theirs ? mine.median / theirs.median : undefined;
  };
  const extraRatio = (workload: WorkloadName, system: string, against: string, key: string) => {
    const mine = rowOf(reports, workload, system)?.extras[key];
    const theirs = rowOf(reports, workload, against)?.extras[key];
    return mine !== undefined && theirs !== undefined ? mine / theirs : undefined;
  };
  /** `system` over the best process pool of `workload`, and the label naming that pool. */
  const overBestPool = (label: string, workload: WorkloadName, system: string) => {
    const best = bestProcessPool(reports, workload);
    return [
      `${label}${best ? ` (${best.system})` : ''}`,
      best && ratio(workload, system, best.system),
    ] as const;
  };
  const scaling = rowOf(reports, 'bcrypt', 'taskpool-call')?.extras.scaling;
  const targets: [string, number | undefined, '>=' | '<=', number][] = [
    ['echo-seq, one checkout ≥ 0.9× raw', ratio('echo-seq', 'taskpool', 'raw'), '>=', 0.9],
    ['echo-seq, one checkout ≥ 1× tinypool', ratio('echo-seq', 'taskpool', 'tinypool'), '>=', 1],
    [
      'echo-seq, one checkout ≥ 1× workerpool',
      ratio('echo-seq', 'taskpool', 'workerpool'),
      '>=',
      1,
    ],
    [
      ...overBestPool(
        'echo-seq, client.call ≥ 1.0× the best process pool',
        'echo-seq',
        'taskpool-call',
      ),
      '>=',
      1,
    ],
    [
      'echo-seq, client.call CPU per call ≤ 1.3× raw',
      extraRatio('echo-seq', 'taskpool-call', 'raw', 'cpuUsPerCall'),
      '<=',
      1.3,
    ],
    [
      'echo-pipelined, one checkout ≥ 0.9× raw-pipelined',
      ratio('echo-pipelined', 'taskpool', 'raw-pipelined'),
      '>=',
      0.9,
    ],
    [
      ...overBestPool(
        'echo-pipelined, client.call ≥ 2× the best process pool',
        'echo-pipelined',
        'taskpool-call',
      ),
      '>=',
      2,
    ],
    [
      'checkout-churn, per-call checkouts ≥ 0.8× raw',
      ratio('checkout-churn', 'taskpool-per-call', 'raw'),
      '>=',
      0.8,
    ],
    [
      'echo-10k, one checkout ≥ 1.0× raw-pipelined',
      ratio('echo-10k', 'taskpool', 'raw-pipelined'),
      '>=',
      1,
    ],
    [
      'stream-items, one stream (highWaterMark 16) ≥ 0.8× raw-pipelined',
      ratio('stream-items', 'taskpool', 'raw-pipelined'),
      '>=',
      0.8,
    ],
    [
      ...overBestPool(
        'map-echo, client.map ≥ 1.5× the best process pool',
        'map-echo',
        'taskpool-map',
      ),
      '>=',
      1.5,
    ],
    ['bcrypt 2-worker/1-worker scaling ≥ 1.9 (client.call)', scaling, '>=', 1.9],
    [
      'echo-pipelined, one checkout over TLS ≥ 0.7× plain TCP',
      ratio('echo-pipelined', 'taskpool-tls', 'taskpool-tcp'),
      '>=',
      0.7,
    ],
    [
      'echo-pipelined, one checkout with metrics ≥ 0.97× without',
      ratio('echo-pipelined', 'taskpool', 'taskpool-nometrics'),
      '>=',
      0.97,
    ],
    [
      'echo-pipelined, client.call with metrics ≥ 0.97× without',
      ratio('echo-pipelined', 'taskpool-call', 'taskpool-call-nometrics'),
      '>=',
      0.97,
    ],
    ['cold-start ≤ 1.5× raw', ratio('cold-start', 'taskpool', 'raw'), '<=', 1.5],
    ['idle worker RSS ≤ 1.2× bare node', ratio('idle-memory', 'taskpool', bareNodeRow), '<=', 1.2],
  ];
  return targets.map(([target, value, op, threshold]) => ({
    target,
    value,
    status:
      value === undefined
        ? 'pending'
        : (op === '>=' ? value >= threshold : value <= threshold)
          ? 'met'
          : 'missed',
  }));
}

export function targetLines(checks: TargetCheck[]): string[] {
  return checks.map(
    ({ target, value, status }) =>
      `  ${status.padEnd(7)} ${target}${value === undefined ? '' : `: ${value.toFixed(2)}`}`,
  );
}
