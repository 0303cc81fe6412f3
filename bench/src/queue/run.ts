/**
 * The `queue` and `queue-cluster` workloads of `npm run bench` (`queue` alone:
 * `npm run bench:queue -w bench`). `queue`: BullMQ and @taskpool/redis in each of its three
 * modes on the same Redis, submit-and-await at 1 and 32 in flight and a 10,000-job bulk
 * drain. `queue-cluster`: the same workloads with taskpool's queue on a private Redis
 * Cluster of three masters, each cluster row next to the same mode on the single Redis.
 *
 * Each figure (row × workload × repetition) runs in a fresh process group: a producer
 * process (the submitter, which measures) and the consumer process it forks (one worker).
 * Rows alternate order on every other repetition; every figure gets its own key prefix,
 * and what it left in Redis is counted and deleted. Prints medians and ratios to BullMQ
 * and of the cluster to the single Redis, and adds them to the --json and --markdown files.
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
import { stopOnInterrupt } from '../teardown.js';
import { deleteKeys, openCluster, openRedis, type RedisUnderTest, serversOf } from './redis.js';
import {
  aggregateQueue,
  type FigureRun,
  type QueueWorkloadReport,
  queueMarkdownTable,
  queueNotes,
  queueTextTable,
} from './report.js';
import {
  consumerConcurrency,
  type FigureJob,
  type FigureReply,
  type QueuePart,
  queueRows,
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

/** The message of an error, for a figure's failure. */
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Starts what `start` starts and registers its stop for an interrupt (see teardown.ts);
 * `stop()` of the result unregisters it and stops it.
 */
async function startGuarded(start: () => Promise<RedisUnderTest>): Promise<RedisUnderTest> {
  const redis = await start();
  const forget = stopOnInterrupt(redis.stop);
  return {
    ...redis,
    stop: () => {
      forget();
      return redis.stop();
    },
  };
}

/**
 * Runs every figure of the asked `parts` and prints the tables; false if any figure failed.
 */
