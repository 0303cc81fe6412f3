/**
 * `npm run bench [-- workload ...] [--only ...] [--json FILE] [--quick]`: every selected
 * system on every selected workload, each repetition of each (system, workload) in a fresh
 * child process, the order of systems reversed on every other repetition; then medians,
 * min–max spread and ratios. `codec` runs in this process, after the rest; `queue` and
 * `queue-cluster` last, together. call-memory runs only when named.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { parseBenchArgs, usage } from './args.js';
import { bcryptExpected } from './bcrypt-expected.js';
import { buildCore, buildTaskpool } from './build.js';
import type { ChildJob } from './child.js';
import { printCodec, runCodec } from './codec.js';
import { Progress } from './progress.js';
import { runQueueBench } from './queue/run.js';
import { queueParts } from './queue/spec.js';
import {
  aggregate,
  checkTargets,
  markdownTable,
  type Run,
  targetLines,
  textTable,
} from './report.js';
import { killAllGroups, runJob } from './runner.js';
import { allSystems } from './systems/index.js';
import type { System } from './systems/system.js';
import { runTeardowns } from './teardown.js';
import {
  bcryptCost,
  defaultWorkloads,
  type WorkloadName,
  workloadNames,
  workloads,
} from './workloads.js';

const args = (() => {
  try {
    return parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
    process.exit(2);
  }
})();
if (args.help) {
  console.log(usage);
  process.exit(0);
}

const known: string[] = [...workloadNames, 'codec', ...queueParts];
// codec and the queue measure none of these systems, so `--only` alone leaves them out;
// call-memory runs when named.
const asked =
  args.workloads.length > 0
    ? args.workloads
    : args.only.length > 0
      ? [...defaultWorkloads]
      : [...defaultWorkloads, 'codec', ...queueParts];
const unknownWorkloads = asked.filter((name) => !known.includes(name));
const unknownSystems = args.only.filter(
  (name) => !allSystems.some((system) => system.name === name || system.family === name),
);
if (unknownWorkloads.length > 0 || unknownSystems.length > 0) {
  const what = [
    ...unknownWorkloads.map((w) => `workload ${w}`),
    ...unknownSystems.map((s) => `system ${s}`),
  ];
  console.error(`unknown ${what.join(', ')}\n\n${usage}`);
  process.exit(2);
}

const selected = workloadNames.filter((name) => asked.includes(name));
const reps = args.reps ?? (args.quick ? 2 : 3);
const mode = args.quick ? 'quick' : 'full';
let systems: System[] = allSystems.filter(
  (system) =>
    (args.only.length === 0 ||
      args.only.includes(system.name) ||
      args.only.includes(system.family)) &&
    system.workloads.some((workload) => selected.includes(workload)),
);

let interrupted = false;
/**
 * Kills the running child's group, stops what this process runs itself (the queue bench's
 * Redis and Redis Cluster, see teardown.ts), and exits; a second signal exits at once.
 */
function onSignal(code: number): void {
  killAllGroups();
  if (interrupted) process.exit(code);
  interrupted = true;
  void runTeardowns(10_000).finally(() => process.exit(code));
}
process.on('SIGINT', () => onSignal(130));
process.on('SIGTERM', () => onSignal(143));

const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  os: `${type()} ${release()}`,
  memoryGb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  loadAverageAtStart: loadavg().map((load) => Number(load.toFixed(2))),
};

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

const skipped: { system: string; reason: string }[] = [];
let pending: System[] = [];
const warnings: string[] = [];
let failed = 0;

