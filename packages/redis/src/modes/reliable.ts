/**
 * Reliable mode: a worker claims ids atomically into its own processing list while holding
 * a lease it renews; any worker's reaper gives the jobs of a worker whose lease lapsed back
 * to the queue. Attempts are counted and failed attempts retried after a backoff.
 *
 * Idle workers block on one marker per priority (BZPOPMIN over all they serve) rather than
 * on the lists, so a blocking call never takes a job: claiming stays in one script.
 *
 * @module
 */
import { WorkerLostError } from '@taskpool/protocol';
import { toWire } from '@taskpool/protocol/internal';
import { BlockingConnection } from '../blocking.js';
import { onReconnect } from '../connection.js';
import type { QueueContext } from '../context.js';
import { claimScript } from '../scripts/claim-3+.js';
import { finishScript } from '../scripts/finish-3.js';
import { heartbeatScript } from '../scripts/heartbeat-1.js';
import { reapScript } from '../scripts/reap-2+.js';
import { releaseScript } from '../scripts/release-2+.js';
import { retryScript } from '../scripts/retry-5.js';
import { runScript } from '../scripts/script.js';
import { every, settlesWithin } from '../time.js';
import type { Claimed, Mode, WorkerHooks, WorkSide } from './mode.js';
import { readStartedJob } from './record-fields.js';
import { recordProgress } from './record-progress.js';
import { recordSubmitSide } from './record-submit.js';

const LOST = JSON.stringify(
  toWire(new WorkerLostError('its lease lapsed: the worker died or stalled holding the job')),
);

/** Most dead workers one heartbeat names, and so one reap recovers. */
const REAP_BATCH = 100;

/** Reads a claim reply: { now, next due, then 7 fields per job }, or { -1 } without a lease. */
function readClaim(reply: (string | number)[]): { jobs: Claimed[]; wait: number } | null {
  const now = Number(reply[0]);
  if (now === -1) return null;
  const nextDue = Number(reply[1]);
  const jobs: Claimed[] = [];
  for (let i = 2; i + 6 < reply.length; i += 7) {
    jobs.push({
      ...readStartedJob(reply, i, now),
      attempt: Number(reply[i + 5]),
      maxAttempts: Number(reply[i + 6]),
    });
  }
  return { jobs, wait: nextDue > 0 ? nextDue - now : Number.POSITIVE_INFINITY };
}