export async function runQueueBench(
  args: Pick<BenchArgs, 'quick' | 'reps' | 'json' | 'markdown' | 'cpuProf'>,
  parts: readonly QueuePart[],
): Promise<boolean> {
  const reps = args.reps ?? (args.quick ? 1 : 3);
  const startedAt = performance.now();
  const loadAtStart = loadavg().map((load) => Number(load.toFixed(2)));
  const warnings: string[] = [];
  let asked = parts;
  if (asked.includes('queue-cluster') && process.env.REDIS_URL) {
    // The cluster is private to this machine; compared with a REDIS_URL that may be
    // elsewhere, its ratio would be about two setups, not about the cluster.
    asked = asked.filter((part) => part !== 'queue-cluster');
    warnings.push(
      'queue-cluster skipped: REDIS_URL is set, and the cluster rows compare a private cluster with a private single Redis on this machine (unset REDIS_URL to run them)',
    );
  }
  const rows = queueRows(asked);
  if (rows.length === 0) {
    console.log(warnings.join('\n'));
    return true;
  }
  await buildChild();
  const redis = await startGuarded(openRedis);
  let cluster: RedisUnderTest | undefined;
  let clusterError: string | undefined;
  const base = `taskpool-bench-${randomUUID().slice(0, 8)}`;
  const runs: FigureRun[] = [];
  const total = reps * queueWorkloads.length * rows.length;
  const progress = new Progress(total);
  let figureIndex = 0;
  try {
    if (rows.some((row) => row.backend === 'cluster')) {
      progress.show('queue: starting a Redis Cluster of 3 masters');
      try {
        cluster = await startGuarded(openCluster);
      } catch (error) {
        // Its rows fail with this; the others still run.
        clusterError = `the Redis Cluster did not start: ${messageOf(error)}`;
      }
    }
    for (let rep = 0; rep < reps; rep++) {
      for (const workload of queueWorkloads) {
        const order = rep % 2 === 1 ? [...rows].reverse() : rows;
        for (const { name, system, backend } of order) {
          const prefix = `${base}-${++figureIndex}`;
          const where = `queue ${workload.name} · ${name} · rep ${rep + 1}/${reps}`;
          progress.show(where);
          const run: FigureRun = { row: name, system, backend, workload: workload.name, rep };
          const under = backend === 'cluster' ? cluster : redis;
          if (under) {
            const job: FigureJob = {
              system,
              workload,
              target: { redis: under.redis, prefix, name: 'q' },
            };
            const outcome = await runFigure(job, args.cpuProf);
            if (outcome.reply?.ok) run.result = outcome.reply.result;
            else run.error = outcome.reply?.ok === false ? outcome.reply.error : outcome.error;
            try {
              run.keysLeft = await deleteKeys(serversOf(under.redis), `${prefix}:*`);
            } catch (error) {
              warnings.push(`could not delete the keys of ${where}: ${String(error)}`);
            }
            if (outcome.leftovers.length > 0) {
              const message = `${where} left ${outcome.leftovers.length} process(es): ${outcome.leftovers.join('; ').slice(0, 200)}`;
              warnings.push(message);
              progress.note(`warning: ${message}`);
            }
          } else {
            run.error = clusterError ?? 'no Redis Cluster';
          }
          progress.tick();
          if (run.error) {
            progress.note(`FAILED ${where}: ${run.error.split('\n').slice(0, 3).join(' | ')}`);
          }
          runs.push(run);
        }
      }
    }
  } finally {
    progress.end();
    for (const under of [redis, cluster]) {
      if (!under) continue;
      await deleteKeys(serversOf(under.redis), `${base}-*`).catch((error: unknown) => {
        warnings.push(`could not delete the run's keys (${base}-*): ${String(error)}`);
      });
    }
    await Promise.all([redis.stop(), cluster?.stop()]);
  }

  const seconds = (performance.now() - startedAt) / 1_000;
  const loadAtEnd = loadavg().map((load) => Number(load.toFixed(2)));
  const reports: QueueWorkloadReport[] = aggregateQueue(runs, rows);
  const notes = queueNotes(rows);
  const mode = args.quick ? 'quick' : 'full';
  const withBullmq = rows.some((row) => row.system === 'bullmq');
  const clusterRows = rows.some((row) => row.backend === 'cluster');
  const onCluster = !clusterRows
    ? ''
    : `, the cluster rows on ${cluster?.description ?? 'a Redis Cluster that did not start'}`;
  const header = [
    `queue bench, ${mode} mode: ${withBullmq ? 'BullMQ and ' : ''}@taskpool/redis on ${redis.description}${onCluster}; ${reps} repetition${reps === 1 ? '' : 's'}, each figure a fresh submitter process and consumer process (one worker, concurrency ${consumerConcurrency}), row order reversed every other repetition; ${runs.length} figures in ${seconds.toFixed(0)} s; load average ${loadAtStart.join(' ')} at start, ${loadAtEnd.join(' ')} at end`,
  ];
  console.log(header.join('\n'));
  for (const report of reports) console.log(`\n${queueTextTable(report, reps)}`);
  if (notes.length > 0) console.log(`\n${notes.map((note) => `  note: ${note}`).join('\n')}`);
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
        cluster: clusterRows ? (cluster?.description ?? clusterError ?? null) : null,
        consumerConcurrency,
        loadAverage: { atStart: loadAtStart, atEnd: loadAtEnd },
        baseline: withBullmq ? 'bullmq' : null,
        rows,
        notes,
        workloads: reports.map(({ workload, rows }) => ({ ...workload, unit: 'jobs/s', rows })),
        runs,
        warnings,
      },
      command,
    );
  }
  if (args.markdown) {
    writeMarkdown(args.markdown, header, [
      ...reports.map((report) => queueMarkdownTable(report, reps)),
      ...(notes.length > 0 ? [notes.map((note) => `- ${note}`).join('\n')] : []),
    ]);
  }
  return failed === 0;
}