async function runSystems(): Promise<void> {
  const started = performance.now();
  await buildCore();
  if (systems.some((system) => system.family === 'taskpool')) {
    const taskpool = await buildTaskpool();
    if (!taskpool.ok) {
      console.log(`taskpool: skipped — ${taskpool.reason}; its rows and targets are pending.\n`);
      pending = systems.filter((system) => system.family === 'taskpool');
      for (const system of pending) skipped.push({ system: system.name, reason: taskpool.reason });
      systems = systems.filter((system) => system.family !== 'taskpool');
    }
  }
  if (systems.length === 0) {
    console.log('no system left to run.');
    return;
  }
  const hashes = systems.some((system) => system.workloads.includes('bcrypt'))
    ? bcryptExpected(workloads.bcrypt[mode].calls, bcryptCost)
    : [];

  const jobs: Omit<ChildJob, 'socketDir'>[] = [];
  for (let rep = 0; rep < reps; rep++) {
    for (const workload of selected) {
      const order = systems.filter((system) => system.workloads.includes(workload));
      if (rep % 2 === 1) order.reverse();
      for (const system of order) {
        jobs.push({
          system: system.name,
          workload,
          params: workloads[workload][mode],
          rep,
          bcryptExpected: workload === 'bcrypt' ? hashes : [],
        });
      }
    }
  }

  const progress = new Progress(jobs.length);
  const runs: Run[] = [];
  for (const job of jobs) {
    const where = `${job.workload} · ${job.system} · rep ${job.rep + 1}/${reps}`;
    progress.show(where);
    const outcome = await runJob(job, {
      timeoutMs: workloads[job.workload].deadlineMs ?? (args.quick ? 60_000 : 120_000),
      cpuProfDir: args.cpuProf,
    });
    progress.tick();
    runs.push({ system: job.system, workload: job.workload, rep: job.rep, outcome });
    if (outcome.error) {
      failed++;
      progress.note(`FAILED ${where}: ${outcome.error.split('\n').slice(0, 3).join(' | ')}`);
    }
    if (outcome.leftovers.length > 0) {
      const message = `${job.system} left ${outcome.leftovers.length} process(es) after close() (${where}): ${outcome.leftovers.join('; ').slice(0, 200)}`;
      warnings.push(message);
      progress.note(`warning: ${message}`);
    }
  }
  progress.end();

  const seconds = (performance.now() - started) / 1_000;
  const loadAtEnd = loadavg().map((load) => Number(load.toFixed(2)));
  const reports = aggregate(runs, allSystems, selected, pending);
  const perRow = (workload: WorkloadName) =>
    workload === 'cold-start'
      ? `${plural(reps, 'run')} × ${plural(workloads[workload][mode].samples ?? 1, 'fresh start')}`
      : plural(reps, 'run');
  const targets = checkTargets(reports);

  const header = [
    `taskpool bench, ${mode} mode: ${plural(reps, 'repetition')}, each in a fresh process, system order reversed every other one; ${jobs.length} runs in ${seconds.toFixed(0)} s`,
    `machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB, ${machine.os}, Node ${machine.node}, load average ${machine.loadAverageAtStart.join(' ')} at start, ${loadAtEnd.join(' ')} at end`,
  ];
  const legend = systems.map((system) => `  ${system.name.padEnd(18)} ${system.shape}`);
  console.log(header.join('\n'));
  for (const report of reports) console.log(`\n${textTable(report, perRow(report.spec.name))}`);
  console.log(`\nsystems:\n${legend.join('\n')}`);
  console.log(`\ntargets (taskpool, ratios from this run):\n${targetLines(targets).join('\n')}`);
  if (warnings.length > 0) console.log(`\nwarnings:\n${warnings.map((w) => `  ${w}`).join('\n')}`);

  if (args.json) {
    const figures = {
      generatedAt: new Date().toISOString(),
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
      mode,
      reps,
      seconds,
      machine: { ...machine, loadAverageAtEnd: loadAtEnd },
      systems: systems.map(({ name, family, shape, isolation }) => ({
        name,
        family,
        shape,
        isolation,
      })),
      skipped,
      workloads: reports.map(({ spec, rows }) => ({
        name: spec.name,
        title: spec.title,
        unit: spec.unit,
        better: spec.better,
        baseline: spec.baseline ?? null,
        notes: spec.notes ?? [],
        params: spec[mode],
        rows,
      })),
      targets,
      warnings,
    };
    writeFileSync(args.json, `${JSON.stringify(figures, null, 2)}\n`);
  }
  if (args.markdown) {
    const tables = reports.map((report) => markdownTable(report, perRow(report.spec.name)));
    const goals = [
      '**targets (taskpool, ratios from this run)**',
      '',
      '| target | measured | status |',
      '| --- | ---: | --- |',
      ...targets.map((t) => `| ${t.target} | ${t.value?.toFixed(2) ?? ''} | ${t.status} |`),
    ];
    writeFileSync(args.markdown, `${[...header, ...tables, goals.join('\n')].join('\n\n')}\n`);
  }
}

if (selected.length > 0 && systems.length > 0) await runSystems();
if (asked.includes('codec')) {
  console.log('');
  printCodec(runCodec(args.quick ? 100_000 : 500_000));
}
const queue = queueParts.filter((part) => asked.includes(part));
if (queue.length > 0) {
  console.log('');
  if (!(await runQueueBench(args, queue))) failed++;
}
process.exit(failed > 0 ? 1 : 0);