function workSide(
  context: QueueContext,
  worker: { id: string; priorities: readonly string[] },
  hooks: WorkerHooks,
): WorkSide {
  const { commands, keys, options, report } = context;
  const processing = keys.processing(worker.id);
  const pair = (p: string) => [keys.wait(p), keys.marker(p)];
  // Every priority's list and marker, declared to the scripts that put jobs back: a job
  // goes back to its own priority's list, served by this worker or not.
  const everyPair = options.priorities.flatMap(pair);
  // The served ones first, in serving order, then the rest (the claim script's KEYS).
  const claimPairs = [
    ...worker.priorities.flatMap(pair),
    ...options.priorities.filter((p) => !worker.priorities.includes(p)).flatMap(pair),
  ];
  const markers = worker.priorities.map((p) => keys.marker(p));
  const blocking = new BlockingConnection(context, `worker:${worker.id}`);
  let resync = false;
  const stopWatching = onReconnect(commands, () => {
    resync = true;
  });

  /** Renews the lease: whether it was held, and the workers whose lease ran out. */
  const heartbeat = async (): Promise<{ held: boolean; dead: string[] }> => {
    const [held, ...dead] = (await runScript(
      commands,
      heartbeatScript,
      [keys.workers],
      [worker.id, options.leaseTime, REAP_BATCH],
    )) as [number, ...string[]];
    return { held: held === 1, dead };
  };
  /** Gives the jobs of `dead` workers back; each is checked again in the script. */
  const reap = async (dead: string[]) => {
    const [, requeued] = (await runScript(
      commands,
      reapScript,
      [keys.workers, keys.failed, ...dead.map((id) => keys.processing(id)), ...everyPair],
      [keys.jobPrefix, keys.donePrefix, options.resultTtl, LOST, context.publishCommand, ...dead],
    )) as [number, number, number];
    if (requeued > 0) context.metrics?.jobsRecovered(requeued);
  };
  const release = (mode: 'only' | 'except', ids: string[], deregister: boolean) =>
    runScript(
      commands,
      releaseScript,
      [processing, keys.workers, ...everyPair],
      [keys.jobPrefix, worker.id, mode, deregister ? '1' : '0', ...ids],
    );
  const claim = async (max: number) =>
    readClaim(
      (await runScript(
        commands,
        claimScript,
        [processing, keys.workers, keys.delayed, ...claimPairs],
        [worker.id, max, options.leaseTime, keys.jobPrefix, worker.priorities.length],
      )) as (string | number)[],
    );
  /** Claims, re-registering first if the lease was lost. */
  const claimWithLease = async (max: number) => {
    const claimed = await claim(max);
    if (claimed) return claimed;
    await heartbeat();
    hooks.leaseLost();
    return (await claim(max)) ?? { jobs: [], wait: 0 };
  };

  let stopTimers = () => {};
  /** close() came: a start still renewing its first lease arms no timer after it. */
  let closed = false;
  return {
    retries: true,
    async start() {
      await heartbeat();
      if (closed) return;
      // Each renewal also names the workers whose lease ran out, and they are reaped at once:
      // knowing who they are before the reap script runs lets it be given their processing
      // lists in KEYS, instead of making their names from a prefix.
      stopTimers = every(
        Math.max(50, Math.floor(options.leaseTime / 3)),
        async () => {
          const { held, dead } = await heartbeat();
          if (!held) hooks.leaseLost();
          if (dead.length > 0) await reap(dead);
        },
        report,
      );
    },
    async take(max) {
      if (resync) {
        // A claim in flight when the connection broke may have run twice: hand back
        // whatever sits in our list that we do not know about.
        resync = false;
        await release('except', hooks.held(), false);
      }
      const first = await claimWithLease(max);
      if (first.jobs.length > 0) return first.jobs;
      const wait = Math.max(10, Math.min(options.blockTimeout, first.wait));
      const woken = await blocking.block(markers[0] ?? '', wait, (seconds) => [
        'BZPOPMIN',
        ...markers,
        seconds,
      ]);
      if (!woken) return [];
      return (await claimWithLease(max)).jobs;
    },
    async finish(job, outcome) {
      const reply = await runScript(
        commands,
        finishScript,
        [keys.job(job.id), processing, keys.failed],
        [
          job.id,
          outcome.ok ? 'completed' : 'failed',
          JSON.stringify(outcome),
          '1',
          options.resultTtl,
          keys.donePrefix,
          context.publishCommand,
        ],
      );
      return reply === 1;
    },
    progress: recordProgress(context, worker.id),
    async retry(job, error, delay) {
      const reply = await runScript(
        commands,
        retryScript,
        [keys.job(job.id), processing, keys.delayed, ...pair(job.priority)],
        [job.id, JSON.stringify(error), Math.max(0, Math.round(delay))],
      );
      return reply === 1;
    },
    async release(jobs) {
      if (jobs.length > 0)
        await release(
          'only',
          jobs.map((job) => job.id),
          false,
        );
    },
    unblock: () => blocking.unblock(),
    async close(ms) {
      closed = true;
      stopTimers();
      stopWatching();
      const started = Date.now();
      // Everything still in our list goes back, and the lease is dropped with it.
      await settlesWithin(release('except', [], true).catch(report), ms);
      await blocking.close(Math.max(0, ms - (Date.now() - started)));
    },
  };
}

/** Reliable mode. */
export const reliableMode: Mode = {
  submitSide: (context) => recordSubmitSide(context, true),
  workSide,
};
