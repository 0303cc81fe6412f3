/**
 * The `queue` workload of `npm run bench` (alone: `npm run bench:queue -w bench`): BullMQ
 * and @taskpool/redis in each of its three modes on the same Redis, submit-and-await at 1
 * and 32 in flight and a 10,000-job bulk drain.
 *
 * Each figure (system × workload × repetition) runs in a fresh process group: a producer
 * process (the submitter, which measures) and the consumer process it forks (one worker).
 * Systems alternate order on every other repetition; every figure gets its own key prefix,
 * and what it left in Redis is counted and deleted. Prints medians and ratios to BullMQ,
 * and adds them to the --json and --markdown files.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { BenchArgs } from '../args.js';
import { benchRoot, buildDir } from '../paths.js';
import { Progress } from '../progress.js';
import { runInGroup } from '../runner.js';
import { deleteKeys, openRedis } from './redis.js';
import {
  aggregateQueue,
  type FigureRun,
  type QueueWorkloadReport,
  queueMarkdownTable,
  queueTextTable,
} from './report.js';
import {
  consumerConcurrency,
  type FigureJob,
  type FigureReply,
  queueSystems,
  queueWorkloads,
} from './spec.js';

const bundle = join(buildDir, 'queue-child.mjs');
const FIGURE_TIMEOUT_MS = 90_000;

async function buildChild(): Promise<void> {
  await build({
    absWorkingDir: benchRoot,
    entryPoints: { 'queue-child': 'src/queue/child.ts' },
    outdir: buildDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    tsconfig: join(benchRoot, 'tsconfig.json'),
    sourcemap: 'linked',
    logLevel: 'silent',
  });
}

interface FigureOutcome {
  reply?: FigureReply;
  error?: string;
  leftovers: string[];
}

/**
 * Runs one figure's producer (which forks its consumer) in a process group of its own.
 * With `cpuProfDir`, both write a .cpuprofile there (the consumer inherits execArgv).
 */
async function runFigure(job: FigureJob, cpuProfDir: string | undefined): Promise<FigureOutcome> {
  const run = await runInGroup<FigureReply>(bundle, ['figure', JSON.stringify(job)], {
    timeoutMs: FIGURE_TIMEOUT_MS,
    cpuProfDir,
  });
  const outcome: FigureOutcome = { leftovers: run.leftovers };
  if (run.timedOut) outcome.error = `no result within ${FIGURE_TIMEOUT_MS / 1_000} s${run.tail}`;
  else if (!run.reply) {
    outcome.error = `producer exited (${run.code ?? run.signal}) without a result${run.tail}`;
  } else outcome.reply = run.reply;
  return outcome;
}

/** The file, if this process wrote it already (the process-pool part's --json). */
function writtenByThisRun(path: string): boolean {
  return existsSync(path) && statSync(path).mtimeMs >= performance.timeOrigin;
}

function writeJson(path: string, queue: unknown, command: string): void {
  let figures: Record<string, unknown> = { generatedAt: new Date().toISOString(), command };
  if (writtenByThisRun(path)) {
    figures = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  }
  writeFileSync(path, `${JSON.stringify({ ...figures, queue }, null, 2)}\n`);
}

function writeMarkdown(path: string, header: string[], tables: string[]): void {
  const before = writtenByThisRun(path) ? `${readFileSync(path, 'utf8')}\n` : '';
  writeFileSync(path, `${before}${[...header, ...tables].join('\n\n')}\n`);
}

/** Runs every queue figure and prints the tables; false if any figure failed. */
export async function runQueueBench(
  args: Pick<BenchArgs, 'quick' | 'reps' | 'json' | 'markdown' | 'cpuProf'>,
): Promise<boolean> {
  const reps = args.reps ?? (args.quick ? 1 : 3);
  const started = performance.now();
  const loadAtStart = loadavg().map((load) => Number(load.toFixed(2)));
  await buildChild();
  const redis = await openRedis();
  const base = `taskpool-bench-${randomUUID().slice(0, 8)}`;
  const runs: FigureRun[] = [];
  const warnings: string[] = [];
  const total = reps * queueWorkloads.length * queueSystems.length;
  const progress = new Progress(total);
  let figureIndex = 0;
  try {
    for (let rep = 0; rep < reps; rep++) {
      for (const workload of queueWorkloads) {
        const order = rep % 2 === 1 ? [...queueSystems].reverse() : queueSystems;
        for (const system of order) {
          const prefix = `${base}-${++figureIndex}`;
          const where = `queue ${workload.name} · ${system} · rep ${rep + 1}/${reps}`;
          progress.show(where);
          const job: FigureJob = {
            system,
            workload,
            target: { url: redis.url, prefix, name: 'q' },
          };
          const outcome = await runFigure(job, args.cpuProf);
          progress.tick();
          const run: FigureRun = { system, workload: workload.name, rep };
          if (outcome.reply?.ok) run.result = outcome.reply.result;
          else run.error = outcome.reply?.ok === false ? outcome.reply.error : outcome.error;
          try {
            run.keysLeft = await deleteKeys(redis.url, `${prefix}:*`);
          } catch (error) {
            warnings.push(`could not delete the keys of ${where}: ${String(error)}`);
          }
          if (run.error) {
            progress.note(`FAILED ${where}: ${run.error.split('\n').slice(0, 3).join(' | ')}`);
          }
          if (outcome.leftovers.length > 0) {
            const message = `${where} left ${outcome.leftovers.length} process(es): ${outcome.leftovers.join('; ').slice(0, 200)}`;
            warnings.push(message);
            progress.note(`warning: ${message}`);
          }
          runs.push(run);
        }
      }
    }
  } finally {
    progress.end();
    await deleteKeys(redis.url, `${base}-*`).catch((error: unknown) => {
      warnings.push(`could not delete the run's keys (${base}-*): ${String(error)}`);
    });
    await redis.stop();
  }

  const seconds = (performance.now() - started) / 1_000;
  const loadAtEnd = loadavg().map((load) => Number(load.toFixed(2)));
  const reports: QueueWorkloadReport[] = aggregateQueue(runs);
  const mode = args.quick ? 'quick' : 'full';
  const header = [
    `queue bench, ${mode} mode: BullMQ and @taskpool/redis on ${redis.description}; ${reps} repetition${reps === 1 ? '' : 's'}, each figure a fresh submitter process and consumer process (one worker, concurrency ${consumerConcurrency}), system order reversed every other repetition; ${runs.length} figures in ${seconds.toFixed(0)} s; load average ${loadAtStart.join(' ')} at start, ${loadAtEnd.join(' ')} at end`,
  ];
  console.log(header.join('\n'));
  for (const report of reports) console.log(`\n${queueTextTable(report, reps)}`);
  if (warnings.length > 0) console.log(`\nwarnings:\n${warnings.map((w) => `  ${w}`).join('\n')}`);

  const failed = runs.filter((run) => run.error !== undefined).length;
  if (args.json) {
    const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
    writeJson(
      args.json,
      {
        mode,
        reps,
        seconds,
        redis: redis.description,
        redisVersion: redis.version,
        consumerConcurrency,
        loadAverage: { atStart: loadAtStart, atEnd: loadAtEnd },
        baseline: 'bullmq',
        workloads: reports.map(({ workload, rows }) => ({ ...workload, unit: 'jobs/s', rows })),
        runs,
        warnings,
      },
      command,
    );
  }
  if (args.markdown) {
    writeMarkdown(
      args.markdown,
      header,
      reports.map((report) => queueMarkdownTable(report, reps)),
    );
  }
  return failed === 0;
}
